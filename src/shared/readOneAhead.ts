/**
 * Lets a grpc-js stream hold one received message its reader has not taken,
 * not 16. grpc-js asks HTTP/2 for the next message while its stream holds
 * fewer than Node's object-mode high-water mark of 16, which costs both
 * sides:
 * - a paced client holds 16 messages it has not written: 4 MiB of 256 KiB
 *   chunks, 16 s at 256 KiB/s, which a kill -9 loses and the resume asks
 *   for again. Paced, one is enough: the flow-control window (a quarter
 *   second, see flowControlWindow) keeps the next one on its way;
 * - an upload on the server held 16 MiB of messages (and the socket
 *   buffers they were assembled from), alive at every young collection, so
 *   V8 promoted them and only a full collection could free them: measured
 *   on 1 GiB, 55 full collections and 156 MiB peak RSS, 39 and 128 with one
 *   ahead. The HTTP/2 window (UPLOAD_STREAM_WINDOW in server.ts) still
 *   keeps the client sending while a write runs.
 *
 * Node takes a stream's high-water mark only at construction, which grpc-js
 * does without one; `_readableState` has held it since Node 0.10. Where it
 * is gone the stream reads ahead as before: more memory, and more to fetch
 * again after a kill, never a wrong byte.
 */
export function readOneAhead(stream: object): void {
  const state = (stream as { _readableState?: { highWaterMark?: unknown } })._readableState;
  if (typeof state?.highWaterMark === 'number') state.highWaterMark = 1;
}
