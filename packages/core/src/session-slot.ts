/**
 * One model's backend session inside a deblurrer: loaded on first need, shared by the photos that
 * use it at the same time (counted), and freed when asked while no photo uses it.
 *
 * Why a deblurrer frees sessions at all: ONNX Runtime's CPU arena only grows while its session
 * lives, so a session kept warm holds the largest tile's memory through every photo that runs the
 * other model of the default pair (a 12 MP blurred-then-sharp batch peaked at 1487 MiB through the
 * CLI with both warm; training log, session 20). A reload costs 0.10-0.15 s.
 */
import type { Session } from './types.js';

export class SessionSlot {
  private session: Promise<Session> | undefined;
  private users = 0;

  /**
   * @param load - Loads the model's session (the backend's `load` with the deblurrer's options).
   * @param loaded - A session already loaded for this slot (the one `createDeblurrer` loads up
   *   front, so that a bad model fails the create, not the first photo).
   */
  constructor(private readonly load: () => Promise<Session>, loaded?: Session) {
    if (loaded) this.session = Promise.resolve(loaded);
  }

  /**
   * The session, loaded if it is not: one load for photos that ask at the same time, and a failed
   * load is tried again by the next photo. Pair every call with {@link release}, also on failure.
   */
  acquire(): Promise<Session> {
    this.users += 1;
    if (!this.session) {
      const loading: Promise<Session> = this.load().catch((error: unknown) => {
        // Forgotten only if it is still this slot's load (not one started after a free).
        if (this.session === loading) this.session = undefined;
        throw error;
      });
      this.session = loading;
    }
    return this.session;
  }

  /** One photo no longer uses the session; it stays loaded until {@link freeIfIdle} or {@link dispose}. */
  release(): void {
    this.users -= 1;
  }

  /**
   * Frees the session if no photo uses it (a failed load frees nothing). Never rejects: a session
   * that fails to free is dropped all the same, and the photo that asked goes on.
   */
  async freeIfIdle(): Promise<void> {
    if (this.users > 0) return;
    await this.dispose().catch(() => undefined);
  }

  /** Frees the session, whoever uses it: the deblurrer's `dispose`. */
  async dispose(): Promise<void> {
    const loaded = this.session;
    this.session = undefined;
    await (await loaded?.catch(() => undefined))?.dispose();
  }
}
