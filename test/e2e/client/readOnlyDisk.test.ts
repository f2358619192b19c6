import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { chmod, mkdir } from 'node:fs/promises';
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

  // A read-only mount needs root; a user's folder without write permission
  // takes the same path through the code (mkdir reports ENOENT further
  // down, the nearest existing folder has the cause) and root ignores it.
  // So each runs the case it can make real, and neither skips.
  it('names the real cause for a missing --out it cannot create: a read-only mount as root, a folder without write permission as a user', async () => {
    const refusing = path.join(dir, 'refusing');
    await mkdir(refusing);
    let cause: string;
    let undo: () => Promise<void>;
    if (process.getuid?.() === 0) {
      await run('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', refusing]);
      cause = 'read-only file system (EROFS)';
      undo = async () => void (await run('umount', [refusing]));
    } else {
      await chmod(refusing, 0o555);
      cause = 'permission denied (EACCES)';
      undo = () => chmod(refusing, 0o755);
    }
    try {
      const out = path.join(refusing, 'sub', 'out');
      const result = await runClient(['get', 'a.bin', '--server', server.address, '--out', out]);
      expect(result.code).to.equal(3);
      expect(result.stderr).to.equal(
        `grpc-client: cannot create folder ${out}: ${cause} at ${refusing}, the nearest folder that exists; ` +
          'fix that and run again: the download resumes where it stopped\n',
      );
      expect(await exists(path.join(refusing, 'sub'))).to.equal(false);
      expect(server.calls('Download')).to.deep.equal([]);
    } finally {
      await undo();
    }
  });
});
