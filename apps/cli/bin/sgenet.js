#!/usr/bin/env node
import { main } from '../dist/cli.js';
import { EXIT } from '../dist/exit-codes.js';

const code = await main(process.argv.slice(2));
process.exitCode = code;
if (code === EXIT.workerUnclean) {
  // A worker that gave up on Redis has nothing left to do, but BullMQ and ioredis may still hold
  // one-shot timers for seconds (a blocking read's timeout, a socket's destroy delay) while the
  // process manager's grace period runs. unref(): a process with nothing left exits first.
  setTimeout(() => process.exit(code), 100).unref();
}
