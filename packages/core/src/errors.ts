/**
 * Every error thrown by SGENet packages is an {@link SgenetError} with a stable `code`, so callers
 * can branch on `err.code` instead of parsing messages. Messages say what to do about it.
 */
export type SgenetErrorCode =
  | 'ERR_SGENET_INVALID_OPTION'
  | 'ERR_SGENET_INVALID_IMAGE'
  | 'ERR_SGENET_INVALID_KERNEL'
  | 'ERR_SGENET_IMAGE_TOO_LARGE'
  | 'ERR_SGENET_ABORTED'
  | 'ERR_SGENET_MODEL'
  | 'ERR_SGENET_BACKEND_UNAVAILABLE'
  | 'ERR_SGENET_BACKEND'
  | 'ERR_SGENET_UNSUPPORTED_OP'
  | 'ERR_SGENET_DISPOSED'
  | 'ERR_SGENET_STORAGE'
  | 'ERR_SGENET_OUTPUT_EXISTS'
  | 'ERR_SGENET_JOB_FAILED';

/** Base class of all SGENet errors. */
export class SgenetError extends Error {
  readonly code: SgenetErrorCode;
  constructor(code: SgenetErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** An option had the wrong type or was out of range. */
export class InvalidOptionError extends SgenetError {
  constructor(message: string) {
    super('ERR_SGENET_INVALID_OPTION', message);
  }
}

/** The pixels handed in are not a well-formed image (sizes, channels, buffer length). */
export class InvalidImageError extends SgenetError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_SGENET_INVALID_IMAGE', message, options);
  }
}

/**
 * A blur kernel (a PSF handed in, or a kernel file) is unusable: empty, all zero, NaN or negative
 * values, not numbers, or larger than the photo. The message names the source (the file).
 */
export class InvalidKernelError extends SgenetError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_SGENET_INVALID_KERNEL', message, options);
  }
}

/** The image exceeds a configured pixel limit. */
export class ImageTooLargeError extends SgenetError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_SGENET_IMAGE_TOO_LARGE', message, options);
  }
}

/** The work was cancelled through an AbortSignal. */
export class AbortError extends SgenetError {
  constructor(message = 'Deblurring was aborted by its AbortSignal') {
    super('ERR_SGENET_ABORTED', message);
  }
}

/** The model file is missing, unreadable or does not follow the export contract. */
export class ModelError extends SgenetError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_SGENET_MODEL', message, options);
  }
}

/** No usable backend package is installed, or the requested one is missing. */
export class BackendUnavailableError extends SgenetError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_SGENET_BACKEND_UNAVAILABLE', message, options);
  }
}

/** The inference engine failed while running the model. */
export class BackendError extends SgenetError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_SGENET_BACKEND', message, options);
  }
}

/** A session or deblurrer was used after `dispose()`. */
export class DisposedError extends SgenetError {
  constructor(what: string) {
    super('ERR_SGENET_DISPOSED', `${what} was used after dispose(); create a new one`);
  }
}

/**
 * A storage location (of a queued job's input or output) is unusable: outside the storage root,
 * missing, too large or not writable. The message names the location.
 */
export class StorageError extends SgenetError {
  /** `true` when retrying cannot help (a missing input, a location outside the root). */
  readonly permanent: boolean;
  constructor(message: string, options?: { cause?: unknown; permanent?: boolean }) {
    super('ERR_SGENET_STORAGE', message, options);
    this.permanent = options?.permanent ?? true;
  }
}

/** An output already exists and the job did not ask to overwrite it. */
export class OutputExistsError extends SgenetError {
  constructor(message: string) {
    super('ERR_SGENET_OUTPUT_EXISTS', message);
  }
}

/**
 * An error as it crosses a thread (a worker's task to the pool): structured cloning keeps only a
 * plain `Error`'s message, so the class, `code` and other fields travel as data.
 */
export interface SerializedError {
  /** The class name, e.g. `InvalidKernelError`. */
  name: string;
  message: string;
  stack?: string;
  /** Set when the error was an {@link SgenetError}: its `code`. */
  code?: string;
  /** The error's own enumerable fields of primitive value besides `name` and `code` (`permanent`). */
  fields?: Record<string, string | number | boolean | null>;
}

/** The classes {@link rebuildError} makes again by name. */
const ERROR_CLASSES: Record<string, abstract new (...args: never[]) => SgenetError> = {
  SgenetError,
  InvalidOptionError,
  InvalidImageError,
  InvalidKernelError,
  ImageTooLargeError,
  AbortError,
  ModelError,
  BackendUnavailableError,
  BackendError,
  DisposedError,
  StorageError,
  OutputExistsError,
};

/** `err` as data that crosses a thread; {@link rebuildError} makes it an error again. */
export function serializeError(err: unknown): SerializedError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) };
  const out: SerializedError = { name: err.name, message: err.message };
  if (err.stack !== undefined) out.stack = err.stack;
  if (err instanceof SgenetError) {
    out.code = err.code;
    const fields: Record<string, string | number | boolean | null> = {};
    for (const [key, value] of Object.entries(err)) {
      if (key === 'name' || key === 'code') continue;
      if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') fields[key] = value;
    }
    if (Object.keys(fields).length > 0) out.fields = fields;
  }
  return out;
}

/**
 * The {@link SgenetError} that {@link serializeError} took apart: the same class when it is one
 * of this module's (by name; else an `SgenetError`), the same `code`, message, fields and stack
 * (the thread that threw it). `undefined` for any other error: the caller decides what it becomes.
 */
export function rebuildError(data: SerializedError): SgenetError | undefined {
  if (data.code === undefined) return undefined;
  const target = Object.hasOwn(ERROR_CLASSES, data.name) ? ERROR_CLASSES[data.name]! : SgenetError;
  // Built by SgenetError's constructor for the target class: the subclasses' own constructors
  // compose their messages (DisposedError) or set fields, which arrive ready-made.
  const err: SgenetError = Reflect.construct(SgenetError, [data.code, data.message], target);
  if (data.fields) Object.assign(err, data.fields);
  if (data.stack !== undefined) err.stack = data.stack;
  return err;
}

/** Throws {@link AbortError} when the signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError();
}
