// @ts-nocheck
// What status and verify read, apart from FileClient: nothing here may load
// grpc-js or the contract, or those commands would pay their start-up cost.
import { readTaskMapFile } from './taskJournal.js';
import { TaskStore, taskMapFileOf } from './taskStore.js';
import type { TaskRecord } from './taskRecord.js';
import { verifyRecords, type VerifyResult } from '../download/verifyLocal.js';

/**
 * Reads the task map without connecting to a server, creating nothing and
 * taking no lock: its valid records by name, and a line for each invalid
 * one left out. Throws a TaskMapError for a file that is not a task map.
 */
export async function readTasks(out: string, db?: string): Promise<{ file: string; tasks: TaskRecord[]; problems: string[] }> {
  const file = taskMapFileOf(out, db);
  const read = await readTaskMapFile(file);
  const tasks = Object.values(read?.records ?? {}).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { file, tasks, problems: read?.problems ?? [] };
}

/**
 * FileClient.verify without a server: reads the task map of `out` and
 * re-hashes its files. With no task map there is nothing to verify, and
 * nothing is created.
 */
export async function verifyFolder(out: string, db?: string, names?: string[]): Promise<{ file: string; results: VerifyResult[]; problems: string[] }> {
  const file = taskMapFileOf(out, db);
  const read = await readTaskMapFile(file);
  if (read === undefined) {
    return {
      file,
      results: await verifyRecords(
        out,
        () => undefined,
        names ?? [],
        () => Promise.resolve(),
      ),
      problems: [],
    };
  }
  const store = await TaskStore.open(file);
  return { file, results: await verifyStore(out, store, names), problems: read.problems };
}

export async function verifyStore(out: string, store: TaskStore, names: string[] | undefined): Promise<VerifyResult[]> {
  const wanted =
    names ??
    store
      .all()
      .filter((task) => task.status === 'complete')
      .map((task) => task.name);
  // Marked incomplete, not deleted: the next get finds a final file that
  // the map does not vouch for, checks it against the server's digest and
  // fetches it again; a record deleted would do the same but lose what
  // status shows about it meanwhile.
  const results = await verifyRecords(
    out,
    (name) => store.get(name),
    wanted,
    (record) => store.markIncomplete(record.name, { size: record.size, version: record.version, sha256: record.sha256 }),
  );
  await store.flushed();
  return results;
}
