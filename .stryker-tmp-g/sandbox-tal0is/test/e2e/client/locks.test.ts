// @ts-nocheck
import { expect } from 'chai';
import { mkdir, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import { MiB, makeRandomFile, sha256, sha256File, tempDir } from '../../helpers/files.js';
import { killHard, runClient, spawnClient, startServerProcess, waitForSize, type ServerProcess } from '../../helpers/processes.js';

const events = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown> & { event: string; name: string });

describe('grpc-client get: the lock of a file that another client downloads', function () {
  this.timeout(60_000);
  let dir: string;
  let root: string;
  let out: string;
  let cleanup: () => Promise<void>;
  let server: ServerProcess;

  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    root = path.join(dir, 'root');
    out = path.join(dir, 'out');
    await mkdir(root);
    server = await startServerProcess(root);
  });

  afterEach(async () => {
    await server.kill('SIGTERM');
    await cleanup();
  });

  it('takes over at once the lock of a client killed -9 on this host, with no wait for it to go stale', async () => {
    const content = await makeRandomFile(path.join(root, 'big.bin'), 4 * MiB);
    const part = path.join(out, 'big.bin.part');
    const first = spawnClient(['get', 'big.bin', '--limit-rate', '1M', '--server', server.address, '--out', out]);
    await waitForSize(part, 256 * 1024, first);
    await killHard(first.process);
    const partial = (await stat(part)).size;
    // As fresh as a holder's last refresh can be, so that the lock is not
    // stale by the time the next run looks, however slowly it starts.
    await utimes(path.join(out, '.grpc-client.lock'), new Date(), new Date());

    const second = await runClient(['get', 'big.bin', '--json', '--server', server.address, '--out', out]);
    expect(second.code, second.stderr).to.equal(0);
    const seen = events(second.stdout);
    expect(
      seen.filter((e) => e.event === 'wait'),
      'no wait for a holder that is gone',
    ).to.deep.equal([]);
    expect(seen.find((e) => e.event === 'done')).to.include({ name: 'big.bin', resumedFrom: partial });
    expect(server.calls('Download', 'big.bin').map((c) => Number(c.offset))).to.deep.equal([0, partial]);
    expect(await sha256File(path.join(out, 'big.bin'))).to.equal(sha256(content));
  });

  it('still waits for a holder that is alive, then finds the file complete', async () => {
    // Seconds of work left for the first client once the second starts.
    const content = await makeRandomFile(path.join(root, 'big.bin'), 4 * MiB);
    const first = spawnClient(['get', 'big.bin', '--limit-rate', '1M', '--server', server.address, '--out', out]);
    await waitForSize(path.join(out, 'big.bin.part'), 128 * 1024, first);
    const second = await runClient(['get', 'big.bin', '--json', '--server', server.address, '--out', out]);
    const firstRun = await first.done;
    expect(firstRun.code, firstRun.stderr).to.equal(0);
    expect(second.code, second.stderr).to.equal(0);
    const seen = events(second.stdout);
    expect(seen.filter((e) => e.event === 'wait')).to.deep.equal([{ event: 'wait', name: 'big.bin', holderPid: first.process.pid }]);
    expect(seen.find((e) => e.event === 'done')).to.include({ name: 'big.bin', transferred: false, state: 'complete' });
    expect(server.calls('Download', 'big.bin')).to.have.length(1);
    expect(await sha256File(path.join(out, 'big.bin'))).to.equal(sha256(content));
  });
});
