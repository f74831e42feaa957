/**
 * The deblurrer of a long-lived front end (the Express middleware, a queue worker): given by the
 * caller, or created on first use, once, from the front end's options.
 */
import type { Deblurrer } from './deblurrer.js';
import { invalidOption, isPlainObject } from './validate.js';

/** A deblurrer, or a promise of one (so that a server can listen while its model loads). */
export type DeblurrerSource = Deblurrer | Promise<Deblurrer>;

/**
 * Validates an optional `deblurrer` option of a long-lived front end: a Deblurrer (an object with
 * `deblur`) or a Promise of one. Throws `Expected a Deblurrer or a Promise of one for deblurrer ...`.
 */
export function deblurrerOption(value: unknown): DeblurrerSource | undefined {
  if (value === undefined) return undefined;
  if (value instanceof Promise || (isPlainObject(value) && typeof value.deblur === 'function')) {
    return value as DeblurrerSource;
  }
  throw invalidOption('deblurrer', 'a Deblurrer or a Promise of one', value);
}

/**
 * Holds the deblurrer a front end runs its jobs on, as BullMQ's worker holds its connection:
 *
 * - given a deblurrer (or a promise of one), it hands that out and never disposes it: it is the
 *   caller's, maybe shared between routes;
 * - given a factory (`() => createDeblurrer(options)`), it creates the deblurrer on the first
 *   {@link get} and shares the promise between every job that asks meanwhile. A failed create is
 *   forgotten, so the next {@link get} tries again (a model file that was being copied, a backend
 *   that was busy) instead of failing every job for good; {@link dispose} frees it, once.
 *
 * A given promise that rejects rejects each {@link get} (each job reports it), never as an
 * unhandled rejection.
 *
 * @example
 * ```ts
 * const holder = new DeblurrerHolder(options.deblurrer ?? (() => createDeblurrer({ backend, threads })));
 * const deblurrer = await holder.get();   // created once, shared
 * await holder.dispose();                 // disposes it if the holder created it
 * ```
 */
export class DeblurrerHolder {
  /** Whether the holder creates (and so disposes) its deblurrer; `false` when it was given one. */
  readonly owns: boolean;
  private readonly create: (() => Promise<Deblurrer>) | undefined;
  private current: Promise<Deblurrer> | undefined;

  constructor(source: DeblurrerSource | (() => Promise<Deblurrer>)) {
    if (typeof source === 'function') {
      this.owns = true;
      this.create = source;
      return;
    }
    this.owns = false;
    this.current = Promise.resolve(source);
    this.current.catch(() => {}); // surfaced by get(), never as an unhandled rejection
  }

  /** Whether a deblurrer is held now: loaded, loading, or given. */
  get held(): boolean {
    return this.current !== undefined;
  }

  /** The deblurrer: the given one, or the one created on the first call (created again after a failed create). */
  get(): Promise<Deblurrer> {
    if (this.current) return this.current;
    const create = this.create!;
    // A factory that throws at once fails this call, as one that rejects does.
    const created = new Promise<Deblurrer>((resolve) => resolve(create()));
    this.current = created;
    // A failed create is retried by the next call instead of failing forever.
    created.catch(() => {
      if (this.current === created) this.current = undefined;
    });
    return created;
  }

  /**
   * Lets go of the deblurrer the holder created (the next {@link get} would create another) and
   * returns what disposes it, once however often it is called (it waits for a create still
   * under way, and ignores one that failed): for a front end that must dispose only once its
   * running jobs have left the deblurrer. `undefined` when there is nothing of the holder's to
   * dispose (nothing created yet, or a given deblurrer).
   */
  release(): (() => Promise<void>) | undefined {
    if (!this.owns || !this.current) return undefined;
    const pending = this.current;
    this.current = undefined;
    let disposing: Promise<void> | undefined;
    return () => (disposing ??= pending.then((d) => d.dispose()).catch(() => {}));
  }

  /** Disposes the deblurrer the holder created, if any, now (a given one is left alone). Never rejects. */
  async dispose(): Promise<void> {
    await this.release()?.();
  }
}
