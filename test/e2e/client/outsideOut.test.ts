import { expect } from 'chai';
import { mkdir, readFile, readdir, rename, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MiB, makeRandomFile, sha256, sha256File, tempDir } from '../../helpers/files.js';
import { runClient, spawnClient, startServerProcess, waitForSize, type ServerProcess } from '../../helpers/processes.js';

const events = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown> & { event: string; name: string });

describe('grpc-client get: nothing is written outside --out', function () {
  this.timeout(60_000);
  let dir: string;
  let root: string;
  let out: string;
  let outside: string;
  let cleanup: () => Promise<void>;
  let server: ServerProcess;

  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    root = path.join(dir, 'root');
    out = path.join(dir, 'out');
    outside = path.join(dir, 'outside');
    await mkdir(path.join(root, 'sub'), { recursive: true });
    await mkdir(outside);
    server = await startServerProcess(root);
  });

  afterEach(async () => {
    await server.kill('SIGTERM');
    await cleanup();
  });

  it('a folder swapped for a symlink after it was checked receives nothing, not even a lock', async () => {
    // Larger than what comes many per stream, so each is a download of its
    // own, one at a time: sub/ is checked for the first file and, before
    // this fix, trusted for the second.
    await makeRandomFile(path.join(root, 'sub', 'first.bin'), 1 * MiB + 64 * 1024);
    await makeRandomFile(path.join(root, 'sub', 'second.bin'), 1 * MiB + 64 * 1024);
    const client = spawnClient([
      'get',
      'sub/first.bin',
      'sub/second.bin',
      '--concurrency',
      '1',
      '--limit-rate',
      '512k',
      '--json',
      '--server',
      server.address,
      '--out',
      out,
    ]);
    await waitForSize(path.join(out, 'sub', 'first.bin.part'), 64 * 1024, client);
    await rename(path.join(out, 'sub'), path.join(out, 'moved'));
    await symlink(outside, path.join(out, 'sub'));
    const run = await client.done;

    expect(await readdir(outside)).to.deep.equal([]);
    expect(run.code, 'local I/O').to.equal(3);
    const second = events(run.stdout).find((e) => e.name === 'sub/second.bin' && e.event === 'error');
    expect(second?.message).to.match(
      /^cannot write .*sub: it leads to .*outside, outside .*out; files are only written into real folders under it; fix that and run again/,
    );
    expect(server.calls('Download', 'sub/second.bin'), 'refused before asking the server').to.have.length(0);
  });

  it('never writes through a symlink at the lock holder file', async () => {
    const content = await makeRandomFile(path.join(root, 'a.bin'), 256 * 1024);
    const victim = path.join(outside, 'victim.txt');
    await writeFile(victim, 'keep me\n');
    await mkdir(out);
    await symlink(victim, path.join(out, '.grpc-client.lock.pid'));

    const run = await runClient(['get', 'a.bin', '--server', server.address, '--out', out]);
    expect(run.code, run.stderr).to.equal(0);
    expect(await readFile(victim, 'utf8')).to.equal('keep me\n');
    expect(await sha256File(path.join(out, 'a.bin'))).to.equal(sha256(content));
  });
});
