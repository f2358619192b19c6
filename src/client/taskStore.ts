import { Low } from 'lowdb';
import { JSONFile } from 'lowdb/node';
import { mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { STALE_MS } from './fileLock.js';
import type { TaskRecords } from './download/taskRecords.js';
import { parseTaskMap } from './taskMapSchema.js';

export type TaskStatus = 'incomplete' | 'complete';

/** What the task map remembers about one name: enough to resume or to skip. */
export interface TaskRecord {
  name: string;
  status: TaskStatus;
  /** Size of the remote file, in bytes. */
  size: number;
  /** The server's version of the file the partial holds bytes of. */
  version: string;
  /** SHA-256 (hex) of the whole file, once known. */
  sha256: string | null;
  createdAt: string;
  updatedAt: string;
  completedAt: string | null;
}

interface TaskMapFile {
  tasks: Record<string, TaskRecord>;
}

/** What the remote side of a download tells the task map about a file. */
export interface RemoteFacts {
  size: number;
  version: string;
  sha256: string | null;
}

/** A task map file that cannot be used as it is; the message says what to do. */
export class TaskMapError extends Error {
  constructor(
    readonly file: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'TaskMapError';
  }
}

const RECOVERY = 'move it aside and run again: partials will resume and digests will be checked';

/**
 * Reads and checks a task map file: undefined when there is none, else its
 * usable records and a line for each record left out. Throws a TaskMapError
 * for a file that cannot be read or is not a task map.
 */
export async function readTaskMapFile(file: string): Promise<{ records: Record<string, TaskRecord>; problems: string[] } | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new TaskMapError(file, `cannot read the task map ${file} (${(err as Error).message})`, { cause: err });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new TaskMapError(file, `the task map ${file} is not valid JSON (${(err as Error).message}); ${RECOVERY}`, { cause: err });
  }
  const parsed = parseTaskMap(data);
  if (!parsed.ok) throw new TaskMapError(file, `the task map ${file} is not a task map: ${parsed.reason}; ${RECOVERY}`);
  return {
    records: parsed.records,
    problems: parsed.problems.map((problem) => `the task map ${file}: ${problem}; left out: its partial resumes and its file is checked by digest`),
  };
}

export interface TaskStoreOptions {
  /** Told once about each record of the file that is left out as invalid. */
  onProblem?: (message: string) => void;
}

const DEFAULT_DB_NAME = '.grpc-client-tasks.json';

/** Where the task map of `out` lives: `db` if given, else beside the downloads. */
export function taskMapFileOf(out: string, db?: string): string {
  return path.resolve(db ?? path.join(out, DEFAULT_DB_NAME));
}
const FLUSH_INTERVAL_MS = 100;

/**
 * The task map, one JSON file. Always a JSONFile adapter, never
 * JSONFilePreset: the preset silently keeps everything in memory when
 * NODE_ENV is "test". Writes are atomic (temp file + rename). Several
 * processes may share one map: each write takes a lock on it, re-reads it and
 * applies only its own changes, so nobody's update is lost. Changes made
 * while a write is under way are batched into the next one.
 */
export class TaskStore implements TaskRecords {
  /** Changes not yet on disk; null forgets a record. */
  private readonly pending = new Map<string, TaskRecord | null>();
  private seen: { ino: number; size: number; mtimeMs: number } | undefined;
  private lastWrite: Promise<void> = Promise.resolve();
  private lastWriteAt = 0;
  private nextWrite: Promise<void> | undefined;
  /** Ends the pause before the next write; set while one is waiting. */
  private endPause: (() => void) | undefined;
  /** Callers of flushed() waiting: no more pauses while any is. */
  private hurrying = 0;
  /** Problems already told, so a record left out is told about once. */
  private readonly told = new Set<string>();

  private constructor(
    readonly file: string,
    private readonly db: Low<TaskMapFile>,
    private readonly options: TaskStoreOptions,
  ) {}

  /**
   * Opens the task map in `file`, empty if there is none yet. Throws a
   * TaskMapError when the file is not a task map; invalid records are left
   * out and told to `options.onProblem`, here and on every re-read.
   */
  static async open(file: string, options: TaskStoreOptions = {}): Promise<TaskStore> {
    await mkdir(path.dirname(file), { recursive: true });
    // Written through lowdb, never read through it: Low.read keeps the old
    // data when a file holds null or 0, and checks nothing.
    const db = new Low<TaskMapFile>(new JSONFile<TaskMapFile>(file), { tasks: Object.create(null) as Record<string, TaskRecord> });
    const store = new TaskStore(file, db, options);
    await store.refresh();
    return store;
  }

  get(name: string): TaskRecord | undefined {
    return Object.hasOwn(this.db.data.tasks, name) ? this.db.data.tasks[name] : undefined;
  }

  all(): TaskRecord[] {
    return Object.values(this.db.data.tasks).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Records that bytes of `version` are being written to the partial. */
  async markIncomplete(name: string, remote: RemoteFacts): Promise<TaskRecord> {
    const now = new Date().toISOString();
    const previous = this.get(name);
    const same = previous?.status === 'incomplete' && previous.version === remote.version;
    const record: TaskRecord = {
      name,
      status: 'incomplete',
      size: remote.size,
      version: remote.version,
      sha256: remote.sha256 ?? (same ? previous.sha256 : null),
      createdAt: same ? previous.createdAt : now,
      updatedAt: now,
      completedAt: null,
    };
    return this.save(record);
  }

  async markComplete(name: string, remote: RemoteFacts & { sha256: string }): Promise<TaskRecord> {
    const now = new Date().toISOString();
    const previous = this.get(name);
    return this.save({
      name,
      status: 'complete',
      ...remote,
      createdAt: previous?.createdAt ?? now,
      updatedAt: now,
      completedAt: now,
    });
  }

  /** Drops the record of `name`, whose file is gone; resolves once that is on disk. */
  async forget(name: string): Promise<void> {
    this.pending.set(name, null);
    delete this.db.data.tasks[name];
    await this.scheduleWrite();
  }

  /** Picks up what other processes wrote since we last read or wrote. */
  async reload(): Promise<void> {
    if (await this.refresh()) this.applyPending();
  }

  /**
   * Re-reads the map unless it is still the file we last read or wrote,
   * which keeps a single process from parsing the whole map once per file
   * (quadratic in a batch of thousands). Resolves whether it re-read.
   *
   * Stats before reading: if another process writes in between, we hold the
   * older stats with the newer content, and the next check re-reads; the
   * other order would pair older content with newer stats and skip a
   * re-read that is needed.
   *
   * Whatever another process wrote is checked like the file we opened: a
   * map that stopped being one throws, and invalid records are left out.
   * A map deleted meanwhile leaves what we hold, which the next write puts
   * back.
   */
  private async refresh(): Promise<boolean> {
    const now = await this.statNow();
    const seen = this.seen;
    if (seen !== undefined && now !== undefined && now.ino === seen.ino && now.size === seen.size && now.mtimeMs === seen.mtimeMs) return false;
    const read = await readTaskMapFile(this.file);
    if (read) {
      this.db.data = { tasks: read.records };
      for (const problem of read.problems) {
        if (this.told.has(problem)) continue;
        this.told.add(problem);
        this.options.onProblem?.(problem);
      }
    }
    this.seen = now;
    return true;
  }

  private async remember(): Promise<void> {
    this.seen = await this.statNow();
  }

  private async statNow(): Promise<{ ino: number; size: number; mtimeMs: number } | undefined> {
    const now = await stat(this.file).catch(() => undefined);
    return now && { ino: now.ino, size: now.size, mtimeMs: now.mtimeMs };
  }

  /**
   * Updates the record now, in memory, and resolves once it is on disk.
   * Writes are coalesced: at most one every FLUSH_INTERVAL_MS, carrying
   * every change made since the last, so a batch of thousands of small
   * files costs a few dozen rewrites of the map, not two per file.
   */
  private async save(record: TaskRecord): Promise<TaskRecord> {
    this.pending.set(record.name, record);
    this.db.data.tasks[record.name] = record;
    await this.scheduleWrite();
    return record;
  }

  /**
   * Resolves once every change made so far is on disk, writing at once
   * rather than after the coalescing pause: a CLI that is done would
   * otherwise idle up to FLUSH_INTERVAL_MS before it exits.
   */
  async flushed(): Promise<void> {
    this.hurrying += 1;
    this.endPause?.();
    try {
      while (this.pending.size > 0) await this.scheduleWrite();
    } finally {
      this.hurrying -= 1;
    }
  }

  private pause(ms: number): Promise<void> {
    if (this.hurrying > 0 || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const end = () => {
        clearTimeout(timer);
        this.endPause = undefined;
        resolve();
      };
      const timer = setTimeout(end, ms);
      this.endPause = end;
    });
  }

  private scheduleWrite(): Promise<void> {
    // Join the next write if one is waiting to start; otherwise queue one
    // behind the write under way, which may have missed this change.
    if (!this.nextWrite) {
      const next = this.lastWrite
        .then(() => this.pause(this.lastWriteAt + FLUSH_INTERVAL_MS - Date.now()))
        .then(() => {
          this.nextWrite = undefined;
          return this.flush();
        });
      this.nextWrite = next;
      this.lastWrite = next.catch(() => undefined);
    }
    return this.nextWrite;
  }

  private async flush(): Promise<void> {
    let compromised: Error | undefined;
    const release = await lockfile.lock(this.file, {
      realpath: false,
      stale: STALE_MS,
      retries: { retries: 200, minTimeout: 5, maxTimeout: 100, factor: 1.5 },
      // The default throws from a timer, which would end the process.
      onCompromised: (err) => (compromised = err),
    });
    try {
      const batch = new Map(this.pending);
      await this.refresh();
      this.apply(batch);
      if (compromised) throw compromised;
      await this.db.write();
      this.lastWriteAt = Date.now();
      await this.remember();
      for (const [name, record] of batch) if (this.pending.get(name) === record) this.pending.delete(name);
      this.applyPending();
    } finally {
      await release().catch(() => undefined);
    }
  }

  /** Keeps our own unwritten changes visible after a re-read. */
  private applyPending(): void {
    this.apply(this.pending);
  }

  private apply(changes: Map<string, TaskRecord | null>): void {
    for (const [name, record] of changes) {
      if (record) this.db.data.tasks[name] = record;
      else delete this.db.data.tasks[name];
    }
  }
}
