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

/** The code of a failure nothing more specific describes (a bug, or an error from a dependency). */
export const UNEXPECTED_ERROR_CODE = 'ERR_SGENET_CLI_UNEXPECTED';

/**
 * The stable code of a failure, as `sgenet deblur --json` prints it: an SGENet error's `code`
 * (`ERR_SGENET_...`), a Node.js system error's (`EACCES`, `ENOSPC`...), else
 * {@link UNEXPECTED_ERROR_CODE}.
 */
export function codeOf(err: unknown): string {
  if (err instanceof SgenetError) return err.code;
  const code = err instanceof Error ? (err as NodeJS.ErrnoException).code : undefined;
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]*$/.test(code) ? code : UNEXPECTED_ERROR_CODE;
}

/** The message of a failure without its code (the code travels separately), first line only. */
export function messageOf(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0] ?? msg;
}
