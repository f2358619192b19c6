import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, readdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tempDir } from '../../helpers/files.js';
import {
  bounded,
  callsFrom,
  killHard,
  pollUntil,
  runClient,
  spawnClient,
  startServerProcess,
  type ClientProcess,
  type ServerProcess,
} from '../../helpers/processes.js';
import { readTaskMap } from '../../helpers/transfers.js';
import { makeTree, partialsUnder, treeDigests } from '../../helpers/trees.js';
import { startNginx } from '../../helpers/nginx.js';
import { allCallsLogged, callsSince } from '../../helpers/rawClient.js';
import { FileClient } from '../../../src/client/fileClient.js';

describe('grpc-client get of many names: one listing, small files many per call', function () {
  this.timeout(60_000);
  let dir: string;
  let root: string;
  let cleanup: () => Promise<void>;
  let server: ServerProcess;
  let testNumber = 0;
  let out: string;
  let list: string;

  before(async () => {
    ({ dir, cleanup } = await tempDir());
    root = path.join(dir, 'root');
    await mkdir(root);
    server = await startServerProcess(root);
  });

  after(async () => {
    await server.kill('SIGTERM');
    await cleanup();
  });

  beforeEach(() => {
    testNumber += 1;
    out = path.join(dir, `out${testNumber}`);
    list = path.join(dir, `list${testNumber}.txt`);
  });

  const filesSent = (calls: { files?: number }[]) => calls.reduce((n, c) => n + (c.files ?? 0), 0);
  const get = (args: string[]) => runClient(['get', '--server', server.address, '--out', out, '--from', list, ...args]);
  /** Small files under `top`, and their names in a list as `ls -1` prints them. */
  const smallFiles = async (top: string, count: number, size: number) => {
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < count; i += 1) files[`${top}/d${i % 4}/f ${String(i).padStart(3, '0')}.bin`] = randomBytes(size);
    await makeTree(root, files);
    return Object.keys(files);
  };
  /** Resolves once `count` files are recorded complete in the task map on disk, while `client` runs. */
  const recordedComplete = (count: number, client: ClientProcess) =>
    pollUntil(
      `${count} files recorded complete`,
      async () => {
        const map = await readTaskMap(out).catch(() => undefined);
        return Object.values(map?.tasks ?? {}).filter((t) => t.status === 'complete').length >= count || undefined;
      },
      [client],
    );
  const only = (digests: Record<string, string>, names: string[]) => Object.fromEntries(names.map((name) => [name, digests[name]]));

  it('lists every name in one call, sends the small ones many per call and a large one by Download, exact; a rerun sends nothing', async () => {
    const small = await smallFiles('many1', 200, 4096);
    await makeTree(root, { 'many1/large.bin': randomBytes(3 * 1024 * 1024) });
    const names = [...small, 'many1/large.bin'];
    await writeFile(list, [...names, 'many1/not-there.bin'].join('\n'));

    let calls = callsFrom(server);
    const first = await get([]);
    expect(first.code, 'the missing name fails alone, with its own code').to.equal(8);
    expect(first.stderr).to.include('not found on server: many1/not-there.bin');
    expect(await treeDigests(out)).to.deep.equal(only(await treeDigests(root), names));
    expect(calls('ListNames')).to.have.length(1);
    expect(filesSent(calls('DownloadManyBatches'))).to.equal(200);
    expect(calls('DownloadManyBatches').length).to.be.at.most(2);
    expect(calls('Download').map((c) => [c.name, c.code])).to.have.deep.members([
      ['many1/large.bin', 'OK'],
      ['many1/not-there.bin', 'NOT_FOUND'],
    ]);
    expect(calls('Stat'), 'no Stat per name').to.deep.equal([]);

    calls = callsFrom(server);
    const again = await get(['--json']);
    expect(again.code).to.equal(8);
    const summary = again.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((event) => event.event === 'summary');
    expect(summary).to.include({ total: 202, downloaded: 0, skipped: 201, bytesReceived: 0 });
    expect(calls('ListNames')).to.have.length(1);
    expect(calls('DownloadManyBatches')).to.deep.equal([]);
    expect(calls('Stat')).to.deep.equal([]);
    expect(calls('Download').map((c) => c.name)).to.deep.equal(['many1/not-there.bin']);
  });

  it('fetches again exactly what was deleted here or changed on the server', async () => {
    const names = await smallFiles('many2', 40, 1000);
    await writeFile(list, names.join('\n'));
    expect((await get([])).code).to.equal(0);
    const deleted = names.slice(0, 3);
    const changed = names.slice(10, 12);
    for (const name of deleted) await rm(path.join(out, name));
    for (const name of changed) await appendFile(path.join(root, name), 'changed\n');

    const calls = callsFrom(server);
    const run = await get([]);
    expect(run.code, run.stderr).to.equal(0);
    expect(await treeDigests(out)).to.deep.equal(await treeDigests(root, 'many2'));
    expect(filesSent(calls('DownloadManyBatches')), 'the deleted ones, in one stream').to.equal(3);
    // A changed file goes the way of one name, which asks for its digest:
    // only touched, it would not be fetched at all.
    expect(calls('Download').map((c) => c.name)).to.have.members(changed);
    expect(run.stdout).to.match(/40 files: 5 downloaded, 35 already complete/);
  });

  it('resumes after kill -9 in the middle of the stream, exact, without sending again what was committed', async () => {
    const names = await smallFiles('many3', 300, 16 * 1024);
    await writeFile(list, names.join('\n'));
    const client = spawnClient(['get', '--from', list, '--limit-rate', '1M', '--server', server.address, '--out', out]);
    await recordedComplete(20, client);
    await killHard(client.process);
    await server.waitForCall((call) => call.method === 'DownloadManyBatches' && call.code !== 'OK');
    const recorded = Object.values((await readTaskMap(out)).tasks).filter((t) => t.status === 'complete').length;
    expect(recorded).to.be.below(300);

    const calls = callsFrom(server);
    const run = await get([]);
    expect(run.code, run.stderr).to.equal(0);
    expect(await treeDigests(out)).to.deep.equal(await treeDigests(root, 'many3'));
    expect(await partialsUnder(out), 'no partial left').to.deep.equal([]);
    // What the kill left half done goes the way of one name: a partial
    // resumes by Download, a file published but not yet recorded is checked
    // against the server's digest (Stat). Nothing recorded is touched again.
    const sent = filesSent(calls('DownloadManyBatches'));
    expect(sent + calls('Download').length + calls('Stat').length, 'each file not recorded before the kill, once').to.equal(300 - recorded);
    expect(sent).to.be.above(0);
  });

  it('writes nothing outside --out when a folder is swapped for a symlink in the middle of the stream', async () => {
    const names = await smallFiles('many5', 200, 16 * 1024);
    await writeFile(list, names.join('\n'));
    // With the same folders as the tree: a client that followed the link
    // would find where to write.
    const outside = path.join(dir, `outside${testNumber}`);
    for (const folder of ['d0', 'd1', 'd2', 'd3']) await mkdir(path.join(outside, folder), { recursive: true });
    const client = spawnClient(['get', '--from', list, '--limit-rate', '1M', '--server', server.address, '--out', out]);
    await recordedComplete(10, client);
    await rename(path.join(out, 'many5'), path.join(out, 'moved'));
    await symlink(outside, path.join(out, 'many5'));
    const run = await client.done;
    expect((await readdir(outside, { recursive: true })).sort()).to.deep.equal(['d0', 'd1', 'd2', 'd3']);
    // What was under way lands in the folder it was checked in; what came
    // after fails, saying why.
    expect(run.code).to.equal(3);
    expect(run.stderr).to.match(/it leads to .*outside\d+\/d\d, outside .*out\d+; files are only written into real folders under it/);
  });

  it('takes no file for complete that it finds through a folder swapped for a symlink', async () => {
    const names = await smallFiles('many10', 8, 100);
    await writeFile(list, names.join('\n'));
    expect((await get([])).code).to.equal(0);
    // The same files, outside, where the link leads.
    const outside = path.join(dir, `outside${testNumber}`);
    await mkdir(outside);
    await rename(path.join(out, 'many10', 'd1'), path.join(outside, 'd1'));
    await symlink(path.join(outside, 'd1'), path.join(out, 'many10', 'd1'));

    const run = await get(['--json']);
    expect(run.code).to.equal(3);
    const events = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { event: string; name: string; path?: string; message?: string });
    expect(events.filter((e) => e.event === 'done' && !e.path!.startsWith(out + path.sep))).to.deep.equal([]);
    const refused = events.filter((e) => e.event === 'error').map((e) => e.name);
    expect(refused.sort()).to.deep.equal(names.filter((name) => name.includes('/d1/')).sort());
    expect(events.find((e) => e.event === 'error')?.message).to.match(/d1 is a symlink; files are only written into real folders under/);
  });

  it('asks the server nothing for names all complete here with --no-check', async () => {
    const names = await smallFiles('many6', 5, 100);
    await writeFile(list, names.join('\n'));
    expect((await get([])).code).to.equal(0);
    await allCallsLogged(server);
    const mark = server.calls().length;
    const run = await get(['--no-check']);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.match(/5 files: 0 downloaded, 5 already complete/);
    expect(await callsSince(server, mark)).to.deep.equal([]);
  });

  it('gives up on a listing that never answers after --stall-timeout, and goes name by name', async () => {
    const names = await smallFiles('many7', 3, 100);
    await writeFile(list, names.join('\n'));
    server.process.kill('SIGSTOP');
    try {
      const run = await bounded(
        'get to give up on a frozen server',
        runClient(['get', '--server', server.address, '--out', out, '--from', list, '--stall-timeout', '1s', '--retry-for', '2s']),
        [],
        30_000,
      );
      expect(run.code).to.equal(4);
      // As for names downloaded one by one: their common failure said once.
      expect(run.stderr).to.match(/^grpc-client: cannot connect to 127\.0\.0\.1:\d+: no data from the server for 1s; is grpc-server running there\?\n$/);
    } finally {
      server.process.kill('SIGCONT');
    }
  });

  it('reports every file the streams committed when interrupted, none of them as never started', async () => {
    const names = await smallFiles('many8', 400, 8 * 1024);
    await writeFile(list, names.join('\n'));
    const client = spawnClient(['get', '--from', list, '--limit-rate', '1M', '--json', '-j', '1', '--server', server.address, '--out', out]);
    await recordedComplete(20, client);
    client.process.kill('SIGINT');
    const run = await client.done;
    expect(run.code).to.equal(130);
    const summary = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { event: string; downloaded?: number; neverStarted?: string[] })
      .find((event) => event.event === 'summary')!;
    const here = Object.keys(await treeDigests(out));
    expect(here.length).to.be.below(400);
    expect(summary.downloaded).to.equal(here.length);
    expect(summary.neverStarted!.filter((name) => here.includes(name))).to.deep.equal([]);
  });

  it('stops its streams when the caller stops reading the results', async () => {
    const names = await smallFiles('many9', 200, 16 * 1024);
    const client = new FileClient({ server: server.address, out, limitRate: 1024 * 1024 });
    try {
      for await (const outcome of client.downloadMany(names)) {
        expect(outcome.ok).to.equal(true);
        break;
      }
      const call = await server.waitForCall((c) => c.method === 'DownloadManyBatches' && c.code !== 'OK');
      expect(call.code).to.equal('CANCELLED');
    } finally {
      await client.close();
    }
    expect(Object.keys(await treeDigests(out)).length).to.be.below(200);
  });

  it('downloads each name alone from a server without ListNames, exact, and asks it once', async () => {
    const names = await smallFiles('many4', 12, 500);
    await writeFile(list, names.join('\n'));
    const nginxDir = path.join(dir, 'nginx');
    await mkdir(nginxDir);
    const nginx = await startNginx([server.address], nginxDir, { hidden: ['ListNames'] });
    try {
      const calls = callsFrom(server);
      const run = await runClient(['get', '--server', nginx.address, '--out', out, '--from', list]);
      expect(run.code, run.stderr).to.equal(0);
      expect(await treeDigests(out)).to.deep.equal(await treeDigests(root, 'many4'));
      expect(calls('ListNames'), 'nginx answered it itself').to.deep.equal([]);
      expect(calls('Download')).to.have.length(12);
      expect((await nginx.accessLog()).filter((line) => line.includes('/ListNames'))).to.have.length(1);
    } finally {
      await nginx.stop();
    }
  });
});
