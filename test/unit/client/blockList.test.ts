import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BlockList__Output } from '../../../src/generated/filetransfer/v1/BlockList.js';
import { assembleBlockList, blocksIn, digestOf } from '../../../src/client/blocks/blockList.js';
import { differingBlocks, rangesOfBlocks } from '../../../src/client/blocks/blockRanges.js';
import { hashLocalBlocks } from '../../../src/client/blocks/localBlocks.js';
import { ProtocolError } from '../../../src/client/errors.js';
import { tempDir } from '../../helpers/files.js';

const sha = (data: Buffer) => createHash('sha256').update(data).digest();
const info = (size: number) => ({ name: 'f', size: String(size), version: 'v1', sha256: 'a'.repeat(64), mtimeMs: '0' });
const message = (fields: Partial<BlockList__Output>): BlockList__Output => ({ info: null, blockSize: '4', firstBlock: '0', sha256: [], ...fields });
const digests = (count: number) => Array.from({ length: count }, (_, i) => sha(Buffer.from([i])));

describe('assembleBlockList', () => {
  it('joins the digests of several messages, keep-alives skipped', () => {
    const all = digests(3);
    const list = assembleBlockList('f', [
      message({}),
      message({ info: info(10), sha256: all.slice(0, 2) }),
      message({ firstBlock: '2', sha256: all.slice(2) }),
    ]);
    expect(list.blockSize).to.equal(4);
    expect(list.remote.size).to.equal(10);
    expect(digestOf(list.digests, 2)).to.deep.equal(all[2]);
    expect(list.digests.length).to.equal(96);
  });

  it('takes blocks of a single byte', () => {
    expect(assembleBlockList('f', [message({ info: info(2), blockSize: '1', sha256: digests(2) })]).blockSize).to.equal(1);
  });

  it('takes an empty file with no blocks', () => {
    expect(assembleBlockList('f', [message({ info: info(0) })]).digests.length).to.equal(0);
  });

  const bad: [string, BlockList__Output[], RegExp][] = [
    ['no info', [message({ sha256: digests(1) })], /without the file/],
    // A server that ends the call at once, or after keep-alives only, has sent no list at all.
    ['no message', [], /without the file/],
    ['keep-alives only', [message({}), message({})], /without the file/],
    ['a block short', [message({ info: info(10), sha256: digests(2) })], /has 2 blocks where 10 bytes make 3/],
    ['a block too many', [message({ info: info(8), sha256: digests(3) })], /more than the 2 blocks/],
    ['a gap', [message({ info: info(10), sha256: digests(1) }), message({ firstBlock: '2', sha256: digests(2) })], /jumps from block 1 to 2/],
    ['a short digest', [message({ info: info(4), sha256: [Buffer.alloc(31)] })], /digest of 31 bytes/],
    [
      'another block size',
      [message({ info: info(10), sha256: digests(2) }), message({ blockSize: '8', firstBlock: '2', sha256: digests(1) })],
      /changes its block size/,
    ],
    ['a zero block size', [message({ info: info(10), blockSize: '0' })], /impossible block size/],
    [
      'its file described twice',
      [message({ info: info(10), sha256: digests(2) }), message({ info: info(10), firstBlock: '2', sha256: digests(1) })],
      /describes its file twice/,
    ],
    ['a whole digest of 65 digits', [message({ info: { ...info(4), sha256: 'a'.repeat(65) }, sha256: digests(1) })], /malformed sha256/],
    ['a whole digest with a prefix', [message({ info: { ...info(4), sha256: `x${'a'.repeat(64)}` }, sha256: digests(1) })], /malformed sha256/],
    ['no whole digest', [message({ info: { ...info(4), sha256: '' }, sha256: digests(1) })], /whole file digest/],
  ];
  for (const [what, messages, why] of bad) {
    it(`refuses a list with ${what} as a protocol error`, () => {
      expect(() => assembleBlockList('f', messages))
        .to.throw(ProtocolError)
        .with.property('message')
        .that.matches(why);
    });
  }
});

describe('block ranges', () => {
  it('finds the blocks whose digests differ, over the blocks both lists have', () => {
    const a = Buffer.concat(digests(4));
    const b = Buffer.concat([digests(4)[0]!, sha(Buffer.from('x')), digests(4)[2]!]);
    expect(differingBlocks(a, b)).to.deep.equal([1]);
    expect(differingBlocks(a, a)).to.deep.equal([]);
  });

  it('turns blocks into byte ranges, neighbours merged, the last block short', () => {
    expect(rangesOfBlocks([3, 0, 1], 4, 14)).to.deep.equal([
      { start: 0, end: 8 },
      { start: 12, end: 14 },
    ]);
    expect(rangesOfBlocks([5], 4, 14), 'past the end').to.deep.equal([]);
    // A range of no bytes would go out as a Download with limit 0, which means "to the end".
    expect(rangesOfBlocks([0, 3], 4, 12), 'at the end').to.deep.equal([{ start: 0, end: 4 }]);
    expect(blocksIn(14, 4)).to.equal(4);
    expect(blocksIn(0, 4)).to.equal(0);
  });

  it('hashes a local file block by block, or its first bytes only, as the server would', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const data = randomBytes(10_000);
      const file = path.join(dir, 'f');
      await writeFile(file, data);
      const whole = await hashLocalBlocks(file, 4096);
      expect(whole.size).to.equal(10_000);
      expect(whole.sha256).to.equal(sha(data).toString('hex'));
      expect(whole.digests).to.deep.equal(Buffer.concat([sha(data.subarray(0, 4096)), sha(data.subarray(4096, 8192)), sha(data.subarray(8192))]));
      const prefix = await hashLocalBlocks(file, 4096, 5000);
      expect(prefix.digests).to.deep.equal(Buffer.concat([sha(data.subarray(0, 4096)), sha(data.subarray(4096, 5000))]));
      expect(prefix.sha256).to.equal(sha(data.subarray(0, 5000)).toString('hex'));
    } finally {
      await cleanup();
    }
  });
});
