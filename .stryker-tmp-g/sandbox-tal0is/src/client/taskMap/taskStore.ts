// @ts-nocheck
import { Low } from 'lowdb';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { STALE_MS } from '../fileLock.js';
import type { TaskRecords } from '../download/taskRecords.js';
import type { RemoteFacts, TaskRecord, VerifiedBlocks } from './taskRecord.js';
import { applyChanges, TaskJournal, type TaskMapFile } from './taskJournal.js';

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
 * The task map: a lowdb Low over a TaskJournal (a JSON snapshot and a
 * journal of changes beside it, see taskJournal.ts), never JSONFilePreset,
 * which silently keeps everything in memory when NODE_ENV is "test".
 * Several processes may share one map: each write takes a lock on it, reads
 * what the others appended since and appends only its own changes, so
 * nobody's update is lost. Changes made while a write is under way are
 * batched into the next one.
 */
export class TaskStore implements TaskRecords {
  /** Changes not yet on disk; null for a name forgotten. */
  private readonly pending = new Map<string, TaskRecord | null>();
  private lastWrite: Promise<void> = Promise.resolve();
  private lastWriteAt = 0;
  private nextWrite: Promise<void> | undefined;
  /** Ends the pause before the next write; set while one is waiting. */
  private endPause: (() => void) | undefined;
  /** Callers of flushed() waiting: no more pauses while any is. */
  private hurrying = 0;
  /** Problems already told, so a record left out is told about once. */
  private readonly told = new Set<string>();
  /** The last time a record was stamped with, shared by every record of the same millisecond. */
  private stamp = { ms: Number.NaN, text: '' };

  private constructor(
    readonly file: string,
    private readonly journal: TaskJournal,
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
    // Written through lowdb, read through the journal's catchUp: Low.read
    // replaces the whole map, where a catch-up applies only what others
    // appended, and tells what it left out.
    const journal = new TaskJournal(file);
    const db = new Low<TaskMapFile>(journal, { tasks: Object.create(null) as Record<string, TaskRecord> });
    const store = new TaskStore(file, journal, db, options);
    await store.refresh();
    return store;
  }

  get(name: string): TaskRecord | undefined {
    // One lookup, where hasOwn then an index made two: a mirror asks for
    // every name of its tree. Every record is filed under its own name
    // (recordFault), which nothing inherited matches as an object of that
    // name (a method does: typeof "function"), so "constructor", "toString"
    // or "__proto__" is found only when recorded.
    const record = this.db.data.tasks[name];
    return typeof record === 'object' && record.name === name ? record : undefined;
  }

  /** Every record, by name. */
  all(): TaskRecord[] {
    // Sorting the names with the built-in order (by UTF-16 code units, as
    // `<` compares) took a fraction of a comparator's time at 100,000.
    const { tasks } = this.db.data;
    return Object.keys(tasks)
      .sort()
      .map((name) => tasks[name]!);
  }

  /** Every record's name, in no particular order: for a pass that needs no order. */
  names(): string[] {
    return Object.keys(this.db.data.tasks);
  }

  /**
   * Records that bytes of `version` are being written to the partial, and
   * for a partial fetched in segments which of its blocks are verified
   * (none given: a partial written as one stream).
   */
  async markIncomplete(name: string, remote: RemoteFacts, verifiedBlocks?: VerifiedBlocks): Promise<TaskRecord> {
    const now = this.now();
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
      ...(verifiedBlocks ? { verifiedBlocks } : {}),
    };
    return this.save(record);
  }

  async markComplete(name: string, remote: RemoteFacts & { sha256: string }): Promise<TaskRecord> {
    const now = this.now();
    const previous = this.get(name);
    // Field by field, not spread: a spread record keeps its fields out of
    // line, 40 bytes more per record of a tree.
    return this.save({
      name,
      status: 'complete',
      size: remote.size,
      version: remote.version,
      sha256: remote.sha256,
      createdAt: previous?.createdAt ?? now,
      updatedAt: now,
      completedAt: now,
    });
  }

  /** The time to stamp a record with: one string per millisecond, not one per record: a tree's small files finish several a millisecond. */
  private now(): string {
    const ms = Date.now();
    if (ms !== this.stamp.ms) this.stamp = { ms, text: new Date(ms).toISOString() };
    return this.stamp.text;
  }

  /** Picks up what other processes wrote since we last read or wrote. */
  async reload(): Promise<void> {
    if (await this.refresh()) this.applyPending();
  }

  /**
   * Catches up with what other processes wrote: nothing to do (a stat or
   * two) when nobody did, the lines they appended when the snapshot is the
   * one we read, else the whole map again, which keeps a single process
   * from parsing the whole map once per file. Resolves whether anything
   * was read.
   *
   * Whatever another process wrote is checked like the file we opened: a
   * map that stopped being one throws, and invalid records are left out.
   * A map deleted meanwhile leaves what we hold, which the next write puts
   * back.
   */
  private async refresh(): Promise<boolean> {
    const update = await this.journal.catchUp();
    if (!update) return false;
    if (!update.whole) applyChanges(this.db.data.tasks, update.changes);
    else if (update.records) this.db.data = { tasks: update.records };
    for (const problem of update.problems) {
      if (this.told.has(problem)) continue;
      this.told.add(problem);
      this.options.onProblem?.(problem);
    }
    return true;
  }

  /**
   * Updates the record now, in memory, and resolves once it is on disk.
   * Writes are coalesced: at most one every FLUSH_INTERVAL_MS, carrying
   * every change made since the last, so a batch of thousands of small
   * files costs a few dozen appends to the journal, not two per file.
   */
  private async save(record: TaskRecord): Promise<TaskRecord> {
    this.pending.set(record.name, record);
    this.db.data.tasks[record.name] = record;
    await this.scheduleWrite();
    return record;
  }

  /** Removes the record of `name`; resolves once that is on disk. */
  async forget(name: string): Promise<void> {
    this.pending.set(name, null);
    delete this.db.data.tasks[name];
    await this.scheduleWrite();
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
      applyChanges(this.db.data.tasks, batch);
      if (compromised) throw compromised;
      // The batch, not a diff of the map: what changed is known here, and
      // finding it again would cost a pass over every record per write.
      this.journal.stage(batch);
      await this.db.write();
      this.lastWriteAt = Date.now();
      for (const [name, record] of batch) if (this.pending.get(name) === record) this.pending.delete(name);
      this.applyPending();
    } finally {
      await release().catch(() => undefined);
    }
  }

  /** Keeps our own unwritten changes visible after a re-read. */
  private applyPending(): void {
    applyChanges(this.db.data.tasks, this.pending);
  }
}
