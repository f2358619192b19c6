import PQueue from 'p-queue';
import { DEFAULT_CONCURRENCY, queuePriority, type BatchItem, type Order } from './schedule.js';
import { abortedError } from './download/retryLoop.js';
import type { DownloadOptions, DownloadResult } from './download/downloadOptions.js';
import { toClientError, type ClientError } from './errors.js';

interface BatchControl {
  /** Transfers at once; the origin of this project kept five open. */
  concurrency?: number;
  order?: Order;
  /** Aborting stops every transfer, leaving resumable partials, and starts no more. */
  signal?: AbortSignal;
  /** A queued file is about to start. */
  onQueued?: (name: string) => void;
}

/** A batch's options: how it runs, and the options of each transfer (downloads by default; uploads too). */
export type BatchOptions<O extends { signal?: AbortSignal } = DownloadOptions> = Omit<O, 'signal'> & BatchControl;

export type BatchResult<R = DownloadResult> = { name: string; ok: true; result: R } | { name: string; ok: false; error: ClientError };

/** Throws a RangeError for a `concurrency` that is not a whole number ≥ 1. */
export function checkConcurrency(concurrency: number): void {
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be a whole number ≥ 1, not ${concurrency}`);
}

/**
 * Runs `download` for every item, at most `concurrency` at once, in the
 * order asked for, and yields each outcome as it settles. One failure does
 * not stop the others. Everything is I/O-bound, so it all runs on this one
 * event loop; p-queue does the scheduling.
 */
export async function* runBatch<R = DownloadResult, O extends { signal?: AbortSignal } = DownloadOptions>(
  items: (string | BatchItem)[],
  download: (name: string, options: O) => Promise<R>,
  options: BatchOptions<O> = {} as BatchOptions<O>,
): AsyncGenerator<BatchResult<R>> {
  const { concurrency = DEFAULT_CONCURRENCY, order = 'fifo', onQueued, ...downloadOptions } = options;
  // Also aborted when the caller stops iterating early, so no download runs
  // on unobserved.
  const stopped = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stopped.signal]) : stopped.signal;
  checkConcurrency(concurrency);
  const queue = new PQueue({ concurrency, autoStart: false });
  const settled: BatchResult<R>[] = [];
  let wake: (() => void) | undefined;
  const publish = (result: BatchResult<R>) => {
    settled.push(result);
    wake?.();
  };
  const onAbort = () => queue.clear();
  signal.addEventListener('abort', onAbort, { once: true });

  const normalized = items.map((item) => (typeof item === 'string' ? { name: item } : item));
  normalized.forEach((item, index) => {
    void queue.add(
      async () => {
        // An abort before the start never reaches onAbort (a listener added
        // to an aborted signal never fires): without this every item would
        // still create its folders before failing.
        if (signal.aborted) {
          publish({ name: item.name, ok: false, error: abortedError(item.name, signal, signal.reason) });
          return;
        }
        try {
          onQueued?.(item.name);
          publish({ name: item.name, ok: true, result: await download(item.name, { ...downloadOptions, signal } as unknown as O) });
        } catch (err) {
          publish({ name: item.name, ok: false, error: toClientError(err) });
        }
      },
      { priority: queuePriority(order, item, index) },
    );
  });
  queue.start();
  let finished = false;
  void queue.onIdle().then(() => {
    finished = true;
    wake?.();
  });

  try {
    for (;;) {
      while (settled.length > 0) yield settled.shift()!;
      if (finished) return;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    queue.clear();
    if (!finished) stopped.abort();
  }
}
