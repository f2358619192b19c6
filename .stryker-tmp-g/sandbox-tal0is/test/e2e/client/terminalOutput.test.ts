// @ts-nocheck
import { expect } from 'chai';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { formatBytes } from '../../../src/client/cli/parseUnits.js';
import { MiB, makeRandomFile, sha256, tempDir } from '../../helpers/files.js';
import { spawnClient, startServerProcess, waitForSize, type ServerProcess } from '../../helpers/processes.js';
import { renderScreen, runInTerminal } from '../../helpers/screen.js';
import { interruptedDownload } from '../../helpers/transfers.js';

const COLUMNS = 80;
const short = (digest: string) => `${digest.slice(0, 8)}…${digest.slice(-8)}`;

describe('grpc-client get: what a terminal and a pipe show', function () {
  this.timeout(60_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  let server: ServerProcess;
  const digests = new Map<string, string>();
  let testNumber = 0;
  let out: string;

  before(async () => {
    ({ dir, cleanup } = await tempDir());
    const root = path.join(dir, 'root');
    await mkdir(path.join(root, 'batch'), { recursive: true });
    for (const [name, size] of [['big.bin', 6 * MiB], ['small.bin', 3 * MiB], ...[0, 1, 2, 3].map((i) => [`batch/b${i}.bin`, 3 * MiB] as const)] as const) {
      digests.set(name, sha256(await makeRandomFile(path.join(root, name), size)));
    }
    server = await startServerProcess(root);
  });

  after(async () => {
    await server.kill('SIGTERM');
    await cleanup();
  });

  beforeEach(() => {
    testNumber += 1;
    out = path.join(dir, `out${testNumber}`);
  });

  it('after Ctrl-C in a batch, says which files were interrupted, what they saved, and which never started', async () => {
    const names = [0, 1, 2, 3].map((i) => `batch/b${i}.bin`);
    const client = spawnClient(['get', ...names, '--concurrency', '3', '--limit-rate', '3M', '--server', server.address, '--out', out]);
    await Promise.all(names.slice(0, 3).map((name) => waitForSize(path.join(out, `${name}.part`), 256 * 1024, client)));
    client.process.kill('SIGINT');
    const run = await client.done;
    expect(run.code, run.stderr).to.equal(130);
    const partials = await Promise.all(names.slice(0, 3).map(async (name) => (await stat(path.join(out, `${name}.part`))).size));
    const onDisk = partials.reduce((a, b) => a + b, 0);
    expect(run.stdout).to.include('4 files: 0 downloaded, 0 already complete, 0 failed, 3 interrupted, 1 never started');
    const each = names.slice(0, 3).map((name, i) => `${name} (${formatBytes(partials[i]!)})`);
    expect(run.stdout).to.include(`interrupted, ${formatBytes(onDisk)} saved on disk to resume from: ${each.join(', ')}\n`);
    expect(run.stdout).to.include('never started: batch/b3.bin\n');
  });

  it('with --json, the summary event of an interrupted batch lists the partials and the files never started', async () => {
    const names = [0, 1, 2, 3].map((i) => `batch/b${i}.bin`);
    const client = spawnClient(['get', ...names, '--json', '--concurrency', '2', '--limit-rate', '2M', '--server', server.address, '--out', out]);
    await Promise.all(names.slice(0, 2).map((name) => waitForSize(path.join(out, `${name}.part`), 256 * 1024, client)));
    client.process.kill('SIGINT');
    const run = await client.done;
    expect(run.code, run.stderr).to.equal(130);
    const summary = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((event) => event.event === 'summary');
    const partials = await Promise.all(names.slice(0, 2).map(async (name) => ({ name, bytesOnDisk: (await stat(path.join(out, `${name}.part`))).size })));
    expect(summary).to.deep.include({ interrupted: true, partials, neverStarted: names.slice(2) });
  });

  it('says a resume when it starts, with the offset and the size, before the result', async () => {
    const partial = await interruptedDownload(server.address, out, 'big.bin', MiB);
    const client = spawnClient(['get', 'big.bin', '--limit-rate', '4M', '--server', server.address, '--out', out]);
    const line = await client.waitForStdout(/resuming/);
    expect(line).to.equal(`big.bin: resuming at ${formatBytes(partial)} of ${formatBytes(6 * MiB)}`);
    const run = await client.done;
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout.indexOf(line)).to.be.below(run.stdout.indexOf('big.bin: downloaded'));
    // Not a terminal: the full digest and path, for scripts.
    expect(run.stdout).to.include(`to ${path.join(out, 'big.bin')}, sha256 ${digests.get('big.bin')} verified, resumed from ${formatBytes(partial)}`);
  });

  it('on an 80-column terminal, a resumed file shows no total bar and its result stays whole after the bars', async () => {
    const partial = await interruptedDownload(server.address, out, 'big.bin', MiB);
    const run = await runInTerminal(['get', 'big.bin', '--limit-rate', '4M', '--server', server.address, '--out', out], { cwd: dir, columns: COLUMNS });
    expect(run.code, run.output).to.equal(0);
    expect(run.output, 'a bar was drawn').to.match(/big\.bin \|/);
    expect(run.output).not.to.include('total ');
    const screen = renderScreen(run.output, COLUMNS);
    for (const row of screen) expect([...row].length, row).to.be.at.most(COLUMNS);
    expect(screen.join('\n')).not.to.match(/[█░]/, 'a stale bar frame remains');
    expect(screen.join(' ')).to.include(
      `big.bin: downloaded ${formatBytes(6 * MiB)} to ${path.relative(dir, path.join(out, 'big.bin'))}, sha256 ${short(digests.get('big.bin')!)} verified, resumed from ${formatBytes(partial)}`,
    );
    expect(screen.join(' ')).to.include(`big.bin: resuming at ${formatBytes(partial)}`);
  });

  it('on an 80-column terminal, every result of a batch stays whole after the bars', async () => {
    const names = ['small.bin', 'big.bin'];
    const run = await runInTerminal(['get', ...names, '--limit-rate', '6M', '--server', server.address, '--out', out], { cwd: dir, columns: COLUMNS });
    expect(run.code, run.output).to.equal(0);
    expect(run.output, 'a total bar was drawn').to.include('total 0/2 files');
    const screen = renderScreen(run.output, COLUMNS);
    for (const row of screen) expect([...row].length, row).to.be.at.most(COLUMNS);
    expect(screen.join('\n')).not.to.match(/[█░]/, 'a stale bar frame remains');
    for (const name of names) {
      const size = formatBytes((await stat(path.join(out, name))).size);
      expect(screen.join(' ')).to.include(
        `${name}: downloaded ${size} to ${path.relative(dir, path.join(out, name))}, sha256 ${short(digests.get(name)!)} verified`,
      );
    }
    expect(screen.join(' ')).to.include('2 files: 2 downloaded, 0 already complete, 0 failed');
  });

  it("rates the total line by this run's bytes, not a resumed partial's, and shows no ETA while a queued size is unknown", async () => {
    await interruptedDownload(server.address, out, 'big.bin', 4 * MiB, '4M');
    const run = await runInTerminal(['get', 'big.bin', 'small.bin', '--concurrency', '1', '--limit-rate', '2M', '--server', server.address, '--out', out], {
      cwd: dir,
      columns: COLUMNS,
    });
    expect(run.code, run.output).to.equal(0);
    // A frame ends where the next control sequence starts.
    const frames = run.output
      .split('\x1b')
      .map((piece) => /total \d\/2 files .*/.exec(piece)?.[0])
      .filter((frame) => frame !== undefined);
    expect(frames.length, run.output).to.be.above(0);
    const bytesOf = (value: string, unit: string) => Number(value) * 1024 ** ['B', 'KiB', 'MiB', 'GiB'].indexOf(unit);
    // The first frames divide the window's first burst by a fraction of a
    // second (5.3 MiB/s was seen at 0.5 MiB in). Once 1 MiB of this run has
    // arrived, an honest rate is near the 2 MiB/s limit, while the 4 MiB
    // resumed partial counted as arrived would show 10 MiB/s and more.
    let judged = 0;
    for (const frame of frames) {
      if (frame.includes('queued')) expect(frame, 'an ETA while a size is unknown').not.to.include('ETA');
      const done = /\| ([\d.]+) (B|KiB|MiB|GiB)\//.exec(frame);
      const rate = /([\d.]+) (B|KiB|MiB|GiB)\/s/.exec(frame);
      expect(done && rate, frame).not.to.equal(null);
      if (bytesOf(done![1]!, done![2]!) < 5 * MiB) continue;
      judged += 1;
      expect(bytesOf(rate![1]!, rate![2]!), frame).to.be.at.most(4 * MiB);
    }
    expect(judged, 'frames after 1 MiB of this run').to.be.above(0);
    expect(
      frames.some((frame) => frame.includes('+ 1 queued')),
      'the queued file is counted',
    ).to.equal(true);
  });

  it('with stdout through a pipe to the terminal (| tee), draws no bars and every result stays whole', async () => {
    const names = ['small.bin', 'big.bin'];
    const run = await runInTerminal(['get', ...names, '--limit-rate', '8M', '--server', server.address, '--out', out], {
      cwd: dir,
      columns: COLUMNS,
      stdoutThroughPipe: true,
    });
    expect(run.code, run.output).to.equal(0);
    expect(run.output).not.to.match(/[█░]/, 'bars were drawn');
    const screen = renderScreen(run.output, COLUMNS);
    // A pipe gets the full values, which the terminal wraps.
    for (const name of names) expect(screen.join('')).to.include(`to ${path.join(out, name)}, sha256 ${digests.get(name)} verified`);
  });
});
