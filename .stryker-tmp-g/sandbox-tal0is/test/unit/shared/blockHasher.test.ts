// @ts-nocheck
import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { BlockHasher, blockCount } from '../../../src/shared/blockHasher.js';

/** The digests as the contract defines them: SHA-256 of each slice, back to back. */
function expected(data: Buffer, blockSize: number): Buffer {
  const digests: Buffer[] = [];
  for (let at = 0; at < data.length; at += blockSize)
    digests.push(
      createHash('sha256')
        .update(data.subarray(at, at + blockSize))
        .digest(),
    );
  return Buffer.concat(digests);
}

/** Feeds `data` in pieces of the given lengths, cycling through them. */
function hashInPieces(data: Buffer, blockSize: number, pieces: number[]): Buffer {
  const hasher = new BlockHasher(blockSize);
  for (let at = 0, i = 0; at < data.length; i += 1) {
    const length = pieces[i % pieces.length]!;
    hasher.update(data.subarray(at, at + length));
    at += length;
  }
  return hasher.digest();
}

describe('BlockHasher', () => {
  const data = randomBytes(10 * 1024 + 5);

  it('gives nothing for an empty file, even fed empty buffers', () => {
    const hasher = new BlockHasher(1024);
    hasher.update(Buffer.alloc(0));
    expect(hasher.digest().length).to.equal(0);
    expect(blockCount(0n, 1024)).to.equal(0n);
  });

  it('splits at exact block boundaries, with no empty block after the last full one', () => {
    const exact = data.subarray(0, 4096);
    const digests = hashInPieces(exact, 1024, [1024]);
    expect(digests.length).to.equal(4 * 32);
    expect(digests.equals(expected(exact, 1024))).to.equal(true);
    expect(blockCount(4096n, 1024)).to.equal(4n);
  });

  it('hashes a short last block', () => {
    const digests = hashInPieces(data, 1024, [1024]);
    expect(digests.length).to.equal(11 * 32);
    expect(
      digests.subarray(10 * 32).equals(
        createHash('sha256')
          .update(data.subarray(10 * 1024))
          .digest(),
      ),
    ).to.equal(true);
    expect(blockCount(BigInt(data.length), 1024)).to.equal(11n);
  });

  it('splits one buffer that spans several blocks, and pieces that straddle boundaries', () => {
    const want = expected(data, 1000);
    expect(hashInPieces(data, 1000, [data.length]).equals(want)).to.equal(true);
    expect(hashInPieces(data, 1000, [7, 1993, 1, 2500, 999]).equals(want)).to.equal(true);
    expect(hashInPieces(data, 1000, [1]).equals(want)).to.equal(true);
  });

  it('gives one block, the whole file digest, for a file no larger than a block', () => {
    const small = data.subarray(0, 700);
    expect(hashInPieces(small, 1024, [300]).toString('hex')).to.equal(createHash('sha256').update(small).digest('hex'));
  });

  it('refuses a block size that is not a positive safe integer', () => {
    for (const size of [0, -1, 0.5, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
      expect(() => new BlockHasher(size), String(size)).to.throw(RangeError, `invalid block size ${size}`);
    }
  });

  it('takes blocks of a single byte', () => {
    const bytes = data.subarray(0, 5);
    expect(hashInPieces(bytes, 1, [2]).equals(expected(bytes, 1))).to.equal(true);
  });

  it('keeps lists longer than its first allocation whole', () => {
    const many = randomBytes(200 * 16);
    expect(hashInPieces(many, 16, [48]).equals(expected(many, 16))).to.equal(true);
  });
});
