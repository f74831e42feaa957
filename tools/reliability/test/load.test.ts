/**
 * The load test in its short form (the full one, 200 uploads at concurrency 32, is recorded in
 * RELIABILITY.md): every request answered 200 or 503 + Retry-After, none dropped or hung, peak
 * RSS bounded, the server normal afterwards, and cancelled clients free their places. Then the
 * fairness run in short form (the full one, 8 clients x 5 uploads, is recorded in RELIABILITY.md):
 * clients that honour Retry-After and clients that resubmit at once all get through, held
 * uploads stay within their bound. Times are reported, never asserted.
 */
import { describe, expect, it } from 'vitest';

import { formatFairness, formatReport, runFairnessTest, runLoadTest } from '../src/load-test.js';

describe('load on the Express middleware (short form)', () => {
  it('answers every upload with 200 or 503 + Retry-After, and cancelled clients free their slots', async () => {
    const report = await runLoadTest({ requests: 60, connections: 16, maxQueue: 4 });
    console.log(formatReport(report));
    expect(report.answered).toBe(60);
    expect(report.other).toEqual({});
    expect(report.errors).toBe(0);
    expect(report.timeouts).toBe(0);
    expect(report.ok).toBeGreaterThan(0);
    // 16 at once against 1 running + 4 waiting: the limit must have refused some, each with Retry-After.
    expect(report.busy).toBeGreaterThan(0);
    expect(report.busyWithRetryAfter).toBe(report.busy);
    expect(report.peakRssMiB).toBeLessThan(1024);
    expect(report.afterwards.status).toBe(200);
    expect(report.cancellation.abortedSeen).toBe(report.cancellation.cancelled);
    expect(report.cancellation.refill).toEqual({ ok: report.cancellation.cancelled, busy: 0 });
  });
});

describe('fairness under load (short form)', () => {
  it('clients that honour Retry-After and clients that resubmit at once all get their uploads through', async () => {
    const report = await runFairnessTest({ clients: 4, uploads: 2, maxQueue: 1, width: 160, height: 120, deadlineS: 600 });
    console.log(formatFairness(report));
    expect(report.maxHeld).toBe(2); // the library's default: twice maxQueue
    for (const c of report.perClient) {
      expect(c).toMatchObject({ done: 2, failures: 0, refusalsWithoutRetryAfter: 0 });
      expect(c.gaveUp).toBeUndefined();
    }
    expect(report.honouring.done + report.immediate.done).toBe(8);
    // Memory stays bounded: never more held than maxHeld.
    expect(report.peakHeld).toBeLessThanOrEqual(2);
  });
});
