/**
 * `deblurUpload()`, the route: multer reads the upload, upload.ts handles it. Its rooms: the
 * options (options.ts, checked once and stored), the deblurrer (core's {@link DeblurrerHolder}),
 * the line of uploads (upload-line.ts) and the answers (respond.ts).
 */
import { randomUUID } from 'node:crypto';

import { createDeblurrer, DeblurrerHolder } from '@sgenet/core';
import type { Deblurrer } from '@sgenet/core';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import multer from 'multer';

import { internalError, toHttpError } from './errors.js';
import { JOB_ID } from './handoff.js';
import { FormScanner } from './multipart.js';
import { resolveUploadOptions } from './options.js';
import type { DeblurUploadOptions, UploadSettings } from './options.js';
import { handleUpload } from './upload.js';
import type { Route } from './upload.js';
import type { UploadLine } from './upload-line.js';

export { DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS } from './options.js';
export type { DeblurUploadOptions } from './options.js';

/** The middleware, plus handles on its line and model. */
export interface DeblurMiddleware extends RequestHandler {
  /** The {@link UploadLine} the middleware runs its jobs in (the `queue` option, or its own). */
  readonly queue: UploadLine;
  /** The deblurrer used (loading it when this middleware creates its own). */
  getDeblurrer(): Promise<Deblurrer>;
  /** Disposes the deblurrer if this middleware created it. */
  close(): Promise<void>;
}

/**
 * Express middleware that accepts one uploaded image (multipart/form-data, multer memory
 * storage), deblurs it with SGENet and either responds with the image or attaches the result
 * to `req.sgenet` for the next handler. Failures go to `next(err)` as {@link DeblurHttpError}s
 * with stable codes; install {@link sgenetErrorHandler} to render them as JSON.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { deblurUpload, sgenetErrorHandler } from '@sgenet/express';
 *
 * const app = express();
 * app.post('/deblur', deblurUpload({ maxBytes: 10 << 20, maxPixels: 12e6 }));
 * app.use(sgenetErrorHandler());
 * app.listen(3000);
 * ```
 */
export function deblurUpload(options: DeblurUploadOptions = {}): DeblurMiddleware {
  const cfg = resolveUploadOptions(options);
  const route: Route = {
    cfg,
    deblurrer: new DeblurrerHolder(cfg.deblurrer ?? (() => createDeblurrer(cfg.create))),
    fail: (err) => toHttpError(err, { maxBytes: cfg.maxBytes, field: cfg.field }) ?? internalError(err),
  };
  const upload = multer({
    storage: multer.memoryStorage(),
    limits: { fileSize: cfg.maxBytes, files: 1, fields: 20, fieldSize: 64 * 1024, parts: 25 },
    // Browsers send file names as raw UTF-8 (busboy's default reads them as latin1).
    defParamCharset: 'utf8',
  }).single(cfg.field);

  const middleware = ((req: Request, res: Response, next: NextFunction): void => {
    const jobId = pickJobId(cfg, req);
    res.setHeader('X-Job-Id', jobId);
    const form = scanForm(req);
    upload(req, res, (err?: unknown) => {
      if (err) {
        next(route.fail(err));
        return;
      }
      handleUpload(route, req, res, next, jobId, form).catch((e: unknown) => next(route.fail(e)));
    });
  }) as DeblurMiddleware;

  Object.defineProperties(middleware, {
    queue: { value: cfg.line, enumerable: true },
    getDeblurrer: { value: () => route.deblurrer.get() },
    close: { value: () => route.deblurrer.dispose() },
  });
  return middleware;
}

/**
 * The request's job id: the route's `jobId` hook, else (without a hook) the `X-Job-Id` header or
 * `?job=`, when it is a valid id; else a random UUID.
 */
function pickJobId(cfg: Pick<UploadSettings, 'jobId'>, req: Request): string {
  let id: string | undefined;
  try {
    id = cfg.jobId?.(req);
  } catch {
    id = undefined;
  }
  if (id === undefined && !cfg.jobId) {
    const header = req.get('x-job-id');
    const query: unknown = (req.query as Record<string, unknown> | undefined)?.job;
    id = header ?? (typeof query === 'string' ? query : undefined);
  }
  return id !== undefined && JOB_ID.test(id) ? id : randomUUID();
}

/** Reads the multipart body alongside multer, to name a part busboy could not parse. */
function scanForm(req: Request): FormScanner | undefined {
  const boundary = req.is('multipart/form-data') ? FormScanner.boundaryOf(req.get('content-type')) : undefined;
  if (boundary === undefined) return undefined;
  const scanner = new FormScanner(boundary);
  // Attached in the same tick as multer's pipe: both see every chunk.
  req.on('data', (chunk: Buffer) => scanner.push(chunk));
  return scanner;
}
