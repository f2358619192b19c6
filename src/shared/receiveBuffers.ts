import { replaceGrpcMethod } from './grpcInternals.js';

/** Messages smaller than this are left to fresh buffers: only data chunks are worth reusing memory for. */
const MIN_POOLED = 64 * 1024;
/** Size classes are multiples of this. */
const CLASS_BYTES = 64 * 1024;
/** Idle buffers kept per size class: a stream's messages in flight, with room for a few streams. */
const MAX_FREE = 16;

/**
 * Buffers that received messages are assembled in, reused once their
 * reader says it is done with them. grpc-js assembles each message (a
 * 256 KiB data chunk comes as sixteen 16 KiB HTTP/2 frames) into a fresh
 * buffer; those buffers are memory outside V8's heap, whose growth makes V8
 * run a full collection every few MiB received: 59 of them per GiB,
 * measured, about a third of the client's CPU with their concurrent
 * marking.
 *
 * A buffer is reused only when `give` is called for it, by the one reader
 * that is done with every byte of the message (written and hashed); one
 * never given back is collected as before. So a caller that does not know
 * whether anything else still holds a message's bytes simply does not give.
 */
export class ReceiveBuffers {
  private readonly free = new Map<number, Buffer[]>();
  /** The whole buffer behind each memory block handed out, so that a view of it can be given back. */
  private readonly lent = new WeakMap<ArrayBufferLike, Buffer>();

  /** A buffer of `length` bytes for a message to be assembled in. */
  take(length: number): Buffer {
    if (length < MIN_POOLED) return Buffer.allocUnsafe(length);
    const capacity = Math.ceil(length / CLASS_BYTES) * CLASS_BYTES;
    const whole = this.free.get(capacity)?.pop() ?? Buffer.allocUnsafeSlow(capacity);
    this.lent.set(whole.buffer, whole);
    return whole.subarray(0, length);
  }

  /**
   * Takes back the buffer `view` lies in, if it was lent by `take` and not
   * given back since: the caller vouches that nothing reads any of its bytes
   * any more.
   */
  give(view: Buffer): void {
    const whole = this.lent.get(view.buffer);
    if (!whole) return;
    this.lent.delete(view.buffer);
    let free = this.free.get(whole.length);
    if (!free) this.free.set(whole.length, (free = []));
    if (free.length < MAX_FREE) free.push(whole);
  }
}

/** The one pool of this process: grpc-js's decoders are shared by every channel. */
export const receiveBuffers = new ReceiveBuffers();

interface Decoder {
  maxReadMessageLength: number;
  readState: number;
  readCompressFlag: Buffer;
  readPartialSize: Buffer;
  readSizeRemaining: number;
  readMessageSize: number;
  readPartialMessage: Buffer[];
  readMessageRemaining: number;
}

const NO_DATA = 0;
const READING_SIZE = 1;
const READING_MESSAGE = 2;

/**
 * grpc-js's StreamDecoder.write (stream-decoder.js, 1.14.7), step for step,
 * with one change: a message is assembled in a buffer from `pool` instead
 * of by Buffer.concat. Installed on the decoder's prototype, so it serves
 * every call of the process, servers' included; only a reader that gives
 * buffers back (a download's stream) makes any reuse happen.
 */
function pooledWrite(pool: ReceiveBuffers) {
  return function write(this: Decoder, data: Buffer): Buffer[] {
    let readHead = 0;
    const result: Buffer[] = [];
    while (readHead < data.length) {
      switch (this.readState) {
        case NO_DATA:
          this.readCompressFlag = data.subarray(readHead, readHead + 1);
          readHead += 1;
          this.readState = READING_SIZE;
          this.readPartialSize.fill(0);
          this.readSizeRemaining = 4;
          this.readMessageSize = 0;
          this.readMessageRemaining = 0;
          this.readPartialMessage = [];
          break;
        case READING_SIZE: {
          const toRead = Math.min(data.length - readHead, this.readSizeRemaining);
          data.copy(this.readPartialSize, 4 - this.readSizeRemaining, readHead, readHead + toRead);
          this.readSizeRemaining -= toRead;
          readHead += toRead;
          if (this.readSizeRemaining === 0) {
            this.readMessageSize = this.readPartialSize.readUInt32BE(0);
            if (this.maxReadMessageLength !== -1 && this.readMessageSize > this.maxReadMessageLength) {
              throw new Error(`Received message larger than max (${this.readMessageSize} vs ${this.maxReadMessageLength})`);
            }
            this.readMessageRemaining = this.readMessageSize;
            if (this.readMessageRemaining > 0) {
              this.readState = READING_MESSAGE;
            } else {
              result.push(Buffer.concat([this.readCompressFlag, this.readPartialSize], 5));
              this.readState = NO_DATA;
            }
          }
          break;
        }
        case READING_MESSAGE: {
          const toRead = Math.min(data.length - readHead, this.readMessageRemaining);
          this.readPartialMessage.push(data.subarray(readHead, readHead + toRead));
          this.readMessageRemaining -= toRead;
          readHead += toRead;
          if (this.readMessageRemaining === 0) {
            const message = pool.take(this.readMessageSize + 5);
            message[0] = this.readCompressFlag[0]!;
            this.readPartialSize.copy(message, 1);
            let at = 5;
            for (const piece of this.readPartialMessage) at += piece.copy(message, at);
            this.readPartialMessage = [];
            this.readState = NO_DATA;
            result.push(message);
          }
          break;
        }
        default:
          throw new Error('Unexpected read state');
      }
    }
    return result;
  };
}

let installed: boolean | undefined;
const streamDecoder: object | undefined = await import('@grpc/grpc-js/build/src/stream-decoder.js').catch(() => undefined);

/**
 * Makes grpc-js assemble received messages in `receiveBuffers`, replacing
 * StreamDecoder.write (see replaceGrpcMethod); a unit test compares the
 * replacement with the original on random splits. Installs once; returns
 * whether it is.
 */
export function installPooledDecoder(): boolean {
  installed ??= replaceGrpcMethod(streamDecoder, 'StreamDecoder', 'write', () => pooledWrite(receiveBuffers));
  return installed;
}
