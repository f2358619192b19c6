// @ts-nocheck
import { createHash, type Hash } from 'node:crypto';

/** Bytes of one SHA-256 digest. */
export const DIGEST_BYTES = 32;

/** Blocks of a file of `size` bytes: the last one may be short, an empty file has none. */
export function blockCount(size: bigint, blockSize: number): bigint {
  const bs = BigInt(blockSize);
  return (size + bs - 1n) / bs;
}

/**
 * The SHA-256 of each `blockSize` bytes of a file, fed its bytes in order in
 * buffers of any size (a read's chunk, which need not line up with
 * blocks), beside the whole file's hash in the same read. The digests are
 * kept back to back in one buffer, 32 bytes each: a list of a million
 * blocks is then one allocation, not a million.
 */
export class BlockHasher {
  private hash: Hash = createHash('sha256');
  /** Bytes of the current block hashed so far. */
  private filled = 0;
  private digests = Buffer.allocUnsafe(DIGEST_BYTES * 64);
  private count = 0;

  constructor(private readonly blockSize: number) {
    if (!Number.isSafeInteger(blockSize) || blockSize < 1) throw new RangeError(`invalid block size ${blockSize}`);
  }

  update(data: Buffer): void {
    let at = 0;
    while (at < data.length) {
      const take = Math.min(this.blockSize - this.filled, data.length - at);
      this.hash.update(data.subarray(at, at + take));
      this.filled += take;
      at += take;
      if (this.filled === this.blockSize) this.close();
    }
  }

  /** The digests of every block, the short last one included: 32 bytes a block. Ends the hasher. */
  digest(): Buffer {
    if (this.filled > 0) this.close();
    // A buffer of its own, of the exact length: the list may be cached for
    // long, and a view would keep the grown (or Node's pooled) one alive.
    const digests = Buffer.allocUnsafeSlow(this.count * DIGEST_BYTES);
    this.digests.copy(digests, 0, 0, digests.length);
    return digests;
  }

  private close(): void {
    if ((this.count + 1) * DIGEST_BYTES > this.digests.length) {
      const grown = Buffer.allocUnsafe(this.digests.length * 2);
      this.digests.copy(grown, 0, 0, this.count * DIGEST_BYTES);
      this.digests = grown;
    }
    this.hash.digest().copy(this.digests, this.count * DIGEST_BYTES);
    this.count += 1;
    this.hash = createHash('sha256');
    this.filled = 0;
  }
}
