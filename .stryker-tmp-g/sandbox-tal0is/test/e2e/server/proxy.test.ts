// @ts-nocheck
import { expect } from 'chai';
import { copyFile, mkdir, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import { MiB, makeRandomFile, sha256, sha256File, tempDir } from '../../helpers/files.js';
import { startNginx, type NginxProcess } from '../../helpers/nginx.js';
import { killHard, pollUntil, spawnClient, startServerProcess, waitForSize, type ServerProcess } from '../../helpers/processes.js';

/** Download streams a replica is serving now, from its /metrics. */
async function activeStreams(replica: { server: ServerProcess; host: string }): Promise<number> {
  const text = await (await fetch(`http://${replica.host}:${replica.server.metricsPort}/metrics`)).text();
  return Number(/^filetransfer_active_streams (\d+)$/m.exec(text)?.[1]);
}

describe('deploy/nginx.conf: the real nginx in front of two replicas', function () {
  this.timeout(60_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  let replicas: { server: ServerProcess; host: string }[] = [];
  let nginx: NginxProcess | undefined;

  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
  });

  afterEach(async () => {
    await nginx?.stop();
    await Promise.all(replicas.map((r) => r.server.kill()));
    replicas = [];
    nginx = undefined;
    await cleanup();
  });

  it('finishes a download through nginx, resumed on the other replica, after kill -9 of the one serving it', async () => {
    // Between the replica and the client 6-15 MiB are in flight (the
    // replica's stream buffer, both TCP buffers; nginx's upstream window is
    // unbounded), and reach the client after the kill: the file must be
    // larger for the kill to cut the replica's stream mid-file.
    const size = 32 * MiB;
    const content = await makeRandomFile(path.join(dir, 'source.bin'), size);
    // Separate copies, as replicas have: other inodes, other mtimes.
    for (const [i, host] of ['127.0.0.2', '127.0.0.3'].entries()) {
      const root = path.join(dir, `root${i}`);
      await mkdir(root);
      await copyFile(path.join(dir, 'source.bin'), path.join(root, 'big.bin'));
      await utimes(path.join(root, 'big.bin'), new Date(), new Date(Date.now() - (i + 1) * 3600_000));
      replicas.push({ server: await startServerProcess(root, { args: ['--host', host, '--metrics-port', '0'] }), host });
    }
    const proxyDir = path.join(dir, 'nginx');
    await mkdir(proxyDir);
    nginx = await startNginx(
      replicas.map((r) => `${r.host}:${r.server.port}`),
      proxyDir,
    );
    const out = path.join(dir, 'out');
    const client = spawnClient(['get', 'big.bin', '--server', nginx.address, '--out', out, '--limit-rate', '16M', '--retry-for', '20s']);
    const watched = [client, nginx, ...replicas.map((r) => r.server)];

    const serving = await pollUntil(
      'one replica to report the download on /metrics',
      async () => {
        const counts = await Promise.all(replicas.map(activeStreams));
        return counts.indexOf(1) >= 0 ? replicas[counts.indexOf(1)] : undefined;
      },
      watched,
    );
    const survivor = replicas.find((r) => r !== serving)!;
    await waitForSize(path.join(out, 'big.bin.part'), 2 * MiB, client);
    await killHard(serving.server.process);
    const onDiskAtKill = (await stat(path.join(out, 'big.bin.part'))).size;
    expect(onDiskAtKill, 'killed mid-file').to.be.below(size);

    const run = await client.done;
    expect(run.code, run.stderr).to.equal(0);
    expect(await sha256File(path.join(out, 'big.bin'))).to.equal(sha256(content));
    await survivor.server.waitForCall((call) => call.method === 'Download' && call.code === 'OK');
    const resumed = survivor.server.calls('Download', 'big.bin');
    const sentBySurvivor = resumed.reduce((sum, call) => sum + (call.bytesSent ?? 0), 0);
    // Resumed, not restarted: the survivor sent what was missing at the kill,
    // and no more than what the client's paced reads had in flight.
    expect(sentBySurvivor, `survivor sent ${sentBySurvivor} of ${size}, ${onDiskAtKill} on disk at the kill`).to.be.at.most(size - onDiskAtKill + 1 * MiB);
    expect(Number(resumed[0]!.offset)).to.be.at.least(onDiskAtKill);
    const viaNginx = `"/filetransfer.v1.FileService/Download" 200 grpc-status=0 upstream=${survivor.host}:${survivor.server.port}`;
    await pollUntil('nginx to log the resumed call', async () => ((await nginx!.accessLog()).some((line) => line.includes(viaNginx)) ? true : undefined), [
      nginx,
    ]);
  });
});
