// @ts-nocheck
import type { Adapter } from 'lowdb';
import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { open, rename, stat, writeFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { fsyncFolder } from '../download/folderSync.js';
import { recordFault, shareStrings } from './taskMapSchema.js';
import { SnapshotSyntaxError, SnapshotText } from './snapshotText.js';
import type { TaskRecord } from './taskRecord.js';

/** The map as lowdb holds it. On disk the snapshot also names its journal. */
export interface TaskMapFile {
  tasks: Record<string, TaskRecord>;
}

/** One change to the map: the record as it now is, or null for a name forgotten. */
export type TaskChange = [name: string, record: TaskRecord | null];

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

/** The journal beside a snapshot. */
export const journalOf = (file: string) => `${file}.journal`;

/** The one temporary file of a compaction (the name lowdb used before). */
export const tempOf = (file: string) => path.join(path.dirname(file), `.${path.basename(file)}.tmp`);

/**
 * Below this, a journal is never compacted: rewriting a small map to save a
 * few lines of replay is not worth it.
 */
const MIN_COMPACT_BYTES = 1024 * 1024;

/**
 * Compact once the journal outgrows half the snapshot (or the minimum): each
 * rewrite of the map is then paid for by at least as many bytes of appended
 * changes, so a save costs O(1) amortized at any size, and a reader never
 * replays more than half a map.
 */
function shouldCompact(journalBytes: number, snapshotBytes: number): boolean {
  return journalBytes > Math.max(MIN_COMPACT_BYTES, snapshotBytes / 2);
}

const NEWLINE = 0x0a;

export function headerLine(id: string): string {
  return `${JSON.stringify({ journal: id })}\n`;
}

export function journalLine([name, record]: TaskChange): string {
  return `${JSON.stringify(record ?? { forget: name })}\n`;
}

/** The id in a journal's first line, or undefined when it has none. */
function headerOf(bytes: Buffer): { id: string; length: number } | undefined {
  const end = bytes.indexOf(NEWLINE);
  if (end < 0) return undefined;
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8', 0, end));
    const id = (value as { journal?: unknown } | null)?.journal;
    return typeof id === 'string' ? { id, length: end + 1 } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The changes in journal bytes, read up to the last newline: a final line
 * without one is a write cut short (a kill or a power cut mid-append), left
 * for its writer's successor to cut off. A complete line that is not a valid
 * change is left out with a problem, like an invalid record of the snapshot.
 * `consumed` is how many bytes were read, `lines` how many lines; `times`
 * as for shareStrings, for a journal parsed in several calls.
 */
export function parseJournal(
  bytes: Buffer,
  firstLine: number,
  times = new Map<string, string>(),
): { changes: TaskChange[]; problems: string[]; consumed: number; lines: number } {
  const consumed = bytes.lastIndexOf(NEWLINE) + 1;
  const changes: TaskChange[] = [];
  const problems: string[] = [];
  if (consumed === 0) return { changes, problems, consumed, lines: 0 };
  const lines = bytes.toString('utf8', 0, consumed - 1).split('\n');
  lines.forEach((line, i) => {
    const where = `line ${firstLine + i} of its journal`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      problems.push(`${where}: not JSON`);
      return;
    }
    const change = changeOf(value, times);
    if (typeof change === 'string') problems.push(`${where}: ${change}`);
    else changes.push(change);
  });
  return { changes, problems, consumed, lines: lines.length };
}

function changeOf(value: unknown, times: Map<string, string>): TaskChange | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not an object';
  const { forget, name } = value as { forget?: unknown; name?: unknown };
  if (forget !== undefined) return typeof forget === 'string' ? [forget, null] : 'forgets no name';
  if (typeof name !== 'string') return 'a record with no name';
  const fault = recordFault(name, value);
  return fault === undefined ? [name, shareStrings(name, value as TaskRecord, times)] : `record ${JSON.stringify(name)} ${fault}`;
}

/**
 * Applies changes in order. Each is a whole record or a removal, never a
 * delta, so replaying a journal over a snapshot that already holds it
 * (a compaction killed between its two renames) changes nothing.
 */
export function applyChanges(tasks: Record<string, TaskRecord>, changes: Iterable<TaskChange>): void {
  for (const [name, record] of changes) {
    if (record) tasks[name] = record;
    else delete tasks[name];
  }
}

/**
 * The snapshot's text, one record a line, in pieces of about a MiB so that
 * a map of 100,000 records is never one string of 30 MB. Valid JSON of the
 * same shape the lowdb JSON file had: older versions read it as before.
 */
export function* snapshotChunks(id: string, tasks: Record<string, TaskRecord>): Generator<string> {
  let chunk = `{"journal":${JSON.stringify(id)},"tasks":{`;
  let separator = '\n';
  for (const name in tasks) {
    chunk += `${separator}${JSON.stringify(name)}:${JSON.stringify(tasks[name])}`;
    separator = ',\n';
    if (chunk.length >= 1 << 20) {
      yield chunk;
      chunk = '';
    }
  }
  yield `${chunk}\n}}\n`;
}

interface Identity {
  ino: number;
  size: number;
  mtimeMs: number;
}

const sameIdentity = (a: Identity | undefined, b: Identity | undefined) =>
  a === b || (a !== undefined && b !== undefined && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs);

async function identityOf(file: string): Promise<Identity | undefined> {
  const now = await stat(file).catch(() => undefined);
  return now && { ino: now.ino, size: now.size, mtimeMs: now.mtimeMs };
}

/** How far the map's files were read; enough to tell, by a stat or two, whether anything changed. */
interface Seen {
  /** Undefined when there was no snapshot. */
  snapshot: Identity | undefined;
  /** The journal that belongs to the snapshot, read up to `offset` (`line` lines); undefined when it has none yet. */
  journal: { ino: number; offset: number; size: number; line: number } | undefined;
  /**
   * Without a journal of its own: the journal file as it was (a stale one,
   * or the next one when a compaction was under way). Any change to it
   * means a read again.
   */
  stray: Identity | undefined;
  /** Something was left out: the next write compacts, so it is gone from the files. */
  dirty: boolean;
}

/** What a catch-up found: the whole map again, or the changes appended since. */
export type CatchUp =
  { whole: true; records: Record<string, TaskRecord> | undefined; problems: string[] } | { whole: false; changes: TaskChange[]; problems: string[] };

const tell = (file: string, problem: string) => `the task map ${file}: ${problem}; left out: its partial resumes and its file is checked by digest`;

/**
 * Reads the snapshot and the journal that belongs to it. A journal whose
 * first line names another snapshot is left out: it was either replaced
 * after a compaction was killed between its renames (the snapshot already
 * holds it), or written beside a map that something else rewrote since.
 * When that happens while another process compacts, the snapshot read is
 * the old one and the journal the new one: read both again.
 */
async function readWhole(file: string): Promise<{ records: Record<string, TaskRecord> | undefined; problems: string[]; seen: Seen }> {
  for (let attempt = 1; ; attempt += 1) {
    const snapshot = await readSnapshot(file);
    if (!snapshot) return { records: undefined, problems: [], seen: { snapshot: undefined, journal: undefined, stray: undefined, dirty: false } };
    const { records, problems, id, identity } = snapshot;
    const journal = await readJournal(journalOf(file), id === undefined ? undefined : { from: 0, line: 1, header: id });
    if (journal?.parsed) {
      const { parsed } = journal;
      applyChanges(records, parsed.changes);
      problems.push(...parsed.problems.map((problem) => tell(file, problem)));
      const read = { ino: journal.identity.ino, offset: parsed.consumed, size: journal.size, line: parsed.lines };
      return { records, problems, seen: { snapshot: identity, journal: read, stray: undefined, dirty: problems.length > 0 } };
    }
    if (attempt < 3 && !sameIdentity(await identityOf(file), identity)) continue;
    return { records, problems, seen: { snapshot: identity, journal: undefined, stray: journal?.identity, dirty: problems.length > 0 } };
  }
}

async function readSnapshot(
  file: string,
): Promise<{ records: Record<string, TaskRecord>; problems: string[]; id: string | undefined; identity: Identity } | undefined> {
  let identity: Identity;
  let read: ReturnType<SnapshotText['end']>;
  try {
    // From one descriptor: the identity is that of the bytes read, even if
    // a compaction renames a new snapshot over the name meanwhile.
    const handle = await open(file, READ_FLAGS);
    try {
      identity = await regularFileIdentity(handle);
      read = await parseSnapshot(handle);
    } finally {
      await handle.close();
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if (err instanceof SnapshotSyntaxError) {
      throw new TaskMapError(file, `the task map ${file} is not valid JSON (${err.message}); ${RECOVERY}`, { cause: err });
    }
    throw new TaskMapError(file, `cannot read the task map ${file} (${(err as Error).message})`, { cause: err });
  }
  const { parsed, id } = read;
  if (!parsed.ok) throw new TaskMapError(file, `the task map ${file} is not a task map: ${parsed.reason}; ${RECOVERY}`);
  return { records: parsed.records, problems: parsed.problems.map((problem) => tell(file, problem)), id, identity };
}

/**
 * The task map's files are opened for reading without waiting: a FIFO in
 * a map's place (`--db` given one) would otherwise block the open until
 * something writes to it; regularFileIdentity then refuses it.
 */
const READ_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;

/** The identity of an opened task-map file, which must be a regular file. */
async function regularFileIdentity(handle: FileHandle): Promise<Identity> {
  const info = await handle.stat();
  if (!info.isFile()) throw new Error('not a regular file');
  return { ino: info.ino, size: info.size, mtimeMs: info.mtimeMs };
}

/** The task map's files are read this many bytes at a time. */
const READ_PIECE = 1 << 20;

/** The snapshot's text from `handle`, a piece at a time (see SnapshotText). */
async function parseSnapshot(handle: FileHandle): Promise<ReturnType<SnapshotText['end']>> {
  const text = new SnapshotText();
  const decoder = new StringDecoder('utf8');
  const buffer = Buffer.allocUnsafe(READ_PIECE);
  for (;;) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
    if (bytesRead === 0) break;
    text.add(decoder.write(buffer.subarray(0, bytesRead)));
  }
  text.add(decoder.end());
  return text.end();
}

/** Where to read a journal from: byte `from`, which is the start of line `line`; from 0, the header must name `header`. */
interface JournalStart {
  from: number;
  line: number;
  header?: string;
}

/** Lines of a journal parsed by parseJournal, counted from the start of the file when read from its header. */
type ParsedJournal = ReturnType<typeof parseJournal>;

/**
 * The identity of the journal `file`, its size, and with `start` its lines
 * from there on, read a piece at a time: a journal of 10 MB is never one
 * Buffer and one string of that size at once (measured: 20 MiB of a
 * mirror's peak RSS when it read its task map). `parsed` is undefined when
 * the header is not the one expected: the journal belongs to another
 * snapshot, and nothing after its first line means anything here.
 */
async function readJournal(file: string, start?: JournalStart): Promise<{ identity: Identity; size: number; parsed?: ParsedJournal } | undefined> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(file, READ_FLAGS);
    return await readOpenJournal(handle, start);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new TaskMapError(file, `cannot read the task map's journal ${file} (${(err as Error).message})`, { cause: err });
  } finally {
    await handle?.close();
  }
}

async function readOpenJournal(handle: FileHandle, start: JournalStart | undefined): Promise<{ identity: Identity; size: number; parsed?: ParsedJournal }> {
  const identity = await regularFileIdentity(handle);
  const { size } = identity;
  if (!start) return { identity, size };
  const parsed: ParsedJournal = { changes: [], problems: [], consumed: start.from, lines: start.line - 1 };
  const times = new Map<string, string>();
  const piece = Buffer.allocUnsafe(READ_PIECE);
  // The bytes after the last newline read so far: the start of a line.
  let rest = Buffer.alloc(0);
  let position = start.from;
  let header = start.header;
  while (position < size) {
    const { bytesRead } = await handle.read(piece, 0, Math.min(piece.length, size - position), position);
    if (bytesRead === 0) break;
    // The start of a line read before this piece may have been a torn
    // line, which a writer cuts off and writes over while we read: glued
    // to what is there now, it would make one bad line of two and hide
    // the lines written in its place. Stop before it instead; the next
    // catch-up reads on from there.
    if (rest.length > 0 && !(await stillThere(handle, rest, position - rest.length))) return { identity, size: parsed.consumed, parsed };
    position += bytesRead;
    let bytes = rest.length > 0 ? Buffer.concat([rest, piece.subarray(0, bytesRead)]) : piece.subarray(0, bytesRead);
    if (header !== undefined) {
      // The header is a line of some 50 bytes, in the first piece.
      const found = headerOf(bytes);
      if (found?.id !== header) return { identity, size };
      header = undefined;
      parsed.consumed += found.length;
      parsed.lines += 1;
      bytes = bytes.subarray(found.length);
    }
    const lines = parseJournal(bytes, parsed.lines + 1, times);
    for (const change of lines.changes) parsed.changes.push(change);
    for (const problem of lines.problems) parsed.problems.push(problem);
    parsed.consumed += lines.consumed;
    parsed.lines += lines.lines;
    // A copy: the piece is read into again.
    rest = Buffer.from(bytes.subarray(lines.consumed));
  }
  // An empty journal file has no header either.
  if (header !== undefined) return { identity, size };
  return { identity, size: position, parsed };
}

/** Whether the file still holds `bytes` at `position`. */
async function stillThere(handle: FileHandle, bytes: Buffer, position: number): Promise<boolean> {
  const now = Buffer.alloc(bytes.length);
  const { bytesRead } = await handle.read(now, 0, now.length, position);
  return bytesRead === bytes.length && now.equals(bytes);
}

/**
 * Reads and checks a task map, its journal included: undefined when there
 * is none, else its usable records and a line for each record or journal
 * line left out. Takes no lock. Throws a TaskMapError for a file that cannot
 * be read or is not a task map.
 */
export async function readTaskMapFile(file: string): Promise<{ records: Record<string, TaskRecord>; problems: string[] } | undefined> {
  const { records, problems } = await readWhole(file);
  return records && { records, problems };
}

/**
 * The lowdb adapter of the task map: a snapshot (the JSON file the map
 * always was) and a journal beside it of the changes since, one JSON line
 * each, so a save costs the change and not the map.
 *
 * The caller owns the lock: `write` must follow a `catchUp` under the same
 * lock, with the changes handed to `stage`. `write` appends them, or
 * rewrites the snapshot (and starts an empty journal) when the journal has
 * grown past shouldCompact, when the snapshot has no journal of its own
 * yet (a new map, or one written by an older version) or when something
 * read was left out.
 */
export class TaskJournal implements Adapter<TaskMapFile> {
  private seen: Seen | undefined;
  private staged: TaskChange[] = [];

  constructor(readonly file: string) {}

  /** The whole map, problems aside; lowdb's read. */
  async read(): Promise<TaskMapFile | null> {
    const { records, seen } = await readWhole(this.file);
    this.seen = seen;
    return records ? { tasks: records } : null;
  }

  /**
   * What changed since the last read or write: undefined when nothing did
   * (a stat of each file); the lines appended meanwhile when the snapshot is
   * the one read; else the whole map again.
   */
  async catchUp(): Promise<CatchUp | undefined> {
    const seen = this.seen;
    if (seen && sameIdentity(await identityOf(this.file), seen.snapshot)) {
      const now = await identityOf(journalOf(this.file));
      const journal = seen.journal;
      if (!journal) {
        if (sameIdentity(now, seen.stray)) return undefined;
      } else if (now?.ino === journal.ino && now.size === journal.size) {
        return undefined;
      } else if (now?.ino === journal.ino && now.size >= journal.offset) {
        const read = await readJournal(journalOf(this.file), { from: journal.offset, line: journal.line + 1 });
        if (read?.parsed && read.identity.ino === journal.ino) {
          const { parsed } = read;
          seen.journal = { ino: journal.ino, offset: parsed.consumed, size: read.size, line: parsed.lines };
          const problems = parsed.problems.map((problem) => tell(this.file, problem));
          if (problems.length > 0) seen.dirty = true;
          return { whole: false, changes: parsed.changes, problems };
        }
      }
    }
    const { records, problems, seen: fresh } = await readWhole(this.file);
    this.seen = fresh;
    return { whole: true, records, problems };
  }

  /** The changes the next `write` persists. */
  stage(changes: Iterable<TaskChange>): void {
    this.staged = [...changes];
  }

  async write(data: TaskMapFile): Promise<void> {
    const changes = this.staged;
    this.staged = [];
    const seen = this.seen;
    const journal = seen?.journal;
    if (!seen?.snapshot || !journal || seen.dirty || shouldCompact(journal.offset, seen.snapshot.size) || !(await this.append(journal, changes))) {
      await this.compact(data.tasks);
    }
  }

  /** Appends, or resolves false when the journal is no longer the one read (then compact). */
  private async append(journal: NonNullable<Seen['journal']>, changes: TaskChange[]): Promise<boolean> {
    if (changes.length === 0) return true;
    // 'r+', not 'a': a journal removed meanwhile is not started again
    // without its first line.
    const handle = await open(journalOf(this.file), constants.O_RDWR | constants.O_NOFOLLOW).catch(() => undefined);
    if (!handle) return false;
    try {
      if ((await handle.stat()).ino !== journal.ino) return false;
      // Cut off the half line of a writer killed mid-append, or ours would
      // be glued to it and lost with it.
      if (journal.size > journal.offset) await handle.truncate(journal.offset);
      const bytes = Buffer.from(changes.map(journalLine).join(''));
      await handle.write(bytes, 0, bytes.length, journal.offset);
      journal.offset += bytes.length;
      journal.size = journal.offset;
      journal.line += changes.length;
      return true;
    } finally {
      await handle.close();
    }
  }

  /**
   * Rewrites the snapshot with a new journal id, then starts the journal of
   * that id. A kill at any point leaves the old snapshot with its journal,
   * or the new snapshot with the old journal (which no longer belongs to it
   * and is left out, as the snapshot holds it), or the new pair. The folder
   * is synced between the renames: a power cut must not keep the new journal
   * and lose the new snapshot.
   */
  private async compact(tasks: Record<string, TaskRecord>): Promise<void> {
    const id = randomUUID();
    const temp = tempOf(this.file);
    const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o666);
    try {
      for (const chunk of snapshotChunks(id, tasks)) await handle.write(chunk);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, this.file);
    await fsyncFolder(path.dirname(this.file));
    const header = headerLine(id);
    await writeFile(temp, header, { flag: constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW });
    await rename(temp, journalOf(this.file));
    const [snapshot, journal] = await Promise.all([identityOf(this.file), stat(journalOf(this.file))]);
    const length = Buffer.byteLength(header);
    this.seen = { snapshot, journal: { ino: journal.ino, offset: length, size: length, line: 1 }, stray: undefined, dirty: false };
  }
}
