// @ts-nocheck
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import http2 from 'node:http2';
import net from 'node:net';
import { mkdir, readFile, rename, symlink, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultLimits } from '../../../src/server/limits.js';
import { loadFileTransfer } from '../../../src/shared/proto.js';
import { MiB, tempDir } from '../../helpers/files.js';
import { startServerProcess, type ServerProcess } from '../../helpers/processes.js';
import { rawClient, rawList, rawListing, rawStat } from '../../helpers/rawClient.js';

/** Resolves with `promise`, or fails naming `what` after `ms` or when the server exits. */
function within<T>(promise: Promise<T>, ms: number, what: string, server: ServerProcess): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms))),
    once(server.process, 'exit').then(() => Promise.reject(new Error(`${what}: the server exited`))),
  ]).finally(() => clearTimeout(timer));
}

/** A TCP connection to the server, connected, with a promise of its close. */
async function openSocket(port: number): Promise<{ socket: net.Socket; closed: Promise<void> }> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  socket.on('data', () => undefined);
  const closed = once(socket, 'close').then(() => undefined);
  await once(socket, 'connect');
  return { socket, closed };
}

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
const frame = (type: number, flags: number, stream: number, payload = Buffer.alloc(0)) => {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header.writeUInt8(type, 3);
  header.writeUInt8(flags, 4);
  header.writeUInt32BE(stream, 5);
  return Buffer.concat([header, payload]);
};
const SETTINGS = 0x4;
const DATA = 0x0;
const GOAWAY = 0x7;

/** Stats a file through a fresh channel that waits for a connection to be possible. */
function statWhenReady(address: string, name: string): Promise<grpc.status> {
  const client = rawClient(address);
  return new Promise<grpc.status>((resolve) => {
    client.stat({ name }, new grpc.Metadata({ waitForReady: true }), { deadline: Date.now() + 10_000 }, (err) => resolve(err ? err.code : grpc.status.OK));
  }).finally(() => client.close());
}

const SERVER_BIN = fileURLToPath(new URL('../../../dist/server/cli.js', import.meta.url));

/** Calls any method with an empty request and no token; resolves with the final status code. */
function callWithoutToken(client: grpc.Client, method: grpc.MethodDefinition<object, object>): Promise<grpc.status> {
  return new Promise((resolve) => {
    const settle = (err: grpc.ServiceError | null) => resolve(err ? err.code : grpc.status.OK);
    const { path: rpc, requestSerialize: serialize, responseDeserialize: deserialize } = method;
    if (!method.requestStream && !method.responseStream) {
      client.makeUnaryRequest(rpc, serialize, deserialize, {}, settle);
    } else if (method.requestStream && !method.responseStream) {
      client.makeClientStreamRequest(rpc, serialize, deserialize, settle).end({});
    } else {
      const call = method.requestStream
        ? client.makeBidiStreamRequest(rpc, serialize, deserialize)
        : client.makeServerStreamRequest(rpc, serialize, deserialize, {});
      if (method.requestStream) (call as grpc.ClientDuplexStream<object, object>).end({});
      call.on('data', () => undefined);
      call.on('error', (err: grpc.ServiceError) => settle(err));
      call.on('status', (status: grpc.StatusObject) => status.code === grpc.status.OK && settle(null));
    }
  });
}

/** Runs grpc-server to its exit; for arguments it must refuse before listening. */
async function runServer(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [SERVER_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const listening = new Promise<never>((_, reject) =>
    child.stdout.on('data', () => {
      child.kill('SIGKILL');
      reject(new Error(`grpc-server started with ${args.join(' ')}: ${stdout}`));
    }),
  );
  const [code] = (await Promise.race([once(child, 'exit'), listening])) as [number | null];
  return { code, stdout, stderr };
}

describe('grpc-server hardening', function () {
  this.timeout(30_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => ({ dir, cleanup } = await tempDir()));
  after(() => cleanup());

  it('refuses an unknown --log-level with one usage line and exit 2, no stack trace', async () => {
    const run = await runServer(['--root', dir, '--port', '0', '--log-level', 'verbose']);
    expect(run.code).to.equal(2);
    expect(run.stderr).to.match(
      /^grpc-server: option '--log-level <level>' argument 'verbose' is invalid\. Allowed choices are fatal, error, warn, info, debug, trace, silent; try 'grpc-server --help'\n$/,
    );
  });

  it('refuses every FileService RPC without a token, taken from the service definition so a new one is covered', async () => {
    const tokens = path.join(dir, 'tokens.txt');
    await writeFile(tokens, 'a-token\n');
    await writeFile(path.join(dir, 'f.txt'), 'content\n');
    const server = await startServerProcess(dir, { args: ['--token-file', tokens] });
    const client = new grpc.Client(server.address, grpc.credentials.createInsecure());
    try {
      const methods = Object.entries(loadFileTransfer().FileService.service);
      expect(methods.map(([name]) => name)).to.include.members(['Download', 'Stat', 'List']);
      for (const [name, method] of methods) {
        expect(await callWithoutToken(client, method), name).to.equal(grpc.status.UNAUTHENTICATED);
        expect((await server.waitForCall((c) => c.method === name)).code, name).to.equal('UNAUTHENTICATED');
      }
    } finally {
      client.close();
      await server.kill();
    }
  });

  describe('connections', () => {
    it('closes connections that never send the HTTP/2 preface once the handshake timeout passes, and keeps serving', async () => {
      await writeFile(path.join(dir, 'f.txt'), 'content\n');
      const server = await startServerProcess(dir, { args: ['--handshake-timeout-ms', '300'] });
      try {
        const idle = await Promise.all(Array.from({ length: 20 }, () => openSocket(server.port)));
        await within(Promise.all(idle.map((s) => s.closed)), 5000, 'the server closing 20 silent connections', server);
        expect(await statWhenReady(server.address, 'f.txt')).to.equal(grpc.status.OK);
      } finally {
        await server.kill();
      }
    });

    it('closes a connection promptly after the GOAWAY it sent for a bad frame, not at keepalive', async () => {
      const server = await startServerProcess(dir, { args: ['--handshake-timeout-ms', '300'] });
      try {
        const { socket, closed } = await openSocket(server.port);
        let received = Buffer.alloc(0);
        const goaway = new Promise<void>((resolve) =>
          socket.on('data', (data: Buffer) => {
            received = Buffer.concat([received, data]);
            for (let at = 0; at + 9 <= received.length; at += 9 + received.readUIntBE(at, 3)) {
              if (received.readUInt8(at + 3) === GOAWAY) resolve();
            }
          }),
        );
        // DATA on stream 0 is a connection error (RFC 9113 6.1).
        socket.write(Buffer.concat([PREFACE, frame(SETTINGS, 0, 0), frame(DATA, 0, 0, Buffer.from('bad!'))]));
        await within(goaway, 5000, 'a GOAWAY for the bad frame', server);
        // The peer closes its side, as a client does: the server must not sit in CLOSE-WAIT.
        socket.end();
        await within(closed, 5000, 'the server closing the connection after its GOAWAY', server);
      } finally {
        await server.kill();
      }
    });

    it('keeps a silent but healthy HTTP/2 connection: it answers the pings that probe it', async () => {
      const server = await startServerProcess(dir, { args: ['--handshake-timeout-ms', '200'] });
      const session = http2.connect(`http://${server.address}`);
      try {
        session.on('error', () => undefined);
        let pings = 0;
        const probedTwice = new Promise<void>((resolve) => session.on('ping', () => (pings += 1) === 2 && resolve()));
        await within(probedTwice, 5000, 'two probing pings', server);
        expect(session.closed || session.destroyed).to.equal(false);
      } finally {
        session.destroy();
        await server.kill();
      }
    });

    it('refuses connections over --max-connections at once and reports the limit; a client gets in once one leaves', async () => {
      await writeFile(path.join(dir, 'f.txt'), 'content\n');
      const server = await startServerProcess(dir, { args: ['--max-connections', '3', '--handshake-timeout-ms', '60000'] });
      try {
        expect(server.logs.find((entry) => entry.msg === 'limits')).to.include({ maxConnections: 3, handshakeTimeoutMs: 60000 });
        const held = [await openSocket(server.port), await openSocket(server.port), await openSocket(server.port)];
        let heldClosed = false;
        for (const { closed } of held) void closed.then(() => (heldClosed = true));
        const extra = await openSocket(server.port);
        await within(extra.closed, 5000, 'the server refusing a fourth connection', server);
        expect(heldClosed, 'the three connections within the limit stay open').to.equal(false);
        held[0]!.socket.destroy();
        expect(await statWhenReady(server.address, 'f.txt')).to.equal(grpc.status.OK);
        for (const { socket } of held) socket.destroy();
      } finally {
        await server.kill();
      }
    });

    it('reports the connection limit it derived from the descriptor limit', async () => {
      const server = await startServerProcess(dir);
      try {
        const limitsText = await readFile(`/proc/${server.process.pid}/limits`, 'utf8');
        const nofile = Number(/^Max open files\s+(\d+)/m.exec(limitsText)![1]);
        const logged = server.logs.find((entry) => entry.msg === 'limits');
        expect(logged).to.include({ ...defaultLimits(nofile), maxQueuedHashes: 64, handshakeTimeoutMs: 10_000 });
      } finally {
        await server.kill();
      }
    });
  });

  describe('descriptors and hashes', () => {
    it('answers Stats beyond the hash queue with RESOURCE_EXHAUSTED instead of queueing without bound', async () => {
      const root = path.join(dir, 'hashes');
      await mkdir(root);
      const names = Array.from({ length: 6 }, (_, i) => `big${i}.bin`);
      for (const name of names) {
        await writeFile(path.join(root, name), '');
        await truncate(path.join(root, name), 512 * MiB);
      }
      const server = await startServerProcess(root, { args: ['--max-queued-hashes', '1'] });
      const client = rawClient(server.address);
      try {
        const results = await Promise.all(names.map((name) => rawStat(client, name)));
        const codes = results.map((r) => r.code).sort();
        // Two hash, one waits, the other three are refused at once.
        expect(codes).to.deep.equal([
          grpc.status.OK,
          grpc.status.OK,
          grpc.status.OK,
          grpc.status.RESOURCE_EXHAUSTED,
          grpc.status.RESOURCE_EXHAUSTED,
          grpc.status.RESOURCE_EXHAUSTED,
        ]);
        expect(results.find((r) => r.code !== grpc.status.OK)!.details).to.equal('1 files are already waiting to be hashed; retry shortly');
        expect(server.calls('Stat').filter((c) => c.code === 'RESOURCE_EXHAUSTED')).to.have.length(3);
      } finally {
        client.close();
        await server.kill();
      }
    });

    it('keeps files open for calls within --max-open-files: a Stat during a held Download is refused, then served', async () => {
      const root = path.join(dir, 'open-files');
      await mkdir(root);
      await writeFile(path.join(root, 'large.bin'), '');
      await truncate(path.join(root, 'large.bin'), 64 * MiB);
      await writeFile(path.join(root, 'small.txt'), 'small\n');
      const server = await startServerProcess(root, { args: ['--max-open-files', '1'] });
      const client = rawClient(server.address);
      try {
        const download = client.download({ name: 'large.bin', offset: 0 });
        download.on('error', () => undefined);
        await once(download, 'data');
        download.pause();
        const refused = await rawStat(client, 'small.txt');
        expect(refused.code).to.equal(grpc.status.RESOURCE_EXHAUSTED);
        expect(refused.details).to.equal('the server has 1 files open, its limit; retry shortly');
        expect((await rawList(client, '')).code).to.equal(grpc.status.RESOURCE_EXHAUSTED);
        download.on('data', () => undefined);
        download.resume();
        const finished = await within(
          server.waitForCall((c) => c.method === 'Download'),
          20_000,
          'the held download finishing',
          server,
        );
        expect(finished.code).to.equal('OK');
        expect((await rawStat(client, 'small.txt')).code).to.equal(grpc.status.OK);
      } finally {
        client.close();
        await server.kill();
      }
    });
  });

  describe('listing', () => {
    let tree: string;
    const FOLDERS = 40;
    const PER_FOLDER = 100;
    before(async () => {
      tree = path.join(dir, 'tree');
      for (let d = 0; d < FOLDERS; d += 1) {
        const folder = path.join(tree, `d${String(d).padStart(2, '0')}`);
        await mkdir(folder, { recursive: true });
        await Promise.all(Array.from({ length: PER_FOLDER }, (_, f) => writeFile(path.join(folder, `f${String(f).padStart(3, '0')}`), '')));
      }
    });

    it('lists a whole tree in name order and logs how many folders it read', async () => {
      const server = await startServerProcess(tree);
      const client = rawClient(server.address);
      try {
        const { code, names } = await rawList(client, '');
        expect(code).to.equal(grpc.status.OK);
        expect(names).to.have.length(FOLDERS * PER_FOLDER);
        expect(names).to.deep.equal([...names].sort());
        const logged = (await server.waitForCall((c) => c.method === 'List')) as unknown as { count: number; folders: number };
        expect(logged).to.include({ count: FOLDERS * PER_FOLDER, folders: FOLDERS + 1 });
        const batches = await rawListing(client, 'listBatches', '');
        expect(batches.files.map((f) => f.name)).to.deep.equal(names);
        const loggedBatches = (await server.waitForCall((c) => c.method === 'ListBatches')) as unknown as { count: number; folders: number };
        expect(loggedBatches).to.include({ count: FOLDERS * PER_FOLDER, folders: FOLDERS + 1 });
      } finally {
        client.close();
        await server.kill();
      }
    });

    it('stops walking when the client cancels after the first entry', async () => {
      const server = await startServerProcess(tree);
      const client = rawClient(server.address);
      try {
        const call = client.list({ prefix: '' });
        call.on('error', () => undefined);
        await once(call, 'data');
        call.cancel();
        const logged = (await within(
          server.waitForCall((c) => c.method === 'List'),
          10_000,
          'the List call log',
          server,
        )) as unknown as { code: string; folders: number };
        expect(logged.code).to.equal('CANCELLED');
        expect(logged.folders, 'folders read before the cancel')
          .to.be.a('number')
          .and.below(FOLDERS / 2);
      } finally {
        client.close();
        await server.kill();
      }
    });

    it('stops walking at the deadline of a client that stopped reading', async () => {
      const server = await startServerProcess(tree);
      const client = rawClient(server.address);
      try {
        const call = client.list({ prefix: '' }, { deadline: Date.now() + 1000 });
        const failed = once(call, 'error') as Promise<[grpc.ServiceError]>;
        // On a loaded machine the deadline may pass before the first batch
        // arrives: the server must have stopped walking all the same.
        await Promise.race([new Promise((resolve) => call.once('data', resolve)), failed]);
        call.pause();
        const [err] = await within(failed, 10_000, 'the deadline', server);
        expect(err.code).to.equal(grpc.status.DEADLINE_EXCEEDED);
        const logged = (await within(
          server.waitForCall((c) => c.method === 'List'),
          10_000,
          'the List call log',
          server,
        )) as unknown as { folders: number };
        expect(logged.folders, 'folders read before the deadline')
          .to.be.a('number')
          .and.below(FOLDERS / 2);
      } finally {
        client.close();
        await server.kill();
      }
    });

    it('never lists what lies outside the root when a folder is swapped for a symlink mid-listing', async () => {
      const root = path.join(dir, 'swap');
      const outside = path.join(dir, 'swap-outside');
      await mkdir(path.join(root, 'a'), { recursive: true });
      await mkdir(path.join(root, 'b'));
      await mkdir(outside);
      await Promise.all(Array.from({ length: 3000 }, (_, f) => writeFile(path.join(root, 'a', `f${String(f).padStart(4, '0')}`), '')));
      await writeFile(path.join(root, 'b', 'inner.txt'), 'inside\n');
      await writeFile(path.join(outside, 'secret.txt'), 'a secret of 27 bytes here!\n');
      const server = await startServerProcess(root);
      const client = rawClient(server.address);
      try {
        const call = client.list({ prefix: '' });
        const names: string[] = [];
        const ended = new Promise<grpc.status>((resolve) => {
          call.on('error', (err: grpc.ServiceError) => resolve(err.code));
          call.on('end', () => resolve(grpc.status.OK));
        });
        const [first] = (await once(call, 'data')) as [{ name: string }];
        names.push(first.name);
        call.pause();
        // The server has read the root (b is a folder) and is held by flow
        // control inside a/, thousands of entries before it gets to b.
        await rename(path.join(root, 'b'), path.join(root, 'b-moved'));
        await symlink(outside, path.join(root, 'b'));
        call.on('data', (info: { name: string }) => names.push(info.name));
        call.resume();
        expect(await ended).to.equal(grpc.status.OK);
        expect(names.filter((name) => name.startsWith('a/'))).to.have.length(3000);
        expect(names.filter((name) => !name.startsWith('a/'))).to.deep.equal([]);
      } finally {
        client.close();
        await server.kill();
      }
    });
  });
});
