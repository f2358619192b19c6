// @ts-nocheck
import type { TaskRecord, VerifiedBlocks } from '../taskMap/taskRecord.js';

/**
 * What the download orchestrator needs of the task map, and the only part
 * of the client that writes it. TaskStore is the lowdb implementation; a
 * test may give a map in memory.
 */
export interface TaskRecords {
  get(name: string): TaskRecord | undefined;
  /** Picks up what other processes recorded since the last read. */
  reload(): Promise<void>;
  /** Records that bytes of `remote.version` are being written to the partial; a sparse one's verified blocks with them. */
  markIncomplete(name: string, remote: { size: number; version: string; sha256: string | null }, verifiedBlocks?: VerifiedBlocks): Promise<unknown>;
  markComplete(name: string, remote: { size: number; version: string; sha256: string }): Promise<unknown>;
  /** Resolves once every change so far is on disk. */
  flushed(): Promise<void>;
}
