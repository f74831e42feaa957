import type { JobProgress } from '@sgenet/express';
import type { Request, Response } from 'express';

const TERMINAL = new Set(['done', 'failed', 'aborted']);
const JOB_ID = /^[A-Za-z0-9_-]{8,128}$/;

/**
 * Fans job progress out to Server-Sent Events subscribers, keyed by job id. The page opens
 * `GET /api/progress/:jobId` before it uploads with the same id in `X-Job-Id`; the latest event
 * of a job is kept briefly so a late subscriber still sees where the job is.
 */
export class ProgressHub {
  private readonly subscribers = new Map<string, Set<Response>>();
  private readonly latest = new Map<string, { progress: JobProgress; at: number }>();
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    private readonly keepMs = 60_000,
    private readonly maxJobs = 1000,
  ) {
    this.heartbeat = setInterval(() => this.ping(), 15_000);
    this.heartbeat.unref();
  }

  /** Hook for `deblurUpload({ onProgress })`. */
  readonly publish = (_req: Request, progress: JobProgress): void => {
    this.latest.delete(progress.jobId);
    this.latest.set(progress.jobId, { progress, at: Date.now() });
    this.prune();
    const subs = this.subscribers.get(progress.jobId);
    if (!subs) return;
    for (const res of subs) {
      res.write(`event: progress\ndata: ${JSON.stringify(progress)}\n\n`);
      if (TERMINAL.has(progress.phase)) res.end();
    }
    if (TERMINAL.has(progress.phase)) this.subscribers.delete(progress.jobId);
  };

  /** Express handler for `GET /api/progress/:jobId`. */
  readonly subscribe = (req: Request, res: Response): void => {
    const jobId = String(req.params.jobId ?? '');
    if (!JOB_ID.test(jobId)) {
      res.status(400).json({ error: { code: 'ERR_DEMO_BAD_JOB_ID', message: 'A job id is 8 to 128 characters of A-Z, a-z, 0-9, _ and -' } });
      return;
    }
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream');
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Connection', 'keep-alive');
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    res.write('retry: 2000\n\n');
    const last = this.latest.get(jobId);
    if (last) {
      res.write(`event: progress\ndata: ${JSON.stringify(last.progress)}\n\n`);
      if (TERMINAL.has(last.progress.phase)) {
        res.end();
        return;
      }
    }
    let subs = this.subscribers.get(jobId);
    if (!subs) {
      subs = new Set();
      this.subscribers.set(jobId, subs);
    }
    subs.add(res);
    res.on('close', () => {
      const set = this.subscribers.get(jobId);
      set?.delete(res);
      if (set && set.size === 0) this.subscribers.delete(jobId);
    });
  };

  /** Ends every open stream (server shutdown). */
  close(): void {
    clearInterval(this.heartbeat);
    for (const subs of this.subscribers.values()) for (const res of subs) res.end();
    this.subscribers.clear();
  }

  private ping(): void {
    for (const subs of this.subscribers.values()) for (const res of subs) res.write(': keep-alive\n\n');
  }

  private prune(): void {
    const cutoff = Date.now() - this.keepMs;
    for (const [id, entry] of this.latest) {
      if (this.latest.size <= this.maxJobs && entry.at >= cutoff) break; // Map keeps insertion order
      this.latest.delete(id);
    }
  }
}
