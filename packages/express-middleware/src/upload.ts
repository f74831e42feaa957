/**
 * One upload, once multer has read it: checked (file, format, pixels), deblurred in the route's
 * {@link UploadLine} (or handed off), then answered (respond.ts). Progress goes to `onProgress`;
 * a client that goes away cancels its job.
 */
import { AbortError, describeKernelUsed } from '@sgenet/core';
import type { DeblurrerHolder } from '@sgenet/core';
import { deblur, encodeImage, openImage } from '@sgenet/sharp';
import type { ImageFormat, OpenedImage } from '@sgenet/sharp';
import type { NextFunction, Request, Response } from 'express';
import type { Sharp } from 'sharp';

import { DeblurHttpError, malformedForm } from './errors.js';
import type { FormScanner } from './multipart.js';
import { formatFromQuery, negotiateFormat } from './negotiate.js';
import type { OutputFormat } from './negotiate.js';
import type { UploadSettings } from './options.js';
import { attachedResult, respondAccepted, respondWithImage } from './respond.js';
import type { UploadedFile } from './respond.js';
import type { JobProgress } from './types.js';

/** What every upload of a route shares. */
export interface Route {
  cfg: UploadSettings;
  deblurrer: DeblurrerHolder;
  /** Any error as the {@link DeblurHttpError} the client gets. */
  fail: (err: unknown) => DeblurHttpError;
}

type Emit = (progress: Omit<JobProgress, 'jobId'>) => void;

/** Handles one upload after multer; failures go to `next` (none when the client went away). */
export async function handleUpload(
  route: Route,
  req: Request,
  res: Response,
  next: NextFunction,
  jobId: string,
  form: FormScanner | undefined,
): Promise<void> {
  const { cfg } = route;
  const emit = progressEmitter(cfg, req, jobId);
  const client = watchClient(res);
  try {
    const file = uploadedFile(req, form, cfg.field);
    const queryFormat = cfg.mode === 'respond' ? formatFromQuery(req) : undefined;
    const opened = await openImage(file.buffer, { limitInputPixels: cfg.maxPixels, formats: cfg.formats });
    const format = cfg.mode === 'respond'
      ? queryFormat ?? negotiateFormat(req, fallbackFormat(opened.format, cfg.defaultFormat))
      : undefined;
    if (cfg.handoff && format) {
      await respondAccepted(cfg, cfg.handoff, req, res, { bytes: file.buffer, inputFormat: opened.format, format, originalName: file.originalname });
      client.forget();
      emit({ phase: 'queued', done: 0, total: 0 });
      return;
    }
    if (res.destroyed || req.socket?.destroyed) client.controller.abort();
    const started = Date.now();
    const result = await runInLine(route, req, opened, format, client.controller.signal, emit);
    const durationMs = Date.now() - started;
    if (format && result.body) {
      respondWithImage(res, { body: result.body, format, originalName: file.originalname, durationMs, kernel: result.kernel });
      emit({ phase: 'done', done: 1, total: 1 });
      return;
    }
    req.sgenet = await attachedResult({ jobId, image: result.image, opened, file, durationMs, kernel: result.kernel });
    emit({ phase: 'done', done: 1, total: 1 });
    client.forget();
    next();
  } catch (err) {
    client.forget();
    const httpError = route.fail(err);
    if (httpError.code === 'ERR_SGENET_ABORTED' || client.controller.signal.aborted) {
      emit({ phase: 'aborted', done: 0, total: 0 });
      // The client is gone: nothing to send, nothing to render.
      return;
    }
    emit({ phase: 'failed', done: 0, total: 0, error: { code: httpError.code, message: httpError.message } });
    next(httpError);
  }
}

/** The job's progress to the route's `onProgress`; a hook that throws never breaks the job. */
function progressEmitter(cfg: UploadSettings, req: Request, jobId: string): Emit {
  return (progress) => {
    if (!cfg.onProgress) return;
    try {
      cfg.onProgress(req, { jobId, ...progress });
    } catch {
      // A progress hook must never break a job.
    }
  };
}

/** Aborts the job when the client goes away before its response is finished. */
function watchClient(res: Response): { controller: AbortController; forget: () => void } {
  const controller = new AbortController();
  const onClose = (): void => {
    // 'close' after a finished response is normal; before it, the client went away.
    if (!res.writableFinished) controller.abort();
  };
  res.on('close', onClose);
  return { controller, forget: () => res.off('close', onClose) };
}

/** The uploaded file, or a 400 that says what the form lacked. */
function uploadedFile(req: Request, form: FormScanner | undefined, field: string): UploadedFile {
  const file = req.file;
  // busboy skips a part it cannot parse: say so rather than "no file".
  if (!file && form?.problem) throw malformedForm(form.problem, field);
  if (!file) {
    throw new DeblurHttpError(
      400,
      'ERR_SGENET_NO_FILE',
      req.is('multipart/form-data')
        ? `No file in the "${field}" field: attach the image as "${field}"`
        : `Expected a multipart/form-data upload with the image in the "${field}" field`,
    );
  }
  return file;
}

function fallbackFormat(input: ImageFormat, configured: OutputFormat | undefined): OutputFormat {
  if (configured) return configured;
  return input === 'jpeg' || input === 'png' || input === 'webp' ? input : 'png';
}

/** Waits for a place in the route's line, then deblurs (and, to respond, encodes). */
async function runInLine(
  route: Route,
  req: Request,
  opened: OpenedImage,
  format: OutputFormat | undefined,
  signal: AbortSignal,
  emit: Emit,
): Promise<{ image: Sharp; body: Buffer | undefined; kernel: string | undefined }> {
  const { cfg } = route;
  let kernel: string | undefined;
  const job = async () => {
    if (signal.aborted) throw new AbortError();
    emit({ phase: 'started', done: 0, total: 0 });
    const image = await deblur(opened.image, {
      deblurrer: await route.deblurrer.get(),
      signal,
      keepMetadata: cfg.keepMetadata,
      tileSize: cfg.tileSize,
      overlap: cfg.overlap,
      ...cfg.pipeline,
      onKernel: (used) => {
        kernel = describeKernelUsed(used);
        try {
          cfg.onKernel?.(req, used);
        } catch {
          // A reporting hook must never break a job.
        }
      },
      onProgress: (p) => emit({ phase: 'deblurring', done: p.done, total: p.total, ...(p.stage ? { stage: p.stage } : {}) }),
    });
    if (!format) return { image, body: undefined };
    emit({ phase: 'encoding', done: 0, total: 0 });
    const body = await encodeImage(image, format, { metadata: opened.metadata, quality: cfg.quality });
    if (signal.aborted) throw new AbortError();
    return { image, body };
  };
  const done = await cfg.line.run(job, { signal, onQueued: (position) => emit({ phase: 'queued', done: 0, total: 0, position }) });
  return { ...done, kernel };
}
