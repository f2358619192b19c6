import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import type { LoggedDigests } from './digestLog.js';

/**
 * Several processes serving one port, with node:cluster: grpc-js listens
 * through Node's net server, whose listen() in a cluster worker shares the
 * primary's socket (Node 20 has no reusePort for SO_REUSEPORT). The
 * primary serves no calls: it starts the workers, says once that all
 * listen, forwards stop and reload, replaces a worker that dies, keeps the
 * digest log, serves the metrics of all, and grants the turns that must
 * hold across workers: one hash of a file at a time, one upload of a name.
 */

/** Keys of the turns the primary grants: one hash per file version, one upload per name. */
const HASH_TURN = 'hash:';
export const hashTurn = (version: string) => `${HASH_TURN}${version}`;
export const uploadTurn = (name: string) => `upload:${name}`;

/** One worker's metrics, as prom-client's getMetricsAsJSON gives them. */
export type WorkerMetrics = object[];

type ToPrimary =
  | { kind: 'ready'; host: string; port: number; root: string }
  | { kind: 'metrics'; id: number; metrics: WorkerMetrics }
  | { kind: 'failed'; message: string }
  /** A digest learnt by a worker: persisted, and told to the others. */
  | { kind: 'digest'; version: string; digests: LoggedDigests }
  /** Asks for a turn; `wait: false` answers at once, granted or not. */
  | { kind: 'take'; key: string; wait: boolean }
  /** Ends a turn: with the digests it computed, which every waiter takes instead of its own turn. */
  | { kind: 'give'; key: string; digests?: LoggedDigests };

type ToWorker =
  | { kind: 'stop' }
  | { kind: 'reload' }
  | { kind: 'metrics'; id: number }
  | { kind: 'digest'; version: string; digests: LoggedDigests }
  | { kind: 'turn'; key: string; granted: boolean; digests?: LoggedDigests };

/** What the worker with the turn of `key` did with it, for those waiting. */
type TurnAnswer = { owner: number; granted: boolean; digests?: LoggedDigests };

/**
 * Who holds which turn, and who waits for it, by worker slot. No I/O: the
 * primary sends the answers it returns.
 */
export class Turns {
  private readonly held = new Map<string, { owner: number; waiting: number[] }>();

  /** A worker asks for `key`: granted at once, refused (when it would not wait), or nothing yet. */
  take(key: string, owner: number, wait: boolean): TurnAnswer[] {
    const turn = this.held.get(key);
    if (!turn) {
      this.held.set(key, { owner, waiting: [] });
      return [{ owner, granted: true }];
    }
    if (!wait) return [{ owner, granted: false }];
    turn.waiting.push(owner);
    return [];
  }

  /**
   * The owner ends its turn. With digests, every waiter gets them and the
   * turn is free; without (its hash failed), the next waiter gets the turn.
   */
  give(key: string, owner: number, digests?: LoggedDigests): TurnAnswer[] {
    const turn = this.held.get(key);
    if (!turn || turn.owner !== owner) return [];
    const next = turn.waiting.shift();
    if (digests || next === undefined) {
      this.held.delete(key);
      return [...(next === undefined ? [] : [next]), ...turn.waiting].map((waiter) => ({ owner: waiter, granted: true, digests }));
    }
    turn.owner = next;
    return [{ owner: next, granted: true }];
  }

  /** A worker is gone: its turns pass on as failed ones, and it waits for nothing. */
  leave(owner: number): { key: string; answer: TurnAnswer }[] {
    const answers: { key: string; answer: TurnAnswer }[] = [];
    for (const [key, turn] of [...this.held]) {
      turn.waiting = turn.waiting.filter((waiter) => waiter !== owner);
      // give passes on only a turn that `owner` holds, and answers nothing for another's.
      for (const answer of this.give(key, owner)) answers.push({ key, answer });
    }
    return answers;
  }
}

/**
 * Scrapes of the workers' metrics in progress. Each asks the workers that
 * listen when it begins and ends once each answered or is gone: a worker
 * still starting is not asked, and one that dies is not waited for, so a
 * scrape during a replacement shows the others instead of timing out.
 * No I/O: the primary sends the requests and serves the answers.
 */
export class Scrapes {
  private last = 0;
  private readonly open = new Map<number, { waiting: Set<number>; answers: WorkerMetrics[] }>();

  /** Begins a scrape of `slots`; `done` holds its answers when there is nobody to ask. */
  begin(slots: Iterable<number>): { id: number; done: WorkerMetrics[] | undefined } {
    this.last += 1;
    const waiting = new Set(slots);
    if (waiting.size === 0) return { id: this.last, done: [] };
    this.open.set(this.last, { waiting, answers: [] });
    return { id: this.last, done: undefined };
  }

  /** A worker's answer: the scrape's answers when it was the last one awaited. */
  answer(id: number, slot: number, metrics: WorkerMetrics): WorkerMetrics[] | undefined {
    const scrape = this.open.get(id);
    if (!scrape?.waiting.delete(slot)) return undefined;
    scrape.answers.push(metrics);
    return this.finished(id);
  }

  /** A worker is gone: the scrapes that waited only for it end without it. */
  leave(slot: number): { id: number; answers: WorkerMetrics[] }[] {
    const ended: { id: number; answers: WorkerMetrics[] }[] = [];
    for (const [id, scrape] of [...this.open]) {
      const answers = scrape.waiting.delete(slot) ? this.finished(id) : undefined;
      if (answers) ended.push({ id, answers });
    }
    return ended;
  }

  /** Forgets a scrape that timed out. */
  drop(id: number): void {
    this.open.delete(id);
  }

  private finished(id: number): WorkerMetrics[] | undefined {
    const scrape = this.open.get(id)!;
    if (scrape.waiting.size > 0) return undefined;
    this.open.delete(id);
    return scrape.answers;
  }
}

/**
 * The digests the primary has passed on lately, so one that two workers
 * learn at once (both sent the file whole) is logged and told once. The
 * most recent `bound` versions; past that, a repeat costs a line of the log.
 */
export class KnownDigests {
  private readonly known = new Map<string, { sha256: string; blocks: boolean }>();

  constructor(private readonly bound = 10_000) {}

  /** Whether `digests` of `version` tell anything not already passed on; remembers them if so. */
  isNews(version: string, digests: LoggedDigests): boolean {
    const had = this.known.get(version);
    if (had && had.sha256 === digests.sha256 && (had.blocks || !digests.blocks)) return false;
    this.known.delete(version);
    this.known.set(version, { sha256: digests.sha256, blocks: digests.blocks !== undefined });
    if (this.known.size > this.bound) this.known.delete(this.known.keys().next().value!);
    return true;
  }
}

/** A worker that does not answer for its metrics this soon (its loop blocked) fails the scrape. */
const SCRAPE_TIMEOUT_MS = 5000;

/** A worker that dies this soon after it started counts as failing to start. */
const QUICK_DEATH_MS = 10_000;
const MAX_QUICK_DEATHS = 3;

/**
 * Whether a worker that died after `livedMs` is started again, given how
 * many times in a row its slot's worker died that quickly: a crash now and
 * then is replaced; one that comes back at once every time is a fault a
 * restart does not cure, and replacing it forever would hide it.
 */
export function respawnVerdict(quickDeaths: number, livedMs: number): { respawn: boolean; quickDeaths: number } {
  const deaths = livedMs < QUICK_DEATH_MS ? quickDeaths + 1 : 0;
  return { respawn: deaths < MAX_QUICK_DEATHS, quickDeaths: deaths };
}

/** A worker's side of the link to its primary. */
export interface ClusterLink {
  /** 1 to N, kept by a replacement: what the logs call the worker. */
  slot: number;
  /** Waits for the turn of `key`; resolves with a waiter's digests when another worker's turn computed them instead. */
  take(key: string, wait: boolean): Promise<{ granted: boolean; digests?: LoggedDigests }>;
  give(key: string, digests?: LoggedDigests): void;
  shareDigest(version: string, digests: LoggedDigests): void;
  onDigest(listener: (version: string, digests: LoggedDigests) => void): void;
  onStop(listener: () => void): void;
  onReload(listener: () => void): void;
  /** Answers the primary's scrapes with what `collect` gives. */
  shareMetrics(collect: () => Promise<WorkerMetrics>): void;
  ready(info: { host: string; port: number; root: string }): void;
  /** Tells the primary why this worker cannot start; it prints that once for all. */
  failed(message: string): Promise<void>;
}

const SLOT_ENV = 'GRPC_SERVER_WORKER';

/** The link of this process, a cluster worker. */
export function joinPrimary(): ClusterLink {
  const send = (message: ToPrimary) => process.send!(message);
  const waiting = new Map<string, (answer: { granted: boolean; digests?: LoggedDigests }) => void>();
  const listeners = { digest: [] as ((version: string, digests: LoggedDigests) => void)[], stop: [] as (() => void)[], reload: [] as (() => void)[] };
  // A stop that comes while the worker still loads, before anyone listens for it, still counts.
  let stopped = false;
  let collect: (() => Promise<WorkerMetrics>) | undefined;
  process.on('message', (message: ToWorker) => {
    if (message.kind === 'turn') {
      const resolve = waiting.get(message.key);
      waiting.delete(message.key);
      resolve?.(message);
    } else if (message.kind === 'digest') for (const listener of listeners.digest) listener(message.version, message.digests);
    else if (message.kind === 'stop') {
      stopped = true;
      for (const listener of listeners.stop) listener();
    } else if (message.kind === 'reload') for (const listener of listeners.reload) listener();
    else if (message.kind === 'metrics' && collect) {
      // A failed collection leaves this worker out of the sum rather than failing the scrape after a timeout.
      const reply = (metrics: WorkerMetrics) => send({ kind: 'metrics', id: message.id, metrics });
      collect().then(reply, () => reply([]));
    }
  });
  return {
    slot: Number(process.env[SLOT_ENV]),
    take: (key, wait) =>
      new Promise((resolve) => {
        waiting.set(key, resolve);
        send({ kind: 'take', key, wait });
      }),
    give: (key, digests) => send({ kind: 'give', key, digests }),
    shareDigest: (version, digests) => send({ kind: 'digest', version, digests }),
    onDigest: (listener) => listeners.digest.push(listener),
    onStop: (listener) => {
      listeners.stop.push(listener);
      if (stopped) listener();
    },
    onReload: (listener) => listeners.reload.push(listener),
    shareMetrics: (collector) => (collect = collector),
    ready: (info) => send({ kind: 'ready', ...info }),
    // Sent before the worker exits, which would drop a message still queued.
    failed: (message) => new Promise((resolve) => process.send!({ kind: 'failed', message } satisfies ToPrimary, () => resolve())),
  };
}

export interface PrimaryOptions {
  workers: number;
  logger: Logger;
  graceMs: number;
  /** Forward SIGHUP to the workers (they were given a token file). */
  reloads: boolean;
  /** Persists the digests workers learn; opened (and compacted) before any worker reads it. */
  digestLog: { append(version: string, digests: LoggedDigests): void; close(): Promise<void> } | undefined;
  /** Serves the workers' metrics together, as `gather` gets them at each scrape; resolves with its port. */
  serveMetrics: ((gather: () => Promise<WorkerMetrics[]>) => Promise<{ port: number; close(): Promise<void> }>) | undefined;
  /** The readiness line, once every worker listens. */
  onReady: (info: { host: string; port: number; root: string; metricsPort: number | undefined }) => void;
  /** A worker could not start: the reason, printed once, and the primary exits 1. */
  onFailed: (message: string) => void;
}

/** Runs the primary: starts `workers` workers of this same program and looks after them until a signal stops them all. */
export async function runPrimary(options: PrimaryOptions): Promise<void> {
  const { logger } = options;
  // Buffers (block digests) cross the channel as they are.
  cluster.setupPrimary({ serialization: 'advanced' });
  const turns = new Turns();
  const slots = new Map<Worker, { slot: number; started: number }>();
  const quickDeaths = new Map<number, number>();
  const listening = new Set<number>();
  let ready = false;
  let stopping = false;
  let failed = false;
  const scrapes = new Scrapes();
  const scraped = new Map<number, (answers: WorkerMetrics[]) => void>();
  const gather = () =>
    new Promise<WorkerMetrics[]>((resolve, reject) => {
      const { id, done } = scrapes.begin(listening);
      if (done) return resolve(done);
      const timer = setTimeout(() => {
        scrapes.drop(id);
        scraped.delete(id);
        reject(new Error(`a worker did not answer for its metrics within ${SCRAPE_TIMEOUT_MS} ms`));
      }, SCRAPE_TIMEOUT_MS);
      scraped.set(id, (answers) => {
        clearTimeout(timer);
        scraped.delete(id);
        resolve(answers);
      });
      for (const slot of listening) tell(slot, { kind: 'metrics', id });
    });
  const metrics = await options.serveMetrics?.(gather);

  const workerOf = (slot: number) => [...slots].find(([, entry]) => entry.slot === slot)?.[0];
  const tell = (slot: number, message: ToWorker) => {
    const worker = workerOf(slot);
    if (worker?.isConnected()) worker.send(message);
  };
  /** To every worker that can hear it, or every one but `except`. */
  const broadcast = (message: ToWorker, except?: number) => {
    for (const [worker, entry] of slots) if (entry.slot !== except && worker.isConnected()) worker.send(message);
  };
  const answer = (key: string, { owner, granted, digests }: TurnAnswer) => tell(owner, { kind: 'turn', key, granted, digests });
  // A replacement listens as the first workers did, also with --port 0:
  // cluster shares one socket per (address, port asked for), which stays
  // open while any worker listens on it.
  const start = (slot: number) => {
    const worker = cluster.fork({ [SLOT_ENV]: String(slot) });
    // A send to a worker that has just died fails (EPIPE) before its exit is
    // known; unheard, that error would end the primary. Its exit handles the rest.
    worker.on('error', (err: Error) => logger.debug({ worker: slot, err: err.message }, 'worker channel'));
    slots.set(worker, { slot, started: Date.now() });
  };
  const exit = async (code: number) => {
    await metrics?.close();
    await options.digestLog?.close();
    process.exit(code);
  };
  const known = new KnownDigests();
  /** A digest one worker learnt: persisted, and told to the others. */
  const learnt = (from: number, version: string, digests: LoggedDigests) => {
    if (!known.isNews(version, digests)) return;
    options.digestLog?.append(version, digests);
    broadcast({ kind: 'digest', version, digests }, from);
  };
  const stopAll = () => {
    if (!stopping) {
      // A worker stuck past its grace period, or in its start, is not waited for forever.
      setTimeout(() => {
        for (const worker of slots.keys()) worker.process.kill('SIGKILL');
      }, options.graceMs + 5000).unref();
    }
    stopping = true;
    broadcast({ kind: 'stop' });
  };
  const fail = (message: string) => {
    failed = true;
    options.onFailed(message);
    stopAll();
  };

  cluster.on('message', (worker, message: ToPrimary) => {
    const slot = slots.get(worker)?.slot;
    if (slot === undefined) return;
    switch (message.kind) {
      case 'ready':
        // A worker still loading may have missed the stop (a message before its
        // listener is lost): told again, and never announced as listening.
        if (stopping) {
          worker.send({ kind: 'stop' } satisfies ToWorker);
          break;
        }
        listening.add(slot);
        if (ready) logger.info({ worker: slot, workerPid: worker.process.pid }, 'worker replaced');
        if (!ready && listening.size === options.workers) {
          ready = true;
          logger.info({ workers: options.workers }, 'workers listening');
          options.onReady({ host: message.host, port: message.port, root: message.root, metricsPort: metrics?.port });
        }
        break;
      case 'failed':
        if (ready) logger.error({ worker: slot, workerPid: worker.process.pid, err: message.message }, 'a replacement worker cannot start');
        else if (!stopping) fail(message.message);
        break;
      case 'metrics': {
        const answers = scrapes.answer(message.id, slot, message.metrics);
        if (answers) scraped.get(message.id)?.(answers);
        break;
      }
      case 'digest':
        learnt(slot, message.version, message.digests);
        break;
      case 'take':
        for (const turn of turns.take(message.key, slot, message.wait)) answer(message.key, turn);
        break;
      case 'give':
        // Before the answers: a worker that asks for the turn next finds the digests already told.
        if (message.digests && message.key.startsWith(HASH_TURN)) learnt(slot, message.key.slice(HASH_TURN.length), message.digests);
        for (const turn of turns.give(message.key, slot, message.digests)) answer(message.key, turn);
        break;
    }
  });

  cluster.on('exit', (worker, code, signal) => {
    const entry = slots.get(worker)!;
    slots.delete(worker);
    listening.delete(entry.slot);
    for (const { key, answer: turn } of turns.leave(entry.slot)) answer(key, turn);
    for (const { id, answers } of scrapes.leave(entry.slot)) scraped.get(id)?.(answers);
    if (!stopping && !ready && signal === 'SIGINT') {
      // It had no handler yet: a terminal's Ctrl-C reached the whole group,
      // and the primary's own SIGINT may not have been handled yet.
      logger.info({ signal }, 'shutting down: interrupted while the workers start');
      stopAll();
    }
    if (stopping) logger.info({ worker: entry.slot, workerPid: worker.process.pid, code, signal }, 'worker stopped');
    if (slots.size === 0 && stopping) {
      logger.info('all workers stopped');
      void exit(failed ? 1 : 0);
      return;
    }
    if (stopping) return;
    if (!ready) {
      // Before all listen, a worker that exits failed to start without saying why.
      fail(`worker ${entry.slot} exited with ${signal ?? code} before it listened`);
      return;
    }
    const verdict = respawnVerdict(quickDeaths.get(entry.slot) ?? 0, Date.now() - entry.started);
    quickDeaths.set(entry.slot, verdict.quickDeaths);
    if (!verdict.respawn) {
      logger.error(
        { worker: entry.slot, workerPid: worker.process.pid, code, signal, quickDeaths: verdict.quickDeaths },
        'a worker keeps dying right after it starts; stopping',
      );
      failed = true;
      stopAll();
      return;
    }
    logger.warn({ worker: entry.slot, workerPid: worker.process.pid, code, signal }, 'worker died; starting another');
    start(entry.slot);
  });

  // Set by a signal to the primary itself: only a second one means "stop now",
  // not one that comes after the primary began to stop for another reason.
  let signalled = false;
  const stop = (signal: NodeJS.Signals) => {
    if (signalled) {
      logger.warn({ signal }, 'second signal: stopping now');
      for (const worker of slots.keys()) worker.process.kill('SIGKILL');
      process.exit(1);
    }
    signalled = true;
    logger.info({ signal, graceMs: options.graceMs }, 'shutting down: no new calls, running ones get the grace period');
    // Through the channel, not a signal: a worker that got the same SIGINT
    // from the terminal would take a second one for "stop now".
    stopAll();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  if (options.reloads) {
    process.on('SIGHUP', () => broadcast({ kind: 'reload' }));
  }
  for (let slot = 1; slot <= options.workers; slot += 1) start(slot);
}
