import { expect } from 'chai';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { MiB, makeRandomFile, sha256, sha256File, tempDir } from '../../helpers/files.js';
import { bounded, killHard, spawnClient, startServerProcess, waitForSize, type ServerProcess } from '../../helpers/processes.js';

const events = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown> & { event: string; name: string });

describe('grpc-client get: two processes, one file, one folder', function () {
  this.timeout(60_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  let server: ServerProcess;

  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    await mkdir(path.join(dir, 'root'));
    server = await startServerProcess(path.join(dir, 'root'));
  });

  afterEach(async () => {
    await server.kill('SIGTERM');
    await cleanup();
  });

  it("makes the second wait for the first's lock, naming its pid, and fetches the file once", async () => {
    const size = 12 * MiB;
    const content = await makeRandomFile(path.join(dir, 'root', 'big.bin'), size);
    const out = path.join(dir, 'out');
    const args = ['get', 'big.bin', '--server', server.address, '--out', out, '--json'];
    // Paced, so A holds the lock for seconds: B certainly finds it held.
    const a = spawnClient([...args, '--limit-rate', '4M']);
    let b: ReturnType<typeof spawnClient> | undefined;
    try {
      await waitForSize(path.join(out, 'big.bin.part'), 512 * 1024, a);
      b = spawnClient(args);
      const waitLine = await b.waitForStdout(/"event":"wait"/);
      expect(JSON.parse(waitLine)).to.deep.equal({ event: 'wait', name: 'big.bin', holderPid: a.process.pid });

      const [runA, runB] = await bounded('both downloads to end', Promise.all([a.done, b.done]), [], 40_000);
      expect(runA.code, runA.stderr).to.equal(0);
      expect(runB.code, runB.stderr).to.equal(0);
      expect(events(runA.stdout).find((e) => e.event === 'done')).to.include({ name: 'big.bin', transferred: true, sha256: sha256(content) });
      expect(events(runB.stdout).find((e) => e.event === 'done')).to.include({ name: 'big.bin', transferred: false, sha256: sha256(content) });
      expect(
        events(runB.stdout).filter((e) => e.event === 'start'),
        'B never streamed a byte',
      ).to.deep.equal([]);
      expect(await sha256File(path.join(out, 'big.bin'))).to.equal(sha256(content));
      const downloads = server.calls('Download', 'big.bin');
      expect(downloads).to.have.length(1);
      expect(downloads[0]).to.include({ offset: '0', code: 'OK', bytesSent: size });
    } finally {
      await killHard(a.process);
      if (b) await killHard(b.process);
    }
  });
});
