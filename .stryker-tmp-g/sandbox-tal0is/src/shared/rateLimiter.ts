// @ts-nocheck
import { setTimeout as sleep } from 'node:timers/promises';

/** Bytes a limiter lets through at once after an idle spell. */
const BURST_SECONDS = 0.1;

/**
 * How long to wait before `bytes` more may pass, given the virtual clock
 * `due` (when everything let through so far would have finished at `rate`).
 * Pure, so the pacing can be tested without waiting.
 */
export function paceDelay(due: number, now: number, bytes: number, rate: number): { due: number; waitMs: number } {
  const start = Math.max(due, now - BURST_SECONDS * 1000);
  const next = start + (bytes / rate) * 1000;
  return { due: next, waitMs: Math.max(0, next - now) };
}

/**
 * Paces byte streams to `bytesPerSecond` on average, like curl --limit-rate.
 * Streams that take from one limiter share that rate: each take books its
 * bytes on the one virtual clock. The client paces its downloads with it,
 * the server (--limit-rate) everything it sends.
 */
export class RateLimiter {
  private due = 0;

  constructor(private readonly bytesPerSecond: number) {}

  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    const { due, waitMs } = paceDelay(this.due, Date.now(), bytes, this.bytesPerSecond);
    this.due = due;
    if (waitMs > 0) await sleep(waitMs, undefined, { signal });
  }
}
