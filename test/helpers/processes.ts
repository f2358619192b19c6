import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The two commands as users run them, through their launcher lines. */
export const SERVER_BIN = fileURLToPath(new URL('../../dist/server/cli.js', import.meta.url));
export const CLIENT_BIN = fileURLToPath(new URL('../../dist/bin/grpc-client.js', import.meta.url));

/** One line of the server's JSON call log. */
interface CallLog {
  method: string;
  /** The process that served the call; with --workers, also its worker number. */
  pid: number;
  worker?: number;
  name?: string;
  offset?: string;
  /** Download: the limit asked for, when one was. */
  limit?: string;
  bytesSent?: number;
  /** Blocks: digests sent, and whether the call waited for a hash pass. */
  blocks?: number;
  hashed?: boolean;
  /** DownloadMany and DownloadManyBatches: files sent whole. */
  files?: number;
  /** Upload: file bytes taken from the stream, its declared size, whether it ended published. */
  bytesReceived?: number;
  size?: number;
  complete?: boolean;
  alreadyPublished?: boolean;
  code: string;
}

/** A process a test waits on: a wait it makes pointless fails at once, saying why. */
export interface Watched {
  /** Settles when the process has exited, with a description of its end. */
  ended: Promise<string>;
  /** Who it is, whether it still runs, and the tail of its stderr. */
  describe(): string;
}

/** How long a helper waits, by default, for a condition no event announces. */
const WAIT_MS = 20_000;

const tail = (text: string) => text.split('\n').filter(Boolean).slice(-8).join('\n  ');

/**
 * Settles with `work`, or fails clearly: after `ms`, or as soon as one of the
 * `watched` processes exits (a line it will never print, a file it will
 * never write). Either way the message carries their stderr tails, not just
 * a mocha timeout.
 */
export function bounded<T>(what: string, work: Promise<T>, watched: Watched[] = [], ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const report = () => watched.map((w) => `\n- ${w.describe()}`).join('');
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`gave up after ${ms} ms waiting for ${what}${report()}`)), ms);
  });
  const exits = watched.map((w) =>
    w.ended.then((end) => {
      throw new Error(`${end} while the test waited for ${what}${report()}`);
    }),
  );
  return Promise.race([work, timeout, ...exits]).finally(() => clearTimeout(timer));
}

function endOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

export interface ServerProcess extends Watched {
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
  /** Resolves when a log line with this message has been written; bounded, and fails if the server exits first. */
  waitForLog(msg: string, ms?: number): Promise<void>;
  /** Resolves when a call matching `predicate` has been logged; bounded, and fails if the server exits first. */
  waitForCall(predicate: (call: CallLog) => boolean, ms?: number): Promise<CallLog>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts the real grpc-server and resolves on its readiness line, the only
 * signal we wait on: no sleeps.
 */
export async function startServerProcess(root: string, options: { port?: number; args?: string[]; env?: NodeJS.ProcessEnv } = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, [SERVER_BIN, '--root', root, '--port', String(options.port ?? 0), ...(options.args ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
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
  const ended = endOf(child).then(({ code, signal }) => `grpc-server (pid ${child.pid}) exited with ${signal ?? code}`);
  const describe = () =>
    `grpc-server (pid ${child.pid}) ${child.exitCode === null && child.signalCode === null ? 'running' : `exited with ${child.signalCode ?? child.exitCode}`}; stderr tail:\n  ${tail(stderrLines.join('\n'))}`;
  const ready = await new Promise<RegExpExecArray>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      const match = /^grpc-server listening on (\S+):(\d+), serving .*?(?:, metrics on \S+:(\d+))?$/.exec(line);
      if (match) resolve(match);
      else reject(new Error(`unexpected first line from grpc-server: ${line}`));
    });
    child.once('exit', (code) => reject(new Error(`grpc-server exited with ${code} before it was ready: ${tail(stderrLines.join('\n'))}`)));
  });
  const port = Number(ready[2]);
  const server: ServerProcess = {
    port,
    metricsPort: ready[3] === undefined ? undefined : Number(ready[3]),
    stderrLines,
    address: `127.0.0.1:${port}`,
    process: child,
    logs: entries,
    ended,
    describe,
    waitForLog: (msg, ms) =>
      entries.some((e) => e.msg === msg)
        ? Promise.resolve()
        : bounded(`the server to log "${msg}"`, new Promise((resolve) => logWaiters.push({ predicate: (e) => e.msg === msg, resolve })), [server], ms),
    calls: (method, name) => logs.filter((c) => (!method || c.method === method) && (!name || c.name === name)),
    waitForCall: (predicate, ms) => {
      const seen = logs.find(predicate);
      if (seen) return Promise.resolve(seen);
      return bounded(`the server to log a call matching ${predicate}`, new Promise((resolve) => waiters.push({ predicate, resolve })), [server], ms);
    },
    kill: async (signal = 'SIGKILL') => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      // A stopped process gets no SIGTERM until it is continued.
      child.kill('SIGCONT');
      child.kill(signal);
      await exited;
    },
  };
  return server;
}

export interface ClientRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface ClientProcess extends Watched {
  process: ChildProcess;
  /** Resolves with the first stderr line matching `pattern`; bounded, and fails if the client exits first. */
  waitForStderr(pattern: RegExp, ms?: number): Promise<string>;
  /** Resolves with the first stdout line matching `pattern`; bounded, and fails if the client exits first. */
  waitForStdout(pattern: RegExp, ms?: number): Promise<string>;
  done: Promise<ClientRun>;
}

/** Starts the real grpc-client CLI. */
export function spawnClient(args: string[], env: NodeJS.ProcessEnv = {}, input?: string): ClientProcess {
  const child = spawn(process.execPath, [CLIENT_BIN, ...args], {
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  if (input !== undefined) child.stdin!.end(input);
  const output = { stdout: '', stderr: '' };
  const waiters: { stream: keyof typeof output; pattern: RegExp; resolve: (line: string) => void }[] = [];
  // Whole lines only: a chunk may end mid-line.
  const find = (stream: keyof typeof output, pattern: RegExp) =>
    output[stream]
      .split('\n')
      .slice(0, -1)
      .find((l) => pattern.test(l));
  for (const stream of ['stdout', 'stderr'] as const) {
    child[stream]!.on('data', (d: Buffer) => {
      output[stream] += d.toString();
      for (const waiter of waiters.filter((w) => w.stream === stream)) {
        const line = find(stream, waiter.pattern);
        if (line !== undefined) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    });
  }
  const done = new Promise<ClientRun>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, ...output }));
  });
  const client: ClientProcess = {
    process: child,
    done,
    ended: done.then(({ code, signal }) => `grpc-client ${args[0]} (pid ${child.pid}) exited with ${signal ?? code}`),
    describe: () =>
      `grpc-client ${args[0]} (pid ${child.pid}) ${child.exitCode === null && child.signalCode === null ? 'running' : `exited with ${child.signalCode ?? child.exitCode}`}; stderr tail:\n  ${tail(output.stderr)}`,
    waitForStderr: (pattern, ms) => waitForLine('stderr', pattern, ms),
    waitForStdout: (pattern, ms) => waitForLine('stdout', pattern, ms),
  };
  function waitForLine(stream: keyof typeof output, pattern: RegExp, ms?: number): Promise<string> {
    const line = find(stream, pattern);
    if (line !== undefined) return Promise.resolve(line);
    return bounded(`a ${stream} line matching ${pattern}`, new Promise((resolve) => waiters.push({ stream, pattern, resolve })), [client], ms);
  }
  return client;
}

/** Runs the real grpc-client CLI to its end; `input`, if given, is its stdin. */
export function runClient(args: string[], env: NodeJS.ProcessEnv = {}, input?: string): Promise<ClientRun> {
  return spawnClient(args, env, input).done;
}

/**
 * Polls `check` until it returns a value other than undefined. For conditions
 * no event announces across processes (a file's length, a record on disk);
 * bounded, and fails as soon as the process expected to bring the condition
 * about has exited.
 */
export async function pollUntil<T>(what: string, check: () => Promise<T | undefined>, watched: Watched[], ms = WAIT_MS): Promise<T> {
  let stop = false;
  const poll = (async () => {
    while (!stop) {
      const value = await check();
      if (value !== undefined) return value;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return undefined as never;
  })();
  try {
    return await bounded(what, poll, watched, ms);
  } finally {
    stop = true;
  }
}

/** Waits until `file`, written by `writer`, holds at least `atLeast` bytes; returns its length. */
export function waitForSize(file: string, atLeast: number, writer: Watched, ms?: number): Promise<number> {
  return pollUntil(
    `${file} to reach ${atLeast} bytes`,
    async () => {
      const size = await stat(file).then(
        (s) => s.size,
        () => 0,
      );
      return size >= atLeast ? size : undefined;
    },
    [writer],
    ms,
  );
}

/** kill -9, and wait until the process is gone. */
export async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

/** The calls `server` logs from now on, of one method: what a step of a test made it do. */
export function callsFrom(server: ServerProcess): (method: string) => CallLog[] {
  const mark = server.calls().length;
  return (method) =>
    server
      .calls()
      .slice(mark)
      .filter((c) => c.method === method);
}
