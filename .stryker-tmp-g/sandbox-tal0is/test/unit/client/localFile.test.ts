// @ts-nocheck
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { findFile, kindOf, regularFileSize, regularFileSizeSync } from '../../../src/client/localFile.js';
import { tempDir } from '../../helpers/files.js';

describe('localFile: what is at a local path', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const at = (name: string) => path.join(dir, name);

  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir('gft-localfile-'));
    await writeFile(at('file'), 'twelve bytes');
    await writeFile(at('empty'), '');
    await mkdir(at('folder'));
    await symlink(at('file'), at('link-to-file'));
    await symlink(at('nowhere'), at('dangling'));
    execFileSync('mkfifo', [at('fifo')]);
  });
  afterEach(() => cleanup());

  it('kindOf: a file, a folder, something else, or missing (a path through a file included)', async () => {
    expect(await kindOf(at('file'))).to.equal('file');
    expect(await kindOf(at('link-to-file'))).to.equal('file');
    expect(await kindOf(at('folder'))).to.equal('folder');
    expect(await kindOf(at('fifo'))).to.equal('other');
    expect(await kindOf(at('missing'))).to.equal('missing');
    expect(await kindOf(at('dangling'))).to.equal('missing');
    expect(await kindOf(path.join(at('file'), 'below'))).to.equal('missing');
  });

  it('findFile: the size of a regular file (through a symlink too), else missing or why it is unusable', async () => {
    expect(await findFile(at('file'))).to.deep.equal({ size: 12 });
    expect(await findFile(at('empty'))).to.deep.equal({ size: 0 });
    expect(await findFile(at('link-to-file'))).to.deep.equal({ size: 12 });
    expect(await findFile(at('folder'))).to.deep.equal({ unusable: 'not a regular file' });
    expect(await findFile(at('fifo'))).to.deep.equal({ unusable: 'not a regular file' });
    expect(await findFile(at('missing'))).to.equal('missing');
    // A file where a folder on the way should be: nothing there, as for a missing one.
    expect(await findFile(path.join(at('file'), 'below'))).to.equal('missing');
    const loop = at('loop');
    await symlink(loop, loop);
    const found = await findFile(loop);
    expect(found)
      .to.have.property('unusable')
      .that.matches(/^ELOOP: too many symbolic links/);
  });

  it('regularFileSize and regularFileSizeSync agree: a size for a regular file, null for anything else', async () => {
    const loop = at('loop');
    await symlink(loop, loop);
    const expected: [string, number | null][] = [
      [at('file'), 12],
      [at('empty'), 0],
      [at('link-to-file'), 12],
      [at('folder'), null],
      [at('fifo'), null],
      [at('missing'), null],
      [at('dangling'), null],
      [path.join(at('file'), 'below'), null],
      [loop, null],
    ];
    for (const [file, size] of expected) {
      expect(await regularFileSize(file), file).to.equal(size);
      expect(regularFileSizeSync(file), file).to.equal(size);
    }
  });
});
