import { expect } from 'chai';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { folderIsInPlace } from '../../../src/server/listFiles.js';
import { tempDir } from '../../helpers/files.js';

describe('listFiles: which opened folders may be listed', () => {
  it('lists a folder whose descriptor resolves to the path meant, and on reopening only the same folder', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const a = path.join(dir, 'a');
      const b = path.join(dir, 'b');
      await mkdir(a);
      await mkdir(b);
      await writeFile(path.join(dir, 'f'), '');
      const [infoA, infoB, infoF] = await Promise.all([a, b, path.join(dir, 'f')].map((p) => stat(p, { bigint: true })));
      expect(folderIsInPlace(a, a, infoA!)).to.equal(true);
      expect(folderIsInPlace(a, a, infoA!, infoA)).to.equal(true);
      expect(folderIsInPlace(a, '/elsewhere/a', infoA!), 'a symlink on the way').to.equal(false);
      expect(folderIsInPlace(a, a, infoF!), 'not a folder').to.equal(false);
      expect(folderIsInPlace(a, a, infoB!, infoA), 'another folder now has the name').to.equal(false);
    } finally {
      await cleanup();
    }
  });
});
