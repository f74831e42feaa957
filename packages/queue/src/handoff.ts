import type { Effort, KernelChoice, OutputFormat } from '@sgenet/core';
import { integerOption, invalidOption } from '@sgenet/core';

import type { DeblurQueue } from './queue.js';
import type { DeblurStorage } from './storage.js';
import { checkLocation } from './storage.js';

async function withTimeout<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
  });
  work.catch(() => {});
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** What `@sgenet/express` hands over (the same shape as its `HandoffUpload`). */
export interface QueueHandoffUpload {
  jobId: string;
  bytes: Buffer;
  inputFormat: string;
  format: OutputFormat;
  quality: number;
  kernel?: KernelChoice;
  network?: boolean;
  effort?: Effort;
  originalName: string;
}

/** The handoff `deblurUpload({ handoff })` of `@sgenet/express` takes. */
export interface QueueHandoff {
  submit(upload: QueueHandoffUpload): Promise<void>;
  status(jobId: string): Promise<{
    state: 'queued' | 'running' | 'done' | 'failed' | 'unknown';
    progress?: { phase: string; stage?: string; done: number; total: number };
    error?: { code: string; message: string };
  }>;
  result(jobId: string): Promise<{ body: Buffer; format: OutputFormat } | undefined>;
}

/** Options of {@link queueHandoff}. */
export interface QueueHandoffOptions {
  queue: DeblurQueue;
  /** The storage the workers use. */
  storage: DeblurStorage;
  /** Folder (location prefix) for uploads. Default `uploads`. */
  uploads?: string;
  /** Folder for results. Default `results`. */
  results?: string;
  /**
   * How long `submit` waits for Redis before the upload is refused (the middleware answers 503
   * with Retry-After), in ms, 100 to 60 000. Default 5000. A job that lands after this finds no
   * upload and fails with `ERR_SGENET_STORAGE`.
   */
  submitTimeoutMs?: number;
}

const EXT: Record<string, string> = { jpeg: 'jpg', png: 'png', webp: 'webp', gif: 'gif', tiff: 'tif', avif: 'avif', heif: 'heif' };

/**
 * Lets `deblurUpload({ handoff })` of `@sgenet/express` queue uploads on BullMQ instead of
 * deblurring in the web process: the upload is stored, a job is added, and the workers write
 * the result next to it. The upload is removed once the result is written.
 *
 * @example
 * ```ts
 * const handoff = queueHandoff({ queue, storage: fileStorage({ root: '/mnt/photos' }) });
 * app.post('/deblur', deblurUpload({ handoff }));
 * app.get('/deblur/jobs/:id', deblurJobStatus({ handoff }));
 * app.get('/deblur/jobs/:id/result', deblurJobResult({ handoff }));
 * ```
 */
export function queueHandoff(options: QueueHandoffOptions): QueueHandoff {
  const { queue, storage } = options;
  if (typeof queue?.add !== 'function') throw invalidOption('queue', 'a DeblurQueue from createDeblurQueue()', queue);
  if (typeof storage?.write !== 'function') throw invalidOption('storage', 'a DeblurStorage', storage);
  const uploads = checkLocation(options.uploads ?? 'uploads', 'uploads');
  const results = checkLocation(options.results ?? 'results', 'results');
  const submitTimeoutMs = integerOption('submitTimeoutMs', options.submitTimeoutMs, 100, 60_000, 5000);
  return {
    async submit(upload) {
      const input = `${uploads}/${upload.jobId}.${EXT[upload.inputFormat] ?? 'img'}`;
      const output = `${results}/${upload.jobId}.${upload.format === 'jpeg' ? 'jpg' : upload.format}`;
      await storage.write(input, upload.bytes, { owner: upload.jobId });
      try {
        await withTimeout(submitTimeoutMs, queue.add({
          input,
          output,
          format: upload.format,
          quality: upload.quality,
          removeInput: true,
          kernel: upload.kernel,
          network: upload.network,
          effort: upload.effort,
        }, { jobId: upload.jobId }));
      } catch (err) {
        await storage.remove(input).catch(() => {});
        throw err;
      }
    },
    async status(jobId) {
      const s = await queue.status(jobId);
      const state = s.state === 'completed' ? 'done'
        : s.state === 'failed' ? 'failed'
          : s.state === 'active' ? 'running'
            : s.state === 'unknown' ? 'unknown' : 'queued';
      return {
        state,
        ...(s.progress ? { progress: s.progress } : {}),
        ...(s.error ? { error: s.error } : {}),
      };
    },
    async result(jobId) {
      const s = await queue.status(jobId);
      if (s.state !== 'completed' || !s.result) return undefined;
      return { body: await storage.read(s.result.output), format: s.result.format };
    },
  };
}
