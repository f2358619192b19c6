// @ts-nocheck
import { status } from '../shared/grpcStatus.js';
import type { ErrorKind } from './errors.js';

export const DEFAULT_RETRY_FOR_MS = 60_000;
export const DEFAULT_STALL_TIMEOUT_MS = 30_000;

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
  /** Bad blocks before this one that could not be fetched from another replica. */
  blockFailures?: number;
  /** Offset the failed attempt started from. */
  attemptOffset: number;
  /**
   * Whether the channel has ever connected to the server in this run;
   * unknown (undefined) counts as reached.
   */
  serverReached?: boolean;
}

/** What failed: the error's kind, and its gRPC status for remote ones. */
export interface Failure {
  kind: ErrorKind;
  code: status;
  /** A bad block: whether another replica is left to fetch it from. */
  elsewhere?: boolean;
}

/** Why an attempt is retried: `changed` is a remote file that no longer matches the bytes we hold; `block` a block that did not match its digest. */
export type RetryReason = 'transient' | 'protocol' | 'changed' | 'digest' | 'block';

export type RetryDecision = { action: 'retry'; delayMs: number; fromZero: boolean; reason: RetryReason } | { action: 'fail'; unreachable?: true };

/** Remote codes that say "try the same request again later". */
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

/** Remote codes that say "what you have no longer matches the remote file". */
const CHANGED = new Set<status>([status.FAILED_PRECONDITION, status.OUT_OF_RANGE]);

/**
 * Retry or give up, and how: exponential backoff with full jitter for
 * transient failures (bounded by time since the last progress, so a flaky
 * link that keeps moving is never abandoned); an immediate restart from 0
 * when the remote file changed; one more fresh try when a resumed file fails
 * its digest (the partial was bad), a few with backoff when a fresh one does
 * (the file may have changed mid-stream); a stream that broke the protocol
 * is asked for again from the bytes it got right. A bad block is asked
 * for again at once from another replica, or, with none left, a few
 * times with backoff from the same one (the damage may have been on the
 * way); the verified blocks before it stay either way. Local failures (a disk,
 * a lost lock, an abort, a bad name) are never retried: waiting fixes none.
 * Nor is a server this run never reached: a wrong address or a stopped
 * server costs a few seconds, not all of --retry-for (as curl and wget
 * treat a refused connection); one that was reached and went away is
 * waited for.
 */
export function decideRetry(failure: Failure, state: RetryState, options: RetryPolicyOptions, random: () => number = Math.random): RetryDecision {
  const { baseDelayMs = 250, maxDelayMs = 10_000, maxRestarts = 5, maxDigestFailures = 3 } = options;
  const backoff = () => Math.max(50, Math.round(random() * Math.min(maxDelayMs, baseDelayMs * 2 ** state.failuresWithoutProgress)));

  const transient = (reason: 'transient' | 'protocol'): RetryDecision => {
    const delayMs = backoff();
    if (state.msSinceProgress + delayMs > options.retryForMs) return { action: 'fail' };
    return { action: 'retry', delayMs, fromZero: false, reason };
  };
  const digest = (): RetryDecision => {
    if (state.digestFailures >= maxDigestFailures) return { action: 'fail' };
    return { action: 'retry', delayMs: state.attemptOffset > 0 ? 0 : backoff(), fromZero: true, reason: 'digest' };
  };

  switch (failure.kind) {
    case 'digest-mismatch':
      return digest();
    case 'block-mismatch':
      if (failure.elsewhere) return { action: 'retry', delayMs: 0, fromZero: false, reason: 'block' };
      if ((state.blockFailures ?? 0) >= maxDigestFailures) return { action: 'fail' };
      return { action: 'retry', delayMs: backoff(), fromZero: false, reason: 'block' };
    case 'protocol':
      return transient('protocol');
    case 'remote-status':
      if (CHANGED.has(failure.code)) {
        return state.restarts < maxRestarts ? { action: 'retry', delayMs: 0, fromZero: true, reason: 'changed' } : { action: 'fail' };
      }
      if (failure.code === status.UNAVAILABLE && state.serverReached === false) return { action: 'fail', unreachable: true };
      // Another implementation's server may report its own digest failure.
      if (failure.code === status.DATA_LOSS) return digest();
      return TRANSIENT.has(failure.code) ? transient('transient') : { action: 'fail' };
    default:
      return { action: 'fail' };
  }
}
