import { expect } from 'chai';
import { CHUNK_HEADER_ROOM, chunkOfEntry, decodeChunk, decodeChunkBatch, encodeChunk, entryHead } from '../../../src/shared/chunkCodec.js';
import type { ReadSmallFile } from '../../../src/server/fsThread.js';
import { CHUNK_A_MESSAGE, chunkBatches, groupAdjacent } from '../../../src/server/manyFraming.js';

/** Entries of `sizes` bytes each, side by side in one buffer, as the file-system thread lays out a batch. */
function adjacent(sizes: number[]): { entry: Buffer }[] {
  const whole = Buffer.alloc(sizes.reduce((a, b) => a + b, 0));
  let at = 0;
  return sizes.map((size) => {
    const entry = whole.subarray(at, at + size);
    at += size;
    return { entry };
  });
}

const shape = (groups: { entry: Buffer }[][]) => groups.map((group) => group.map((file) => file.entry.length));

/** Small files read whole, `size` bytes each, laid out as the file-system thread does: one buffer, an entry each. */
function readFiles(names: string[], size = 1): ReadSmallFile[] {
  const chunks = names.map((name) =>
    encodeChunk({ info: { name, size: BigInt(size), version: 'v', mtimeMs: 1n }, data: Buffer.alloc(size, name), sha256: 'ab'.repeat(32) }),
  );
  const whole = Buffer.concat(chunks.flatMap((chunk) => [entryHead(chunk.length), chunk]));
  let at = 0;
  return chunks.map((chunk, i) => {
    const entry = whole.subarray(at, at + entryHead(chunk.length).length + chunk.length);
    at += entry.length;
    return { kind: 'sent', name: names[i]!, size, version: 'v', sha256: 'ab'.repeat(32), length: entry.length, entry };
  });
}

const CHUNK_SIZE = 256 * 1024;

describe('DownloadMany framings', () => {
  it('groups entries that lie side by side up to the count and byte limits', () => {
    const limits = { maxChunks: 3, maxBytes: 100 };
    expect(shape(groupAdjacent(adjacent([10, 10, 10, 10, 10, 10, 10]), limits))).to.deep.equal([[10, 10, 10], [10, 10, 10], [10]]);
    expect(shape(groupAdjacent(adjacent([40, 40, 20, 1]), limits)), 'exactly maxBytes fits').to.deep.equal([[40, 40, 20], [1]]);
    expect(shape(groupAdjacent(adjacent([40, 40, 21]), limits)), 'one byte over does not').to.deep.equal([[40, 40], [21]]);
    expect(shape(groupAdjacent(adjacent([150, 10, 200]), limits)), 'an entry over the limit is alone').to.deep.equal([[150], [10], [200]]);
    const roomy = { maxChunks: 10, maxBytes: 100 };
    expect(shape(groupAdjacent(adjacent([60, 30, 30, 50, 50]), roomy)), 'bytes counted from where each group starts').to.deep.equal([[60, 30], [30, 50], [50]]);
    expect(groupAdjacent([], limits)).to.deep.equal([]);
  });

  it('starts a new group where an entry does not follow the last one in the same buffer', () => {
    const limits = { maxChunks: 10, maxBytes: 1000 };
    const [a, b, c] = adjacent([5, 5, 5]);
    const [d, e] = adjacent([5, 5]);
    expect(groupAdjacent([a!, b!, c!, d!, e!], limits), 'another buffer').to.deep.equal([
      [a, b, c],
      [d, e],
    ]);
    expect(groupAdjacent([a!, c!], limits), 'a gap').to.deep.equal([[a], [c]]);
    expect(groupAdjacent([b!, a!], limits), 'out of order').to.deep.equal([[b], [a]]);
    // Where c ends in its buffer, f begins in another one.
    const f = { entry: Buffer.alloc(40).subarray(c!.entry.byteOffset + c!.entry.length, 30) };
    expect(groupAdjacent([a!, b!, c!, f], limits), 'the same offset in another buffer').to.deep.equal([[a, b, c], [f]]);
  });

  it('batches small files as views of their buffer, whose Chunks are those DownloadMany sends one a message', () => {
    const files = readFiles(['a.txt', 'b.txt', 'c.txt']);
    const single = CHUNK_A_MESSAGE.whole(files);
    const batched = chunkBatches(CHUNK_SIZE).whole(files);
    expect(single.map((m) => m.files)).to.deep.equal(files.map((file) => [file]));
    expect(batched).to.have.length(1);
    expect(batched[0]!.files).to.deep.equal(files);
    expect(batched[0]!.message.bytes.buffer, 'no copy').to.equal(files[0]!.entry!.buffer);
    const chunks = decodeChunkBatch(batched[0]!.message.bytes)!.chunks;
    expect(chunks.map((chunk) => chunk.info?.name)).to.deep.equal(['a.txt', 'b.txt', 'c.txt']);
    expect(
      single.every((m, i) => m.message.bytes.equals(chunkOfEntry(files[i]!.entry!))),
      'DownloadMany: each Chunk as it is',
    ).to.equal(true);
  });

  it('cuts batches at the chunk size, so messages in flight and the rate limit count as for DownloadMany', () => {
    // 32 files of 16 KiB, what the file-system thread reads at once: 15 fit a chunk of 256 KiB with their headers.
    const files = readFiles(
      Array.from({ length: 32 }, (_, i) => `f${i}`),
      16 * 1024,
    );
    const batched = chunkBatches(CHUNK_SIZE).whole(files);
    expect(batched.map((m) => m.files.length)).to.deep.equal([15, 15, 2]);
    for (const { message } of batched) expect(message.bytes.length).to.be.at.most(CHUNK_SIZE);
    expect(batched.flatMap((m) => m.files)).to.deep.equal(files);
  });

  it("seals a large file's data as a batch of one with DownloadManyBatches, as a Chunk with DownloadMany", () => {
    const data = Buffer.from('some bytes of a large file');
    const frame = () => Buffer.concat([Buffer.alloc(CHUNK_HEADER_ROOM), data]);
    const batch = decodeChunkBatch(chunkBatches(CHUNK_SIZE).sealed(frame(), 1000, data.length).bytes)!;
    expect(batch.chunks.map((chunk) => [chunk.offset, chunk.data.toString()])).to.deep.equal([['1000', data.toString()]]);
    const chunk = decodeChunk(CHUNK_A_MESSAGE.sealed(frame(), 1000, data.length).bytes)!;
    expect([chunk.offset, chunk.data.toString()]).to.deep.equal(['1000', data.toString()]);
  });

  it('sends a Chunk that goes alone as a batch of one with DownloadManyBatches, as itself with DownloadMany', () => {
    const chunk = { offset: '5', sha256: 'ab'.repeat(32) };
    expect(CHUNK_A_MESSAGE.alone(chunk)).to.equal(chunk);
    expect(chunkBatches(CHUNK_SIZE).alone(chunk)).to.deep.equal({ chunks: [chunk] });
  });
});
