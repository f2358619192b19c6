// @ts-nocheck
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { chmod, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describeRefusal, explainMkdirFailure } from '../../../src/client/createFolder.js';
import { tempDir } from '../../helpers/files.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const MODULE = fileURLToPath(new URL('../../../src/client/createFolder.ts', import.meta.url));
/** Any uid without privileges: root writes through a 0555 folder. */
const UNPRIVILEGED = 65534;

const enoent = (dir: string) => Object.assign(new Error(`ENOENT: no such file or directory, mkdir '${dir}'`), { code: 'ENOENT' });

/**
 * Runs explainMkdirFailure in a process of its own that cannot bypass
 * permissions: as root, under an unprivileged uid; otherwise as we are.
 */
async function explainUnprivileged(dir: string): Promise<{ code?: string; message: string }> {
  const script = `
    const { explainMkdirFailure } = await import(${JSON.stringify(MODULE)});
    const err = await explainMkdirFailure(process.argv[1], Object.assign(new Error('ENOENT'), { code: 'ENOENT' }));
    process.stdout.write(JSON.stringify({ code: err.code, message: err.message }));`;
  const asRoot = process.getuid?.() === 0;
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, dir], {
    cwd: REPO,
    ...(asRoot ? { uid: UNPRIVILEGED, gid: UNPRIVILEGED } : {}),
  });
  return JSON.parse(stdout);
}

describe('createFolder: the real reason a folder cannot be made', function () {
  this.timeout(20_000);
  let dir: string;
  let cleanup: () => Promise<void>;

  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    // Traversable by the unprivileged process; only `locked` refuses it.
    await chmod(dir, 0o755);
  });
  afterEach(async () => {
    await chmod(path.join(dir, 'locked'), 0o755).catch(() => undefined);
    await cleanup();
  });

  it('names the refusal and the nearest folder that exists', () => {
    expect(describeRefusal('/mnt/cd', 'EROFS')).to.equal('read-only file system (EROFS) at /mnt/cd, the nearest folder that exists');
    expect(describeRefusal('/srv', 'EACCES')).to.equal('permission denied (EACCES) at /srv, the nearest folder that exists');
    expect(describeRefusal('/x', 'EIO')).to.equal('EIO (EIO) at /x, the nearest folder that exists');
  });

  it('turns ENOENT under a folder that refuses writes (0555) into "permission denied" there', async () => {
    const locked = path.join(dir, 'locked');
    await mkdir(locked);
    await chmod(locked, 0o555);
    const target = path.join(locked, 'a', 'b');
    const explained = await explainUnprivileged(target);
    expect(explained).to.deep.equal({ code: 'EACCES', message: `permission denied (EACCES) at ${locked}, the nearest folder that exists` });
  });

  it('keeps ENOENT when the nearest folder that exists can be written (a parent removed meanwhile)', async () => {
    const original = enoent(path.join(dir, 'a', 'b'));
    expect(await explainMkdirFailure(path.join(dir, 'a', 'b'), original)).to.equal(original);
  });

  it('passes other errors through unchanged', async () => {
    const original = Object.assign(new Error('EEXIST'), { code: 'EEXIST' });
    expect(await explainMkdirFailure(path.join(dir, 'x'), original)).to.equal(original);
  });
});
