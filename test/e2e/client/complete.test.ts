import { expect } from 'chai';
import { mkdir, open, rm, stat, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MiB, makeRandomFile, sha256, sha256File, tempDir } from '../../helpers/files.js';
import { runClient, startServerProcess, type ServerProcess } from '../../helpers/processes.js';
import { readTaskMap } from '../../helpers/transfers.js';
import { allCallsLogged, callsSince } from '../../helpers/rawClient.js';

describe('grpc-client: a complete file stays true to the server and to its digest', function () {
  this.timeout(60_000);
  const SIZE = 3 * MiB;
  let root: string;
  let out: string;
  let cleanup: () => Promise<void>;
  let server: ServerProcess;
  let content: Buffer;
  const get = (...args: string[]) => runClient(['get', ...args, '--server', server.address, '--out', out]);
  const verify = (...args: string[]) => runClient(['verify', ...args, '--out', out]);
  /** The server's calls for `name`, as "Method@offset" in order. */
  const callsOf = (name: string) => server.calls(undefined, name).map((c) => (c.method === 'Download' ? `Download@${c.offset}` : c.method));

  beforeEach(async () => {
    const temp = await tempDir();
    cleanup = temp.cleanup;
    root = path.join(temp.dir, 'root');
    out = path.join(temp.dir, 'out');
    await mkdir(root);
    content = await makeRandomFile(path.join(root, 'file.bin'), SIZE);
    server = await startServerProcess(root);
  });

  afterEach(async () => {
    await server.kill('SIGTERM');
    await cleanup();
  });

  it('a file changed on the server after the download is fetched again from 0 (like wget -N)', async () => {
    expect((await get('file.bin')).code).to.equal(0);
    const changed = await makeRandomFile(path.join(root, 'file.bin'), 2 * MiB);
    const before = callsOf('file.bin').length;

    const run = await get('file.bin');
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.match(/file\.bin: downloaded 2\.00 MiB .* verified/);
    expect(callsOf('file.bin').slice(before)).to.deep.equal(['Stat', 'Download@0']);
    expect(server.calls('Download', 'file.bin').at(-1)).to.include({ code: 'OK', bytesSent: 2 * MiB });
    expect(await sha256File(path.join(out, 'file.bin'))).to.equal(sha256(changed));
    expect((await readTaskMap(out)).tasks['file.bin']).to.include({ status: 'complete', size: 2 * MiB, sha256: sha256(changed) });
  });

  it('a file changed on the server to other bytes of the same size is fetched again too', async () => {
    expect((await get('file.bin')).code).to.equal(0);
    const changed = await makeRandomFile(path.join(root, 'file.bin'), SIZE);
    const run = await get('file.bin');
    expect(run.code, run.stderr).to.equal(0);
    expect(callsOf('file.bin')).to.deep.equal(['Download@0', 'Stat', 'Download@0']);
    expect(await sha256File(path.join(out, 'file.bin'))).to.equal(sha256(changed));
  });

  it('an unchanged file costs one Stat and no Download', async () => {
    expect((await get('file.bin')).code).to.equal(0);
    const local = await stat(path.join(out, 'file.bin'));
    const run = await get('file.bin');
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.include('file.bin: already complete, skipped');
    expect(callsOf('file.bin')).to.deep.equal(['Download@0', 'Stat']);
    const after = await stat(path.join(out, 'file.bin'));
    expect([after.ino, after.mtimeMs]).to.deep.equal([local.ino, local.mtimeMs]);
  });

  it('a file rewritten on the server with the same bytes is kept, and its record takes the new version', async () => {
    expect((await get('file.bin')).code).to.equal(0);
    const first = (await readTaskMap(out)).tasks['file.bin']!.version;
    await writeFile(path.join(root, 'file.bin'), content);
    const rewritten = await stat(path.join(root, 'file.bin'));
    expect(rewritten.size).to.equal(SIZE);

    const run = await get('file.bin');
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.include('file.bin: already complete, skipped');
    expect(callsOf('file.bin')).to.deep.equal(['Download@0', 'Stat']);
    const record = (await readTaskMap(out)).tasks['file.bin']!;
    expect(record.version).to.not.equal(first, 'the server gave the rewritten file a new version');
    expect(record).to.include({ status: 'complete', sha256: sha256(content) });
  });

  it('with the server stopped, get keeps the complete file, says so, and exits 0', async () => {
    expect((await get('file.bin')).code).to.equal(0);
    const address = server.address;
    await server.kill('SIGKILL');

    const run = await runClient(['get', 'file.bin', '--server', address, '--out', out]);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.include('file.bin: already complete, skipped');
    expect(run.stderr).to.match(/grpc-client: warning: file\.bin: kept the local copy: could not ask the server whether it changed \(.+\)/);
    expect(await sha256File(path.join(out, 'file.bin'))).to.equal(sha256(content));
  });

  it('--no-check skips a complete file without any call to the server, even one that changed', async () => {
    expect((await get('file.bin')).code).to.equal(0);
    await makeRandomFile(path.join(root, 'file.bin'), SIZE);
    const run = await get('file.bin', '--no-check');
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.include('file.bin: already complete, skipped');
    expect(callsOf('file.bin')).to.deep.equal(['Download@0']);
    expect(await sha256File(path.join(out, 'file.bin'))).to.equal(sha256(content));
  });

  it('a complete file truncated locally is checked and fetched again', async () => {
    expect((await get('file.bin')).code).to.equal(0);
    await truncate(path.join(out, 'file.bin'), MiB);

    const run = await get('file.bin');
    expect(run.code, run.stderr).to.equal(0);
    expect(callsOf('file.bin')).to.deep.equal(['Download@0', 'Stat', 'Download@0']);
    expect(await sha256File(path.join(out, 'file.bin'))).to.equal(sha256(content));
  });

  it('verify reports ok, damaged and missing files with exit codes, and the next get repairs the damaged one', async () => {
    const others = { 'b.bin': await makeRandomFile(path.join(root, 'b.bin'), MiB), 'c.bin': await makeRandomFile(path.join(root, 'c.bin'), MiB) };
    expect((await get('file.bin', 'b.bin', 'c.bin')).code).to.equal(0);
    await allCallsLogged(server);
    const mark = server.calls().length;
    expect((await verify()).code).to.equal(0);

    // One flipped byte: same size, another digest.
    const handle = await open(path.join(out, 'b.bin'), 'r+');
    await handle.write(Buffer.from([others['b.bin'][1000]! ^ 0xff]), 0, 1, 1000);
    await handle.close();
    await rm(path.join(out, 'c.bin'));

    const run = await verify();
    expect(run.code).to.equal(1);
    expect(run.stdout).to.match(/^ok +3\.00 MiB {2}file\.bin$/m);
    expect(run.stdout).to.match(/^damaged +1\.00 MiB {2}b\.bin \(sha256 differs/m);
    expect(run.stdout).to.match(/^missing +1\.00 MiB {2}c\.bin$/m);
    expect(run.stdout).to.include('3 files: 1 ok, 2 not ok');
    expect(await callsSince(server, mark), 'verify asks no server').to.deep.equal([]);

    const one = await verify('file.bin', '--json');
    expect(one.code).to.equal(0);
    expect(JSON.parse(one.stdout)).to.include({ name: 'file.bin', verdict: 'ok', sha256: sha256(content) });
    expect((await verify('nothing.bin')).code).to.equal(1);

    const before = callsOf('b.bin').length;
    const repair = await get('file.bin', 'b.bin', 'c.bin');
    expect(repair.code, repair.stderr).to.equal(0);
    expect(callsOf('b.bin').slice(before)).to.deep.equal(['Stat', 'Download@0']);
    expect(await sha256File(path.join(out, 'b.bin'))).to.equal(sha256(others['b.bin']));
    expect(await sha256File(path.join(out, 'c.bin'))).to.equal(sha256(others['c.bin']));
    const after = await verify();
    expect(after.code, after.stdout).to.equal(0);
    expect(after.stdout).to.include('3 files: 3 ok, 0 not ok');
  });

  it('verify of a truncated file says its size differs, without reading it', async () => {
    expect((await get('file.bin')).code).to.equal(0);
    await truncate(path.join(out, 'file.bin'), 1000);
    const run = await verify('--json');
    expect(run.code).to.equal(1);
    expect(JSON.parse(run.stdout)).to.deep.include({ name: 'file.bin', verdict: 'size-differs', size: 1000, expectedSize: SIZE, sha256: null });
  });
});
