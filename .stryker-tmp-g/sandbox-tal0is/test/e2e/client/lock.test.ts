// @ts-nocheck
import { expect } from 'chai';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { MiB, makeRandomFile, sha256, sha256File, tempDir } from '../../helpers/files.js';
import { bounded, killHard, spawnClient, startServerProcess, type ServerProcess } from '../../helpers/processes.js';

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
    // Paced, so the one that takes the lock holds it for seconds. Both start
    // at once: which one wins is chance, and the loser meets the lock held
    // however slowly a loaded machine starts processes (one started once the
    // first had begun could arrive after it had finished).
    const args = ['get', 'big.bin', '--server', server.address, '--out', out, '--json', '--limit-rate', '4M'];
    const clients = [spawnClient(args), spawnClient(args)];
    try {
      const runs = await bounded('both downloads to end', Promise.all(clients.map((c) => c.done)), [], 40_000);
      for (const run of runs) expect(run.code, run.stderr).to.equal(0);
      const waits = runs.map((run) => events(run.stdout).filter((e) => e.event === 'wait'));
      const waiter = waits.findIndex((w) => w.length > 0);
      expect(
        waits.filter((w) => w.length > 0),
        'one of them waited',
      ).to.have.length(1);
      const holder = 1 - waiter;
      expect(waits[waiter]).to.deep.equal([{ event: 'wait', name: 'big.bin', holderPid: clients[holder]!.process.pid }]);
      expect(events(runs[holder]!.stdout).find((e) => e.event === 'done')).to.include({ name: 'big.bin', transferred: true, sha256: sha256(content) });
      expect(events(runs[waiter]!.stdout).find((e) => e.event === 'done')).to.include({ name: 'big.bin', transferred: false, sha256: sha256(content) });
      expect(
        events(runs[waiter]!.stdout).filter((e) => e.event === 'start'),
        'the waiter never streamed a byte',
      ).to.deep.equal([]);
      expect(await sha256File(path.join(out, 'big.bin'))).to.equal(sha256(content));
      const downloads = server.calls('Download', 'big.bin');
      expect(downloads).to.have.length(1);
      expect(downloads[0]).to.include({ offset: '0', code: 'OK', bytesSent: size });
    } finally {
      for (const client of clients) await killHard(client.process);
    }
  });
});
