import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tempDir } from '../../helpers/files.js';
import { bounded, callsFrom, killHard, pollUntil, runClient, spawnClient, startServerProcess, type ServerProcess } from '../../helpers/processes.js';
import { readTaskMap } from '../../helpers/transfers.js';
import { makeTree, partialsUnder, treeDigests } from '../../helpers/trees.js';
import { startNginx } from '../../helpers/nginx.js';
import { FileClient } from '../../../src/client/fileClient.js';

const events = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown> & { event: string; name: string });

describe('grpc-client get -r: mirroring a server folder', function () {
  this.timeout(60_000);
  let dir: string;
  let root: string;
  let cleanup: () => Promise<void>;
  let server: ServerProcess;
  let testNumber = 0;
  let out: string;

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
  });

  const sent = (calls: { files?: number; bytesSent?: number }[]) => ({
    files: calls.reduce((n, c) => n + (c.files ?? 0), 0),
    bytes: calls.reduce((n, c) => n + (c.bytesSent ?? 0), 0),
  });
  const get = (args: string[]) => runClient(['get', '--server', server.address, '--out', out, ...args]);

  it('copies a tree with spaces, unicode, nesting and empty files exactly, and nothing beside the folder', async () => {
    const tree = {
      'tree1/a.txt': 'alpha\n',
      'tree1/with space.txt': 'spaced\n',
      'tree1/ünïcode ファイル.bin': randomBytes(3000),
      'tree1/empty': '',
      'tree1/deep/er/est/file.dat': randomBytes(70_000),
      // Small enough for the many-files stream, in several of its chunks.
      'tree1/deep/several chunks.bin': randomBytes(700_000),
      'tree1/deep/empty too': '',
      'tree1/big.bin': randomBytes(1536 * 1024),
    };
    await makeTree(root, { ...tree, 'tree1-old.bin': 'not under tree1/\n', 'tree1x/c.txt': 'neither\n' });
    const calls = callsFrom(server);
    const run = await get(['-r', 'tree1']);
    expect(run.code, run.stderr).to.equal(0);
    expect(await treeDigests(out)).to.deep.equal(await treeDigests(root, 'tree1'));
    expect(run.stdout).to.match(/^tree1\/: 8 files: 8 fetched \(2\.24 MiB in [\d.]+ s\), 0 unchanged\n$/);
    expect(calls('ListBatches')).to.have.length(1);
    expect(calls('List')).to.have.length(0);
    // The small files come whole in one stream; the large one by Download.
    expect(sent(calls('DownloadManyBatches'))).to.deep.equal({ files: 7, bytes: 6 + 7 + 3000 + 70_000 + 700_000 });
    expect(calls('Download').map((c) => c.name)).to.deep.equal(['tree1/big.bin']);
    expect(calls('Stat'), 'no Stat per file').to.have.length(0);
  });

  it('moves exactly the new and changed files on a second run, leaves deleted ones, and removes them with --delete', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 12; i += 1) files[`tree2/f${i}.txt`] = `file ${i}\n`;
    await makeTree(root, files);
    const first = await get(['-r', 'tree2/']);
    expect(first.code, first.stderr).to.equal(0);

    const added: Record<string, string> = {};
    for (let i = 0; i < 5; i += 1) added[`tree2/new/n${i}.txt`] = `new ${i}\n`;
    await makeTree(root, added);
    for (const i of [0, 1, 2]) await appendFile(path.join(root, `tree2/f${i}.txt`), 'changed\n');
    for (const i of [10, 11]) await rm(path.join(root, `tree2/f${i}.txt`));
    await writeFile(path.join(out, 'tree2', 'mine.txt'), 'a local file the task map does not know\n');

    let calls = callsFrom(server);
    const second = await get(['-r', 'tree2', '--json']);
    expect(second.code, second.stderr).to.equal(0);
    const moved = sent(calls('DownloadManyBatches'));
    expect(moved.files, 'exactly the 5 new and the 3 changed files').to.equal(8);
    expect(moved.bytes).to.equal(5 * 'new 0\n'.length + 3 * ('file 0\n'.length + 'changed\n'.length));
    expect(calls('Download')).to.have.length(0);
    const summary = events(second.stdout).find((e) => e.event === 'summary');
    expect(summary).to.include({ listed: 15, fetched: 8, unchanged: 7 });
    expect(summary?.leftInPlace).to.deep.equal(['tree2/f10.txt', 'tree2/f11.txt']);
    const local = await treeDigests(out);
    const remote = await treeDigests(root, 'tree2');
    expect(Object.keys(local).sort()).to.deep.equal([...Object.keys(remote), 'tree2/f10.txt', 'tree2/f11.txt', 'tree2/mine.txt'].sort());
    for (const [name, digest] of Object.entries(remote)) expect(local[name], name).to.equal(digest);

    calls = callsFrom(server);
    const third = await get(['-r', 'tree2', '--delete']);
    expect(third.code, third.stderr).to.equal(0);
    expect(third.stdout).to.match(/15 files: 0 fetched .* 15 unchanged, 2 deleted here\n$/);
    expect(sent(calls('DownloadManyBatches')).files, 'nothing moves when nothing changed').to.equal(0);
    expect(await treeDigests(out)).to.deep.equal({ ...remote, 'tree2/mine.txt': local['tree2/mine.txt'] });
    expect(Object.keys((await readTaskMap(out)).tasks)).to.not.include.members(['tree2/f10.txt', 'tree2/f11.txt']);
  });

  it('resumes a tree after kill -9 in the middle of the stream, exact, without sending again what was committed', async () => {
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 300; i += 1) files[`tree3/d${i % 3}/f${String(i).padStart(3, '0')}.bin`] = randomBytes(16 * 1024);
    await makeTree(root, files);
    const total = 300 * 16 * 1024;
    const client = spawnClient(['get', '-r', 'tree3', '--limit-rate', '1M', '--server', server.address, '--out', out]);
    // A window of files committed, and more on the way.
    const committed = await pollUntil(
      'some files recorded complete',
      async () => {
        const map = await readTaskMap(out).catch(() => undefined);
        const complete = Object.values(map?.tasks ?? {}).filter((t) => t.status === 'complete');
        return complete.length >= 20 ? complete : undefined;
      },
      [client],
    );
    await killHard(client.process);
    // The killed call's log line, with what it sent, comes once the server
    // notices: it must not count as the next run's.
    await server.waitForCall((call) => call.method === 'DownloadManyBatches' && call.code !== 'OK');
    expect(committed.length).to.be.below(300);
    const recorded = Object.values((await readTaskMap(out)).tasks).filter((t) => t.status === 'complete').length;

    const calls = callsFrom(server);
    const run = await get(['-r', 'tree3']);
    expect(run.code, run.stderr).to.equal(0);
    expect(await treeDigests(out)).to.deep.equal(await treeDigests(root, 'tree3'));
    expect(await partialsUnder(out), 'no partial left').to.deep.equal([]);
    const resent = sent(calls('DownloadManyBatches'));
    expect(resent.bytes, 'files recorded before the kill are not sent again').to.be.at.most(total - recorded * 16 * 1024);
    expect(resent.files).to.equal(300 - recorded);
  });

  it('lets two processes mirror one folder into one place: the second waits, then finds everything there', async () => {
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 100; i += 1) files[`tree4/f${i}.bin`] = randomBytes(20 * 1024);
    await makeTree(root, files);
    const calls = callsFrom(server);
    // Both at once, paced: which one takes the folder is chance, and the
    // other meets it held however slowly a loaded machine starts processes.
    const args = ['get', '-r', 'tree4', '--json', '--server', server.address, '--out', out, '--limit-rate', '1M'];
    const clients = [spawnClient(args), spawnClient(args)];
    const runs = await bounded('both mirrors to end', Promise.all(clients.map((c) => c.done)), [], 40_000);
    for (const run of runs) expect(run.code, run.stderr).to.equal(0);
    const waits = runs.map((run) => events(run.stdout).filter((e) => e.event === 'wait'));
    expect(
      waits.filter((w) => w.length > 0),
      'one of them waited',
    ).to.have.length(1);
    const waiter = waits.findIndex((w) => w.length > 0);
    expect(waits[waiter]![0]).to.include({ holderPid: clients[1 - waiter]!.process.pid });
    expect(events(runs[waiter]!.stdout).find((e) => e.event === 'summary')).to.include({ fetched: 0, unchanged: 100 });
    expect(await treeDigests(out)).to.deep.equal(await treeDigests(root, 'tree4'));
    expect(sent(calls('DownloadManyBatches')).files, 'each file sent once').to.equal(100);
  });

  it('says what is wrong with a folder that is a file, empty or missing, and fails only the file a local file blocks', async () => {
    await makeTree(root, { 'tree5/plain.txt': 'x\n', 'tree5/a/b.txt': 'under a\n', 'tree5/c.txt': 'c\n' });
    await mkdir(path.join(root, 'tree5-empty'));
    const asFile = await get(['-r', 'tree5/plain.txt']);
    expect(asFile.code).to.equal(2);
    expect(asFile.stderr).to.equal('grpc-client: tree5/plain.txt is a file on the server, not a folder: get it without -r\n');
    const missing = await get(['-r', 'nowhere']);
    expect(missing.code).to.equal(8);
    expect(missing.stderr).to.equal('grpc-client: nothing under nowhere on the server\n');
    const empty = await get(['-r', 'tree5-empty']);
    expect(empty.code).to.equal(8);
    expect(empty.stderr).to.equal('grpc-client: nothing under tree5-empty on the server\n');

    await mkdir(path.join(out, 'tree5'), { recursive: true });
    await writeFile(path.join(out, 'tree5', 'a'), 'a local file where the server has a folder\n');
    const blocked = await get(['-r', 'tree5']);
    expect(blocked.code).to.equal(3);
    expect(blocked.stderr).to.match(/^grpc-client: cannot write tree5\/a\/b\.txt: .*tree5\/a is not a folder; .*\n$/);
    const remote = await treeDigests(root, 'tree5');
    expect(await treeDigests(out, 'tree5'), 'the others arrive').to.include({
      'tree5/c.txt': remote['tree5/c.txt'],
      'tree5/plain.txt': remote['tree5/plain.txt'],
    });
  });

  it('fails only the file a local file blocks also when it was fetched before, and leaves the others unchanged', async () => {
    await makeTree(root, { 'tree9/a/b.txt': 'under a\n', 'tree9/c.txt': 'c\n' });
    expect((await get(['-r', 'tree9'])).code).to.equal(0);
    await rm(path.join(out, 'tree9', 'a'), { recursive: true });
    await writeFile(path.join(out, 'tree9', 'a'), 'a local file where a folder was\n');
    const calls = callsFrom(server);
    const blocked = await get(['-r', 'tree9']);
    expect(blocked.code, blocked.stderr).to.equal(3);
    expect(blocked.stderr).to.match(/^grpc-client: cannot write tree9\/a\/b\.txt: .*tree9\/a is not a folder; .*\n$/);
    expect(blocked.stdout).to.match(/1 unchanged/);
    expect(sent(calls('DownloadManyBatches')).files).to.equal(0);
  });

  it('lists names alone with ls -1, which get --from - reads back, spaces and all', async () => {
    await makeTree(root, { 'tree6/report 2': 'r2\n', 'tree6/two  spaces.txt': 's\n', 'tree6/#hash': 'h\n' });
    const listed = await runClient(['ls', '-1', 'tree6/', '--server', server.address]);
    expect(listed.code, listed.stderr).to.equal(0);
    expect(listed.stdout).to.equal('tree6/#hash\n"tree6/report 2"\ntree6/two  spaces.txt\n');
    const run = await runClient(['get', '--from', '-', '--server', server.address, '--out', out], {}, listed.stdout);
    expect(run.code, run.stderr).to.equal(0);
    expect(await treeDigests(out)).to.deep.equal(await treeDigests(root, 'tree6'));
    expect((await readdir(path.join(out, 'tree6'))).sort()).to.deep.equal(['#hash', 'report 2', 'two  spaces.txt']);
  });

  it('has every file it fetched recorded on disk when mirror() resolves, before close()', async () => {
    // More than a commit window's 256 files: the last window's records
    // then wait for the write after the first window's.
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 300; i += 1) files[`tree8/f${i}.bin`] = randomBytes(100);
    await makeTree(root, files);
    const client = new FileClient({ server: server.address, out });
    try {
      const result = await client.mirror('tree8');
      expect(result.fetched).to.equal(300);
      // Read from the files, as the next process would: a record still in
      // memory would make that process fetch its file again.
      const { tasks } = await readTaskMap(out);
      expect(Object.keys(files).filter((name) => tasks[name]?.status !== 'complete')).to.deep.equal([]);
    } finally {
      await client.close();
    }
  });

  it('gives up on a listing that never answers after --stall-timeout', async () => {
    await makeTree(root, { 'tree9/a.txt': 'a\n' });
    server.process.kill('SIGSTOP');
    try {
      const run = await bounded('get -r to give up on a frozen server', get(['-r', 'tree9', '--stall-timeout', '1s', '--retry-for', '2s']), [], 30_000);
      expect(run.code).to.equal(4);
      expect(run.stderr).to.match(/^grpc-client: cannot connect to 127\.0\.0\.1:\d+: no data from the server for 1s; is grpc-server running there\?\n$/);
    } finally {
      server.process.kill('SIGCONT');
    }
  });

  it('falls back to DownloadMany behind a proxy that does not pass DownloadManyBatches, exact, and asks it directly from then on', async () => {
    await makeTree(root, { 'tree7/a.txt': 'a\n', 'tree7/sub/b.bin': randomBytes(40_000), 'tree7/empty': '' });
    const nginxDir = path.join(dir, 'nginx');
    await mkdir(nginxDir);
    const nginx = await startNginx([server.address], nginxDir, { hidden: ['DownloadManyBatches'] });
    const client = new FileClient({ server: nginx.address, out });
    try {
      const calls = callsFrom(server);
      await client.mirror('tree7');
      expect(await treeDigests(out)).to.deep.equal(await treeDigests(root, 'tree7'));
      await makeTree(root, { 'tree7/new.txt': 'new\n' });
      await client.mirror('tree7');
      expect(await treeDigests(out)).to.deep.equal(await treeDigests(root, 'tree7'));
      expect(calls('DownloadManyBatches'), 'nginx answered it itself').to.deep.equal([]);
      expect(calls('DownloadMany').map((c) => c.files)).to.deep.equal([3, 1]);
      const refused = (await nginx.accessLog()).filter((line) => line.includes('/DownloadManyBatches'));
      expect(refused, 'asked once, not again by the second mirror').to.have.length(1);
    } finally {
      await client.close();
      await nginx.stop();
    }
  });
});
