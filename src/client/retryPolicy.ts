import { status } from '@grpc/grpc-js';

export interface RetryPolicyOptions {
  /** Give up after this long without a byte of progress. */
  retryForMs: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** How often a changing remote file may send us back to offset 0. */
  maxRestarts?: number;
  /** How often a fresh download may fail its digest before we give up. */
  maxDigestFailures?: number;
}

export interface RetryState {
  /** Failures in a row since the last byte of progress. */
  failuresWithoutProgress: number;
  msSinceProgress: number;
  restarts: number;
  /** Digest failures before this one. */
  digestFailures: number;
  /** Offset the failed attempt started from. */
  attemptOffset: number;
}

export type RetryDecision =
  | { action: 'retry'; delayMs: number; fromZero: boolean; reason: 'transient' | 'changed' | 'digest' }
  | { action: 'fail' };

/** Codes that say "try the same request again later". */
// CANCELLED from the server's side too: a server that shuts down cuts
// running calls with it. Our own aborts never get here.
const TRANSIENT = new Set<status>([
  status.CANCELLED,
  status.UNAVAILABLE,
  status.ABORTED,
  status.INTERNAL,
  status.UNKNOWN,
  status.DEADLINE_EXCEEDED,
  status.RESOURCE_EXHAUSTED,
]);

/** Codes that say "what you have no longer matches the remote file". */
const CHANGED = new Set<status>([status.FAILED_PRECONDITION, status.OUT_OF_RANGE]);

/**
 * Retry or give up, and how: exponential backoff with full jitter for
 * transient failures (bounded by time since the last progress, so a flaky
 * link that keeps moving is never abandoned); an immediate restart from 0
 * when the remote file changed; one more fresh try when a resumed file fails
 * its digest (the partial was bad), a few with backoff when a fresh one does
 * (the file may have changed mid-stream).
 */
export function decideRetry(
  code: status,
  state: RetryState,
  options: RetryPolicyOptions,
  random: () => number = Math.random,
): RetryDecision {
  const { baseDelayMs = 250, maxDelayMs = 10_000, maxRestarts = 5, maxDigestFailures = 3 } = options;
  const backoff = () => Math.max(50, Math.round(random() * Math.min(maxDelayMs, baseDelayMs * 2 ** state.failuresWithoutProgress)));

  if (CHANGED.has(code)) {
    return state.restarts < maxRestarts ? { action: 'retry', delayMs: 0, fromZero: true, reason: 'changed' } : { action: 'fail' };
  }
  if (code === status.DATA_LOSS) {
    if (state.digestFailures >= maxDigestFailures) return { action: 'fail' };
    return { action: 'retry', delayMs: state.attemptOffset > 0 ? 0 : backoff(), fromZero: true, reason: 'digest' };
  }
  if (TRANSIENT.has(code)) {
    const delayMs = backoff();
    if (state.msSinceProgress + delayMs > options.retryForMs) return { action: 'fail' };
    return { action: 'retry', delayMs, fromZero: false, reason: 'transient' };
  }
  return { action: 'fail' };
}
