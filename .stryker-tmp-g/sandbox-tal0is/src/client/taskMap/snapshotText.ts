// @ts-nocheck
import { parseTaskMap, takeRecords, type ParsedTaskMap } from './taskMapSchema.js';
import type { TaskRecord } from './taskRecord.js';

/** The first line of a snapshot as snapshotChunks writes it; its id is a JSON string. */
const HEADER = /^\{"journal":("(?:[^"\\]|\\.)*"),"tasks":\{$/;
/** Between two records: JSON.stringify escapes every newline inside a string, so this occurs nowhere else. */
const SEPARATOR = ',\n';
/** After the last record. */
const CLOSING = /\n?\}\}\s*$/;

/** A snapshot's text that is not JSON; `message` is JSON.parse's or says what is missing. */
export class SnapshotSyntaxError extends Error {}

/**
 * Reads a snapshot's text piece by piece, as it comes from the file. Text
 * in the layout snapshotChunks writes (a header line, then a record a line)
 * is parsed a run of lines at a time, each record checked and its strings
 * shared as it comes: a map of 100,000 records never exists as one 30 MB
 * string plus every value JSON.parse made of it (measured: the peak RSS of
 * loading such a map, 185 MiB -> 120 MiB). Any other text, e.g. a map
 * written by lowdb, is kept whole and parsed at the end, as it always was.
 * The result is what JSON.parse and parseTaskMap would make of the whole
 * text, later records of a name replacing earlier ones.
 */
export class SnapshotText {
  private mode: 'header' | 'records' | 'whole' = 'header';
  private pending = '';
  private readonly whole: string[] = [];
  private id: string | undefined;
  private readonly records = Object.create(null) as Record<string, TaskRecord>;
  private readonly problems: string[] = [];
  private readonly times = new Map<string, string>();

  /** Throws a SnapshotSyntaxError when the text read so far cannot be a snapshot's. */
  add(piece: string): void {
    if (this.mode === 'whole') {
      this.whole.push(piece);
      return;
    }
    this.pending += piece;
    if (this.mode === 'header') {
      const end = this.pending.indexOf('\n');
      if (end < 0) return;
      const header = HEADER.exec(this.pending.slice(0, end));
      if (!header) {
        this.mode = 'whole';
        this.whole.push(this.pending);
        return;
      }
      this.id = JSON.parse(header[1]!) as string;
      this.mode = 'records';
      this.pending = this.pending.slice(end + 1);
    }
    const cut = this.pending.lastIndexOf(SEPARATOR);
    // At 0 there is no record before it, which JSON does not allow: kept, and refused with what follows.
    if (cut <= 0) return;
    this.take(this.pending.slice(0, cut));
    this.pending = this.pending.slice(cut + SEPARATOR.length);
  }

  /** The map, once all the text was added. Throws a SnapshotSyntaxError when the text is not JSON. */
  end(): { parsed: ParsedTaskMap; id: string | undefined } {
    if (this.mode === 'header') {
      this.whole.push(this.pending);
      this.mode = 'whole';
    }
    if (this.mode === 'whole') {
      let data: unknown;
      try {
        data = JSON.parse(this.whole.join(''));
      } catch (err) {
        throw new SnapshotSyntaxError((err as Error).message);
      }
      const id = (data as { journal?: unknown } | null)?.journal;
      return { parsed: parseTaskMap(data), id: typeof id === 'string' ? id : undefined };
    }
    const closing = CLOSING.exec(this.pending);
    if (!closing) throw new SnapshotSyntaxError('it ends before its last record is closed');
    this.take(this.pending.slice(0, closing.index));
    return { parsed: { ok: true, records: this.records, problems: this.problems }, id: this.id };
  }

  /** Records `"name":{...}` separated as in the file. */
  private take(lines: string): void {
    let tasks: unknown;
    try {
      tasks = JSON.parse(`{${lines}}`);
    } catch (err) {
      throw new SnapshotSyntaxError((err as Error).message);
    }
    takeRecords(tasks as Record<string, unknown>, this.records, this.problems, this.times);
  }
}
