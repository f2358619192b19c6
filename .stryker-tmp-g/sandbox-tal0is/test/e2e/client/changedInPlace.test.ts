// @ts-nocheck
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { mkdir, open, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import { MiB, exists, makeRandomFile, sha256, sha256File, tempDir } from '../../helpers/files.js';
import { bounded, killHard, spawnClient, startServerProcess, waitForSize, type ServerProcess } from '../../helpers/processes.js';

describe('grpc-client get: a file edited in place on the server mid-download', function () {
  this.timeout(60_000);
  const SIZE = 12 * MiB;
  let root: string;
  let out: string;
  let cleanup: () => Promise<void>;
  let server: ServerProcess;

  beforeEach(async () => {
    const temp = await tempDir();
    cleanup = temp.cleanup;
    root = path.join(temp.dir, 'root');
    out = path.join(temp.dir, 'out');
    await mkdir(root);
    server = await startServerProcess(root);
  });

  afterEach(async () => {
    await server.kill('SIGTERM');
    await cleanup();
  });

  it('never publishes old and new bytes spliced, even with the mtime set back: it starts over and ends with the new file', async () => {
    const file = path.join(root, 'big.bin');
    await makeRandomFile(file, SIZE);
    // Whole seconds, so that setting them back later restores them to the
    // nanosecond: only ctime can then tell the versions apart.
    await utimes(file, 1_700_000_000, 1_700_000_000);
    const before = await stat(file, { bigint: true });

    // 4 MiB/s: the server cannot run more than a few MiB ahead of the
    // client's partial, so the edit lands mid-stream, before the end.
    const client = spawnClient(['get', 'big.bin', '--server', server.address, '--out', out, '--limit-rate', '4M']);
    try {
      await waitForSize(path.join(out, 'big.bin.part'), 1 * MiB, client);
      const replacement = randomBytes(SIZE);
      const handle = await open(file, 'r+');
      await handle.write(replacement, 0, SIZE, 0);
      await handle.close();
      await utimes(file, 1_700_000_000, 1_700_000_000);
      const after = await stat(file, { bigint: true });
      expect([after.ino, after.size, after.mtimeNs]).to.deep.equal([before.ino, before.size, before.mtimeNs], 'only ctime moved');

      const run = await bounded('the download to end', client.done, [], 40_000);
      expect(run.code, run.stderr).to.equal(0);
      expect(await sha256File(path.join(out, 'big.bin'))).to.equal(sha256(replacement));
      expect(await exists(path.join(out, 'big.bin.part'))).to.equal(false);
      // The stream that crossed the edit is aborted; the resume is refused
      // because the version (ctime) changed, so no spliced partial is ever
      // offered to the digest check; the fresh stream sends the new file.
      const calls = server.calls('Download', 'big.bin').map((c) => ({ offset: c.offset, code: c.code }));
      expect(calls, run.stderr).to.have.length(3);
      expect(calls[0]).to.deep.equal({ offset: '0', code: 'ABORTED' });
      expect(calls[1]!.code, run.stderr).to.equal('FAILED_PRECONDITION');
      expect(calls[2]).to.deep.equal({ offset: '0', code: 'OK' });
      expect(server.calls('Download', 'big.bin')[2]!.bytesSent).to.equal(SIZE);
      expect(run.stderr).to.not.include('sha256 mismatch');
    } finally {
      await killHard(client.process);
    }
  });
});
