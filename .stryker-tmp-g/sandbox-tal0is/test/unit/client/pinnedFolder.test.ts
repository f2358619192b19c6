// @ts-nocheck
import { expect } from 'chai';
import { constants } from 'node:fs';
import { mkdir, readdir, realpath, rename, symlink } from 'node:fs/promises';
import path from 'node:path';
import { openInside, pinFolder } from '../../../src/client/pinnedFolder.js';
import { LocalIoError } from '../../../src/client/errors.js';
import { tempDir } from '../../helpers/files.js';

const CREATE = constants.O_RDWR | constants.O_CREAT;

describe('pinnedFolder: files opened under --out stay under it', () => {
  let out: string;
  let outside: string;
  let cleanup: () => Promise<void>;

  beforeEach(async () => {
    const temp = await tempDir();
    cleanup = temp.cleanup;
    const dir = await realpath(temp.dir);
    out = path.join(dir, 'out');
    outside = path.join(dir, 'outside');
    await mkdir(path.join(out, 'sub'), { recursive: true });
    await mkdir(outside);
  });
  afterEach(() => cleanup());

  it('refuses a folder that leads outside, creating nothing there', async () => {
    await symlink(outside, path.join(out, 'link'));
    const refused = await openInside(out, path.join(out, 'link', 'f.part'), CREATE, 0o644).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).to.be.instanceOf(LocalIoError);
    expect((refused as LocalIoError).kind).to.equal('local-io');
    expect((refused as LocalIoError).message).to.include(`it leads to ${outside}, outside ${out}`);
    expect(await readdir(outside)).to.deep.equal([]);
  });

  it('keeps writing into the folder it checked after that folder is swapped for a symlink', async () => {
    const folder = await pinFolder(out, path.join(out, 'sub'));
    try {
      await rename(path.join(out, 'sub'), path.join(out, 'moved'));
      await symlink(outside, path.join(out, 'sub'));
      await (await folder.open('f.part', CREATE, 0o644)).close();
    } finally {
      await folder.close();
    }
    expect(await readdir(outside)).to.deep.equal([]);
    expect(await readdir(path.join(out, 'moved'))).to.deep.equal(['f.part']);
  });

  it('does not follow a symlink in the place of the file', async () => {
    await symlink(path.join(outside, 'target'), path.join(out, 'f.part'));
    const refused = await openInside(out, path.join(out, 'f.part'), CREATE, 0o644).then(
      () => undefined,
      (err: NodeJS.ErrnoException) => err.code,
    );
    expect(refused).to.equal('ELOOP');
    expect(await readdir(outside)).to.deep.equal([]);
  });
});
