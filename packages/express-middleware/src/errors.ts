import { SgenetError } from '@sgenet/core';
import { ImageDecodeError } from '@sgenet/sharp';
import type { ErrorRequestHandler, Request } from 'express';

/**
 * Stable codes of the JSON errors this package sends, with their HTTP status:
 *
 * | code | status | when |
 * | --- | --- | --- |
 * | `ERR_SGENET_NO_FILE` | 400 | no file in the expected multipart field |
 * | `ERR_SGENET_EMPTY_FILE` | 400 | the file has 0 bytes |
 * | `ERR_SGENET_MALFORMED_FORM` | 400 | the multipart body cannot be parsed (a part's headers are malformed, e.g. an unescaped `"` in the file name; the body ends early) |
 * | `ERR_SGENET_BAD_REQUEST` | 400 | unexpected field, too many parts or fields |
 * | `ERR_SGENET_INVALID_FORMAT` | 400 | `?format=` is not png, jpeg (jpg) or webp |
 * | `ERR_SGENET_FILE_TOO_LARGE` | 413 | more bytes than `maxBytes` |
 * | `ERR_SGENET_IMAGE_TOO_LARGE` | 413 | more pixels than `maxPixels` |
 * | `ERR_SGENET_UNSUPPORTED_MEDIA_TYPE` | 415 | not an image, or a format not accepted |
 * | `ERR_SGENET_UNDECODABLE_IMAGE` | 422 | an image that cannot be decoded (truncated, corrupt) |
 * | `ERR_SGENET_IMAGE_TOO_SMALL` | 422 | the photo is smaller than the route's fixed blur kernel (`kernel` option) |
 * | `ERR_SGENET_ABORTED` | 499 | the client went away (nothing is sent) |
 * | `ERR_SGENET_BUSY` | 503 | the queue is full; `Retry-After` says when to retry |
 * | `ERR_SGENET_JOB_NOT_FOUND` | 404 | handoff: no such job (never queued, or expired) |
 * | `ERR_SGENET_JOB_NOT_READY` | 409 | handoff: the result is asked for before the job is done; `Retry-After` |
 * | `ERR_SGENET_JOB_FAILED` | 500 | handoff: the job failed on the worker (an image error keeps its own code) |
 * | `ERR_SGENET_INTERNAL` | 500 | anything else (model, backend); details are logged, not sent |
 */
export type DeblurHttpErrorCode =
  | 'ERR_SGENET_NO_FILE'
  | 'ERR_SGENET_EMPTY_FILE'
  | 'ERR_SGENET_MALFORMED_FORM'
  | 'ERR_SGENET_BAD_REQUEST'
  | 'ERR_SGENET_INVALID_FORMAT'
  | 'ERR_SGENET_FILE_TOO_LARGE'
  | 'ERR_SGENET_IMAGE_TOO_LARGE'
  | 'ERR_SGENET_UNSUPPORTED_MEDIA_TYPE'
  | 'ERR_SGENET_UNDECODABLE_IMAGE'
  | 'ERR_SGENET_IMAGE_TOO_SMALL'
  | 'ERR_SGENET_ABORTED'
  | 'ERR_SGENET_BUSY'
  | 'ERR_SGENET_JOB_NOT_FOUND'
  | 'ERR_SGENET_JOB_NOT_READY'
  | 'ERR_SGENET_JOB_FAILED'
  | 'ERR_SGENET_INTERNAL';

/** The JSON body of every error response. */
export interface DeblurErrorBody {
  error: { code: DeblurHttpErrorCode; message: string };
}

/**
 * An error with an HTTP status, a stable `code` and a message for the client. `status`,
 * `headers` and `expose` follow the http-errors convention, so Express's default handler also
 * uses the right status when {@link sgenetErrorHandler} is not installed.
 */
export class DeblurHttpError extends Error {
  readonly code: DeblurHttpErrorCode;
  readonly status: number;
  readonly statusCode: number;
  /** Response headers to send with it (e.g. `Retry-After`). */
  readonly headers: Readonly<Record<string, string>>;
  /** Whether `message` is meant for the client (all but `ERR_SGENET_INTERNAL`). */
  readonly expose: boolean;
  constructor(
    status: number,
    code: DeblurHttpErrorCode,
    message: string,
    options: { cause?: unknown; headers?: Record<string, string> } = {},
  ) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    this.name = 'DeblurHttpError';
    this.status = status;
    this.statusCode = status;
    this.code = code;
    this.headers = options.headers ?? {};
    this.expose = code !== 'ERR_SGENET_INTERNAL';
  }

  /** The JSON body for this error. */
  toJSON(): DeblurErrorBody {
    return { error: { code: this.code, message: this.message } };
  }
}

interface MulterLikeError {
  name: string;
  code: string;
  field?: string;
}

function isMulterError(err: unknown): err is MulterLikeError & Error {
  return err instanceof Error && err.name === 'MulterError' && typeof (err as Partial<MulterLikeError>).code === 'string';
}

/** Context that makes messages precise. */
export interface HttpErrorContext {
  /** The upload limit in bytes. */
  maxBytes?: number;
  /** The multipart field the image is expected in. */
  field?: string;
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${+(n / (1024 * 1024)).toFixed(1)} MiB`;
  if (n >= 1024) return `${+(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}

/**
 * Maps anything thrown while handling an upload (multer, busboy, `@sgenet/sharp`, core) to a
 * {@link DeblurHttpError}. Returns `undefined` for errors it does not know, which an error
 * handler should pass on with `next(err)`.
 */
export function toHttpError(err: unknown, context: HttpErrorContext = {}): DeblurHttpError | undefined {
  if (err instanceof DeblurHttpError) return err;
  const field = context.field ?? 'image';
  if (isMulterError(err)) return multerHttpError(err, context.maxBytes, field);
  if (err instanceof ImageDecodeError) return decodeHttpError(err);
  if (err instanceof SgenetError) return sgenetHttpError(err);
  // busboy's own errors (malformed multipart bodies) are plain Errors with these messages.
  if (
    err instanceof Error &&
    /Unexpected end of form|Malformed part header|Multipart: Boundary not found|Malformed urlencoded form|Unexpected end of file/i.test(
      err.message,
    )
  ) {
    return malformedForm(err.message, field, err);
  }
  return undefined;
}

/** multer's limits and form errors: 413 for the size, 400 for the rest. */
function multerHttpError(err: MulterLikeError & Error, maxBytes: number | undefined, field: string): DeblurHttpError {
  switch (err.code) {
    case 'LIMIT_FILE_SIZE':
      return new DeblurHttpError(
        413,
        'ERR_SGENET_FILE_TOO_LARGE',
        maxBytes !== undefined
          ? `The file is larger than the upload limit of ${formatBytes(maxBytes)}: send a smaller or downscaled image`
          : 'The file is larger than the upload limit: send a smaller or downscaled image',
        { cause: err },
      );
    case 'LIMIT_UNEXPECTED_FILE':
      return new DeblurHttpError(
        400,
        'ERR_SGENET_BAD_REQUEST',
        `Unexpected file field ${JSON.stringify(err.field ?? '')}: send exactly one image in the "${field}" field`,
        { cause: err },
      );
    default:
      return new DeblurHttpError(
        400,
        'ERR_SGENET_BAD_REQUEST',
        `The multipart form was rejected (${err.message}): send one image in the "${field}" field and nothing large besides`,
        { cause: err },
      );
  }
}

/** `@sgenet/sharp`'s decoding failures: 400 empty, 415 not an accepted format, 422 undecodable. */
function decodeHttpError(err: ImageDecodeError): DeblurHttpError {
  switch (err.reason) {
    case 'empty':
      return new DeblurHttpError(400, 'ERR_SGENET_EMPTY_FILE', 'The uploaded file is empty (0 bytes): choose an image file and upload it again', { cause: err });
    case 'unsupported-format':
      return new DeblurHttpError(415, 'ERR_SGENET_UNSUPPORTED_MEDIA_TYPE', err.message, { cause: err });
    default:
      return new DeblurHttpError(422, 'ERR_SGENET_UNDECODABLE_IMAGE', err.message, { cause: err });
  }
}

/** Core's errors a client can act on keep their meaning; the rest are the server's (500). */
function sgenetHttpError(err: SgenetError): DeblurHttpError {
  switch (err.code) {
    case 'ERR_SGENET_IMAGE_TOO_LARGE':
      return new DeblurHttpError(413, 'ERR_SGENET_IMAGE_TOO_LARGE', err.message, { cause: err });
    case 'ERR_SGENET_INVALID_IMAGE':
      return new DeblurHttpError(422, 'ERR_SGENET_UNDECODABLE_IMAGE', err.message, { cause: err });
    case 'ERR_SGENET_INVALID_KERNEL':
      // The route's kernel was checked when it was built; per request, only its size against
      // the photo can fail.
      return new DeblurHttpError(422, 'ERR_SGENET_IMAGE_TOO_SMALL', 'The photo is smaller than the blur kernel this server deconvolves with: upload a larger photo', { cause: err });
    case 'ERR_SGENET_ABORTED':
      return new DeblurHttpError(499, 'ERR_SGENET_ABORTED', 'The request was cancelled by the client', { cause: err });
    default:
      return internalError(err);
  }
}

/**
 * 400 `ERR_SGENET_MALFORMED_FORM`: the multipart body could not be parsed, so the file in it could
 * not be read; `problem` says where.
 */
export function malformedForm(problem: string, field = 'image', cause?: unknown): DeblurHttpError {
  return new DeblurHttpError(
    400,
    'ERR_SGENET_MALFORMED_FORM',
    `The multipart form is malformed (${problem}), so the image in the "${field}" field could not be read: ` +
      'send it again from a browser form, FormData or curl -F, which escape quotes in file names, or rename the file without " characters',
    cause === undefined ? {} : { cause },
  );
}

/** A 500 whose message does not leak internals; the original error is its `cause`. */
export function internalError(cause: unknown): DeblurHttpError {
  return new DeblurHttpError(
    500,
    'ERR_SGENET_INTERNAL',
    'Deblurring failed on the server: try again later, and report it if it keeps happening',
    { cause },
  );
}

/** Options of {@link sgenetErrorHandler}. */
export interface ErrorHandlerOptions {
  /**
   * Called for every server-side failure (500 `ERR_SGENET_INTERNAL`) with the original error. Default:
   * `console.error`. Pass `() => {}` to silence it.
   */
  onServerError?: (err: unknown, req: Request) => void;
  /**
   * Render errors this package does not know as a JSON 500 too, instead of passing them on
   * with `next(err)`. Default `false`.
   */
  renderUnknown?: boolean;
}

/**
 * Express error handler that renders this package's errors as
 * `{ "error": { "code": "...", "message": "..." } }` with the right status and headers. Install
 * it after the routes: `app.use(sgenetErrorHandler())`. Unknown errors go to `next(err)`.
 */
export function sgenetErrorHandler(options: ErrorHandlerOptions = {}): ErrorRequestHandler {
  const onServerError = options.onServerError ?? ((err: unknown) => console.error('[@sgenet/express]', err));
  return (err: unknown, req, res, next) => {
    let httpError = toHttpError(err);
    if (!httpError && options.renderUnknown) httpError = internalError(err);
    if (!httpError) {
      next(err);
      return;
    }
    if (httpError.code === 'ERR_SGENET_INTERNAL') {
      try {
        onServerError(httpError.cause ?? httpError, req);
      } catch {
        // A logging hook must not take the server down.
      }
    }
    if (res.headersSent) {
      next(err);
      return;
    }
    if (httpError.code === 'ERR_SGENET_ABORTED' || res.destroyed || req.socket?.destroyed) {
      // Nobody is listening any more.
      if (!res.writableEnded && !res.destroyed) res.end();
      return;
    }
    res.status(httpError.status);
    for (const [name, value] of Object.entries(httpError.headers)) res.setHeader(name, value);
    res.setHeader('Cache-Control', 'no-store');
    res.json(httpError.toJSON());
  };
}
