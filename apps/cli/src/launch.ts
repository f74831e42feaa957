/**
 * `sgenet deblur` in a child process with glibc's malloc told to keep large buffers out of its
 * heap, so that a 12 MP photo stays inside the 1 GB budget (bin/sgenet.js asks
 * {@link relaunchEnvironment} first).
 *
 * Why: glibc raises its mmap threshold each time a large mmapped block is freed (up to 32 MiB).
 * The kernel estimate frees working planes of tens of MiB, so every buffer of the deconvolution
 * and the network after it comes from the heap and its arenas, which glibc does not hand back:
 * measured on a 12 MP photo, `sgenet deblur` peaked at 1081 MiB by default and at 841 MiB with
 * `MALLOC_MMAP_THRESHOLD_=1048576` (training log, session 24). The variable must be set before
 * the process starts, so the command re-runs itself once with it. `worker` and the other commands
 * run as they are: a process manager that starts a worker sets the variable itself (README).
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

/** glibc's fixed mmap threshold for `sgenet deblur`: buffers of 1 MiB or more are mmapped and returned when freed. */
export const MMAP_THRESHOLD = 1 << 20;

/** Set to any value to run `sgenet deblur` in this process (no child, glibc's defaults). */
export const NO_RELAUNCH_VARIABLE = 'SGENET_NO_RELAUNCH';

/** Whether this process runs on glibc (musl and other platforms ignore the variable). */
export function isGlibc(): boolean {
  if (process.platform !== 'linux') return false;
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return typeof header?.glibcVersionRuntime === 'string';
}

/**
 * The environment to re-run the command with, or undefined to run it here: only `deblur` on
 * glibc, when neither the variable nor a glibc tunable for the threshold is set already (the
 * child has it, so it never relaunches again) and {@link NO_RELAUNCH_VARIABLE} is not set.
 */
export function relaunchEnvironment(
  argv: readonly string[], env: NodeJS.ProcessEnv, glibc: () => boolean = isGlibc,
): NodeJS.ProcessEnv | undefined {
  if (argv[0] !== 'deblur') return undefined;
  if (env.MALLOC_MMAP_THRESHOLD_ !== undefined || env[NO_RELAUNCH_VARIABLE] !== undefined) return undefined;
  if (env.GLIBC_TUNABLES?.includes('glibc.malloc.mmap_threshold') === true) return undefined;
  // Asked last: the process report behind it is the one cost of this decision.
  if (!glibc()) return undefined;
  return { ...env, MALLOC_MMAP_THRESHOLD_: String(MMAP_THRESHOLD) };
}

/**
 * Signals passed on to the child: it ends as the command would have, and this process with it.
 * Others sent to this process alone (SIGKILL, SIGUSR2, SIGALRM…) end it and leave the child to
 * finish the photo.
 */
const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const;

/**
 * Runs `script argv` in a child Node process with `env`, stdio shared, and resolves with its exit
 * status. A signal that reaches this process goes on to the child; a child ended by a signal ends
 * this process by the same signal (a caller sees what it would have seen without the child). A
 * child that cannot start resolves undefined: the caller then runs the command itself.
 */
export function relaunch(script: string, argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number | undefined> {
  return new Promise((resolve) => {
    // The launcher's Node flags go on, but not an inspector's: its port is the launcher's (to
    // debug the command itself, set SGENET_NO_RELAUNCH).
    const flags = process.execArgv.filter((flag) => !flag.startsWith('--inspect'));
    // The handlers go in before the child starts: a signal that came while spawn() ran would
    // otherwise end this process by its default action and leave the child deblurring alone.
    // Node runs a listener on the event loop, after this code: by then the child exists, or it
    // never started and the signal waits in `pending`.
    let child: ReturnType<typeof spawn> | undefined;
    let pending: NodeJS.Signals | undefined;
    const forward = (signal: NodeJS.Signals) => () => {
      if (child?.pid !== undefined) child.kill(signal);
      else pending = signal;
    };
    const handlers = FORWARDED.map((signal) => [signal, forward(signal)] as const);
    for (const [signal, handler] of handlers) process.on(signal, handler);
    const detach = () => {
      for (const [signal, handler] of handlers) process.off(signal, handler);
    };
    // No child: the command runs here instead. One loop turn first, so that a signal caught while
    // spawn() ran reaches its listener (detaching at once would drop it); then it ends this
    // process as it would have without the handlers.
    const runHere = () => setImmediate(() => {
      detach();
      if (pending) process.kill(process.pid, pending);
      resolve(undefined);
    });
    try {
      child = spawn(process.execPath, [...flags, script, ...argv], { stdio: 'inherit', env });
    } catch {
      // spawn() throws for some failures (ENOMEM, E2BIG) instead of emitting 'error'.
      runHere();
      return;
    }
    child.on('error', () => {
      // Only a child that never started hands the command back; a later error (a signal that
      // could not be delivered) leaves the running child to end on its own.
      if (child!.pid !== undefined) return;
      runHere();
    });
    child.once('exit', (code, signal) => {
      detach();
      if (signal) {
        // Our handlers are gone: the default action of the signal ends this process.
        process.kill(process.pid, signal);
        // Unreachable for a fatal signal; a caught-nowhere one (none here) falls through.
        resolve(128 + (constants.signals[signal] ?? 0));
        return;
      }
      resolve(code ?? 1);
    });
  });
}
