// @ts-nocheck
import { expect } from 'chai';
import { copyFile, mkdir, open, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MiB, makeRandomFile, sha256, sha256File, tempDir, exists } from '../../helpers/files.js';
import { runClient, startServerProcess, type ServerProcess } from '../../helpers/processes.js';
import { interruptedDownload, readTaskMap, taskMapOf } from '../../helpers/transfers.js';

describe('grpc-client get: the task states', function () {
  this.timeout(60_000);
  const SIZE = 3 * MiB;
  let root: string;
  let out: string;
  let cleanup: () => Promise<void>;
  let server: ServerProcess;
  let content: Buffer;
  const get = (name: string) => runClient(['get', name, '--server', server.address, '--out', out]);
  const downloads = (name: string) => server.calls('Download', name);

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

  it('1. new: downloads from 0, verifies, publishes and records it complete', async () => {
    const run = await get('file.bin');
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.match(/file\.bin: downloaded 3\.00 MiB .* sha256 [0-9a-f]{64} verified/);
    expect(await sha256File(path.join(out, 'file.bin'))).to.equal(sha256(content));
    expect(await exists(path.join(out, 'file.bin.part'))).to.equal(false);
    expect(downloads('file.bin').map((c) => c.offset)).to.deep.equal(['0']);
    expect((await readTaskMap(out)).tasks['file.bin']).to.include({ status: 'complete', size: SIZE, sha256: sha256(content) });
  });

  it('2. incomplete: resumes at the partial length without re-fetching a byte on disk', async () => {
    const partial = await interruptedDownload(server.address, out, 'file.bin', 512 * 1024);
    expect(partial).to.be.within(1, SIZE - 1);
    expect(await exists(path.join(out, 'file.bin'))).to.equal(false, 'no half file under the final name');
    expect((await readTaskMap(out)).tasks['file.bin']).to.include({ status: 'incomplete', size: SIZE });

    const run = await get('file.bin');
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.include('resumed from');
    expect(await sha256File(path.join(out, 'file.bin'))).to.equal(sha256(content));
    const resumed = downloads('file.bin').at(-1)!;
    expect(resumed).to.include({ offset: String(partial), code: 'OK' });
    expect(resumed.bytesSent).to.equal(SIZE - partial);
  });

  it('3. complete and present: asks the server for its version only, transfers nothing, leaves the file untouched', async () => {
    expect((await get('file.bin')).code).to.equal(0);
    const before = await stat(path.join(out, 'file.bin'));
    const calls = server.calls().length;
    const run = await get('file.bin');
    expect(run.code).to.equal(0);
    expect(run.stdout).to.include('file.bin: already complete, skipped');
    expect(
      server
        .calls()
        .slice(calls)
        .map((c) => c.method),
    ).to.deep.equal(['Stat'], 'one Stat, no Download');
    const after = await stat(path.join(out, 'file.bin'));
    expect([after.ino, after.mtimeMs]).to.deep.equal([before.ino, before.mtimeMs]);
    expect(await sha256File(path.join(out, 'file.bin'))).to.equal(sha256(content));
  });

  it('4. complete but deleted: downloads it again from 0', async () => {
    expect((await get('file.bin')).code).to.equal(0);
    await rm(path.join(out, 'file.bin'));
    const run = await get('file.bin');
    expect(run.code, run.stderr).to.equal(0);
    expect(downloads('file.bin').map((c) => c.offset)).to.deep.equal(['0', '0']);
    expect(await sha256File(path.join(out, 'file.bin'))).to.equal(sha256(content));
  });

  it('starts over from 0, never splicing versions, when the remote file changed since the partial', async () => {
    const partial = await interruptedDownload(server.address, out, 'file.bin', 512 * 1024);
    const replacement = await makeRandomFile(path.join(root, 'new.tmp'), SIZE + 1000);
    await rename(path.join(root, 'new.tmp'), path.join(root, 'file.bin'));

    const run = await get('file.bin');
    expect(run.code, run.stderr).to.equal(0);
    expect(await sha256File(path.join(out, 'file.bin'))).to.equal(sha256(replacement));
    const [, stale, fresh] = downloads('file.bin');
    expect(stale).to.include({ offset: String(partial), code: 'FAILED_PRECONDITION' });
    expect(fresh).to.include({ offset: '0', code: 'OK', bytesSent: SIZE + 1000 });
  });

  it('catches a damaged partial by its digest, discards it and fetches the file again', async () => {
    const partial = await interruptedDownload(server.address, out, 'file.bin', 512 * 1024);
    const handle = await open(path.join(out, 'file.bin.part'), 'r+');
    await handle.write(Buffer.from('garbage'), 0, 7, Math.floor(partial / 2));
    await handle.close();

    const run = await get('file.bin');
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stderr).to.match(/sha256 mismatch for file\.bin.*starting over/);
    expect(await sha256File(path.join(out, 'file.bin'))).to.equal(sha256(content));
    expect(
      downloads('file.bin')
        .slice(-2)
        .map((c) => c.offset),
    ).to.deep.equal([String(partial), '0']);
  });

  it('catches a damaged partial that has no record (task map lost) by its prefix digest before any byte is sent, and fetches the file again', async () => {
    const partial = await interruptedDownload(server.address, out, 'file.bin', 512 * 1024);
    await rm(taskMapOf(out));
    const handle = await open(path.join(out, 'file.bin.part'), 'r+');
    await handle.write(Buffer.from('garbage'), 0, 7, Math.floor(partial / 3));
    await handle.close();
    expect((await stat(path.join(out, 'file.bin.part'))).size).to.equal(partial, 'same length: only the digest can tell');

    const run = await get('file.bin');
    expect(run.code, run.stderr).to.equal(0);
    // Without a version to go by, the server compares the digest of the
    // bytes we hold with its own file's first bytes.
    expect(run.stderr).to.match(/file\.bin has other content than your partial.*starting over/);
    expect(await sha256File(path.join(out, 'file.bin'))).to.equal(sha256(content));
    const [resumed, refetched] = downloads('file.bin').slice(-2);
    expect(resumed).to.include({ offset: String(partial), code: 'FAILED_PRECONDITION', bytesSent: 0 });
    expect(refetched).to.include({ offset: '0', code: 'OK', bytesSent: SIZE });
  });

  it('starts over from 0 when the server answers OUT_OF_RANGE to a partial longer than the file, and ends exact', async () => {
    await interruptedDownload(server.address, out, 'file.bin', 512 * 1024);
    // A record of the current version that claims a longer file, and a
    // partial longer than the real one: the resume asks past the end.
    const map = await readTaskMap(out);
    map.tasks['file.bin']!.size = SIZE + MiB;
    await writeFile(taskMapOf(out), JSON.stringify(map));
    await writeFile(path.join(out, 'file.bin.part'), Buffer.concat([content, Buffer.alloc(4096, 1)]));

    const run = await get('file.bin');
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stderr).to.match(/file\.bin: offset \d+ is past the end of file\.bin \(\d+ bytes\); starting over/);
    expect(await sha256File(path.join(out, 'file.bin'))).to.equal(sha256(content));
    const [refused, fresh] = downloads('file.bin').slice(-2);
    expect(refused).to.include({ offset: String(SIZE + 4096), code: 'OUT_OF_RANGE' });
    expect(fresh).to.include({ offset: '0', code: 'OK', bytesSent: SIZE });
    expect((await readTaskMap(out)).tasks['file.bin']).to.include({ status: 'complete', size: SIZE, sha256: sha256(content) });
  });

  it('resumes a partial whose task map was lost, and lets the digest decide', async () => {
    const partial = await interruptedDownload(server.address, out, 'file.bin', 512 * 1024);
    await rm(taskMapOf(out));
    const run = await get('file.bin');
    expect(run.code, run.stderr).to.equal(0);
    expect(downloads('file.bin').at(-1)).to.include({ offset: String(partial), code: 'OK' });
    expect(await sha256File(path.join(out, 'file.bin'))).to.equal(sha256(content));
    expect((await readTaskMap(out)).tasks['file.bin']).to.include({ status: 'complete' });
  });

  it('keeps a final file the task map does not know only if its digest matches the server', async () => {
    await mkdir(out);
    await copyFile(path.join(root, 'file.bin'), path.join(out, 'file.bin'));
    const kept = await get('file.bin');
    expect(kept.code, kept.stderr).to.equal(0);
    expect(kept.stdout).to.include("matching the server's sha256, kept");
    expect(downloads('file.bin')).to.have.length(0);

    await rm(taskMapOf(out));
    await writeFile(path.join(out, 'file.bin'), 'not the same bytes');
    const replaced = await get('file.bin');
    expect(replaced.code, replaced.stderr).to.equal(0);
    expect(downloads('file.bin').map((c) => c.offset)).to.deep.equal(['0']);
    expect(await sha256File(path.join(out, 'file.bin'))).to.equal(sha256(content));
  });
});
