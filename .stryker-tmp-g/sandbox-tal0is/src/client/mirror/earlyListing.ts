/**
 * A listing begun before anyone is ready to use it, so that the server
 * walks its tree while the client reads its task map: what arrives
 * meanwhile is kept, in order, and handed over first.
 */
// @ts-nocheck

export interface EarlyListing<T> {
  /**
   * Hands every item, those kept and those still to come, to `take`, and
   * resolves when the listing ends. Once only. A `take` that throws ends
   * the listing with that error.
   */
  drain(take: (item: T) => void, signal?: AbortSignal): Promise<void>;
  /** Ends the listing unless it already ended; for a listing no one will drain. */
  cancel(): void;
}

/** Starts `run` now (see EarlyListing); it must stop when its signal aborts. */
export function beginListing<T>(run: (take: (item: T) => void, signal: AbortSignal) => Promise<void>): EarlyListing<T> {
  const stop = new AbortController();
  let kept: T[] | undefined = [];
  let sink: ((item: T) => void) | undefined;
  const done = run((item) => (sink ? sink(item) : kept!.push(item)), stop.signal);
  // Observed here: a listing never drained must not fail the process.
  done.catch(() => undefined);
  return {
    async drain(take, signal) {
      const onAbort = () => stop.abort(signal!.reason);
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort);
      try {
        const waiting = kept!;
        kept = undefined;
        try {
          for (const item of waiting) take(item);
        } catch (err) {
          stop.abort(err);
          throw err;
        }
        sink = take;
        await done;
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
    },
    cancel: () => stop.abort(),
  };
}
