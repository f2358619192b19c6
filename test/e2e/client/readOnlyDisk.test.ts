import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { exists, makeRandomFile, tempDir } from '../../helpers/files.js';
import { runClient, startServerProcess, type ServerProcess } from '../../helpers/processes.js';

const run = promisify(execFile);

describe('grpc-client get: an --out the disk refuses', function () {
  this.timeout(30_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  let server: ServerProcess;

  before(async () => {
    ({ dir, cleanup } = await tempDir());
    await mkdir(path.join(dir, 'root'));
    await makeRandomFile(path.join(dir, 'root', 'a.bin'), 1024);
    server = await startServerProcess(path.join(dir, 'root'));
  });

  after(async () => {
    await server.kill('SIGTERM');
    await cleanup();
  });

  it('says "read-only file system" for a missing --out on a read-only mount, not ENOENT (needs root: mount)', async function () {
    if (process.getuid?.() !== 0) this.skip();
    const mountPoint = path.join(dir, 'ro');
    await mkdir(mountPoint);
    await run('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', mountPoint]);
    try {
      const out = path.join(mountPoint, 'sub', 'out');
      const result = await runClient(['get', 'a.bin', '--server', server.address, '--out', out]);
      expect(result.code).to.equal(1);
      expect(result.stderr).to.equal(
        `grpc-client: cannot create folder ${out}: read-only file system (EROFS) at ${mountPoint}, the nearest folder that exists; ` +
          'fix that and run again: the download resumes where it stopped\n',
      );
      expect(await exists(path.join(mountPoint, 'sub'))).to.equal(false);
    } finally {
      await run('umount', [mountPoint]);
    }
  });
});
