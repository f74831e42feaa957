import { SgenetError } from '@sgenet/core';
import { DeblurJobError } from '@sgenet/queue';

/** The one-line reason printed for a failure: the message and, for SGENet errors, the code. */
export function reasonOf(err: unknown): string {
  // A job's error already ends in its own code: "<message> [ERR_...]".
  if (err instanceof DeblurJobError) return err.message.replace(/^Job \S+ failed: /, '');
  if (err instanceof SgenetError) return `${err.message} [${err.code}]`;
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0] ?? msg;
}
