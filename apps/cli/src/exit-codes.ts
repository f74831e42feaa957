/**
 * The exit statuses of `sgenet` (documented in `sgenet --help` and the README). `main()` resolves
 * with one of these.
 */
export const EXIT = {
  /** Every output written (`worker`: stopped cleanly on SIGTERM/SIGINT). */
  ok: 0,
  /** Some inputs failed (each named on stderr with its reason); the others were still written. */
  failed: 1,
  /** A bad command line (printed with the usage); nothing was processed. */
  usage: 2,
  /**
   * `sgenet kernel -o/--out-dir`: some photo shows no blur, so no kernel file was written for it
   * (the others were). {@link EXIT.failed} takes precedence when an input also failed.
   */
  noBlur: 3,
  /**
   * `sgenet worker`: Redis did not answer within `--shutdown-timeout`; the connections were dropped
   * and the worker exited anyway (its unfinished job is taken over by another worker).
   */
  workerUnclean: 4,
} as const;

/** One of the {@link EXIT} statuses. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
