// @ts-nocheck
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

// Run as users run them, through their launcher lines, which set glibc's
// malloc thresholds (see src/server/cli.ts); `node <file>` would skip them.
const SERVER_BIN = fileURLToPath(new URL('../dist/server/cli.js', import.meta.url));
export const CLIENT_BIN = fileURLToPath(new URL('../dist/bin/grpc-client.js', import.meta.url));

const FLOOR = fileURLToPath(new URL('./floor.ts', import.meta.url));
const CCORE_PEER = fileURLToPath(new URL('./ccore/peer.py', import.meta.url));
/** Debian's interpreter, where python3-grpcio installs: another python3 may come first on PATH. */
const SYSTEM_PYTHON = '/usr/bin/python3';

/**
 * Servers and peers the bench started and has not stopped. A bench that
 * dies (an uncaught error, Ctrl-C, a closed pipe on its output) skips its
 * own stops: these are told to stop as it exits, so no nginx or server is
 * left holding a port and its tmpfs folder.
 */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGTERM');
});
// Without handlers, these signals end the process without its 'exit' event.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(128 + os.constants.signals[signal]));

function tracked(child: ChildProcess): ChildProcess {
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

/** The glibc tunables our bins' launcher lines add, for processes the bench starts itself. */
export function binEnv(): NodeJS.ProcessEnv {
  const launcher = readFileSync(CLIENT_BIN, 'utf8').split('\n', 2)[1] ?? '';
  const tunables = /glibc\.malloc\.[^"$]+/.exec(launcher)?.[0];
  return tunables ? { ...process.env, GLIBC_TUNABLES: tunables } : process.env;
}

/** bench/floor.ts as a server; `fetch()` runs its client once and returns the stream's seconds. */
export async function startFloor(): Promise<{ fetch(): Promise<number>; stop(): Promise<void> }> {
  const env = binEnv();
  const child = tracked(spawn(process.execPath, ['--import', 'tsx', FLOOR, 'server'], { stdio: ['ignore', 'pipe', 'inherit'], env }));
  const [port] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  return {
    fetch: async () => {
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', FLOOR, 'client', port], { env });
      return Number(stdout.trim());
    },
    stop: () => stop(child),
  };
}

const MANY_FLOOR = fileURLToPath(new URL('./manyFloor.mjs', import.meta.url));

/**
 * bench/manyFloor.mjs serving `folder`; `client(out, pack)` is the command
 * line of its client, which writes the folder's files into `out`.
 */
export async function startManyFloor(folder: string): Promise<{ client(out: string, pack: number): [string, string[]]; stop(): Promise<void> }> {
  const child = tracked(spawn(process.execPath, [MANY_FLOOR, 'server', folder], { stdio: ['ignore', 'pipe', 'inherit'], env: binEnv() }));
  const [port] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  return {
    client: (out, pack) => [process.execPath, [MANY_FLOOR, 'client', port, out, String(pack)]],
    stop: () => stop(child),
  };
}

export function have(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
}

/** True when Debian's python3-grpcio can be imported; the bench installs nothing itself. */
export function haveCcore(): boolean {
  return spawnSync(SYSTEM_PYTHON, ['-c', 'import grpc']).status === 0;
}

/** A command line run on one CPU only, with taskset, or as is when `cpu` is undefined. */
export function pinned(cpu: number | undefined, command: string, args: string[]): [string, string[]] {
  return cpu === undefined ? [command, args] : ['taskset', ['-c', String(cpu), command, ...args]];
}

/** The C-core client's command line: fetch `name` from `server` into the file `out`. */
export function ccoreClient(server: string, name: string, out: string): [string, string[]] {
  return [SYSTEM_PYTHON, [CCORE_PEER, 'client', server, name, out]];
}

export interface Started {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

export interface CallLog {
  method: string;
  name: string;
  offset: string;
  bytesSent: number;
  /** DownloadMany and DownloadManyBatches: files sent whole. */
  files?: number;
  /** Blocks: digests sent. */
  blocks?: number;
  /** Upload: file bytes taken from the stream. */
  bytesReceived?: number;
}

export interface StartOptions {
  /** The only CPU the server may run on (taskset). */
  cpu?: number;
  env?: NodeJS.ProcessEnv;
}

/** Our server, waited for by its readiness line; its call log is kept for byte counts. */
export async function startOurs(root: string, args: string[] = [], options: StartOptions = {}): Promise<Started & { calls: CallLog[] }> {
  const child = tracked(
    spawn(...pinned(options.cpu, SERVER_BIN, ['--root', root, '--port', '0', ...args]), {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: options.env ?? process.env,
    }),
  );
  const calls: CallLog[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    try {
      const entry = JSON.parse(line);
      if (entry.msg === 'call') calls.push(entry);
    } catch {
      // not a log line
    }
  });
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  const port = Number(/:(\d+), serving/.exec(line)![1]);
  return { port, pid: child.pid!, calls, stop: () => stop(child) };
}

/**
 * nginx serving `root` with sendfile and long-lived keep-alive connections,
 * the plain-HTTP peer; `server` adds directives to its server block (WebDAV
 * PUT for uploads).
 */
export async function startNginx(root: string, workDir: string, server = '', cpu?: number): Promise<Started> {
  const port = await freePort();
  const conf = path.join(workDir, 'nginx.conf');
  await writeFile(
    conf,
    `daemon off;
worker_processes auto;
pid ${workDir}/nginx.pid;
error_log ${workDir}/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  # aria2c reuses its connections (case 3: 8 for 2,000 files, ~250
  # requests each); nginx would close one after 1,000 requests (100 before
  # 1.19.10) or 75 s idle. The peer should never pay for a reconnect.
  keepalive_requests 100000;
  keepalive_timeout 300s;
  client_body_temp_path ${workDir}/nginx-body;
  proxy_temp_path ${workDir}/nginx-proxy;
  fastcgi_temp_path ${workDir}/nginx-fastcgi;
  uwsgi_temp_path ${workDir}/nginx-uwsgi;
  scgi_temp_path ${workDir}/nginx-scgi;
  server { listen 127.0.0.1:${port}; root ${root}; ${server} }
}
`,
  );
  const child = tracked(spawn(...pinned(cpu, 'nginx', ['-c', conf, '-p', workDir]), { stdio: 'ignore' }));
  await waitForPort(port);
  return { port, pid: child.pid!, stop: () => stop(child) };
}

/** The C-core gRPC server (bench/ccore/peer.py) serving `root`, waited for by the port it prints. */
export async function startCcore(root: string, cpu?: number): Promise<Started> {
  const child = tracked(spawn(...pinned(cpu, SYSTEM_PYTHON, [CCORE_PEER, 'server', root]), { stdio: ['ignore', 'pipe', 'inherit'] }));
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`the C-core peer exited with ${code} before it printed its port`))),
  );
  exited.catch(() => undefined);
  const [port] = await Promise.race([once(createInterface({ input: child.stdout! }), 'line') as Promise<[string]>, exited]);
  return { port: Number(port), pid: child.pid!, stop: () => stop(child) };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  return port;
}

/** nginx prints nothing when ready: connecting is its readiness signal. */
async function waitForPort(port: number): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const connected = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (connected) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`nothing listens on port ${port}`);
}
