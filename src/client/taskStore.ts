import { Low } from 'lowdb';
import { JSONFile } from 'lowdb/node';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';

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
 * NODE_ENV is "test". Writes are atomic (temp file + rename), and concurrent
 * writes coalesce into the latest state.
 */
export class TaskStore {
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

  private async save(record: TaskRecord): Promise<TaskRecord> {
    this.db.data.tasks[record.name] = record;
    await this.db.write();
    return record;
  }
}
