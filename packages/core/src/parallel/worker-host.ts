/**
 * The message loop of a worker thread: runs the tasks a worker entry registers (`serveTasks`) as
 * the pool sends them, one at a time, and answers with their progress pings, results or errors.
 * Errors cross as their name, code and message (errors.ts, `serializeError`), so the pool rejects
 * with the same `SgenetError` subclass the task threw. The worker outlives the call that started
 * it (pool.ts: workers are leased and given back); lease caches are dropped between calls.
 */
import { parentPort } from 'node:worker_threads';

import { SgenetError, serializeError } from '../errors.js';
import type { Task, TaskContext, WorkerMessage, WorkerReply } from './tasks.js';

/** Serves `tasks` on this worker thread until it is terminated. */
export function serveTasks(tasks: readonly Task<unknown, unknown>[]): void {
  const port = parentPort;
  if (!port) throw new Error('serveTasks() runs on a worker thread');
  const byName = new Map<string, Task<unknown, unknown>>();
  for (const task of tasks) {
    if (byName.has(task.name)) throw new Error(`two tasks are named '${task.name}'`);
    byName.set(task.name, task);
  }
  const reply = (message: WorkerReply, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

  // Each task's cache holds one call's state (one pool's lease): a task of another lease, or the
  // end of the lease, drops them all.
  const caches = new Map<string, unknown>();
  let lease = 0;

  port.on('message', async (message: WorkerMessage) => {
    if ('release' in message) {
      caches.clear();
      return;
    }
    if (message.lease !== lease) {
      caches.clear();
      lease = message.lease;
    }
    const name = message.task;
    const context: TaskContext = {
      progress: () => reply({ progress: true }),
      leaseCache: <T>(create: () => T): T => {
        if (!caches.has(name)) caches.set(name, create());
        return caches.get(name) as T;
      },
    };
    try {
      const task = byName.get(name);
      if (!task) throw new SgenetError('ERR_SGENET_BACKEND', `this worker has no task '${name}'`);
      const { result, transfer } = await task.run(message.payload, context);
      reply({ result }, transfer);
    } catch (err) {
      reply({ error: serializeError(err) });
    }
  });
}
