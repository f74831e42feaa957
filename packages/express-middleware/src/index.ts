/**
 * @sgenet/express: Express upload middleware (multer) that deblurs images with SGENet.
 *
 * ```ts
 * import express from 'express';
 * import { deblurUpload, sgenetErrorHandler } from '@sgenet/express';
 * const app = express();
 * app.post('/deblur', deblurUpload());
 * app.use(sgenetErrorHandler());
 * ```
 *
 * @packageDocumentation
 */
export { deblurUpload, DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS } from './middleware.js';
export type { DeblurMiddleware, DeblurUploadOptions } from './middleware.js';
export { DeblurHttpError, internalError, sgenetErrorHandler, toHttpError } from './errors.js';
export type { DeblurErrorBody, DeblurHttpErrorCode, ErrorHandlerOptions, HttpErrorContext } from './errors.js';
export { UploadLine, QueueFullError, JobQueue } from './upload-line.js';
export type { UploadLineOptions, RunOptions, JobQueueOptions } from './upload-line.js';
export { CONTENT_TYPES, OUTPUT_FORMATS, formatFromQuery, negotiateFormat } from './negotiate.js';
export type { OutputFormat } from './negotiate.js';
export type { DeblurResult, JobPhase, JobProgress } from './types.js';
export { deblurJobResult, deblurJobStatus } from './handoff.js';
export type { DeblurHandoff, HandoffStatus, HandoffUpload } from './handoff.js';
