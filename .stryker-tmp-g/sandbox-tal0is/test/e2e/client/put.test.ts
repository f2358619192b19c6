// @ts-nocheck
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFile, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { readTaskMapFile } from '../../../src/client/taskMap/taskJournal.js';
import { exists, makeRandomFile, MiB, sha256, sha256File, tempDir } from '../../helpers/files.js';
import { killHard, runClient, spawnClient, startServerProcess, waitForSize, type ServerProcess } from '../../helpers/processes.js';

const run = promisify(execFile);

/** The file the server stages `name` in, as it names it (see uploadIdOf). */
function stagedFileOf(staging: string, name: string, data: Buffer): string {
  const id = createHash('sha256')
    .update(`${name}\0${data.length}\0${sha256(data)}`, 'utf8')
    .digest('hex');
  return path.join(staging, `${id}.upload`);
}

async function uploadRecords(db: string): Promise<Record<string, { status: string; sha256: string | null }>> {
  const read = await readTaskMapFile(db);
  if (!read) throw new Error(`no upload map in ${db}`);
  return read.records;
}

describe('grpc-client put', function () {
  this.timeout(60_000);
  let dir: string;
  let root: string;
  let staging: string;
  let db: string;
  let cleanup: () => Promise<void>;
  let server: ServerProcess | undefined;
  const serverArgs = () => ['--allow-upload', '--upload-staging', staging];

  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    root = path.join(dir, 'root');
    staging = path.join(dir, 'staging');
    db = path.join(dir, 'uploads.json');
    await mkdir(root);
  });

  afterEach(async () => {
    await server?.kill('SIGTERM');
    server = undefined;
    await cleanup();
  });

  it('survives kill -9 of the client twice, continuing each time where the server staged: every byte received once', async () => {
    const data = await makeRandomFile(path.join(dir, 'big.bin'), 6 * MiB);
    server = await startServerProcess(root, { args: serverArgs() });
    const staged = stagedFileOf(staging, 'in/big.bin', data);
    const args = ['put', path.join(dir, 'big.bin'), '--to', 'in', '--server', server.address, '--db', db, '--limit-rate', '3M'];

    const first = spawnClient(args);
    await waitForSize(staged, 1 * MiB, first);
    await killHard(first.process);
    const second = spawnClient(args);
    await waitForSize(staged, (await stat(staged)).size + 1 * MiB, second);
    await killHard(second.process);
    expect((await uploadRecords(db))['in/big.bin']!.status).to.equal('incomplete');

    const last = await runClient(['put', path.join(dir, 'big.bin'), '--to', 'in', '--server', server.address, '--db', db]);
    expect(last.code, last.stderr).to.equal(0);
    expect(last.stdout).to.match(
      /^in\/big\.bin: resuming at .* of 6\.00 MiB\nin\/big\.bin: uploaded 6\.00 MiB from .*, sha256 [0-9a-f]{64} verified by the server, resumed from /,
    );
    expect(await sha256File(path.join(root, 'in', 'big.bin'))).to.equal(sha256(data));
    const calls = server.calls('Upload', 'in/big.bin');
    expect(calls).to.have.length(3);
    // Each call began where the one before it stopped staging: nothing was sent twice.
    expect(calls.map((call) => Number(call.offset))).to.deep.equal([0, calls[0]!.bytesReceived, calls[0]!.bytesReceived! + calls[1]!.bytesReceived!]);
    expect(calls.reduce((sum, call) => sum + call.bytesReceived!, 0)).to.equal(data.length);
    expect((await uploadRecords(db))['in/big.bin']!.status).to.equal('complete');
  });

  it('keeps retrying while the server is killed -9 and restarted, and the same run finishes from the staged bytes', async () => {
    const data = await makeRandomFile(path.join(dir, 'big.bin'), 8 * MiB);
    server = await startServerProcess(root, { args: serverArgs() });
    const port = server.port;
    const staged = stagedFileOf(staging, 'big.bin', data);
    const client = spawnClient(['put', path.join(dir, 'big.bin'), '--server', server.address, '--db', db, '--limit-rate', '4M', '--retry-for', '60s']);
    await waitForSize(staged, 2 * MiB, client);
    await server.kill('SIGKILL');
    await client.waitForStderr(/big\.bin: .*retrying in/);
    const atRestart = (await stat(staged)).size;

    server = await startServerProcess(root, { port, args: serverArgs() });
    const done = await client.done;
    expect(done.code, done.stderr).to.equal(0);
    expect(await sha256File(path.join(root, 'big.bin'))).to.equal(sha256(data));
    const resumed = server.calls('Upload', 'big.bin');
    expect(resumed).to.have.length(1);
    expect(Number(resumed[0]!.offset)).to.equal(atRestart);
    expect(resumed[0]!.bytesReceived).to.equal(data.length - atRestart);
  });

  it('keeps upload records with the states of downloads: complete skips, changed locally replaces what it published, a name it did not publish is refused (exit 10)', async () => {
    const local = path.join(dir, 'report.csv');
    await writeFile(local, 'v1\n');
    server = await startServerProcess(root, { args: serverArgs() });
    const put = (...extra: string[]) => runClient(['put', local, '--as', 'reports/r.csv', '--server', server!.address, '--db', db, ...extra]);

    const first = await put('--json');
    expect(first.code, first.stderr).to.equal(0);
    const events = first.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { event: string })
      .filter((e) => e.event !== 'progress');
    expect(events.map((e) => e.event)).to.deep.equal(['start', 'done', 'summary']);
    expect(events[1]).to.include({ name: 'reports/r.csv', state: 'new', transferred: true, bytesSent: 3, sha256: sha256(Buffer.from('v1\n')) });

    const status = await runClient(['status', '--uploads', '--db', db]);
    expect(status.stdout).to.equal(`complete          3 B  reports/r.csv\nupload map: ${db}\n`);
    const skipped = await put();
    expect(skipped.stdout).to.equal('reports/r.csv: already uploaded, skipped (3 B)\n');
    expect(server.calls('QueryUpload')).to.have.length(1);

    await writeFile(local, 'v2, longer\n');
    const changed = await put();
    expect(changed.code, changed.stderr).to.equal(0);
    expect(await readFile(path.join(root, 'reports', 'r.csv'), 'utf8')).to.equal('v2, longer\n');

    // Another map knows nothing of that upload: create-only refuses.
    await writeFile(local, 'v3\n');
    const stranger = await put('--db', path.join(dir, 'other.json'));
    expect(stranger.code).to.equal(10);
    expect(stranger.stderr).to.equal(
      `grpc-client: reports/r.csv: already exists on ${server.address}; to replace it, give --replace with the sha256 or version it has now\n`,
    );
    const wrong = await put('--db', path.join(dir, 'other.json'), '--replace', sha256(Buffer.from('v1\n')));
    expect(wrong.code).to.equal(10);
    const named = await put('--db', path.join(dir, 'other.json'), '--replace', sha256(Buffer.from('v2, longer\n')));
    expect(named.code, named.stderr).to.equal(0);
    expect(await readFile(path.join(root, 'reports', 'r.csv'), 'utf8')).to.equal('v3\n');
  });

  it('uploads a tree with put -r, keeping its paths, and skips it all the second time', async () => {
    const tree = path.join(dir, 'logs');
    await mkdir(path.join(tree, 'app'), { recursive: true });
    await writeFile(path.join(tree, 'a.log'), 'a');
    await writeFile(path.join(tree, 'app', 'b.log'), 'bb');
    server = await startServerProcess(root, { args: serverArgs() });
    const args = ['put', '-r', tree, 'collected/host1', '--server', server.address, '--db', db];
    const first = await runClient(args);
    expect(first.code, first.stderr).to.equal(0);
    expect(first.stdout).to.match(/2 files: 2 uploaded, 0 already there, 0 failed \(3 B sent in [\d.]+s\)\n$/);
    expect(await readFile(path.join(root, 'collected', 'host1', 'app', 'b.log'), 'utf8')).to.equal('bb');
    const second = await runClient(args);
    expect(second.stdout).to.match(/2 files: 0 uploaded, 2 already there, 0 failed/);
    expect(server.calls('Upload')).to.have.length(2);
  });

  it('never sends a file that changes while it is read as a splice: the upload stops, and the next run uploads the new content', async () => {
    const local = path.join(dir, 'growing.log');
    const data = await makeRandomFile(local, 3 * MiB);
    server = await startServerProcess(root, { args: serverArgs() });
    const args = ['put', local, '--server', server.address, '--db', db];
    const client = spawnClient([...args, '--limit-rate', '1M']);
    await waitForSize(stagedFileOf(staging, 'growing.log', data), 512 * 1024, client);
    await appendFile(local, 'one more line\n');
    const stopped = await client.done;
    expect(stopped.code).to.equal(3);
    expect(stopped.stderr).to.equal(
      `grpc-client: cannot upload ${local}: it changed while it was read; nothing of it was published: run again to upload its new content\n`,
    );
    expect(await exists(path.join(root, 'growing.log'))).to.equal(false);

    const again = await runClient(args);
    expect(again.code, again.stderr).to.equal(0);
    expect(await sha256File(path.join(root, 'growing.log'))).to.equal(await sha256File(local));
  });

  // Mounting a small tmpfs needs root: as a normal user this test is not
  // defined (the suite forbids pending tests); CI runs it as root.
  const asRoot = process.getuid?.() === 0;
  if (asRoot)
    it('(needs root) stops with RESOURCE_EXHAUSTED on a full disk, keeps what was staged, and resumes there once space is freed', async () => {
      // A small tmpfs holds the root, the staging folder and a file taking
      // most of its room; root and staging share it, as publishing needs.
      const disk = path.join(dir, 'disk');
      await mkdir(disk);
      await run('mount', ['-t', 'tmpfs', '-o', 'size=6m', 'tmpfs', disk]);
      try {
        root = path.join(disk, 'root');
        staging = path.join(disk, 'staging');
        await mkdir(root);
        await makeRandomFile(path.join(disk, 'filler'), 3 * MiB);
        const data = await makeRandomFile(path.join(dir, 'big.bin'), 4 * MiB);
        server = await startServerProcess(root, { args: serverArgs() });
        const args = ['put', path.join(dir, 'big.bin'), '--server', server.address, '--db', db, '--retry-for', '1s'];

        const full = await runClient(args);
        expect(full.code, full.stderr).to.equal(1);
        // Retried within --retry-for, as any RESOURCE_EXHAUSTED, then given up.
        expect(full.stderr).to.match(/retrying in [\d.]+s \(attempt 2\)\n/);
        expect(full.stderr).to.match(
          /\ngrpc-client: big\.bin: RESOURCE_EXHAUSTED: the server's disk is full: \d+ bytes of big\.bin are staged; upload again once there is room, and it continues from there\n$/,
        );
        const held = (await stat(stagedFileOf(staging, 'big.bin', data))).size;
        expect(held).to.be.within(1, data.length - 1);

        await rm(path.join(disk, 'filler'));
        const resumed = await runClient(args);
        expect(resumed.code, resumed.stderr).to.equal(0);
        expect(await sha256File(path.join(root, 'big.bin'))).to.equal(sha256(data));
        const last = server.calls('Upload', 'big.bin').at(-1)!;
        expect([Number(last.offset), last.bytesReceived]).to.deep.equal([held, data.length - held]);
      } finally {
        await server?.kill('SIGTERM');
        server = undefined;
        await run('umount', [disk]);
      }
    });
});
