// @ts-nocheck
import type { ClientReadableStream } from '@grpc/grpc-js';

/**
 * Lets a paced call hold one received message it has not handed on, not 16.
 * grpc-js asks HTTP/2 for the next message while its stream holds fewer
 * than Node's object-mode high-water mark of 16, so a reader that waits
 * for its pace holds 16 messages it has not written: 4 MiB of 256 KiB
 * chunks, 16 s at 256 KiB/s, which a kill -9 loses and the resume asks
 * for again. Paced, one is enough: the flow-control window (a quarter
 * second, see flowControlWindow) keeps the next one on its way.
 *
 * Node takes a stream's high-water mark only at construction, which grpc-js
 * does without one; `_readableState` has held it since Node 0.10. Where it
 * is gone the call reads ahead as before: more to fetch again after a kill,
 * never a wrong byte.
 */
export function readOneAhead(call: ClientReadableStream<unknown>): void {
  const state = (call as unknown as { _readableState?: { highWaterMark?: unknown } })._readableState;
  if (typeof state?.highWaterMark === 'number') state.highWaterMark = 1;
}
