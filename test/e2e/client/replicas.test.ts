import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { MiB, makeRandomFile, sha256, sha256File, tempDir } from '../../helpers/files.js';
import { killHard, pollUntil, runClient, spawnClient, startServerProcess, waitForSize, type ServerProcess } from '../../helpers/processes.js';
import { callsSince, rawClient, rawDownload } from '../../helpers/rawClient.js';

/** A replica: its own copies of the files (other inodes, other mtimes), on its own loopback address. */
interface Replica {
  server: ServerProcess;
  host: string;
  address: string;
  root: string;
}

/** One grpc-server per host, each serving copies of `files` (a name's array gives each replica its own content). */
async function startReplicas(dir: string, hosts: string[], files: Record<string, Buffer | Buffer[]>, args: string[] = []): Promise<Replica[]> {
  return Promise.all(
    hosts.map(async (host, index) => {
      const root = path.join(dir, `replica-${host}`);
      await mkdir(root, { recursive: true });
      for (const [name, content] of Object.entries(files)) {
        const file = path.join(root, name);
        await writeFile(file, Array.isArray(content) ? content[index]! : content);
        // Another mtime per replica, as after an rsync without -t.
        const mtime = new Date(Date.now() - (index + 1) * 3600_000);
        await utimes(file, mtime, mtime);
      }
      const server = await startServerProcess(root, { args: ['--host', host, '--metrics-port', '0', ...args] });
      return { server, host, address: `${host}:${server.port}`, root };
    }),
  );
}

const listOf = (replicas: Replica[]) => replicas.map((r) => r.address).join(',');

/** Download streams the replica is serving now, from its own metrics. */
async function activeStreams(replica: Replica): Promise<number> {
  const text = await (await fetch(`http://${replica.host}:${replica.server.metricsPort}/metrics`)).text();
  return Number(/^filetransfer_active_streams (\d+)$/m.exec(text)?.[1] ?? 'NaN');
}

/** The replica that serves a Download now: the call log has a line only once a call ends. */
function servingReplica(replicas: Replica[], watched: Parameters<typeof pollUntil>[2]): Promise<Replica> {
  return pollUntil(
    'a replica to report a Download stream in progress',
    async () => {
      const counts = await Promise.all(replicas.map(activeStreams));
      return replicas.find((_, index) => counts[index]! > 0);
    },
    watched,
  );
}

/** A port on 127.0.0.3 that nothing listens on: bound by the kernel, then closed. */
async function closedPort(): Promise<number> {
  const listener = createServer().listen(0, '127.0.0.3');
  await new Promise((resolve) => listener.once('listening', resolve));
  const { port } = listener.address() as { port: number };
  await new Promise((resolve) => listener.close(resolve));
  return port;
}

const jsonEvents = (stdout: string) =>
  stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { event: string; name?: string; fromZero?: boolean; resumedFrom?: number; code?: string });

const HOSTS = ['127.0.0.1', '127.0.0.2', '127.0.0.3'];

describe('grpc-client over several replicas (--server a:p,b:p,c:p)', function () {
  this.timeout(30_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  let replicas: Replica[] = [];
  let n = 0;
  const outDir = () => path.join(dir, `out${(n += 1)}`);

  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(async () => {
    await Promise.all(replicas.map((r) => r.server.kill()));
    replicas = [];
    await cleanup();
  });

  it('finishes a file whose replica is killed (kill -9) mid-file on another, from the bytes on disk', async () => {
    // Large enough that the replica is still sending when 2 MiB are on disk:
    // the client's HTTP/2 window and message queue hold several MiB.
    const size = 16 * MiB;
    const content = await makeRandomFile(path.join(dir, 'source.bin'), size);
    replicas = await startReplicas(dir, HOSTS, { 'big.bin': content });
    const out = outDir();
    const client = spawnClient(['get', 'big.bin', '--server', listOf(replicas), '--out', out, '--limit-rate', '4M', '--json']);
    try {
      await waitForSize(path.join(out, 'big.bin.part'), 2 * MiB, client);
      const victim = await servingReplica(replicas, [client]);
      await victim.server.kill('SIGKILL');
      const onDisk = (await stat(path.join(out, 'big.bin.part'))).size;
      const run = await client.done;
      expect(run.code, run.stderr).to.equal(0);
      expect(await sha256File(path.join(out, 'big.bin'))).to.equal(sha256(content));

      const survivors = replicas.filter((r) => r !== victim);
      const downloads = survivors.flatMap((r) => r.server.calls('Download', 'big.bin'));
      expect(downloads.map((c) => c.code)).to.deep.equal(['OK']);
      // Resumed where the disk stood, not from 0: only the rest was sent again.
      expect(Number(downloads[0]!.offset)).to.be.at.least(onDisk);
      expect(downloads[0]!.bytesSent).to.be.at.most(size - onDisk);
      const retries = jsonEvents(run.stdout).filter((e) => e.event === 'retry');
      expect(retries.length, run.stdout).to.be.at.least(1);
      expect(retries.every((e) => e.fromZero === false)).to.equal(true);
    } finally {
      await killHard(client.process);
    }
  });

  it('never splices two contents: a replica with other bytes for the name makes the download start over there', async () => {
    const size = 12 * MiB;
    const contents = [await makeRandomFile(path.join(dir, 'a.bin'), size), await makeRandomFile(path.join(dir, 'b.bin'), size)];
    replicas = await startReplicas(dir, HOSTS.slice(0, 2), { 'f.bin': contents });
    const out = outDir();
    const client = spawnClient(['get', 'f.bin', '--server', listOf(replicas), '--out', out, '--limit-rate', '6M', '--json']);
    try {
      await waitForSize(path.join(out, 'f.bin.part'), 1 * MiB, client);
      const victim = await servingReplica(replicas, [client]);
      await victim.server.kill('SIGKILL');
      const run = await client.done;
      expect(run.code, run.stderr).to.equal(0);

      const survivor = replicas.find((r) => r !== victim)!;
      const theirs = contents[replicas.indexOf(survivor)]!;
      expect(await sha256File(path.join(out, 'f.bin'))).to.equal(sha256(theirs));
      // The resume was refused on content, after which all of it came from 0.
      const downloads = survivor.server.calls('Download', 'f.bin');
      expect(downloads.map((c) => [c.code, c.offset === '0'])).to.deep.equal([
        ['FAILED_PRECONDITION', false],
        ['OK', true],
      ]);
      expect(downloads[1]!.bytesSent).to.equal(size);
      expect(jsonEvents(run.stdout).some((e) => e.event === 'retry' && e.fromZero === true && e.code === 'FAILED_PRECONDITION')).to.equal(true);
    } finally {
      await killHard(client.process);
    }
  });

  it('completes a batch while one replica drains after SIGTERM, which gets no new call after the signal', async () => {
    // Larger than what comes many per stream: a Download call each, spread
    // over the replicas.
    const names = Array.from({ length: 9 }, (_, i) => `f${i}.bin`);
    const contents = await Promise.all(names.map((name) => makeRandomFile(path.join(dir, name), MiB + 64 * 1024)));
    // Paced on the servers: a client's pace would not hold a stream open, as
    // the client takes in whole messages at once.
    replicas = await startReplicas(dir, HOSTS, Object.fromEntries(names.map((name, i) => [name, contents[i]!])), ['--limit-rate', '2M']);
    const out = outDir();
    const client = spawnClient(['get', ...names, '--server', listOf(replicas), '--out', out, '-j', '2', '--json']);
    try {
      const draining = await servingReplica(replicas, [client]);
      draining.server.process.kill('SIGTERM');
      await draining.server.waitForLog('shutting down: no new calls, running ones get the grace period');
      const run = await client.done;
      expect(run.code, run.stderr).to.equal(0);
      for (const [i, name] of names.entries()) expect(await sha256File(path.join(out, name)), name).to.equal(sha256(contents[i]!));

      const lines = draining.server.logs as unknown as { msg: string; time: number; durationMs?: number; method?: string }[];
      const signalled = lines.find((l) => l.msg.startsWith('shutting down'))!.time;
      const startedAfter = lines.filter((l) => l.msg === 'call' && l.method === 'Download' && l.time - l.durationMs! > signalled);
      expect(startedAfter, JSON.stringify(startedAfter)).to.deep.equal([]);
      // Not even tried: a call picked for the draining replica would have failed and been retried.
      expect(jsonEvents(run.stdout).filter((e) => e.event === 'retry')).to.deep.equal([]);
      const served = replicas.map((r) => r.server.calls('Download').filter((c) => c.code === 'OK').length);
      expect(served.reduce((a, b) => a + b)).to.equal(names.length);
    } finally {
      await killHard(client.process);
    }
  });

  it('spreads the calls of one client: each of 3 replicas serves at least a quarter of 30 downloads', async () => {
    // Larger than what comes many per stream: a Download call each.
    const names = Array.from({ length: 30 }, (_, i) => `s${String(i).padStart(2, '0')}.bin`);
    const content = randomBytes(MiB + 1);
    replicas = await startReplicas(dir, HOSTS, Object.fromEntries(names.map((name) => [name, content])));
    // A host name in the list: looked up, its addresses joined to the others'.
    const list = [`localhost:${replicas[0]!.server.port}`, ...replicas.slice(1).map((r) => r.address)].join(',');
    const run = await runClient(['get', ...names, '--server', list, '--out', outDir(), '-j', '4']);
    expect(run.code, run.stderr).to.equal(0);
    const counts = replicas.map((r) => r.server.calls('Download').length);
    expect(counts.reduce((a, b) => a + b)).to.equal(30);
    for (const count of counts) expect(count, `Download calls per replica: ${counts.join(', ')}`).to.be.at.least(8);
  });

  it('skips a replica that is down from the start: no retry, no failed call, not a second slower', async () => {
    const names = Array.from({ length: 6 }, (_, i) => `d${i}.txt`);
    replicas = await startReplicas(dir, HOSTS.slice(0, 1), Object.fromEntries(names.map((name) => [name, Buffer.from(`${name}\n`)])));
    const dead = `127.0.0.3:${await closedPort()}`;
    const timed = async (server: string) => {
      const started = Date.now();
      const run = await runClient(['get', ...names, '--server', server, '--out', outDir(), '--json']);
      return { run, ms: Date.now() - started };
    };
    const alone = await timed(replicas[0]!.address);
    const withDead = await timed(`${dead},${replicas[0]!.address}`);
    expect(withDead.run.code, withDead.run.stderr).to.equal(0);
    expect(jsonEvents(withDead.run.stdout).filter((e) => e.event === 'retry')).to.deep.equal([]);
    const calls = await callsSince(replicas[0]!.server, 0, replicas[0]!.address);
    expect(calls.map((c) => [c.method, c.code])).to.deep.equal([
      ['ListNames', 'OK'],
      ['DownloadManyBatches', 'OK'],
      ['ListNames', 'OK'],
      ['DownloadManyBatches', 'OK'],
    ]);
    expect(calls.reduce((n, c) => n + (c.files ?? 0), 0)).to.equal(12);
    expect(withDead.ms - alone.ms, `alone ${alone.ms} ms, with a dead replica ${withDead.ms} ms`).to.be.below(1000);
  });

  it('fails fast, once, when every replica is down, as for one server', async () => {
    const list = `127.0.0.2:${await closedPort()},127.0.0.3:${await closedPort()}`;
    const run = await runClient(['get', 'a.bin', 'b.bin', '--server', list, '--out', outDir(), '--retry-for', '60s']);
    expect(run.code, run.stderr).to.equal(4);
    expect(run.stderr.split('\n').filter(Boolean)).to.have.length(1);
    expect(run.stderr).to.match(/cannot connect to ipv4:127\.0\.0\.2:\d+,127\.0\.0\.3:\d+/);
  });

  it('refuses a list with an entry that is not host[:port], naming it (exit 2)', async () => {
    const run = await runClient(['get', 'a.bin', '--server', '127.0.0.1:1,files example:2', '--out', outDir()]);
    expect(run.code).to.equal(2);
    expect(run.stderr).to.match(/"files example:2" in the server list is not host\[:port\]/);
  });

  it('answers a resume from digests kept in --state-dir across a restart, without hashing the prefix', async () => {
    const content = await makeRandomFile(path.join(dir, 'source.bin'), 1 * MiB);
    const root = path.join(dir, 'root');
    await mkdir(root);
    await copyFile(path.join(dir, 'source.bin'), path.join(root, 'f.bin'));
    const state = path.join(dir, 'state');
    // A resume the rule can only accept from the whole file's digest: the
    // prefix digest sent is wrong on purpose.
    const resume = { name: 'f.bin', offset: '1000', expectedVersion: 'another-replica', prefixSha256: 'f'.repeat(64), expectedSha256: sha256(content) };

    let server = await startServerProcess(root, { args: ['--state-dir', state] });
    let client = rawClient(server.address);
    expect((await rawDownload(client, { name: 'f.bin' })).code).to.equal(0);
    client.close();
    const log = path.join(state, 'digests.jsonl');
    await pollUntil('the digest to reach the state dir', async () => ((await readFile(log, 'utf8')).includes(sha256(content)) ? true : undefined), [server]);
    await server.kill('SIGKILL');

    server = await startServerProcess(root, { args: ['--state-dir', state] });
    client = rawClient(server.address);
    try {
      const accepted = await rawDownload(client, resume);
      expect(accepted.code, accepted.details).to.equal(0);
      expect(accepted.data.equals(content.subarray(1000))).to.equal(true);
      const refused = await rawDownload(client, { ...resume, expectedSha256: 'e'.repeat(64) });
      expect([refused.code, refused.details]).to.deep.equal([9, 'f.bin has other content than your partial; download it again from offset 0']);
    } finally {
      client.close();
      await server.kill();
    }
    // Without the state the digest is unknown: the wrong prefix is found out.
    server = await startServerProcess(root);
    client = rawClient(server.address);
    try {
      const refused = await rawDownload(client, resume);
      expect(refused.code, refused.details).to.equal(9);
      expect(refused.messages[0]?.info?.name).to.equal('f.bin');
    } finally {
      client.close();
      await server.kill();
    }
  });
});
