// @ts-nocheck
import { expect } from 'chai';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MiB, makeRandomFile, sha256, sha256File, tempDir } from '../../helpers/files.js';
import { killHard, spawnClient, startServerProcess, waitForSize, type ServerProcess } from '../../helpers/processes.js';
import { readTaskMap, waitForRecord } from '../../helpers/transfers.js';

describe('grpc-client get: interruptions', function () {
  this.timeout(90_000);
  let root: string;
  let out: string;
  let cleanup: () => Promise<void>;
  let server: ServerProcess;

  beforeEach(async () => {
    const temp = await tempDir();
    cleanup = temp.cleanup;
    root = path.join(temp.dir, 'root');
    out = path.join(temp.dir, 'out');
    await mkdir(root);
  });

  afterEach(async () => {
    await server?.kill('SIGTERM');
    await cleanup();
  });

  it('survives kill -9 of the client twice, resuming each time where the bytes on disk end', async () => {
    const size = 6 * MiB;
    const content = await makeRandomFile(path.join(root, 'big.bin'), size);
    server = await startServerProcess(root);
    const part = path.join(out, 'big.bin.part');
    const args = ['get', 'big.bin', '--server', server.address, '--out', out, '--limit-rate', '3M'];

    const first = spawnClient(args);
    await waitForSize(part, 1 * MiB, first);
    await waitForRecord(out, 'big.bin', first);
    await killHard(first.process);
    const afterFirst = (await stat(part)).size;

    const second = spawnClient(args);
    await waitForSize(part, afterFirst + 1 * MiB, second);
    await killHard(second.process);
    const afterSecond = (await stat(part)).size;
    expect(afterSecond).to.be.within(afterFirst + 1, size - 1);
    expect((await readTaskMap(out)).tasks['big.bin']!.status).to.equal('incomplete');

    const last = await spawnClient(['get', 'big.bin', '--server', server.address, '--out', out]).done;
    expect(last.code, last.stderr).to.equal(0);
    expect(await sha256File(path.join(out, 'big.bin'))).to.equal(sha256(content));
    const offsets = server.calls('Download', 'big.bin').map((c) => Number(c.offset));
    expect(offsets).to.deep.equal([0, afterFirst, afterSecond]);
    expect((await readTaskMap(out)).tasks['big.bin']).to.include({ status: 'complete', sha256: sha256(content) });
  });

  it('loses to a kill -9 of a paced client little more than the window, not a read-ahead of 16 messages', async () => {
    const chunk = 64 * 1024;
    await makeRandomFile(path.join(root, 'big.bin'), 16 * MiB);
    server = await startServerProcess(root, { args: ['--chunk-size', '64k'] });
    const part = path.join(out, 'big.bin.part');
    const client = spawnClient(['get', 'big.bin', '--server', server.address, '--out', out, '--limit-rate', '256k']);
    await waitForSize(part, 4 * chunk, client);
    // The pace keeps every buffer on the way full long before this.
    await killHard(client.process);
    const held = (await stat(part)).size;
    const killed = await server.waitForCall((c) => c.method === 'Download' && c.code === 'CANCELLED');
    // What the server handed on beyond the partial: its own chunks in
    // flight, the window, and what the client held unwritten. grpc-js alone
    // would hold 16 messages (1 MiB here); paced, it holds one.
    expect(killed.bytesSent! - held).to.be.below(16 * chunk);
  });

  it('keeps retrying while the server is killed -9 and restarted, then completes from where it was', async () => {
    const size = 16 * MiB;
    const content = await makeRandomFile(path.join(root, 'big.bin'), size);
    server = await startServerProcess(root);
    const port = server.port;
    const part = path.join(out, 'big.bin.part');
    const client = spawnClient(['get', 'big.bin', '--server', server.address, '--out', out, '--limit-rate', '4M', '--retry-for', '60s']);

    await waitForSize(part, 2 * MiB, client);
    await server.kill('SIGKILL');
    await client.waitForStderr(/big\.bin: .*retrying in/);
    const atRestart = (await stat(part)).size;
    expect(atRestart).to.be.below(size, 'the server died mid-transfer');

    server = await startServerProcess(root, { port });
    const run = await client.done;
    expect(run.code, run.stderr).to.equal(0);
    expect(await sha256File(path.join(out, 'big.bin'))).to.equal(sha256(content));
    const resumed = server.calls('Download', 'big.bin');
    expect(resumed).to.have.length(1);
    expect(Number(resumed[0]!.offset)).to.be.at.least(atRestart);
    expect(resumed[0]!.bytesSent).to.equal(size - Number(resumed[0]!.offset));
  });

  it('retries the check of a file found without a record while the server is away, then keeps the file', async () => {
    const content = await makeRandomFile(path.join(root, 'f.bin'), 64 * 1024);
    // A published file whose task-map record was lost (a crash): state "unverified".
    await mkdir(out, { recursive: true });
    await writeFile(path.join(out, 'f.bin'), content);
    server = await startServerProcess(root);
    const port = server.port;
    await server.kill('SIGKILL');
    const client = spawnClient(['get', 'f.bin', '--server', `127.0.0.1:${port}`, '--out', out, '--retry-for', '60s', '--retry-connrefused']);
    await client.waitForStderr(/f\.bin: .*retrying in/);
    server = await startServerProcess(root, { port });
    const run = await client.done;
    expect(run.code, run.stderr).to.equal(0);
    expect(server.calls('Stat', 'f.bin')).to.have.length(1);
    expect(server.calls('Download', 'f.bin'), 'verified in place, not fetched').to.have.length(0);
    expect((await readTaskMap(out)).tasks['f.bin']?.status).to.equal('complete');
  });

  it('stops on Ctrl-C while it waits to retry, instead of carrying on', async () => {
    await makeRandomFile(path.join(root, 'f.bin'), 1024);
    server = await startServerProcess(root);
    const address = server.address;
    await server.kill('SIGKILL');
    const client = spawnClient(['get', 'f.bin', '--server', address, '--out', out, '--retry-for', '10m', '--retry-connrefused']);
    await client.waitForStderr(/retrying in/);
    client.process.kill('SIGINT');
    const run = await client.done;
    expect(run.code).to.equal(130);
    expect(run.stderr).to.include('run the same command again to resume');
  });

  it('stops cleanly on Ctrl-C, keeping the partial and the task map, and resumes on the next run', async () => {
    const size = 4 * MiB;
    const content = await makeRandomFile(path.join(root, 'big.bin'), size);
    server = await startServerProcess(root);
    const part = path.join(out, 'big.bin.part');
    const client = spawnClient(['get', 'big.bin', '--server', server.address, '--out', out, '--limit-rate', '2M']);
    await waitForSize(part, 512 * 1024, client);
    client.process.kill('SIGINT');
    const interrupted = await client.done;
    expect(interrupted.code).to.equal(130);
    expect(interrupted.stderr).to.include('run the same command again to resume');
    const kept = (await stat(part)).size;
    expect(kept).to.be.within(1, size - 1);
    expect((await readTaskMap(out)).tasks['big.bin']!.status).to.equal('incomplete');

    const run = await spawnClient(['get', 'big.bin', '--server', server.address, '--out', out]).done;
    expect(run.code, run.stderr).to.equal(0);
    expect(server.calls('Download', 'big.bin').at(-1)).to.include({ offset: String(kept) });
    expect(await sha256File(path.join(out, 'big.bin'))).to.equal(sha256(content));
  });
});
