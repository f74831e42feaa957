/**
 * The three ways an upload ends well: the image in the response (`mode: 'respond'`), the result on
 * `req.sgenet` for the next handler (`mode: 'attach'`), or 202 with the job's URLs (`handoff`).
 */
import { randomUUID } from 'node:crypto';

import type { OpenedImage } from '@sgenet/sharp';
import type { ImageFormat } from '@sgenet/sharp';
import type { Request, Response } from 'express';
import type { Sharp } from 'sharp';

import { contentDisposition } from './filename.js';
import { queueUnavailable } from './handoff.js';
import type { DeblurHandoff, HandoffUpload } from './handoff.js';
import { CONTENT_TYPES } from './negotiate.js';
import type { OutputFormat } from './negotiate.js';
import type { UploadSettings } from './options.js';
import type { DeblurResult } from './types.js';

/** The upload as multer left it in `req.file`. */
export type UploadedFile = Express.Multer.File;

/** `mode: 'respond'`: 200 with the encoded image. */
export function respondWithImage(
  res: Response,
  sent: { body: Buffer; format: OutputFormat; originalName: string; durationMs: number; kernel: string | undefined },
): void {
  res.status(200);
  res.setHeader('Content-Type', CONTENT_TYPES[sent.format]);
  res.setHeader('Content-Disposition', contentDisposition(sent.originalName, sent.format));
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Vary', 'Accept');
  res.setHeader('X-Processing-Time-Ms', String(sent.durationMs));
  if (sent.kernel !== undefined) res.setHeader('X-Blur-Kernel', sent.kernel);
  res.end(sent.body);
}

/** `mode: 'attach'`: what `req.sgenet` holds for the next handler. */
export async function attachedResult(
  done: { jobId: string; image: Sharp; opened: OpenedImage; file: UploadedFile; durationMs: number; kernel: string | undefined },
): Promise<DeblurResult> {
  const meta = await done.image.metadata();
  const { file, opened } = done;
  return {
    jobId: done.jobId,
    image: done.image,
    width: meta.width ?? opened.width,
    height: meta.height ?? opened.height,
    channels: (meta.channels ?? 3) as 1 | 2 | 3 | 4,
    bitDepth: meta.depth === 'ushort' ? 16 : 8,
    inputFormat: opened.format,
    file: { originalName: file.originalname, mimeType: file.mimetype, size: file.size },
    durationMs: done.durationMs,
    ...(done.kernel !== undefined ? { kernel: done.kernel } : {}),
  };
}

/**
 * `handoff`: queues the upload under a fresh random id (never the client's: another client could
 * guess it and read the result) and answers 202 with the status and result URLs.
 */
export async function respondAccepted(
  cfg: Pick<UploadSettings, 'quality' | 'pipeline'>,
  handoff: DeblurHandoff,
  req: Request,
  res: Response,
  upload: { bytes: Buffer; inputFormat: ImageFormat; format: OutputFormat; originalName: string },
): Promise<void> {
  const jobId = randomUUID();
  // The handoff is the caller's (any DeblurHandoff): it gets only the fields that are set.
  const submitted: HandoffUpload = {
    jobId,
    ...upload,
    quality: cfg.quality,
    ...(cfg.pipeline.kernel !== undefined ? { kernel: cfg.pipeline.kernel } : {}),
    ...(cfg.pipeline.network !== undefined ? { network: cfg.pipeline.network } : {}),
    ...(cfg.pipeline.effort !== undefined ? { effort: cfg.pipeline.effort } : {}),
  };
  try {
    await handoff.submit(submitted);
  } catch (err) {
    throw queueUnavailable(err);
  }
  const status = `${req.originalUrl.split('?')[0]!.replace(/\/+$/, '')}/jobs/${jobId}`;
  res.setHeader('X-Job-Id', jobId);
  res.setHeader('Location', status);
  res.setHeader('Cache-Control', 'no-store');
  res.status(202).json({ jobId, state: 'queued', status, result: `${status}/result` });
}
