// @ts-nocheck
import { checkName } from '../../shared/names.js';
import { blocksIn, rangesFault } from '../blocks/blockSet.js';
import type { TaskRecord } from './taskRecord.js';

/**
 * What a task map file holds, checked: the records that can be trusted, and
 * one line per record that was left out. A file that is not a task map at
 * all is refused with the reason.
 */
export type ParsedTaskMap = { ok: true; records: Record<string, TaskRecord>; problems: string[] } | { ok: false; reason: string };

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * Checks what JSON.parse made of a task map file.
 *
 * A map that is not an object with a "tasks" object is refused whole: its
 * writer was not us, and guessing would record nothing anyone could find
 * again (names set on an array vanish when it is written as JSON). Inside a
 * good map, a bad record is only dropped: a dropped record costs nothing
 * but a check, since its partial resumes as an orphan and its final file is
 * compared with the server's digest before it is trusted (see taskState.ts),
 * while refusing the map would block every download in the folder.
 *
 * The records come back in an object without a prototype, so a file named
 * "constructor" or "__proto__" is a name like any other.
 */
export function parseTaskMap(data: unknown): ParsedTaskMap {
  if (!isPlainObject(data)) return { ok: false, reason: `it holds ${describe(data)}, not an object with "tasks"` };
  const tasks = data.tasks;
  if (!isPlainObject(tasks)) return { ok: false, reason: `its "tasks" is ${describe(tasks)}, not an object of records by name` };
  const records = Object.create(null) as Record<string, TaskRecord>;
  const problems: string[] = [];
  takeRecords(tasks, records, problems, new Map());
  return { ok: true, records, problems };
}

/**
 * Files the good records of `tasks` (as JSON.parse made them) in `records`,
 * a line per bad one in `problems`; `times` as for shareStrings. For a map
 * read whole or in pieces.
 */
export function takeRecords(tasks: Record<string, unknown>, records: Record<string, TaskRecord>, problems: string[], times: Map<string, string>): void {
  for (const [key, value] of Object.entries(tasks)) {
    const fault = recordFault(key, value);
    if (fault === undefined) {
      records[key] = shareStrings(key, value as TaskRecord, times);
    } else {
      // As if read whole, where a later record of a name hides an earlier one.
      delete records[key];
      problems.push(`record ${JSON.stringify(key)} ${fault}`);
    }
  }
}

/**
 * Makes a checked record that JSON.parse made share its strings: its name
 * with the key it is filed under, its times with equal times of other
 * records (`times`, shared by one read). JSON.parse gives each value its
 * own string, and the three times were most of a record's memory: measured,
 * a map of 100,000 records took 66 MB of heap, 25 MB with this. Returns
 * `record`, changed in place.
 */
export function shareStrings(key: string, record: TaskRecord, times: Map<string, string>): TaskRecord {
  const share = (time: string) => {
    const known = times.get(time);
    if (known !== undefined) return known;
    times.set(time, time);
    return time;
  };
  record.name = key;
  record.createdAt = share(record.createdAt);
  record.updatedAt = share(record.updatedAt);
  if (record.completedAt !== null) record.completedAt = share(record.completedAt);
  return record;
}

/** What is wrong with one record filed under `key`, or undefined when nothing is. */
export function recordFault(key: string, record: unknown): string | undefined {
  if (!isPlainObject(record)) return `is ${describe(record)}, not an object`;
  const { name, status, size, version, sha256, createdAt, updatedAt, completedAt, verifiedBlocks } = record;
  if (typeof name !== 'string') return `has no name`;
  if (name !== key) return `is filed under another name (${JSON.stringify(name)})`;
  try {
    checkName(name);
  } catch (err) {
    return `is not a file we could have downloaded: ${(err as Error).message}`;
  }
  if (status !== 'incomplete' && status !== 'complete') return `has status ${describe(status)}, not "incomplete" or "complete"`;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) return `has size ${describe(size)}, not a whole number of bytes`;
  if (typeof version !== 'string') return `has version ${describe(version)}, not a string`;
  if (sha256 !== null && !(typeof sha256 === 'string' && SHA256_HEX.test(sha256))) return `has sha256 ${describe(sha256)}, not 64 hex digits or null`;
  if (status === 'complete' && sha256 === null) return 'is complete without a sha256';
  if (typeof createdAt !== 'string' || typeof updatedAt !== 'string') return 'lacks its createdAt or updatedAt time';
  if (status === 'complete' ? typeof completedAt !== 'string' : completedAt !== null) {
    return status === 'complete' ? 'is complete without a completedAt time' : `is incomplete with a completedAt time`;
  }
  if (verifiedBlocks !== undefined) return verifiedBlocksFault(verifiedBlocks, status, size, sha256);
  return undefined;
}

/** What is wrong with a record's verifiedBlocks (see TaskRecord), or undefined. */
function verifiedBlocksFault(value: unknown, status: unknown, size: number, sha256: unknown): string | undefined {
  if (status !== 'incomplete') return 'is complete with verifiedBlocks';
  if (sha256 === null) return 'has verifiedBlocks without the sha256 of the list they were checked against';
  if (!isPlainObject(value)) return `has verifiedBlocks ${describe(value)}, not an object`;
  const { blockSize, ranges } = value;
  if (typeof blockSize !== 'number' || !Number.isSafeInteger(blockSize) || blockSize < 1) return `has verifiedBlocks of block size ${describe(blockSize)}`;
  const fault = rangesFault(ranges, blocksIn(size, blockSize));
  return fault === undefined ? undefined : `has verifiedBlocks whose ranges ${fault}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}
