import { expect } from 'chai';
import path from 'node:path';
import { DigestCache } from '../../../src/server/digestCache.js';
import { openServedFile } from '../../../src/server/servedFile.js';
import { MiB, makeRandomFile, sha256, tempDir } from '../../helpers/files.js';

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
});
