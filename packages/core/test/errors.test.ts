/**
 * Errors across a thread: a worker's task error is sent as data (serializeError) and rebuilt on the
 * caller's thread (rebuildError) as the same class with the same code, message and fields. The
 * worker round trip itself runs in worker-pool.test.ts (it needs the compiled worker).
 */
import { describe, expect, it } from 'vitest';

import * as errors from '../src/errors.js';
import { rebuildError, serializeError, SgenetError } from '../src/errors.js';

/** What postMessage does to the data between the threads. */
const acrossThreads = (err: unknown) => rebuildError(structuredClone(serializeError(err)));

describe('errors across threads', () => {
  const made: SgenetError[] = [
    new errors.SgenetError('ERR_SGENET_JOB_FAILED', 'job 7 failed'),
    new errors.InvalidOptionError('Expected a number for weight'),
    new errors.InvalidImageError('data is 12 bytes, expected 48'),
    new errors.InvalidKernelError('kernel.json: all zero'),
    new errors.ImageTooLargeError('40000 x 40000 exceeds maxPixels'),
    new errors.AbortError(),
    new errors.ModelError('not an ONNX file'),
    new errors.BackendUnavailableError('no backend installed'),
    new errors.BackendError('session failed'),
    new errors.DisposedError('the deblurrer'),
    new errors.StorageError('in/a.png is missing'),
    new errors.StorageError('out/ is full', { permanent: false }),
    new errors.OutputExistsError('out/a.png exists'),
  ];

  it.each(made.map((err) => [err.name, err] as const))('%s keeps its class, code, message and fields', (_name, err) => {
    const back = acrossThreads(err)!;
    expect(Object.getPrototypeOf(back)).toBe(Object.getPrototypeOf(err));
    expect(back).toBeInstanceOf(SgenetError);
    expect(back).toBeInstanceOf(Error);
    expect(back.name).toBe(err.name);
    expect(back.code).toBe(err.code);
    expect(back.message).toBe(err.message);
    expect({ ...back }).toEqual({ ...err });
    expect(back.stack).toBe(err.stack);
  });

  it('a subclass it does not know comes back as an SgenetError with its code', () => {
    class QueueFullError extends SgenetError {
      constructor() { super('ERR_SGENET_JOB_FAILED', 'the queue is full'); }
    }
    const back = acrossThreads(new QueueFullError())!;
    expect(Object.getPrototypeOf(back)).toBe(SgenetError.prototype);
    expect(back).toMatchObject({ name: 'SgenetError', code: 'ERR_SGENET_JOB_FAILED', message: 'the queue is full' });
  });

  it('any other error is left to the caller (the pool makes it a backend failure)', () => {
    expect(acrossThreads(new RangeError('offset out of range'))).toBeUndefined();
    expect(serializeError(new RangeError('offset out of range'))).toMatchObject({ name: 'RangeError', message: 'offset out of range' });
    expect(serializeError('a string')).toEqual({ name: 'Error', message: 'a string' });
  });
});
