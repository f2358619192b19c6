import { expect } from 'chai';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MiB, makeRandomFile, sha256, sha256File, tempDir } from '../../helpers/files.js';
import { runClient, spawnClient, startServerProcess, waitForSize, type ServerProcess } from '../../helpers/processes.js';
import { readTaskMap } from '../../helpers/transfers.js';
import { allCallsLogged } from '../../helpers/rawClient.js';

const events = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown> & { event: string; name: string });

describe('grpc-client get: many files', function () {
  this.timeout(90_000);
  let dir: string;
  let root: string;
  let cleanup: () => Promise<void>;
  let server: ServerProcess;
  const contents = new Map<string, Buffer>();
  const manyNames: string[] = [];
  let testNumber = 0;
  let out: string;

  before(async () => {
    ({ dir, cleanup } = await tempDir());
    root = path.join(dir, 'root');
    await mkdir(path.join(root, 'many'), { recursive: true });
    await mkdir(path.join(root, 'big'));
    for (let i = 0; i < 200; i += 1) {
      const name = `many/f${String(i).padStart(3, '0')}.bin`;
      contents.set(name, await makeRandomFile(path.join(root, name), 16 * 1024));
    }
    manyNames.push(...contents.keys());
    for (let i = 0; i < 6; i += 1) contents.set(`big/b${i}.bin`, await makeRandomFile(path.join(root, `big/b${i}.bin`), 2 * MiB));
    server = await startServerProcess(root, { args: ['--log-level', 'info'] });
  });

  after(async () => {
    await server.kill('SIGTERM');
    await cleanup();
  });

  beforeEach(() => {
    testNumber += 1;
    out = path.join(dir, `out${testNumber}`);
  });

  /** Files the server sent whole: a Download each, many per DownloadManyBatches. */
  const filesSent = () => server.calls('Download').length + server.calls('DownloadManyBatches').reduce((n, c) => n + (c.files ?? 0), 0);
  const writeList = async (lines: string[]) => {
    const file = path.join(dir, `list${testNumber}.txt`);
    await writeFile(file, `${lines.join('\n')}\n`);
    return file;
  };

  it('downloads 200 files with --concurrency 8, every one byte-identical and fetched once', async () => {
    const before = filesSent();
    const run = await runClient(['get', '--from', await writeList(manyNames), '--concurrency', '8', '--server', server.address, '--out', out]);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.include('200 files: 200 downloaded, 0 already complete, 0 failed');
    for (const name of manyNames) expect(await sha256File(path.join(out, name)), name).to.equal(sha256(contents.get(name)!));
    await allCallsLogged(server);
    expect(filesSent() - before).to.equal(200);
    const map = await readTaskMap(out);
    expect(Object.values(map.tasks).filter((t) => t.status === 'complete')).to.have.length(200);
  });

  for (const [order, expected] of [
    ['fifo', ['many/f000.bin', 'many/f001.bin', 'many/f002.bin', 'many/f003.bin']],
    ['lifo', ['many/f003.bin', 'many/f002.bin', 'many/f001.bin', 'many/f000.bin']],
    ['priority', ['many/f002.bin', 'many/f000.bin', 'many/f003.bin', 'many/f001.bin']],
  ] as const) {
    it(`starts files in ${order} order with --concurrency 1`, async () => {
      const list = await writeList(['many/f000.bin 5', 'many/f001.bin', 'many/f002.bin 9', 'many/f003.bin 5']);
      const run = await runClient(['get', '--from', list, '--order', order, '--concurrency', '1', '--json', '--server', server.address, '--out', out]);
      expect(run.code, run.stderr).to.equal(0);
      expect(
        events(run.stdout)
          .filter((e) => e.event === 'start')
          .map((e) => e.name),
      ).to.deep.equal(expected);
    });
  }

  it('carries on past a failure, reports which failed and why, and exits 1', async () => {
    const run = await runClient(['get', 'many/f010.bin', 'missing.bin', 'many/f011.bin', '../bad', '--json', '--server', server.address, '--out', out]);
    expect(run.code).to.equal(1);
    const all = events(run.stdout);
    expect(
      all
        .filter((e) => e.event === 'done')
        .map((e) => e.name)
        .sort(),
    ).to.deep.equal(['many/f010.bin', 'many/f011.bin']);
    const errors = all.filter((e) => e.event === 'error');
    expect(errors.map((e) => [e.name, e.code]).sort()).to.deep.equal([
      ['../bad', 'INVALID_ARGUMENT'],
      ['missing.bin', 'NOT_FOUND'],
    ]);
    expect(errors.find((e) => e.name === 'missing.bin')!.message).to.equal('not found on server: missing.bin');
    const summary = all.at(-1)!;
    expect(summary).to.include({ event: 'summary', total: 4, downloaded: 2 });
    expect((summary.failed as { name: string }[]).map((f) => f.name).sort()).to.deep.equal(['../bad', 'missing.bin']);
    expect(await sha256File(path.join(out, 'many/f011.bin'))).to.equal(sha256(contents.get('many/f011.bin')!));
  });

  it('emits progress events at most every 500 ms per file', async () => {
    const run = await runClient(['get', 'big/b0.bin', '--json', '--limit-rate', '2M', '--server', server.address, '--out', out]);
    expect(run.code, run.stderr).to.equal(0);
    const progress = events(run.stdout).filter((e) => e.event === 'progress');
    expect(progress.length).to.be.within(1, 4);
    expect(progress.every((e) => (e.received as number) <= (e.size as number))).to.equal(true);
  });

  it('stops cleanly on Ctrl-C mid-batch and resumes every partial on the next run', async () => {
    const bigNames = [...contents.keys()].filter((name) => name.startsWith('big/'));
    const args = ['get', ...bigNames, '--concurrency', '3', '--server', server.address, '--out', out];
    const client = spawnClient([...args, '--limit-rate', '6M']);
    await Promise.all(bigNames.slice(0, 3).map((name) => waitForSize(path.join(out, `${name}.part`), 256 * 1024, client)));
    client.process.kill('SIGINT');
    const interrupted = await client.done;
    expect(interrupted.code).to.equal(130);
    const map = await readTaskMap(out);
    const partials = new Map<string, number>();
    for (const name of bigNames.slice(0, 3)) {
      expect(map.tasks[name]!.status).to.equal('incomplete');
      partials.set(name, (await stat(path.join(out, `${name}.part`))).size);
    }
    for (const name of bigNames.slice(3)) expect(map.tasks[name]).to.equal(undefined, 'queued files never started');

    const run = await runClient(args);
    expect(run.code, run.stderr).to.equal(0);
    for (const name of bigNames) expect(await sha256File(path.join(out, name)), name).to.equal(sha256(contents.get(name)!));
    for (const [name, size] of partials) expect(server.calls('Download', name).at(-1), name).to.include({ offset: String(size) });
  });

  it('lets two processes race on the same 50 files in one folder: nothing lost, each file fetched once', async () => {
    const names = manyNames.slice(100, 150);
    const list = await writeList(names);
    const before = filesSent();
    const args = ['get', '--from', list, '--concurrency', '4', '--server', server.address, '--out', out];
    const [a, b] = await Promise.all([runClient(args), runClient(args)]);
    expect(a.code, a.stderr).to.equal(0);
    expect(b.code, b.stderr).to.equal(0);
    for (const name of names) expect(await sha256File(path.join(out, name)), name).to.equal(sha256(contents.get(name)!));
    // Every file here and exact, and 50 sent in all: none sent twice.
    await allCallsLogged(server);
    expect(filesSent() - before).to.equal(50);
    const map = await readTaskMap(out);
    expect(Object.keys(map.tasks).sort()).to.deep.equal([...names].sort());
    expect(Object.values(map.tasks).every((t) => (t as { status: string }).status === 'complete')).to.equal(true);
    // The other process finds each file either recorded complete, or (when
    // the record is still on its way to disk) present with the server's digest.
    const skipped = (a.stdout + b.stdout).match(/already complete, skipped|matching the server's sha256, kept/g) ?? [];
    expect(skipped.length).to.equal(50, 'whatever one process fetched, the other skipped');
  });
});
