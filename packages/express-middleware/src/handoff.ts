import type { Effort, KernelChoice } from '@sgenet/core';
import type { ImageFormat } from '@sgenet/sharp';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

import { DeblurHttpError, internalError } from './errors.js';
import { CONTENT_TYPES } from './negotiate.js';
import type { OutputFormat } from './negotiate.js';

/** An upload that passed the middleware's checks, handed to a job queue instead of run in-process. */
export interface HandoffUpload {
  /** A fresh random id (never the client's): the job id. */
  jobId: string;
  /** The uploaded file. */
  bytes: Buffer;
  inputFormat: ImageFormat;
  /** The format the client will get the result in. */
  format: OutputFormat;
  quality: number;
  kernel?: KernelChoice;
  network?: boolean;
  effort?: Effort;
  originalName: string;
}

/** Where a handed-off job stands, as the status route reports it. */
export interface HandoffStatus {
  state: 'queued' | 'running' | 'done' | 'failed' | 'unknown';
  progress?: { phase: string; stage?: string; done: number; total: number };
  /** Set when `failed`: the job's error code (`ERR_SGENET_INVALID_IMAGE`...) and message. */
  error?: { code: string; message: string };
}

/**
 * What `deblurUpload({ handoff })` hands work to: `@sgenet/queue`'s `queueHandoff()` implements
 * it on BullMQ; anything with these three calls works.
 */
export interface DeblurHandoff {
  /** Queues the upload; resolves once the job is durably queued. */
  submit(upload: HandoffUpload): Promise<void>;
  status(jobId: string): Promise<HandoffStatus>;
  /** The finished image, or `undefined` while the job is not done. */
  result(jobId: string): Promise<{ body: Buffer; format: OutputFormat } | undefined>;
}

/** Job ids accepted from clients (the `X-Job-Id` label and the status/result routes). */
export const JOB_ID = /^[A-Za-z0-9_-]{8,128}$/;

/** 503 + Retry-After: the job queue did not answer (submit or status). */
export function queueUnavailable(cause: unknown): DeblurHttpError {
  return new DeblurHttpError(503, 'ERR_SGENET_BUSY', 'The job queue is unavailable: try again in a few seconds', { cause, headers: { 'Retry-After': '5' } });
}

export function isHandoff(h: unknown): h is DeblurHandoff {
  return typeof h === 'object' && h !== null &&
    ['submit', 'status', 'result'].every((m) => typeof (h as Record<string, unknown>)[m] === 'function');
}

function jobIdOf(req: Request): string {
  const id: unknown = (req.params as Record<string, unknown> | undefined)?.id;
  if (typeof id !== 'string' || !JOB_ID.test(id)) {
    throw new DeblurHttpError(404, 'ERR_SGENET_JOB_NOT_FOUND', 'No such job: use the job id from the 202 response of the upload');
  }
  return id;
}

function notFound(id: string): DeblurHttpError {
  return new DeblurHttpError(404, 'ERR_SGENET_JOB_NOT_FOUND', `No job ${id}: it was never queued, or its result has expired; upload the image again`);
}

/** Client-safe error for a failed job: image problems keep their code, the rest stays vague. */
function jobFailure(id: string, error: HandoffStatus['error']): DeblurHttpError {
  switch (error?.code) {
    case 'ERR_SGENET_INVALID_IMAGE':
      return new DeblurHttpError(422, 'ERR_SGENET_UNDECODABLE_IMAGE', error.message);
    case 'ERR_SGENET_IMAGE_TOO_LARGE':
      return new DeblurHttpError(413, 'ERR_SGENET_IMAGE_TOO_LARGE', error.message);
    default:
      return new DeblurHttpError(500, 'ERR_SGENET_JOB_FAILED', `Job ${id} failed on the worker: upload the image again later, and report it if it keeps failing`);
  }
}

/** The job the URL names and its status; 404 for an unknown one, 503 when the queue does not answer. */
async function knownJob(handoff: DeblurHandoff, req: Request): Promise<{ id: string; status: HandoffStatus }> {
  const id = jobIdOf(req);
  const status = await handoff.status(id).catch((err: unknown) => {
    throw queueUnavailable(err);
  });
  if (status.state === 'unknown') throw notFound(id);
  return { id, status };
}

function checked(handoff: unknown): DeblurHandoff {
  if (!isHandoff(handoff)) throw new TypeError('handoff must be an object with submit, status and result (for example queueHandoff() of @sgenet/queue)');
  return handoff;
}

/**
 * `GET .../jobs/:id`: a handed-off job's state as JSON,
 * `{ jobId, state, progress?, error?, result? }` (`result`: the URL of the image once `done`).
 *
 * @example
 * ```ts
 * app.post('/deblur', deblurUpload({ handoff }));
 * app.get('/deblur/jobs/:id', deblurJobStatus({ handoff }));
 * app.get('/deblur/jobs/:id/result', deblurJobResult({ handoff }));
 * ```
 */
export function deblurJobStatus(options: { handoff: DeblurHandoff }): RequestHandler {
  const handoff = checked(options?.handoff);
  return (req: Request, res: Response, next: NextFunction): void => {
    (async () => {
      const { id, status } = await knownJob(handoff, req);
      const base = req.originalUrl.split('?')[0]!.replace(/\/+$/, '');
      res.setHeader('Cache-Control', 'no-store');
      if (status.state === 'queued' || status.state === 'running') res.setHeader('Retry-After', '1');
      res.json({
        jobId: id,
        state: status.state,
        ...(status.progress ? { progress: status.progress } : {}),
        ...(status.state === 'failed' ? { error: jobFailure(id, status.error).toJSON().error } : {}),
        ...(status.state === 'done' ? { result: `${base}/result` } : {}),
      });
    })().catch((err: unknown) => next(err instanceof DeblurHttpError ? err : internalError(err)));
  };
}

/** `GET .../jobs/:id/result`: the restored image once the job is done (409 + Retry-After before). */
export function deblurJobResult(options: { handoff: DeblurHandoff }): RequestHandler {
  const handoff = checked(options?.handoff);
  return (req: Request, res: Response, next: NextFunction): void => {
    (async () => {
      const { id, status } = await knownJob(handoff, req);
      if (status.state === 'failed') throw jobFailure(id, status.error);
      const result = status.state === 'done' ? await handoff.result(id) : undefined;
      if (!result) {
        throw new DeblurHttpError(409, 'ERR_SGENET_JOB_NOT_READY', `Job ${id} is ${status.state}: poll its status and fetch the result when it is done`, { headers: { 'Retry-After': '1' } });
      }
      res.status(200);
      res.setHeader('Content-Type', CONTENT_TYPES[result.format]);
      res.setHeader('Content-Disposition', `inline; filename="${id}-deblurred.${result.format === 'jpeg' ? 'jpg' : result.format}"`);
      res.setHeader('Cache-Control', 'no-store');
      res.end(result.body);
    })().catch((err: unknown) => next(err instanceof DeblurHttpError ? err : internalError(err)));
  };
}
