import type { TaskRecord } from '../taskMap/taskRecord.js';

/**
 * What the download orchestrator needs of the task map, and the only part
 * of the client that writes it. TaskStore is the lowdb implementation; a
 * test may give a map in memory.
 */
export interface TaskRecords {
  get(name: string): TaskRecord | undefined;
  /** Picks up what other processes recorded since the last read. */
  reload(): Promise<void>;
  /** Records that bytes of `remote.version` are being written to the partial. */
  markIncomplete(name: string, remote: { size: number; version: string; sha256: string | null }): Promise<unknown>;
  markComplete(name: string, remote: { size: number; version: string; sha256: string }): Promise<unknown>;
  /** Resolves once every change so far is on disk. */
  flushed(): Promise<void>;
}
