/**
 * @sgenet/queue: bulk deblurring on a BullMQ job queue (Redis). Producers add jobs that name an
 * input and an output location in a shared storage; workers, on as many hosts as needed, deblur
 * them. Images never travel through Redis, outputs are written atomically, and a job whose worker
 * dies is taken over by another.
 *
 * ```ts
 * import { createDeblurQueue, createDeblurWorker, fileStorage } from '@sgenet/queue';
 * const connection = { host: '127.0.0.1', port: 6379 };
 * const worker = createDeblurWorker({ connection, storage: fileStorage({ root: '/mnt/photos' }) });
 * const queue = createDeblurQueue({ connection });
 * const id = await queue.add({ input: 'in/a.jpg', output: 'out/a.jpg', kernel: 'auto' });
 * console.log(await queue.waitFor(id));
 * ```
 *
 * @packageDocumentation
 */
export { createDeblurQueue, DeblurQueue, DEFAULT_QUEUE_NAME } from './queue.js';
export type { AddJobOptions, DeblurJobStatus, DeblurQueueOptions, WaitOptions } from './queue.js';
export {
  createDeblurWorker, DeblurWorker, WORKER_UNCLEAN_CLOSE, WORKER_DEFAULT_MAX_INPUT_BYTES, WORKER_DEFAULT_MAX_PIXELS,
  WORKER_DEFAULT_SHUTDOWN_TIMEOUT_MS, WORKER_HAND_BACK_MAX_MS,
} from './worker.js';
export type { DeblurWorkerClosed, DeblurWorkerEvent, DeblurWorkerOptions } from './worker.js';
export { checkLocation, fileStorage, FileStorage, MAX_LOCATION_LENGTH } from './storage.js';
export type { DeblurStorage, FileStorageOptions } from './storage.js';
export { checkJobData, decodeFailure, DeblurJobError, encodeFailure, formatOfLocation, PERMANENT_CODES } from './job.js';
export type { DeblurJobData, DeblurJobFailure, DeblurJobProgress, DeblurJobResult, DeblurJobState, JobKernel } from './job.js';
export { queueHandoff } from './handoff.js';
export type { QueueHandoff, QueueHandoffOptions, QueueHandoffUpload } from './handoff.js';
export { QUEUE_NAME_PATTERN, redisUrlOptions } from './options.js';
export type { ConnectionOptions } from 'bullmq';
