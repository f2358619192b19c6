// @ts-nocheck
import { setTimeout as sleep } from 'node:timers/promises';
import { AbortedError, BlockMismatchError, ClientError, ServerUnreachableError, toClientError } from '../errors.js';
import { decideRetry, type RetryReason } from '../retryPolicy.js';
import { trace } from '../trace.js';

export interface RetryNotice {
  name: string;
  /** The attempt that comes next, 2 for the first retry. */
  attempt: number;
  delayMs: number;
  fromZero: boolean;
  error: ClientError;
  /** The replica the failed call went to (its address), when known. */
  replica?: string;
}

export interface RetryLoopOptions {
  name: string;
  signal: AbortSignal | undefined;
  retryForMs: number;
  secure: boolean;
  onRetry?: (notice: RetryNotice) => void;
  /** Whether the attempt that just failed moved the transfer forward. */
  progressed?: () => boolean;
  /** Offset the attempt that just failed started from. */
  attemptOffset?: () => number;
  /** The replica the attempt that just failed talked to, when known. */
  replica?: () => string | undefined;
  /** Whether the channel has connected to the server in this run (unknown: reached). */
  serverReached?: () => boolean;
  /** Runs after the pause, before the next attempt: where it starts from, and why the last one failed. */
  beforeRetry?: (fromZero: boolean, reason: RetryReason) => Promise<void>;
}

/** The part of RetryLoopOptions every transfer takes from its client and its caller alike. */
export function retryOptionsOf(
  context: { retryForMs: number; secure: boolean; serverReached?: () => boolean },
  name: string,
  options: { signal?: AbortSignal; onRetry?: (notice: RetryNotice) => void },
): RetryLoopOptions {
  return {
    name,
    signal: options.signal,
    retryForMs: context.retryForMs,
    secure: context.secure,
    onRetry: options.onRetry,
    serverReached: context.serverReached,
  };
}

/**
 * Runs `attempt` until it succeeds or the retry policy gives up, pausing
 * between attempts as the policy says. Shared by downloads and the Stat of
 * the "unverified" check, so both wait out the same outages. An abort ends
 * the loop at once, with the abort's reason.
 */
export async function withRetries<T>(attempt: (number: number) => Promise<T>, options: RetryLoopOptions): Promise<T> {
  const { name, signal } = options;
  let lastProgressAt = Date.now();
  let failuresWithoutProgress = 0;
  let restarts = 0;
  let digestFailures = 0;
  let blockFailures = 0;
  for (let number = 1; ; number += 1) {
    try {
      signal?.throwIfAborted();
      return await attempt(number);
    } catch (err) {
      if (options.progressed?.()) {
        lastProgressAt = Date.now();
        failuresWithoutProgress = 0;
      }
      if (signal?.aborted) throw abortedError(name, signal, err);
      const error = toClientError(err, { secure: options.secure });
      const decision = decideRetry(
        error,
        {
          failuresWithoutProgress,
          msSinceProgress: Date.now() - lastProgressAt,
          restarts,
          digestFailures,
          blockFailures,
          attemptOffset: options.attemptOffset?.() ?? 0,
          serverReached: options.serverReached?.(),
        },
        { retryForMs: options.retryForMs },
      );
      trace.retry('%s: attempt %d failed (%s, %s: %s): %j', name, number, error.kind, error.code, error.message, decision);
      if (decision.action === 'fail') throw decision.unreachable ? new ServerUnreachableError(error) : error;
      failuresWithoutProgress += 1;
      if (decision.reason === 'changed') restarts += 1;
      if (decision.reason === 'digest') digestFailures += 1;
      if (decision.reason === 'block' && !(error instanceof BlockMismatchError && error.elsewhere)) blockFailures += 1;
      const replica = error instanceof BlockMismatchError ? error.replica : options.replica?.();
      options.onRetry?.({ name, attempt: number + 1, delayMs: decision.delayMs, fromZero: decision.fromZero, error, ...(replica ? { replica } : {}) });
      await sleep(decision.delayMs, undefined, signal ? { signal } : {}).catch(() => undefined);
      if (signal?.aborted) throw abortedError(name, signal, error);
      await options.beforeRetry?.(decision.fromZero, decision.reason);
    }
  }
}

/** The error an abort ends a download with: the lock's loss when that caused it. */
export function abortedError(name: string, signal: AbortSignal, cause: unknown): ClientError {
  if (signal.reason instanceof ClientError) return signal.reason;
  return new AbortedError(name, { cause });
}
