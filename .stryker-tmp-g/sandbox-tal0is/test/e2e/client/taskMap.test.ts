// @ts-nocheck
import { expect } from 'chai';
import { mkdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MiB, makeRandomFile, sha256, sha256File, tempDir } from '../../helpers/files.js';
import { runClient, startServerProcess, type ClientRun, type ServerProcess } from '../../helpers/processes.js';
import { readTaskMap, taskMapOf } from '../../helpers/transfers.js';

const RECOVERY = 'move it aside and run again: partials will resume and digests will be checked';

/** Damaged task maps as a crash, a hand edit or another program leave them. */
const BROKEN_MAPS: [string, string, RegExp][] = [
  ['half a file', '{"tasks":{"a.bin":{"name":"a.bin","status":"compl', /is not valid JSON/],
  ['an empty file', '', /is not valid JSON/],
  ['an array', '[]', /is not a task map: it holds an array/],
  ['null', 'null', /is not a task map: it holds null/],
  ['tasks as a number', '{"tasks":5}', /is not a task map: its "tasks" is 5/],
  ['tasks as an array', '{"tasks":[]}', /is not a task map: its "tasks" is an array/],
];

/** The CLI said one line on stderr, and no stack trace. */
function expectOneLine(run: ClientRun): string {
  expect(run.stderr).not.to.match(/\n\s+at /, 'no stack trace');
  const lines = run.stderr.split('\n').filter(Boolean);
  expect(lines, run.stderr).to.have.length(1);
  return lines[0]!;
}

const record = (name: string, size: number, sha: string) => ({
  name,
  status: 'complete',
  size,
  version: 'v-old',
  sha256: sha,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  completedAt: '2026-01-01T00:00:00.000Z',
});

describe('grpc-client: a damaged task map', function () {
  this.timeout(60_000);
  let dir: string;
  let root: string;
  let out: string;
  let cleanup: () => Promise<void>;
  let server: ServerProcess;
  let content: Buffer;
  let small: Buffer;

  before(async () => {
    ({ dir, cleanup } = await tempDir());
    root = path.join(dir, 'root');
    await mkdir(root);
    content = await makeRandomFile(path.join(root, 'file.bin'), 2 * MiB);
    small = await makeRandomFile(path.join(root, 'small.bin'), 64 * 1024);
    server = await startServerProcess(root);
  });

  after(async () => {
    await server.kill('SIGTERM');
    await cleanup();
  });

  let testNumber = 0;
  beforeEach(async () => {
    testNumber += 1;
    out = path.join(dir, `out${testNumber}`);
    await mkdir(out);
  });

  const get = (...names: string[]) => runClient(['get', ...names, '--server', server.address, '--out', out]);
  const status = (...args: string[]) => runClient(['status', '--out', out, ...args]);

  for (const [what, text, reason] of BROKEN_MAPS) {
    it(`status of ${what}: one line saying what is wrong and how to recover, exit 1`, async () => {
      await writeFile(taskMapOf(out), text);
      const run = await status();
      expect(run.code, run.stderr).to.equal(1);
      expect(run.stdout).to.equal('');
      const line = expectOneLine(run);
      expect(line).to.match(reason);
      expect(line.startsWith(`grpc-client: the task map ${taskMapOf(out)} `), line).to.equal(true);
      expect(line.endsWith(`; ${RECOVERY}`), line).to.equal(true);

      const json = await status('--json');
      expect(json.code).to.equal(1);
      expect(JSON.parse(json.stdout)).to.deep.equal({ file: taskMapOf(out), error: line.replace(/^grpc-client: /, '') });
      expect(await readFile(taskMapOf(out), 'utf8')).to.equal(text, 'status leaves the map as it found it');
    });

    it(`get with ${what}: one line, exit 1, the map untouched and the server not called`, async () => {
      await writeFile(taskMapOf(out), text);
      const calls = server.calls().length;
      const run = await get('small.bin', 'file.bin');
      expect(run.code, run.stderr).to.equal(1);
      const line = expectOneLine(run);
      expect(line).to.match(reason).and.to.include(RECOVERY);
      expect(line).not.to.include('could not save the task map');
      expect(server.calls().length).to.equal(calls, 'nothing downloaded into a folder whose map cannot be kept');
      expect(await readFile(taskMapOf(out), 'utf8')).to.equal(text);
    });
  }

  it('get -r with a broken map: one line, exit 1, the map untouched and nothing fetched (the listing, asked early, is dropped)', async () => {
    const [what, text, reason] = BROKEN_MAPS[0]!;
    await writeFile(taskMapOf(out), text);
    const calls = server.calls().length;
    const run = await runClient(['get', '-r', '.', '--server', server.address, '--out', out]);
    expect(run.code, `${what}: ${run.stderr}`).to.equal(1);
    expect(expectOneLine(run)).to.match(reason).and.to.include(RECOVERY);
    const made = server.calls().slice(calls);
    expect(made.filter((call) => call.method !== 'ListBatches' && call.method !== 'List').map((call) => call.method)).to.deep.equal([]);
    expect(await readFile(taskMapOf(out), 'utf8')).to.equal(text);
  });

  it('status shows the valid records of a map with invalid ones, and names each invalid one once', async () => {
    const { name: _, ...nameless } = { ...record('gone.bin', 5, 'b'.repeat(64)), status: 'incomplete', sha256: null, completedAt: null };
    await writeFile(path.join(out, 'small.bin'), small);
    await writeFile(
      taskMapOf(out),
      JSON.stringify({
        tasks: {
          'small.bin': record('small.bin', small.length, sha256(small)),
          'gone.bin': nameless,
          'neg.bin': { ...record('neg.bin', 1, 'c'.repeat(64)), size: -1 },
        },
      }),
    );
    const run = await status();
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stderr).not.to.match(/\n\s+at /);
    expect(run.stderr.split('\n').filter(Boolean)).to.deep.equal([
      `grpc-client: warning: the task map ${taskMapOf(out)}: record "gone.bin" has no name; left out: its partial resumes and its file is checked by digest`,
      `grpc-client: warning: the task map ${taskMapOf(out)}: record "neg.bin" has size -1, not a whole number of bytes; left out: its partial resumes and its file is checked by digest`,
    ]);
    expect(run.stdout).to.match(/^complete\s+64\.0 KiB {2}small\.bin$/m);
    expect(run.stdout).not.to.include('gone.bin');

    const json = await status('--json');
    expect(json.code).to.equal(0);
    const parsed = JSON.parse(json.stdout);
    expect(parsed.tasks.map((t: { name: string }) => t.name)).to.deep.equal(['small.bin']);
    expect(parsed.problems).to.have.length(2);
  });

  it('get leaves out an invalid record with a warning, resumes its partial and verifies it by digest', async () => {
    const partial = 768 * 1024;
    await writeFile(path.join(out, 'file.bin.part'), content.subarray(0, partial));
    const { name: _, ...nameless } = { ...record('file.bin', content.length, 'd'.repeat(64)), status: 'incomplete', sha256: null, completedAt: null };
    await writeFile(taskMapOf(out), JSON.stringify({ tasks: { 'file.bin': nameless } }));

    const run = await get('file.bin');
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stderr.split('\n').filter(Boolean)).to.deep.equal([
      `grpc-client: warning: the task map ${taskMapOf(out)}: record "file.bin" has no name; left out: its partial resumes and its file is checked by digest`,
    ]);
    expect(await sha256File(path.join(out, 'file.bin'))).to.equal(sha256(content));
    const download = server.calls('Download', 'file.bin').at(-1)!;
    expect(download).to.include({ offset: String(partial), code: 'OK' });
    expect(download.bytesSent).to.equal(content.length - partial);
    expect((await readTaskMap(out)).tasks['file.bin']).to.include({ name: 'file.bin', status: 'complete', sha256: sha256(content) });
  });

  it('status tells a deleted or truncated file from a complete one, without the server', async () => {
    const run = await get('small.bin', 'file.bin');
    expect(run.code, run.stderr).to.equal(0);
    await rm(path.join(out, 'small.bin'));
    await truncate(path.join(out, 'file.bin'), 1000);
    const calls = server.calls().length;

    const text = await status();
    expect(text.code, text.stderr).to.equal(0);
    expect(text.stdout).to.match(new RegExp(`^damaged\\s+2\\.00 MiB {2}file\\.bin \\(size 1000 bytes, recorded ${content.length}\\)$`, 'm'));
    expect(text.stdout).to.match(/^deleted\s+64\.0 KiB {2}small\.bin$/m);

    const json = await status('--json');
    expect(json.code).to.equal(0);
    const rows = JSON.parse(json.stdout).tasks as { name: string; status: string; state: string; bytesOnDisk: number; damage: string | null }[];
    expect(rows.map(({ name, status: recorded, state, bytesOnDisk, damage }) => ({ name, recorded, state, bytesOnDisk, damage }))).to.deep.equal([
      { name: 'file.bin', recorded: 'complete', state: 'damaged', bytesOnDisk: 1000, damage: `size 1000 bytes, recorded ${content.length}` },
      { name: 'small.bin', recorded: 'complete', state: 'deleted', bytesOnDisk: 0, damage: null },
    ]);
    expect(server.calls().length).to.equal(calls);
  });
});
