// @ts-nocheck
import { status, type ClientReadableStream } from '@grpc/grpc-js';
import { RemoteStatusError, toClientError } from '../errors.js';

/**
 * Cancels a call that has waited `stallMs` for its next message (a silent
 * dead connection) or whose signal aborts, and explains the resulting
 * CANCELLED error. Time spent writing or pacing does not count as a stall.
 */
export function watchCall(call: ClientReadableStream<unknown>, stallMs: number, signal: AbortSignal | undefined) {
  let stalled = false;
  let busy = false;
  // One timer for the whole call, restarted per message rather than
  // replaced: this runs once per chunk.
  const timer = setTimeout(() => {
    if (busy) return;
    stalled = true;
    call.cancel();
  }, stallMs);
  const onAbort = () => call.cancel();
  // A listener added to an already aborted signal never fires.
  if (signal?.aborted) call.cancel();
  else signal?.addEventListener('abort', onAbort, { once: true });
  return {
    waiting: () => {
      busy = false;
      timer.refresh();
    },
    busy: () => {
      busy = true;
    },
    stop: () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    },
    explain: (err: unknown, secure: boolean): unknown => {
      if (stalled) return new RemoteStatusError(status.UNAVAILABLE, `no data from the server for ${stallMs / 1000}s`, { cause: err });
      // Always: breaking out of the loop does not end a grpc-js call, and our
      // own errors (a full disk, a protocol fault) would leave the server
      // streaming into a call nobody reads. Harmless on an ended call.
      call.cancel();
      return toClientError(err, { secure });
    },
  };
}
