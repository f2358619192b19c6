import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const SERVER_BIN = fileURLToPath(new URL('../../dist/server/cli.js', import.meta.url));
const CLIENT_BIN = fileURLToPath(new URL('../../dist/client/cli/cli.js', import.meta.url));

/** One line of the server's JSON call log. */
export interface CallLog {
  method: string;
  name?: string;
  offset?: string;
  bytesSent?: number;
  code: string;
}

export interface ServerProcess {
  port: number;
  /** Port of /metrics, when started with --metrics-port. */
  metricsPort: number | undefined;
  /** Every line the server wrote to stderr. */
  stderrLines: string[];
  address: string;
  process: ChildProcess;
  /** Every log line so far, in order. */
  logs: { msg: string; method?: string }[];
  /** Calls logged so far, optionally of one method and name. */
  calls(method?: string, name?: string): CallLog[];
  /** Resolves when a log line with this message has been written. */
  waitForLog(msg: string): Promise<void>;
  /** Resolves when a call matching `predicate` has been logged. */
  waitForCall(predicate: (call: CallLog) => boolean): Promise<CallLog>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts the real grpc-server and resolves on its readiness line, the only
 * signal we wait on: no sleeps.
 */
export async function startServerProcess(root: string, options: { port?: number; args?: string[] } = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, [SERVER_BIN, '--root', root, '--port', String(options.port ?? 0), ...(options.args ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: CallLog[] = [];
  const entries: { msg: string; method?: string }[] = [];
  const stderrLines: string[] = [];
  const waiters: { predicate: (call: CallLog) => boolean; resolve: (call: CallLog) => void }[] = [];
  const logWaiters: { predicate: (entry: { msg: string }) => boolean; resolve: () => void }[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    stderrLines.push(line);
    let entry: CallLog & { msg?: string };
    try {
      entry = JSON.parse(line);
    } catch {
      return;
    }
    entries.push(entry as { msg: string });
    for (const waiter of [...logWaiters]) {
      if (waiter.predicate(entry as { msg: string })) {
        logWaiters.splice(logWaiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
    if (entry.msg !== 'call') return;
    logs.push(entry);
    for (const waiter of [...waiters]) {
      if (waiter.predicate(entry)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(entry);
      }
    }
  });
  const ready = await new Promise<RegExpExecArray>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      const match = /^grpc-server listening on (\S+):(\d+), serving .*?(?:, metrics on \S+:(\d+))?$/.exec(line);
      if (match) resolve(match);
      else reject(new Error(`unexpected first line from grpc-server: ${line}`));
    });
    child.once('exit', (code) => reject(new Error(`grpc-server exited with ${code} before it was ready`)));
  });
  const port = Number(ready[2]);
  return {
    port,
    metricsPort: ready[3] === undefined ? undefined : Number(ready[3]),
    stderrLines,
    address: `127.0.0.1:${port}`,
    process: child,
    logs: entries,
    waitForLog: (msg) =>
      entries.some((e) => e.msg === msg) ? Promise.resolve() : new Promise((resolve) => logWaiters.push({ predicate: (e) => e.msg === msg, resolve })),
    calls: (method, name) => logs.filter((c) => (!method || c.method === method) && (!name || c.name === name)),
    waitForCall: (predicate) => {
      const seen = logs.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ predicate, resolve }));
    },
    kill: async (signal = 'SIGKILL') => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill(signal);
      await exited;
    },
  };
}

export interface ClientRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface ClientProcess {
  process: ChildProcess;
  /** Resolves once stderr has printed a line matching `pattern`. */
  waitForStderr(pattern: RegExp): Promise<string>;
  done: Promise<ClientRun>;
}

/** Starts the real grpc-client CLI. */
export function spawnClient(args: string[], env: NodeJS.ProcessEnv = {}): ClientProcess {
  const child = spawn(process.execPath, [CLIENT_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  const stderrWaiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    for (const waiter of [...stderrWaiters]) {
      const line = stderr.split('\n').find((l) => waiter.pattern.test(l));
      if (line !== undefined) {
        stderrWaiters.splice(stderrWaiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  const done = new Promise<ClientRun>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return {
    process: child,
    waitForStderr: (pattern) => {
      const line = stderr.split('\n').find((l) => pattern.test(l));
      if (line !== undefined) return Promise.resolve(line);
      return new Promise((resolve) => stderrWaiters.push({ pattern, resolve }));
    },
    done,
  };
}

export function runClient(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ClientRun> {
  return spawnClient(args, env).done;
}

/**
 * Polls the length of a file being written by another process until it
 * reaches `atLeast` bytes. This waits on the condition itself, which no
 * event announces across processes; mocha's timeout bounds it.
 */
export async function waitForSize(file: string, atLeast: number): Promise<number> {
  for (;;) {
    const size = await stat(file).then((s) => s.size, () => 0);
    if (size >= atLeast) return size;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** kill -9, and wait until the process is gone. */
export async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}
