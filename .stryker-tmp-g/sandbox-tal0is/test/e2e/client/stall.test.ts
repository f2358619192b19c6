// @ts-nocheck
import { expect } from 'chai';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { MiB, exists, makeRandomFile, sha256, sha256File, tempDir } from '../../helpers/files.js';
import { bounded, killHard, spawnClient, startServerProcess, waitForSize, type ClientProcess, type ServerProcess } from '../../helpers/processes.js';

describe('grpc-client get: a server that stops sending (--stall-timeout)', function () {
  this.timeout(60_000);
  const SIZE = 12 * MiB;
  let root: string;
  let out: string;
  let cleanup: () => Promise<void>;
  let server: ServerProcess;
  let client: ClientProcess | undefined;
  let content: Buffer;

  beforeEach(async () => {
    const temp = await tempDir();
    cleanup = temp.cleanup;
    root = path.join(temp.dir, 'root');
    out = path.join(temp.dir, 'out');
    await mkdir(root);
    content = await makeRandomFile(path.join(root, 'big.bin'), SIZE);
    server = await startServerProcess(root);
  });

  afterEach(async () => {
    if (client) await killHard(client.process);
    client = undefined;
    // kill() continues a stopped server before it signals it.
    await server.kill();
    await cleanup();
  });

  /**
   * Starts a paced get (4 MiB/s: a 1 MiB flow-control window, so the client
   * holds little the server sent before it froze) and freezes the server
   * with SIGSTOP once the partial shows the transfer is in flight.
   */
  async function freezeMidTransfer(extra: string[]): Promise<ClientProcess> {
    const started = spawnClient(['get', 'big.bin', '--server', server.address, '--out', out, '--limit-rate', '4M', '--stall-timeout', '1s', ...extra]);
    client = started;
    await waitForSize(path.join(out, 'big.bin.part'), 1 * MiB, started);
    server.process.kill('SIGSTOP');
    return started;
  }

  it('calls a frozen stream stalled, retries, and finishes exactly once the server thaws', async () => {
    const running = await freezeMidTransfer(['--retry-for', '60s']);
    const line = await running.waitForStderr(/big\.bin: .*retrying in/, 10_000);
    expect(line).to.match(/^grpc-client: big\.bin: no data from the server for 1s; retrying in \d+\.\ds \(attempt 2\)$/);
    expect(await exists(path.join(out, 'big.bin'))).to.equal(false);

    server.process.kill('SIGCONT');
    const run = await bounded('the download to finish after SIGCONT', running.done, [], 30_000);
    expect(run.code, run.stderr).to.equal(0);
    expect(await sha256File(path.join(out, 'big.bin'))).to.equal(sha256(content));
    const downloads = server.calls('Download', 'big.bin');
    expect(downloads.at(-1)).to.include({ code: 'OK' });
    expect(Number(downloads.at(-1)!.offset), 'the last attempt resumed, it did not start over').to.be.greaterThan(0);
  });

  it('gives up clearly after --retry-for when the server stays frozen, keeping the partial', async () => {
    const running = await freezeMidTransfer(['--retry-for', '3s']);
    const run = await bounded('the client to give up on a frozen server', running.done, [], 30_000);
    expect(run.code).to.equal(4);
    expect(run.stderr).to.match(/no data from the server for 1s; retrying in/);
    expect(run.stderr).to.match(
      new RegExp(
        `grpc-client: big\\.bin: server ${server.address.replace(/\./g, '\\.')} unavailable \\(no data from the server for 1s\\); is grpc-server running there\\?.*--retry-for\\n$`,
      ),
    );
    expect(await exists(path.join(out, 'big.bin'))).to.equal(false);
    expect(await exists(path.join(out, 'big.bin.part')), 'kept for the next run').to.equal(true);
  });
});
