// @ts-nocheck
import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { asRecorded, compareVerdict, damageOf } from '../../../src/client/blocks/damage.js';
import { blocksToCompare, growthDecision } from '../../../src/client/blocks/growth.js';
import { hashLocalBlocks, matchingBlocks } from '../../../src/client/blocks/localBlocks.js';
import { rangesText, serverVerifyExitCode } from '../../../src/client/cli/serverVerifyText.js';
import type { ServerVerifyResult } from '../../../src/client/blocks/serverVerify.js';
import { RemoteStatusError, ServerUnreachableError } from '../../../src/client/errors.js';
import { status } from '../../../src/shared/grpcStatus.js';
import type { TaskRecord } from '../../../src/client/taskMap/taskRecord.js';
import { tempDir } from '../../helpers/files.js';

const BLOCK = 4;
const sha = (data: Buffer) => createHash('sha256').update(data).digest();
/** The server's list of `data` in blocks of BLOCK bytes. */
const listOf = (data: Buffer) => {
  const digests: Buffer[] = [];
  for (let at = 0; at < data.length; at += BLOCK) digests.push(sha(data.subarray(at, at + BLOCK)));
  return { remote: { size: data.length }, blockSize: BLOCK, digests: Buffer.concat(digests) };
};
/** Local digests as verify takes them: of the first min(local, server) bytes. */
const localOf = (data: Buffer, serverSize: number) => listOf(data.subarray(0, Math.min(data.length, serverSize))).digests;
const damage = (local: Buffer, server: Buffer) => damageOf(local.length, localOf(local, server.length), listOf(server));

describe('append-follow: what a changed file keeps', () => {
  it('compares the full blocks we hold, none when the server has fewer bytes than we do', () => {
    expect(blocksToCompare(10, 20, BLOCK)).to.equal(2);
    expect(blocksToCompare(8, 8, BLOCK)).to.equal(2);
    expect(blocksToCompare(3, 20, BLOCK), 'less than a block').to.equal(0);
    expect(blocksToCompare(10, 9, BLOCK), 'shrank').to.equal(0);
  });

  it('continues at the start of our partial last block when every full block matches; anything else from 0', () => {
    expect(growthDecision(10, 20, BLOCK, 2)).to.deep.equal({ action: 'append', from: 8 });
    expect(growthDecision(8, 20, BLOCK, 2), 'block-aligned: nothing fetched twice').to.deep.equal({ action: 'append', from: 8 });
    expect(growthDecision(10, 10, BLOCK, 2), 'same length, the tail changed').to.deep.equal({ action: 'append', from: 8 });
    expect(growthDecision(10, 20, BLOCK, 1)).to.deep.equal({ action: 'from-zero', reason: 'block 1 differs' });
    expect(growthDecision(10, 20, BLOCK, 0).action).to.equal('from-zero');
    expect(growthDecision(10, 9, BLOCK, 2).action, 'shrank').to.equal('from-zero');
    expect(growthDecision(3, 20, BLOCK, 0).action, 'no full block').to.equal('from-zero');
  });

  it('reads a local file only up to its first block that differs', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const data = randomBytes(10_000);
      const file = path.join(dir, 'f');
      await writeFile(file, data);
      const list = (await hashLocalBlocks(file, 4096)).digests;
      expect(await matchingBlocks(file, 4096, list, 2)).to.equal(2);
      const changed = Buffer.from(list);
      changed[32] ^= 1;
      expect(await matchingBlocks(file, 4096, changed, 2)).to.equal(1);
    } finally {
      await cleanup();
    }
  });
});

describe('verify against the server: damaged ranges', () => {
  const server = randomBytes(14);

  it('names the blocks that differ, merged into ranges', () => {
    const local = Buffer.from(server);
    local[1] ^= 1;
    local[5] ^= 1;
    local[13] ^= 1;
    expect(damage(local, server)).to.deep.equal({
      blocks: [0, 1, 3],
      ranges: [
        { start: 0, end: 8 },
        { start: 12, end: 14 },
      ],
    });
    expect(damage(server, server)).to.deep.equal({ blocks: [], ranges: [] });
  });

  it('a shorter file lacks its tail, from its own partial last block on', () => {
    expect(damage(server.subarray(0, 6), server)).to.deep.equal({ blocks: [1, 2, 3], ranges: [{ start: 4, end: 14 }] });
    expect(damage(server.subarray(0, 8), server), 'block-aligned').to.deep.equal({ blocks: [2, 3], ranges: [{ start: 8, end: 14 }] });
    expect(damage(Buffer.alloc(0), server)).to.deep.equal({ blocks: [0, 1, 2, 3], ranges: [{ start: 0, end: 14 }] });
  });

  it("a longer file's extra bytes are a range of their own, to cut, not fetch", () => {
    const longer = Buffer.concat([server, randomBytes(5)]);
    expect(damage(longer, server)).to.deep.equal({ blocks: [], ranges: [{ start: 14, end: 19 }] });
    longer[13] ^= 1;
    expect(damage(longer, server), 'merged with a differing last block').to.deep.equal({ blocks: [3], ranges: [{ start: 12, end: 19 }] });
    expect(damage(server, Buffer.alloc(0)), 'the server file is empty').to.deep.equal({ blocks: [], ranges: [{ start: 0, end: 14 }] });
  });

  it('outdated is a file still as downloaded; damaged one that is not', () => {
    const record: TaskRecord = {
      name: 'f',
      status: 'complete',
      size: 14,
      version: 'v1',
      sha256: 'a'.repeat(64),
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
      completedAt: '2026-01-01T00:00:00.000Z',
    };
    const ranges = [{ start: 0, end: 4 }];
    expect(compareVerdict([], false)).to.equal('ok');
    expect(compareVerdict(ranges, asRecorded(record, 'a'.repeat(64)))).to.equal('outdated');
    expect(compareVerdict(ranges, asRecorded(record, 'b'.repeat(64)))).to.equal('damaged');
    expect(compareVerdict(ranges, asRecorded(record, undefined)), 'not read whole').to.equal('damaged');
    expect(compareVerdict(ranges, asRecorded({ ...record, status: 'incomplete' }, 'a'.repeat(64)))).to.equal('damaged');
    expect(compareVerdict(ranges, asRecorded(undefined, 'a'.repeat(64)))).to.equal('damaged');
  });

  it('prints ranges as dd and HTTP count them, a few of them; exits 0 only when all match', () => {
    expect(rangesText([{ start: 0, end: 65536 }])).to.equal('0-65535');
    const many = Array.from({ length: 10 }, (_, i) => ({ start: i * 10, end: i * 10 + 5 }));
    expect(rangesText(many)).to.match(/^0-4, 10-14, .*, 70-74 and 2 more ranges$/);
    const result = (verdict: ServerVerifyResult['verdict'], error?: ServerVerifyResult['error']) => ({ verdict, error }) as ServerVerifyResult;
    expect(serverVerifyExitCode([result('ok'), result('repaired')])).to.equal(0);
    expect(serverVerifyExitCode([result('ok'), result('damaged'), result('outdated')])).to.equal(1);
    const unreachable = new ServerUnreachableError(new RemoteStatusError(status.UNAVAILABLE, 'connect ECONNREFUSED'));
    expect(serverVerifyExitCode([result('unchecked', unreachable), result('unchecked', unreachable)])).to.equal(4);
    expect(serverVerifyExitCode([result('unchecked', new RemoteStatusError(status.NOT_FOUND, 'gone'))])).to.equal(8);
  });
});
