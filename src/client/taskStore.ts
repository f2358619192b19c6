import { Low } from 'lowdb';
import { JSONFile } from 'lowdb/node';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { STALE_MS } from './fileLock.js';

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

interface TaskMap {
  tasks: Record<string, TaskRecord>;
}

export const DEFAULT_DB_NAME = '.grpc-client-tasks.json';

/**
 * The task map, one JSON file. Always a JSONFile adapter, never
 * JSONFilePreset: the preset silently keeps everything in memory when
 * NODE_ENV is "test". Writes are atomic (temp file + rename). Several
 * processes may share one map: each write takes a lock on it, re-reads it and
 * applies only its own changes, so nobody's update is lost. Changes made
 * while a write is under way are batched into the next one.
 */
export class TaskStore {
  private readonly pending = new Map<string, TaskRecord>();
  private lastWrite: Promise<void> = Promise.resolve();
  private nextWrite: Promise<void> | undefined;

  private constructor(
    readonly file: string,
    private readonly db: Low<TaskMap>,
  ) {}

  static async open(file: string): Promise<TaskStore> {
    await mkdir(path.dirname(file), { recursive: true });
    const db = new Low<TaskMap>(new JSONFile<TaskMap>(file), { tasks: {} });
    try {
      await db.read();
    } catch (err) {
      throw new Error(
        `the task map ${file} is not valid JSON (${(err as Error).message}); move it aside and run again: partials will resume and digests will be checked`,
      );
    }
    if (typeof db.data !== 'object' || db.data === null || typeof db.data.tasks !== 'object' || db.data.tasks === null) {
      throw new Error(`the task map ${file} does not hold a "tasks" object; move it aside and run again`);
    }
    return new TaskStore(file, db);
  }

  get(name: string): TaskRecord | undefined {
    return this.db.data.tasks[name];
  }

  all(): TaskRecord[] {
    return Object.values(this.db.data.tasks).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Records that bytes of `version` are being written to the partial. */
  async markIncomplete(name: string, remote: { size: number; version: string; sha256: string | null }): Promise<TaskRecord> {
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

  async markComplete(name: string, remote: { size: number; version: string; sha256: string }): Promise<TaskRecord> {
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

  /** Picks up what other processes wrote since we last read. */
  async reload(): Promise<void> {
    await this.db.read();
    this.applyPending();
  }

  private async save(record: TaskRecord): Promise<TaskRecord> {
    this.pending.set(record.name, record);
    this.db.data.tasks[record.name] = record;
    // Join the next write if one is waiting to start; otherwise queue one
    // behind the write under way, which may have missed this change.
    if (!this.nextWrite) {
      const next = this.lastWrite.then(() => {
        this.nextWrite = undefined;
        return this.flush();
      });
      this.nextWrite = next;
      this.lastWrite = next.catch(() => undefined);
    }
    await this.nextWrite;
    return record;
  }

  private async flush(): Promise<void> {
    const release = await lockfile.lock(this.file, {
      realpath: false,
      stale: STALE_MS,
      retries: { retries: 200, minTimeout: 5, maxTimeout: 100, factor: 1.5 },
    });
    try {
      const batch = new Map(this.pending);
      await this.db.read();
      this.db.data ??= { tasks: {} };
      for (const [name, record] of batch) this.db.data.tasks[name] = record;
      await this.db.write();
      for (const [name, record] of batch) if (this.pending.get(name) === record) this.pending.delete(name);
      this.applyPending();
    } finally {
      await release();
    }
  }

  /** Keeps our own unwritten changes visible after a re-read. */
  private applyPending(): void {
    this.db.data ??= { tasks: {} };
    for (const [name, record] of this.pending) this.db.data.tasks[name] = record;
  }
}
