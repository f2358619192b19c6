// @ts-nocheck
import { expect } from 'chai';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DIGEST_LOG_NAME, DigestLog, parseDigestLog } from '../../../src/server/digestLog.js';
import { tempDir } from '../../helpers/files.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);
const line = (version: string, sha256: string) => `${JSON.stringify({ version, sha256 })}\n`;
const bounds = (limit: number) => ({ limit, blockSize: 1024, blockBytes: 1024 });
/** Whole digests only, as the lines of older servers hold them. */
const wholeOnly = (digests: Map<string, { sha256: string }>) => [...digests].map(([version, { sha256 }]) => [version, sha256]);

describe('DigestLog', () => {
  it('keeps the latest digest per version and the last `limit` versions written', () => {
    const text = line('01', A) + line('02', B) + line('01', C) + line('03', A);
    expect(wholeOnly(parseDigestLog(text, bounds(10)))).to.deep.equal([
      ['02', B],
      ['01', C],
      ['03', A],
    ]);
    expect(wholeOnly(parseDigestLog(text, bounds(2)))).to.deep.equal([
      ['01', C],
      ['03', A],
    ]);
  });

  it('skips a torn last line and lines that are not digests', () => {
    const text = line('01', A) + '{"version":"zz","sha256":"' + A + '"}\n' + line('02', 'short') + '[1]\nnull\n' + line('03', B).slice(0, 30);
    expect(wholeOnly(parseDigestLog(text, bounds(10)))).to.deep.equal([['01', A]]);
  });

  it('compacts the file at open, so what is appended after a torn line can be read back', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const file = path.join(dir, 'state', DIGEST_LOG_NAME);
      const first = await DigestLog.open(path.dirname(file), bounds(10), (err) => expect.fail(err.message));
      expect(first.digests.size).to.equal(0);
      first.log.append('01', { sha256: A });
      await first.log.close();
      await writeFile(file, (await readFile(file, 'utf8')) + line('02', B).slice(0, 20));

      const second = await DigestLog.open(path.dirname(file), bounds(10), (err) => expect.fail(err.message));
      expect(wholeOnly(second.digests)).to.deep.equal([['01', A]]);
      second.log.append('03', { sha256: C });
      await second.log.close();
      expect(await readFile(file, 'utf8')).to.equal(line('01', A) + line('03', C));
    } finally {
      await cleanup();
    }
  });

  it('keeps the block lists of the last written versions within blockBytes; a later line of the same digest without blocks keeps them', () => {
    const blocks = (fill: number, count: number) => Buffer.alloc(32 * count, fill);
    const withBlocks = (version: string, sha256: string, list: Buffer, blockSize = 1024) =>
      `${JSON.stringify({ version, sha256, blockSize, blocks: list.toString('base64') })}\n`;
    const text =
      withBlocks('01', A, blocks(1, 2)) +
      withBlocks('02', B, blocks(2, 2)) +
      // Another block size, a list that is not whole digests: whole digest only.
      withBlocks('03', C, blocks(3, 1), 2048) +
      withBlocks('04', C, Buffer.alloc(33)) +
      // 01 becomes the latest written, its list with it; 05's list is one
      // too many: the oldest list, 02's, goes.
      line('01', A) +
      withBlocks('05', B, blocks(5, 1));
    expect([...parseDigestLog(text, { limit: 10, blockSize: 1024, blockBytes: 4 * 32 })]).to.deep.equal([
      ['02', { sha256: B }],
      ['03', { sha256: C }],
      ['04', { sha256: C }],
      ['01', { sha256: A, blocks: blocks(1, 2) }],
      ['05', { sha256: B, blocks: blocks(5, 1) }],
    ]);
    // Another digest for the version: its old blocks are not its blocks.
    expect(parseDigestLog(withBlocks('01', A, blocks(1, 2)) + line('01', B), bounds(10)).get('01')).to.deep.equal({ sha256: B });
  });

  it('persists block lists and reads back lines without them, as older servers wrote', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const list = Buffer.alloc(64, 9);
      const first = await DigestLog.open(dir, bounds(10), (err) => expect.fail(err.message));
      first.log.append('01', { sha256: A, blocks: list });
      first.log.append('02', { sha256: B });
      await first.log.close();
      const second = await DigestLog.open(dir, bounds(10), (err) => expect.fail(err.message));
      await second.log.close();
      expect([...second.digests]).to.deep.equal([
        ['01', { sha256: A, blocks: list }],
        ['02', { sha256: B }],
      ]);
      const otherSize = await DigestLog.open(dir, { ...bounds(10), blockSize: 2048 }, (err) => expect.fail(err.message));
      await otherSize.log.close();
      expect(otherSize.digests.get('01')).to.deep.equal({ sha256: A });
    } finally {
      await cleanup();
    }
  });
});
