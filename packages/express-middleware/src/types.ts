import type { ImageFormat } from '@sgenet/sharp';
import type { Sharp } from 'sharp';

import type { DeblurHttpErrorCode } from './errors.js';

/** Stages a job goes through, in order; it ends with `done`, `failed` or `aborted`. */
export type JobPhase = 'queued' | 'started' | 'deblurring' | 'encoding' | 'done' | 'failed' | 'aborted';

/** What the `onProgress` hook receives. */
export interface JobProgress {
  /** The request's job id (also sent as the `X-Job-Id` response header). */
  jobId: string;
  phase: JobPhase;
  /** Steps done and total of the current stage while `deblurring` (0/0 in other phases, 1/1 when `done`). */
  done: number;
  total: number;
  /** While `deblurring`: the restoration stage (`kernel`, `deconvolve`, `network`). */
  stage?: 'kernel' | 'deconvolve' | 'network';
  /** 1-based place in the queue while `queued`. */
  position?: number;
  /** Set when `failed`: the code and message sent to the client. */
  error?: { code: DeblurHttpErrorCode; message: string };
}

/** What attach mode leaves on `req.sgenet` for the next handler. */
export interface DeblurResult {
  jobId: string;
  /** A sharp instance holding the deblurred image: chain on it (`.webp().toBuffer()`...). */
  image: Sharp;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
  bitDepth: 8 | 16;
  /** Format of the upload. */
  inputFormat: ImageFormat;
  /** The upload as multer described it (the bytes are in `req.file.buffer`). */
  file: { originalName: string; mimeType: string; size: number };
  /** Milliseconds from entering the queue to the deblurred result. */
  durationMs: number;
  /** The kernel used, as in the `X-Blur-Kernel` header: `<w>x<h>; confidence=<c>` or `none`. */
  kernel?: string;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by `deblurUpload({ mode: 'attach' })` before it calls `next()`. */
      sgenet?: DeblurResult;
    }
  }
}
