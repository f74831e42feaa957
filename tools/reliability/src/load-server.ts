/**
 * The server under load (a child process, so its memory is measured alone): the Express
 * middleware on loopback with a bounded queue. Tells its parent the port over IPC; `GET /stats`
 * reports the queue and this process's peak RSS.
 *
 * argv: <concurrency> <maxQueue> [maxHeld] [holdMs] (an empty or missing one: the library's default)
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';

import { createDeblurrer } from '@sgenet/core';
import { deblurUpload, JobQueue, sgenetErrorHandler } from '@sgenet/express';
import express from 'express';

const [concurrency = '1', maxQueue = '8', maxHeld = '', holdMs = ''] = process.argv.slice(2);
const queue = new JobQueue({
  concurrency: Number(concurrency),
  maxQueue: Number(maxQueue),
  ...(maxHeld ? { maxHeld: Number(maxHeld) } : {}),
  ...(holdMs ? { holdMs: Number(holdMs) } : {}),
});
const deblurrer = await createDeblurrer({ backend: 'ort' });
let aborted = 0;

/** Peak resident set size of this process (Linux VmHWM), in bytes. */
function peakRss(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : process.memoryUsage().rss;
}

const app = express();
app.post('/deblur', deblurUpload({
  deblurrer,
  queue,
  onProgress: (_req, p) => {
    if (p.phase === 'aborted') aborted += 1;
  },
}));
app.get('/stats', (_req, res) => {
  res.json({
    running: queue.running,
    queued: queue.queued,
    held: queue.held,
    limits: { concurrency: queue.concurrency, maxQueue: queue.maxQueue, maxHeld: queue.maxHeld, holdMs: queue.holdMs },
    aborted,
    peakRss: peakRss(),
    rss: process.memoryUsage().rss,
  });
});
app.use(sgenetErrorHandler({ onServerError: (err) => console.error(err) }));
const server = app.listen(0, '127.0.0.1', () => {
  process.send?.({ port: (server.address() as AddressInfo).port });
});
process.on('disconnect', () => {
  server.close();
  void deblurrer.dispose().finally(() => process.exit(0));
});
