#!/usr/bin/env node
import { fileURLToPath } from 'node:url';

import { relaunch, relaunchEnvironment } from '../dist/launch.js';

const argv = process.argv.slice(2);
// `sgenet deblur` re-runs itself once with glibc's mmap threshold fixed (dist/launch.js says why);
// undefined when it runs here: another command, not glibc, the variable already set, or a child
// that could not start. The launcher loads nothing else: it only waits.
const env = relaunchEnvironment(argv, process.env);
const relaunched = env && await relaunch(fileURLToPath(import.meta.url), argv, env);
if (relaunched !== undefined) {
  process.exitCode = relaunched;
} else {
  const { main } = await import('../dist/cli.js');
  const { EXIT } = await import('../dist/exit-codes.js');
  const code = await main(argv);
  process.exitCode = code;
  if (code === EXIT.workerUnclean) {
    // A worker that gave up on Redis has nothing left to do, but BullMQ and ioredis may still hold
    // one-shot timers for seconds (a blocking read's timeout, a socket's destroy delay) while the
    // process manager's grace period runs. unref(): a process with nothing left exits first.
    setTimeout(() => process.exit(code), 100).unref();
  }
}
