import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { BlockRun } from '../../../src/client/blocks/blockRun.js';
import { BlockSet } from '../../../src/client/blocks/blockSet.js';
import { agreedDigest, clampSegments, planPieces, stealFrom } from '../../../src/client/blocks/segmentPlan.js';
import { pickReplica, replicaEntries } from '../../../src/client/connection/replicas.js';
import { StreamHash } from '../../../src/client/download/streamHash.js';
import { wantsBlockList } from '../../../src/client/download/streamBlocks.js';
import { decideRetry } from '../../../src/client/retryPolicy.js';
import type { BlockList } from '../../../src/client/blocks/blockList.js';

const digestsOf = (data: Buffer, blockSize: number) => {
  const parts: Buffer[] = [];
  for (let at = 0; at < data.length; at += blockSize)
    parts.push(
      createHash('sha256')
        .update(data.subarray(at, at + blockSize))
        .digest(),
    );
  return Buffer.concat(parts);
};
const listOf = (data: Buffer, blockSize: number): BlockList => ({
  remote: { name: 'f', size: data.length, version: 'v', sha256: createHash('sha256').update(data).digest('hex'), mtime: new Date(0) },
  blockSize,
  digests: digestsOf(data, blockSize),
});

describe('segment planning', () => {
  it('clamps segments to the blocks there are, and to at least one', () => {
    expect(clampSegments(8, 3)).to.equal(3);
    expect(clampSegments(3, 100)).to.equal(3);
    expect(clampSegments(4, 0)).to.equal(1);
  });

  it('cuts the missing blocks into nearly equal pieces that never span a verified block', () => {
    expect(planPieces([[0, 10]], 3)).to.deep.equal([
      { next: 0, end: 3 },
      { next: 3, end: 6 },
      { next: 6, end: 10 },
    ]);
    // 4 + 2 missing blocks over 2 segments: 3 a piece, the gap kept.
    expect(
      planPieces(
        [
          [0, 4],
          [6, 8],
        ],
        2,
      ),
    ).to.deep.equal([
      { next: 0, end: 2 },
      { next: 2, end: 4 },
      { next: 6, end: 8 },
    ]);
    expect(planPieces([], 3)).to.deep.equal([]);
  });

  it('cuts a missing range that starts past block 0 from its own start', () => {
    // 2 + 6 missing blocks over 2 segments: 4 a piece, so only the second range is cut.
    expect(
      planPieces(
        [
          [0, 2],
          [4, 10],
        ],
        2,
      ),
    ).to.deep.equal([
      { next: 0, end: 2 },
      { next: 4, end: 7 },
      { next: 7, end: 10 },
    ]);
  });

  it('lets an idle lane take the back half of the largest piece, never its block under way nor a last block', () => {
    const a = { next: 0, end: 10 };
    const b = { next: 5, end: 8 };
    expect(stealFrom([a, b])).to.deep.equal({ piece: a, cut: 5 });
    expect(stealFrom([{ next: 3, end: 6 }])).to.deep.equal({ piece: { next: 3, end: 6 }, cut: 5 });
    expect(stealFrom([{ next: 3, end: 5 }])).to.equal(undefined);
    // What the server may have sent ahead is left alone.
    expect(stealFrom([a], 10)).to.equal(undefined);
    expect(stealFrom([a], 9)).to.deep.equal({ piece: a, cut: 5 });
  });
});

describe('the reference list of several replicas', () => {
  it('takes the content two agree on and names the replica with other content', () => {
    expect(agreedDigest([{ entry: 'a', sha256: 'x' }])).to.deep.equal({ sha256: 'x', odd: [] });
    expect(
      agreedDigest([
        { entry: 'a', sha256: 'x' },
        { entry: 'b', sha256: 'x' },
      ]),
    ).to.deep.equal({ sha256: 'x', odd: [] });
    expect(
      agreedDigest([
        { entry: 'a', sha256: 'y' },
        { entry: 'b', sha256: 'x' },
      ]),
    ).to.equal(undefined);
    expect(
      agreedDigest([
        { entry: 'a', sha256: 'y' },
        { entry: 'b', sha256: 'x' },
        { entry: 'c', sha256: 'x' },
      ]),
    ).to.deep.equal({ sha256: 'x', odd: ['a'] });
    expect(agreedDigest([])).to.equal(undefined);
  });

  it('takes no side when two contents have as many replicas each', () => {
    const tie = [
      { entry: 'a', sha256: 'x' },
      { entry: 'b', sha256: 'y' },
      { entry: 'c', sha256: 'y' },
      { entry: 'd', sha256: 'x' },
    ];
    expect(agreedDigest(tie)).to.equal(undefined);
    expect(agreedDigest([...tie, { entry: 'e', sha256: 'y' }])).to.deep.equal({ sha256: 'y', odd: ['a', 'd'] });
    expect(
      agreedDigest([
        { entry: 'a', sha256: 'x' },
        { entry: 'b', sha256: 'x' },
        { entry: 'c', sha256: 'y' },
      ]),
      'fewer after the most',
    ).to.deep.equal({ sha256: 'x', odd: ['c'] });
  });
});

describe('which replica next', () => {
  const entries = ['a:1', 'b:1', 'c:1'];
  const none = { excluded: new Set<string>(), busy: new Map<string, number>(), failing: new Set<string>() };

  it('rotates over equals, skips the excluded, prefers the idle, and tries a failing one last', () => {
    expect([0, 1, 2, 3].map((turn) => pickReplica(entries, none, turn))).to.deep.equal(['a:1', 'b:1', 'c:1', 'a:1']);
    expect(pickReplica(entries, { ...none, excluded: new Set(['a:1']) }, 0)).to.equal('b:1');
    expect(pickReplica(entries, { ...none, busy: new Map([['a:1', 1]]) }, 0)).to.equal('b:1');
    expect(pickReplica(entries, { ...none, failing: new Set(['a:1', 'b:1']), busy: new Map([['c:1', 3]]) }, 0)).to.equal('c:1');
    expect(pickReplica(entries, { ...none, excluded: new Set(entries) }, 0)).to.equal(undefined);
  });

  it('knows the replicas of a --server list, and a single server as one', () => {
    expect(replicaEntries('127.0.0.1:1,127.0.0.2:2')).to.deep.equal(['127.0.0.1:1', '127.0.0.2:2']);
    expect(replicaEntries('ipv4:///127.0.0.1:1,127.0.0.3:3')).to.deep.equal(['127.0.0.1:1', '127.0.0.3:3']);
    expect(replicaEntries('files.example:1,other.example:2')).to.deep.equal(['files.example:1', 'other.example:2']);
    expect(replicaEntries('127.0.0.1:50051')).to.deep.equal(['127.0.0.1:50051']);
    expect(replicaEntries('dns:///files.example:50051')).to.deep.equal(['dns:///files.example:50051']);
  });
});

describe('verified block ranges', () => {
  it('merges blocks into ranges, and tells what is missing and where the run from 0 ends', () => {
    const set = new BlockSet([[4, 6]]);
    for (const block of [0, 1, 3, 9]) set.add(block);
    expect(set.ranges()).to.deep.equal([
      [0, 2],
      [3, 6],
      [9, 10],
    ]);
    expect(set.missing(12)).to.deep.equal([
      [2, 3],
      [6, 9],
      [10, 12],
    ]);
    expect([set.count, set.prefixEnd, set.has(5), set.has(6)]).to.deep.equal([6, 2, true, false]);
    set.add(2);
    expect(set.ranges()[0]).to.deep.equal([0, 6]);
    expect(new BlockSet().missing(3)).to.deep.equal([[0, 3]]);
  });
});

describe('blocks checked as they arrive', () => {
  it('finds a bad block the moment it is complete, in pieces of any size, the short last block included', () => {
    const data = randomBytes(10 * 1024 + 5);
    const list = listOf(data, 1024);
    const good = new BlockRun(1024, 0, data.length, list.digests);
    const verified: number[] = [];
    good.onVerified = (index) => verified.push(index);
    for (let at = 0; at < data.length; at += 700) good.update(data.subarray(at, at + 700));
    expect([good.bad, good.verifiedTo, verified.length]).to.deep.equal([undefined, 11, 11]);

    const damaged = Buffer.from(data);
    damaged[3 * 1024 + 17] ^= 1;
    const run = new BlockRun(1024, 2, data.length, list.digests);
    run.update(damaged.subarray(2 * 1024, 4 * 1024 - 1));
    expect(run.bad, 'block 3 is one byte short of complete').to.equal(undefined);
    run.update(damaged.subarray(4 * 1024 - 1, 4 * 1024));
    expect([run.bad, run.verifiedTo]).to.deep.equal([3, 3]);
    run.rewind(3);
    run.update(data.subarray(3 * 1024, 5 * 1024));
    expect([run.bad, run.verifiedTo]).to.deep.equal([undefined, 5]);
  });

  it('keeps the digests of blocks that came before the list, and checks them when it comes', () => {
    const data = randomBytes(4096);
    const damaged = Buffer.from(data);
    damaged[1500] ^= 0x80;
    const run = new BlockRun(1024, 0, data.length, undefined);
    run.update(damaged.subarray(0, 2500));
    expect(run.bad).to.equal(undefined);
    run.setDigests(listOf(data, 1024).digests);
    expect([run.bad, run.verifiedTo]).to.deep.equal([1, 1]);
  });
});

describe('StreamHash', () => {
  const drain = (hash: StreamHash, disk: Buffer) => {
    for (let from = hash.behind(); from !== undefined; from = hash.behind()) hash.feedAt(disk.subarray(from, hash.length), from);
  };

  it('hashes the whole file without a list, as always', () => {
    const data = randomBytes(5000);
    const hash = new StreamHash();
    hash.append(data);
    expect(hash.finish(data.length)).to.equal(createHash('sha256').update(data).digest('hex'));
  });

  it("with the list, hashes blocks only and takes the list's digest once every block matched", () => {
    const data = randomBytes(5000);
    const list = listOf(data, 1024);
    const hash = new StreamHash();
    hash.askList(1024, data.length);
    hash.append(data.subarray(0, 1500));
    hash.takeList(list);
    hash.append(data.subarray(1500));
    expect(hash.behind()).to.equal(undefined);
    expect(hash.finish(data.length)).to.equal(list.remote.sha256);
  });

  it('reads back what a wrong guess of the block size hashed, and a bad block stops it until the partial is cut back', () => {
    const data = randomBytes(6000);
    const disk = Buffer.from(data);
    disk[2100] ^= 1;
    const list = listOf(data, 2048);
    const hash = new StreamHash();
    hash.askList(1024, data.length);
    hash.append(disk.subarray(0, 1000));
    hash.takeList(list);
    expect(hash.behind()).to.equal(0);
    drain(hash, disk);
    hash.append(disk.subarray(1000, 4500));
    expect(hash.bad).to.equal(1);
    hash.cutBack(2048);
    disk.set(data.subarray(2048), 2048);
    hash.append(disk.subarray(2048));
    expect([hash.bad, hash.finish(data.length)]).to.deep.equal([undefined, list.remote.sha256]);
  });

  it("resumes: the kept bytes' whole digest and blocks from one read, the blocks checked once the list comes", () => {
    const data = randomBytes(5000);
    const list = listOf(data, 1024);
    const hash = new StreamHash(3000);
    hash.hashBlocks(1024, data.length);
    hash.wantWhole();
    drain(hash, data);
    expect(hash.prefixDigest()).to.equal(createHash('sha256').update(data.subarray(0, 3000)).digest('hex'));
    expect(hash.blocksReady).to.equal(true);
    hash.askList(1024, data.length);
    hash.takeList(list);
    hash.append(data.subarray(3000));
    expect(hash.finish(data.length)).to.equal(list.remote.sha256);
  });

  it('falls back to the whole digest when no list comes, reading back what came meanwhile', () => {
    const data = randomBytes(5000);
    const hash = new StreamHash();
    hash.askList(1024, data.length);
    hash.append(data.subarray(0, 2000));
    hash.noList();
    drain(hash, data);
    hash.append(data.subarray(2000));
    expect(hash.finish(data.length)).to.equal(createHash('sha256').update(data).digest('hex'));
  });
});

describe('when to ask for a block list', () => {
  it('not for one block, nor from 0 while the server hashes the bytes it sends; else yes', () => {
    expect(wantsBlockList(64 * 1024, 0, true, undefined)).to.equal(false);
    expect(wantsBlockList(3 << 20, 0, true, 4 << 20)).to.equal(false);
    expect(wantsBlockList(5 << 20, 0, false, undefined)).to.equal(false);
    expect(wantsBlockList(5 << 20, 0, true, undefined)).to.equal(true);
    expect(wantsBlockList(5 << 20, 1000, false, undefined)).to.equal(true);
    // A server that said its blocks are smaller than the default.
    expect(wantsBlockList(1 << 20, 0, true, 64 * 1024)).to.equal(true);
  });

  it('refetches a bad block at once from another replica, a few times with backoff from the only one', () => {
    const state = { failuresWithoutProgress: 0, msSinceProgress: 0, restarts: 0, digestFailures: 0, attemptOffset: 0 };
    const bad = (elsewhere: boolean) => ({ kind: 'block-mismatch' as const, code: status.DATA_LOSS, elsewhere });
    expect(decideRetry(bad(true), { ...state, blockFailures: 9 }, { retryForMs: 1000 })).to.deep.equal({
      action: 'retry',
      delayMs: 0,
      fromZero: false,
      reason: 'block',
    });
    expect(decideRetry(bad(false), { ...state, blockFailures: 2 }, { retryForMs: 1000 })).to.include({ action: 'retry', fromZero: false });
    expect(decideRetry(bad(false), { ...state, blockFailures: 3 }, { retryForMs: 1000 })).to.deep.equal({ action: 'fail' });
  });
});
