// @ts-nocheck
import type { ServerWritableStream } from '@grpc/grpc-js';

/**
 * Writes messages to a server stream keeping at most `maxInFlight` of them
 * queued in grpc-js, so a slow or stalled reader holds a few chunks of server
 * memory, not the 16 messages of the call's own high-water mark. Rejects as
 * soon as `signal` aborts: after a cancel grpc-js may never call back.
 */
export class BoundedWriter<T> {
  private inFlight = 0;
  private wake: (() => void) | undefined;

  constructor(
    private readonly call: ServerWritableStream<unknown, T>,
    private readonly signal: AbortSignal,
    /** A number, or a function asked before each write, for a limit that moves. */
    private readonly maxInFlight: number | (() => number) = 2,
  ) {
    signal.addEventListener('abort', () => this.wake?.(), { once: true });
  }

  /**
   * `onWritten` runs once grpc-js is done with `message`: sent, or dropped
   * unsent by a cancel (writes still queued then are called back with an
   * error; one grpc-js holds at the cancel may never be).
   */
  async write(message: T, onWritten?: () => void): Promise<void> {
    this.signal.throwIfAborted();
    this.inFlight += 1;
    this.call.write(message, () => {
      this.inFlight -= 1;
      onWritten?.();
      this.wake?.();
    });
    while (this.inFlight >= (typeof this.maxInFlight === 'number' ? this.maxInFlight : this.maxInFlight())) {
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
      this.signal.throwIfAborted();
    }
  }
}
