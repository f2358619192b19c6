// @ts-nocheck
import { createHash } from 'node:crypto';
import { constants, type BigIntStats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { LocalIoError, locally } from '../errors.js';
import { localVersionOf, type LocalIdentity } from './uploadPlan.js';

const HASH_BUFFER = 1024 * 1024;

/**
 * A local file being uploaded, read through one descriptor, and checked
 * not to change: a file written to while it is read would otherwise go out
 * as a splice of two versions. The server would refuse such bytes by
 * their digest; this says so before any are published, and why.
 */
export class LocalSource {
  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    private readonly stat: BigIntStats,
    readonly identity: LocalIdentity,
  ) {}

  static async open(file: string): Promise<LocalSource> {
    // O_NONBLOCK: a FIFO given by mistake is refused below instead of
    // blocking a thread until a writer appears.
    const handle = await locally('open', file, () => open(file, constants.O_RDONLY | constants.O_NONBLOCK));
    try {
      const stat = await locally('read', file, () => handle.stat({ bigint: true }));
      if (!stat.isFile()) throw new LocalIoError('upload', file, 'it is not a regular file');
      return new LocalSource(file, handle, stat, { size: Number(stat.size), version: localVersionOf(stat) });
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  get size(): number {
    return this.identity.size;
  }

  /** SHA-256 of the whole file, read from its descriptor; throws if it changed meanwhile. */
  async sha256(signal: AbortSignal | undefined): Promise<string> {
    const digest = createHash('sha256');
    const buffer = Buffer.allocUnsafe(HASH_BUFFER);
    for (let at = 0; at < this.size;) {
      signal?.throwIfAborted();
      const got = await this.read(buffer, 0, Math.min(buffer.length, this.size - at), at);
      digest.update(buffer.subarray(0, got));
      at += got;
    }
    await this.assertUnchanged();
    return digest.digest('hex');
  }

  /** Reads exactly `length` bytes at `position` into `buffer` at `offset`, or throws: a shorter file changed. */
  async read(buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
    let got = 0;
    while (got < length) {
      const { bytesRead } = await locally('read', this.path, () => this.handle.read(buffer, offset + got, length - got, position + got));
      if (bytesRead === 0) throw this.changed();
      got += bytesRead;
    }
    return got;
  }

  /** Throws unless the file still has the size and times it had when opened. */
  async assertUnchanged(): Promise<void> {
    const now = await locally('read', this.path, () => this.handle.stat({ bigint: true }));
    if (now.size !== this.stat.size || now.mtimeNs !== this.stat.mtimeNs || now.ctimeNs !== this.stat.ctimeNs) throw this.changed();
  }

  close(): Promise<void> {
    return this.handle.close().catch(() => undefined);
  }

  private changed(): LocalIoError {
    return new LocalIoError('upload', this.path, 'it changed while it was read; nothing of it was published: run again to upload its new content');
  }
}
