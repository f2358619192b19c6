// @ts-nocheck
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { DigestCache } from '../../../src/server/digestCache.js';
import { openServedFile } from '../../../src/server/servedFile.js';
import { MiB, makeRandomFile, sha256, tempDir } from '../../helpers/files.js';

const MiBn = BigInt(MiB);

/** Descriptors this process has open on `file`. */
async function descriptorsOn(file: string): Promise<number> {
  const links = await Promise.all((await readdir('/proc/self/fd')).map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
  return links.filter((link) => link === file).length;
}

describe('DigestCache', () => {
  it('hashes at most two whole files at once, even after the callers closed theirs', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const names = ['a.bin', 'b.bin', 'c.bin', 'd.bin'];
      const contents = await Promise.all(names.map((name) => makeRandomFile(path.join(dir, name), 8 * MiB)));
      const cache = new DigestCache();
      const files = await Promise.all(names.map((name) => openServedFile(dir, name)));
      const digests = files.map((file) => cache.digestOf(file));
      expect(cache.hashes).to.deep.equal({ running: 2, waiting: 2 });
      // The callers are gone (cancelled calls): the waiting hashes kept descriptors of their own.
      await Promise.all(files.map((file) => file.handle.close()));
      expect(await Promise.all(digests)).to.deep.equal(contents.map(sha256));
      expect(cache.hashes).to.deep.equal({ running: 0, waiting: 0 });
    } finally {
      await cleanup();
    }
  });

  it('refuses a new hash with RESOURCE_EXHAUSTED once the waiting queue is full, at once', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const names = ['a.bin', 'b.bin', 'c.bin'];
      const contents = await Promise.all(names.map((name) => makeRandomFile(path.join(dir, name), 8 * MiB)));
      const cache = new DigestCache({ concurrentHashes: 1, maxQueued: 1 });
      const [a, b, c] = await Promise.all(names.map((name) => openServedFile(dir, name)));
      const digests = [cache.digestOf(a!), cache.digestOf(b!)];
      expect(() => cache.digestOf(c!))
        .to.throw(/1 files are already waiting to be hashed/)
        .with.property('code', 8);
      // A second request for a file already waiting shares its hash: no new place needed.
      digests.push(cache.digestOf(b!));
      expect(cache.hashes).to.deep.equal({ running: 1, waiting: 1 });
      expect(await Promise.all(digests)).to.deep.equal([sha256(contents[0]!), sha256(contents[1]!), sha256(contents[1]!)]);
      await Promise.all([a, b, c].map((file) => file!.handle.close()));
    } finally {
      await cleanup();
    }
  });

  it("hashes a file's prefix in its turn with whole-file hashes, and drops it when its caller gives up", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const [first, second] = await Promise.all(['a.bin', 'b.bin'].map((name) => makeRandomFile(path.join(dir, name), 8 * MiB)));
      const cache = new DigestCache({ concurrentHashes: 1 });
      const [a, b] = await Promise.all(['a.bin', 'b.bin'].map((name) => openServedFile(dir, name)));
      const whole = cache.digestOf(a!);
      const prefix = cache.digestOfPrefix(b!, 3n * MiBn, new AbortController().signal);
      const gaveUp = new AbortController();
      const dropped = cache.digestOfPrefix(b!, 1n, gaveUp.signal).then(
        () => 'hashed',
        () => 'dropped',
      );
      expect(cache.hashes).to.deep.equal({ running: 1, waiting: 2 });
      gaveUp.abort();
      // The caller closes its file: the hash reads through a descriptor of its own.
      await Promise.all([a!.handle.close(), b!.handle.close()]);
      expect(await dropped).to.equal('dropped');
      expect(await prefix).to.equal(sha256(second!.subarray(0, 3 * MiB)));
      expect(await whole).to.equal(sha256(first!));
      expect(await descriptorsOn(path.join(dir, 'b.bin'))).to.equal(0);
    } finally {
      await cleanup();
    }
  });

  it('drops a waiting hash, and its descriptor, once every caller has given up on it', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const [first, second] = await Promise.all(['a.bin', 'b.bin'].map((name) => makeRandomFile(path.join(dir, name), 16 * MiB)));
      const cache = new DigestCache({ concurrentHashes: 1 });
      const a = await openServedFile(dir, 'a.bin');
      const b = await openServedFile(dir, 'b.bin');
      const running = cache.digestOf(a);
      const gaveUp = [new AbortController(), new AbortController()];
      const waiting = cache.digestOf(b, gaveUp[0]!.signal);
      cache.digestOf(b, gaveUp[1]!.signal).catch(() => undefined);
      await Promise.all([a.handle.close(), b.handle.close()]);
      expect(await descriptorsOn(path.join(dir, 'b.bin')), "the waiting hash's own descriptor").to.equal(1);

      gaveUp[0]!.abort();
      expect(cache.hashes, 'one caller still waits').to.deep.equal({ running: 1, waiting: 1 });
      gaveUp[1]!.abort();
      expect(cache.hashes).to.deep.equal({ running: 1, waiting: 0 });
      const dropped = await waiting.then(
        () => undefined,
        (err: { code: number }) => err.code,
      );
      expect(dropped).to.equal(1);
      expect(await descriptorsOn(path.join(dir, 'b.bin'))).to.equal(0);

      expect(await running).to.equal(sha256(first!));
      const again = await openServedFile(dir, 'b.bin');
      expect(await cache.digestOf(again)).to.equal(sha256(second!));
      await again.handle.close();
    } finally {
      await cleanup();
    }
  });

  it('gets the whole and the block digests from one read, and bounds the block lists by bytes', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const blockSize = 64 * 1024;
      const a = await makeRandomFile(path.join(dir, 'a.bin'), 2 * blockSize + 1);
      const b = await makeRandomFile(path.join(dir, 'b.bin'), blockSize + 1);
      const small = await makeRandomFile(path.join(dir, 'small.bin'), 1000);
      const told: [string, boolean][] = [];
      // Room for three digests: a's three, then b's two push them out.
      const cache = new DigestCache({ blockSize, blockBytes: 3 * 32, onDigest: (version, known) => told.push([version, known.blocks !== undefined]) });
      const [fa, fb, fs] = await Promise.all(['a.bin', 'b.bin', 'small.bin'].map((name) => openServedFile(dir, name)));
      const digestsOf = (data: Buffer) => {
        const slices = Array.from({ length: Math.ceil(data.length / blockSize) }, (_, i) => data.subarray(i * blockSize, (i + 1) * blockSize));
        return Buffer.concat(slices.map((slice) => createHash('sha256').update(slice).digest()));
      };

      const listed = cache.blocksOf(fa!);
      const whole = cache.digestOf(fa!);
      expect(cache.hashes, 'one pass for both').to.deep.equal({ running: 1, waiting: 0 });
      expect(await listed).to.deep.equal({ sha256: sha256(a), blocks: digestsOf(a) });
      expect(await whole).to.equal(sha256(a));
      expect(cache.knownBlocks(fa!)?.blocks).to.deep.equal(digestsOf(a));

      expect((await cache.blocksOf(fb!)).blocks).to.deep.equal(digestsOf(b));
      expect(cache.knownBlocks(fa!), "a's list was pushed out").to.equal(undefined);
      expect(cache.known(fa!.version), "a's whole digest stays").to.equal(sha256(a));
      expect(told).to.deep.equal([
        [fa!.version, true],
        [fb!.version, true],
      ]);

      // A file of one block: its block digest is its whole digest, once known.
      expect(cache.knownBlocks(fs!)).to.equal(undefined);
      cache.remember(fs!.version, sha256(small));
      expect(cache.knownBlocks(fs!)).to.deep.equal({ sha256: sha256(small), blocks: Buffer.from(sha256(small), 'hex') });
      await Promise.all([fa, fb, fs].map((file) => file!.handle.close()));
    } finally {
      await cleanup();
    }
  });

  it('takes a persisted list that does not add up to the size for unknown', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await makeRandomFile(path.join(dir, 'a.bin'), 3 * 64 * 1024);
      const file = await openServedFile(dir, 'a.bin');
      const cache = new DigestCache({ blockSize: 64 * 1024 });
      cache.preload([[file.version, { sha256: 'a'.repeat(64), blocks: Buffer.alloc(2 * 32) }]]);
      expect(cache.knownBlocks(file)).to.equal(undefined);
      expect(cache.known(file.version)).to.equal('a'.repeat(64));
      await file.handle.close();
    } finally {
      await cleanup();
    }
  });
});
