// @ts-nocheck
import { write } from 'node:fs';

/** Bytes that may wait for the disk: four chunks, so a kill -9 loses about what grpc-js itself holds. */
const MAX_WAITING_BYTES = 1024 * 1024;

/** fs.write's positional form: a test may give one that writes short. */
type PositionalWrite = (
  fd: number,
  buffer: Buffer,
  offset: number,
  length: number,
  position: number,
  callback: (err: NodeJS.ErrnoException | null, written: number) => void,
) => void;

interface Waiting {
  data: Buffer;
  position: number;
  written: (data: Buffer) => void;
}

/**
 * Writes one descriptor's chunks on libuv's threadpool while the event loop
 * decodes and hashes the next ones: one write at a time, in the order given.
 * So the file is always a prefix of what was given, whatever stops it: a
 * kill -9, or a write that fails (a full disk) after which nothing more is
 * written. A resume from the file's length is then exact, never over a hole.
 */
export class OrderedWrites {
  private readonly waiting: Waiting[] = [];
  private waitingBytes = 0;
  private busy = false;
  private failure: NodeJS.ErrnoException | undefined;
  /** Callers waiting for the queue to shrink to `bytes`, or for a failure. */
  private readonly waiters: { bytes: number; resolve: () => void; reject: (err: Error) => void }[] = [];

  constructor(
    private readonly fd: number,
    private readonly maxWaitingBytes = MAX_WAITING_BYTES,
    private readonly writeAt: PositionalWrite = write,
  ) {}

  /**
   * Queues `data` for `position`; `written` is called once all of it is on
   * disk, never after a failure. Throws the error of a write that failed
   * before. Returns a promise when more than the bound waits: the caller
   * gives nothing more until it resolves, so a slow disk slows the stream
   * instead of filling memory.
   */
  add(data: Buffer, position: number, written: (data: Buffer) => void): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    this.waiting.push({ data, position, written });
    this.waitingBytes += data.length;
    if (!this.busy) this.next();
    return this.waitingBytes > this.maxWaitingBytes ? this.until(this.maxWaitingBytes) : undefined;
  }

  /** Resolves once every byte given is on disk; rejects with the error of a write that failed. */
  drained(): Promise<void> {
    return this.until(0);
  }

  /**
   * Gives up what has not started: for a file that may no longer be ours.
   * Resolves once the write under way, if any, has ended.
   */
  abandon(): Promise<void> {
    this.waiting.splice(this.busy ? 1 : 0);
    this.waitingBytes = this.waiting[0]?.data.length ?? 0;
    return this.drained().catch(() => undefined);
  }

  private until(bytes: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiters.push({ bytes, resolve, reject });
      this.wake();
    });
  }

  private wake(): void {
    for (let i = this.waiters.length - 1; i >= 0; i -= 1) {
      const waiter = this.waiters[i]!;
      if (this.failure) waiter.reject(this.failure);
      else if (this.waitingBytes <= waiter.bytes) waiter.resolve();
      else continue;
      this.waiters.splice(i, 1);
    }
  }

  private next(): void {
    const head = this.waiting[0];
    this.busy = head !== undefined;
    if (head) this.writeFrom(head, 0);
    this.wake();
  }

  private writeFrom(head: Waiting, done: number): void {
    this.writeAt(this.fd, head.data, done, head.data.length - done, head.position + done, (err, bytes) => {
      if (err) {
        this.failure = err;
        this.waiting.length = 0;
        this.waitingBytes = 0;
        this.next();
        return;
      }
      // A write to a regular file may still return short.
      if (done + bytes < head.data.length) {
        this.writeFrom(head, done + bytes);
        return;
      }
      this.waiting.shift();
      this.waitingBytes -= head.data.length;
      head.written(head.data);
      this.next();
    });
  }
}
