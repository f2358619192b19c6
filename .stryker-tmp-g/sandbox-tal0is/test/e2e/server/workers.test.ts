// @ts-nocheck
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir, readFile, readlink, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { FileServiceClient } from '../../../src/generated/filetransfer/v1/FileService.js';
import { MiB, makeRandomFile, sha256, sha256File, tempDir } from '../../helpers/files.js';
import { sigtermWhenServing } from '../../helpers/healthWatch.js';
import { bounded, pollUntil, spawnClient, startServerProcess, waitForSize, type ServerProcess, type Watched } from '../../helpers/processes.js';
import { openUpload, rawClient, rawStat, rawUpload } from '../../helpers/rawClient.js';

const SERVER_BIN = fileURLToPath(new URL('../../../dist/server/cli.js', import.meta.url));

/** Fails the test if the server writes a second line to stdout: the readiness line comes once. */
function watchStdout(server: ServerProcess): () => string {
  let more = '';
  server.process.stdout!.on('data', (data: Buffer) => (more += data.toString()));
  return () => more;
}

/**
 * A client on a connection of its own: grpc-js otherwise shares one
 * between clients of one address, and the primary hands each new
 * connection to the next worker.
 */
const ownConnection = (address: string) => rawClient(address, { 'grpc.use_local_subchannel_pool': 1 });

/** Pids of the processes that served the calls logged so far. */
const pidsOf = (server: ServerProcess, method: string) => new Set(server.calls(method).map((call) => call.pid));

/**
 * Waits until `count` calls of `method` are logged: a worker's log line is
 * read from a pipe of its own pace, and may come after the client has seen
 * the call end.
 */
const callsLogged = (server: ServerProcess, method: string, count: number) =>
  pollUntil(`${count} ${method} calls in the log`, async () => (server.calls(method).length >= count ? server.calls(method) : undefined), [server]);

/** A Stat on a connection of its own, so that the primary hands it to the next worker. */
async function freshStat(address: string, name: string, token?: string): Promise<grpc.status> {
  const client = ownConnection(address);
  try {
    const metadata = new grpc.Metadata();
    if (token) metadata.set('authorization', `Bearer ${token}`);
    return await new Promise((resolve) => client.stat({ name }, metadata, (err) => resolve(err ? err.code : grpc.status.OK)));
  } finally {
    client.close();
  }
}

/** The metric's value in Prometheus text, e.g. `filetransfer_bytes_sent_total 42`. */
async function metric(server: ServerProcess, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${server.metricsPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (line === undefined) throw new Error(`no ${name} in the metrics:\n${text}`);
  return Number(line.slice(name.length + 1));
}

/** A download that stops reading after its first chunk, so that it is still running when the test acts. */
async function pausedDownload(client: FileServiceClient, name: string, metadata: grpc.Metadata, watched: ServerProcess) {
  const call = client.download({ name, offset: 0 }, metadata);
  const received: Buffer[] = [];
  const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
  call.on('error', () => undefined);
  const first = new Promise<void>((resolve) =>
    call.on('data', (message: { data: Buffer }) => {
      received.push(message.data);
      if (received.length === 1) {
        call.pause();
        resolve();
      }
    }),
  );
  await bounded(`the first chunk of ${name}`, first, [watched]);
  return {
    finish: async () => {
      call.resume();
      const ended = await bounded(`the download of ${name} to end`, status, [watched]);
      return { code: ended.code, data: Buffer.concat(received) };
    },
  };
}

describe('grpc-server --workers', function () {
  this.timeout(60_000);

  it('refuses --workers 0 or a fraction with one line and exit 2', async () => {
    for (const value of ['0', '1.5']) {
      const run = await promisify(execFile)(process.execPath, [SERVER_BIN, '--workers', value]).then(
        () => ({ code: 0, stderr: '' }),
        (err: { code: number; stderr: string }) => err,
      );
      expect(run.code, value).to.equal(2);
      expect(run.stderr).to.match(
        /^grpc-server: option '--workers <n>' argument '[^']+' is invalid\. expected a whole number from 1 to 256; try 'grpc-server --help'\n$/,
      );
    }
  });

  it('says it listens once, when both workers do; each call is logged with its worker; metrics are summed; a file asked for on both is hashed once', async () => {
    const { dir: root, cleanup } = await tempDir();
    const { dir: state, cleanup: cleanState } = await tempDir();
    const content = await makeRandomFile(path.join(root, 'f.bin'), 1 * MiB);
    // Sparse: hashing it costs reads, not disk.
    await writeFile(path.join(root, 'large.bin'), '');
    await truncate(path.join(root, 'large.bin'), 64 * MiB);
    const server = await startServerProcess(root, { args: ['--workers', '2', '--metrics-port', '0', '--state-dir', state] });
    const moreStdout = watchStdout(server);
    try {
      // Fresh connections go to the workers in turn: right after the line, both answer.
      const clients = [ownConnection(server.address), ownConnection(server.address)];
      const downloads = await Promise.all(clients.map((client) => rawDownloadAll(client, 'f.bin')));
      for (const data of downloads) expect(sha256(data)).to.equal(sha256(content));
      const served = await callsLogged(server, 'Download', 2);
      expect(new Set(served.map((call) => call.pid)).size, 'two workers served the downloads').to.equal(2);
      expect(new Set(served.map((call) => call.worker))).to.deep.equal(new Set([1, 2]));
      expect(await metric(server, 'filetransfer_bytes_sent_total')).to.equal(served.reduce((sum, call) => sum + call.bytesSent!, 0));

      // Asked for at once through both connections, so on both workers.
      const stats = await Promise.all(clients.map((client) => rawStat(client, 'large.bin')));
      expect(stats.map((stat) => stat.code)).to.deep.equal([grpc.status.OK, grpc.status.OK]);
      expect(stats[0]!.info!.sha256)
        .to.equal(stats[1]!.info!.sha256)
        .and.to.match(/^[0-9a-f]{64}$/);
      await callsLogged(server, 'Stat', 2);
      expect(pidsOf(server, 'Stat').size, 'two workers answered the Stats').to.equal(2);
      expect(await metric(server, 'filetransfer_files_hashed_total'), 'hash passes over both workers').to.equal(1);
      for (const client of clients) client.close();
      // The primary alone writes the log: one line per file, none torn.
      const lines = (await readFile(path.join(state, 'digests.jsonl'), 'utf8')).split('\n').filter(Boolean);
      expect(lines.map((line) => (JSON.parse(line) as { sha256: string }).sha256).sort()).to.deep.equal([sha256(content), stats[0]!.info!.sha256].sort());
      expect(moreStdout()).to.equal('');
    } finally {
      await server.kill();
      await cleanup();
      await cleanState();
    }
  });

  it('reloads tokens in every worker on SIGHUP, then drains them all on SIGTERM and exits 0', async () => {
    const { dir: root, cleanup } = await tempDir();
    const { dir: work, cleanup: cleanWork } = await tempDir();
    const content = await makeRandomFile(path.join(root, 'f.bin'), 16 * MiB);
    const tokens = path.join(work, 'tokens.txt');
    await writeFile(tokens, 'old-token\n');
    const server = await startServerProcess(root, { args: ['--workers', '2', '--token-file', tokens] });
    const moreStdout = watchStdout(server);
    try {
      await writeFile(tokens, 'new-token\n');
      const reloaded = pollUntil(
        'both workers to reload their tokens',
        async () => (server.logs.filter((l) => l.msg === 'token file reloaded').length >= 2 ? true : undefined),
        [server],
      );
      server.process.kill('SIGHUP');
      await reloaded;
      const before = server.calls('Stat').length;
      for (let i = 0; i < 4; i += 1) {
        expect(await freshStat(server.address, 'f.bin', 'old-token'), 'the old token').to.equal(grpc.status.UNAUTHENTICATED);
        expect(await freshStat(server.address, 'f.bin', 'new-token'), 'the new token').to.equal(grpc.status.OK);
      }
      const after = (await callsLogged(server, 'Stat', before + 8)).slice(before);
      expect(new Set(after.map((call) => call.pid)).size, 'calls after the reload reached both workers').to.equal(2);

      // One download running on each worker when SIGTERM lands.
      const clients = [ownConnection(server.address), ownConnection(server.address)];
      const running = [];
      const metadata = new grpc.Metadata();
      metadata.set('authorization', 'Bearer new-token');
      for (const client of clients) running.push(await pausedDownload(client, 'f.bin', metadata, server));
      // 'close', after the last log line was read, not 'exit'.
      const exited = once(server.process, 'close');
      await sigtermWhenServing(server);
      expect(server.calls('Download'), 'the downloads still run').to.deep.equal([]);
      for (const download of running) {
        const { code, data } = await download.finish();
        expect(code).to.equal(grpc.status.OK);
        expect(sha256(data)).to.equal(sha256(content));
      }
      for (const client of clients) client.close();
      const [code, signal] = (await bounded('the server to exit', exited)) as [number | null, NodeJS.Signals | null];
      expect({ code, signal }).to.deep.equal({ code: 0, signal: null });
      expect(pidsOf(server, 'Download').size, 'both workers finished a download').to.equal(2);
      expect(moreStdout()).to.equal('');
    } finally {
      await server.kill();
      await cleanup();
      await cleanWork();
    }
  });

  it('stops on SIGTERM while its workers start: no readiness line, and each worker exits by itself', async () => {
    const { dir: root, cleanup } = await tempDir();
    const server = await forkedServer(root);
    try {
      server.primary.kill('SIGTERM');
      const end = await server.end();
      expect(end.stdout, 'a readiness line after SIGTERM').to.equal('');
      // Killed at the end of the grace period instead, a worker never heard it should stop.
      expect(end.stopped).to.deep.equal([
        { code: 0, signal: null },
        { code: 0, signal: null },
      ]);
    } finally {
      server.primary.kill('SIGKILL');
      await cleanup();
    }
  });

  it("stops with exit 0 on a terminal's SIGINT to the whole group while its workers start", async () => {
    const { dir: root, cleanup } = await tempDir();
    // Its own process group, as a shell gives a command, so that the group can be signalled.
    const server = await forkedServer(root, true);
    try {
      process.kill(-server.primary.pid!, 'SIGINT');
      const end = await server.end();
      expect(end.stdout).to.equal('');
      expect(end.said, 'only log lines on stderr').to.deep.equal([]);
    } finally {
      server.primary.kill('SIGKILL');
      await cleanup();
    }
  });

  it('replaces a worker killed with kill -9; /metrics answers while the replacement starts; the client mid-download resumes on another and gets the exact file', async () => {
    const { dir: root, cleanup } = await tempDir();
    const { dir: out, cleanup: cleanOut } = await tempDir();
    const content = await makeRandomFile(path.join(root, 'f.bin'), 2 * MiB);
    // Paced by the server: a client's own pace would leave the file sent ahead into its window.
    const server = await startServerProcess(root, { args: ['--workers', '2', '--limit-rate', '512k', '--metrics-port', '0'] });
    try {
      const client = spawnClient(['get', 'f.bin', '--server', server.address, '--out', out]);
      await waitForSize(path.join(out, 'f.bin.part'), 256 * 1024, client);
      // The worker serving the call is the one holding the file open.
      const workers = await childPids(server.process.pid!);
      const serving = await pollUntil('a worker with f.bin open', async () => (await holding(workers, path.join(root, 'f.bin'))) ?? undefined, [
        server,
        client,
      ]);
      process.kill(serving, 'SIGKILL');
      await server.waitForLog('worker died; starting another');
      // The replacement is still loading: it cannot answer yet, and is not waited for.
      const scrape = await fetch(`http://127.0.0.1:${server.metricsPort}/metrics`, { signal: AbortSignal.timeout(20_000) });
      expect(scrape.status, await scrape.clone().text()).to.equal(200);
      expect(await scrape.text()).to.match(/^filetransfer_bytes_sent_total \d+$/m);
      const done = await client.done;
      expect(done.code, done.stderr).to.equal(0);
      expect(await sha256File(path.join(out, 'f.bin'))).to.equal(sha256(content));
      const finished = await server.waitForCall((call) => call.method === 'Download' && call.code === 'OK');
      expect(finished, 'the resumed download').to.include({ name: 'f.bin' });
      expect(finished!.pid).to.not.equal(serving);
      expect(Number(finished!.offset)).to.be.greaterThan(0);
      await server.waitForLog('worker replaced');
      expect((await childPids(server.process.pid!)).length).to.equal(2);
    } finally {
      await server.kill();
      await cleanup();
      await cleanOut();
    }
  });

  it('lets one upload of a name run at a time over all workers', async () => {
    const { dir: root, cleanup } = await tempDir();
    const { dir: state, cleanup: cleanState } = await tempDir();
    const server = await startServerProcess(root, { args: ['--workers', '2', '--allow-upload', '--state-dir', state] });
    const data = Buffer.alloc(256 * 1024, 7);
    const begin = { name: 'up.bin', size: String(data.length), sha256: sha256(data) };
    const clients = [ownConnection(server.address), ownConnection(server.address)];
    try {
      // The first upload has taken the name and staged bytes on one worker ...
      const first = openUpload(clients[0]!, begin);
      await first.send(0, data.subarray(0, 64 * 1024));
      await pollUntil('the first upload to stage bytes', async () => ((await readdir(path.join(state, 'uploads'))).length > 0 ? true : undefined), [server]);
      // ... the same upload on another connection, so another worker, would write the same staged file.
      const second = await rawUpload(clients[1]!, begin, data);
      expect(second.code, second.details).to.equal(grpc.status.ABORTED);
      for (let at = 64 * 1024; at < data.length; at += 64 * 1024) await first.send(at, data.subarray(at, at + 64 * 1024));
      const ended = await first.end();
      expect(ended.code, ended.details).to.equal(grpc.status.OK);
      expect(await sha256File(path.join(root, 'up.bin'))).to.equal(sha256(data));
      await callsLogged(server, 'Upload', 2);
      expect(pidsOf(server, 'Upload').size, 'the two uploads ran on two workers').to.equal(2);
    } finally {
      for (const client of clients) client.close();
      await server.kill();
      await cleanup();
      await cleanState();
    }
  });
});

/**
 * A server with --workers 2, resolved once the primary has forked both (so
 * it handles signals) while they still load; `end` waits for its exit, which
 * must be 0.
 */
async function forkedServer(root: string, detached = false) {
  const primary = spawn(process.execPath, [SERVER_BIN, '--root', root, '--port', '0', '--workers', '2'], { stdio: ['ignore', 'pipe', 'pipe'], detached });
  let stdout = '';
  let stderr = '';
  primary.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
  primary.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
  const exited = once(primary, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const watched: Watched = {
    ended: exited.then(([code, signal]) => `grpc-server exited with ${signal ?? code}`),
    describe: () => `grpc-server (pid ${primary.pid}); stderr:\n${stderr}`,
  };
  await pollUntil('the primary to fork both workers', async () => ((await childPids(primary.pid!)).length === 2 ? true : undefined), [watched]);
  return {
    primary,
    end: async () => {
      const [code, signal] = await bounded('the server to exit', exited, [], 30_000);
      expect({ code, signal }, stderr).to.deep.equal({ code: 0, signal: null });
      const lines = stderr.split('\n').filter(Boolean);
      const logged = lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { msg: string; code?: number; signal?: string | null });
      return {
        stdout,
        said: lines.filter((line) => !line.startsWith('{')),
        stopped: logged.filter((entry) => entry.msg === 'worker stopped').map(({ code, signal }) => ({ code, signal })),
      };
    },
  };
}

async function rawDownloadAll(client: FileServiceClient, name: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const message of client.download({ name, offset: 0 }) as AsyncIterable<{ data: Buffer }>) parts.push(message.data);
  return Buffer.concat(parts);
}

async function childPids(parent: number): Promise<number[]> {
  const children = await readFile(`/proc/${parent}/task/${parent}/children`, 'utf8');
  return children.split(' ').filter(Boolean).map(Number);
}

/** The process among `pids` that has `file` open, if one has. */
async function holding(pids: number[], file: string): Promise<number | undefined> {
  for (const pid of pids) {
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => []);
    for (const fd of fds) if ((await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')) === file) return pid;
  }
  return undefined;
}
