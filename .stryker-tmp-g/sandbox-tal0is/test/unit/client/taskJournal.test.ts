// @ts-nocheck
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { appendFile, mkdir, open, readFile, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  applyChanges,
  headerLine,
  journalLine,
  journalOf,
  parseJournal,
  readTaskMapFile,
  snapshotChunks,
  TaskMapError,
  type TaskChange,
} from '../../../src/client/taskMap/taskJournal.js';
import type { TaskRecord } from '../../../src/client/taskMap/taskRecord.js';
import { completeRecord } from '../../helpers/taskRecords.js';
import { TaskStore } from '../../../src/client/taskMap/taskStore.js';
import { tempDir } from '../../helpers/files.js';

const record = (name: string, size = 3): TaskRecord => completeRecord(name, { size });

/** The journal lines that record each of `names` complete. */
const lines = (names: string[]) => names.map((name) => journalLine([name, record(name)])).join('');

/**
 * Opens a store on the map `file` and runs `meanwhile` right after the
 * first read of a whole MiB, which is the journal's first piece when the
 * snapshot is smaller: another process writing while the journal is read.
 */
async function openAfterFirstPiece(file: string, meanwhile: () => Promise<void>): Promise<TaskStore> {
  const handle = await open(journalOf(file), 'r');
  const prototype = Object.getPrototypeOf(handle) as { read: (...args: unknown[]) => Promise<unknown> };
  await handle.close();
  const read = prototype.read;
  let staged = false;
  prototype.read = async function (this: unknown, ...args: unknown[]) {
    const done = (await read.apply(this, args)) as { bytesRead: number };
    if (!staged && done.bytesRead === 1024 * 1024) {
      staged = true;
      await meanwhile();
    }
    return done;
  };
  try {
    const store = await TaskStore.open(file);
    expect(staged, 'the race was staged').to.equal(true);
    return store;
  } finally {
    prototype.read = read;
  }
}

const tasksOf = (...records: TaskRecord[]) => Object.fromEntries(records.map((r) => [r.name, r])) as Record<string, TaskRecord>;

describe('task map journal', () => {
  describe('parseJournal', () => {
    it('reads complete lines and leaves a torn final line for later, counting only the bytes it read', () => {
      const lines = journalLine(['a.bin', record('a.bin')]) + journalLine(['b.bin', null]);
      const torn = journalLine(['c.bin', record('c.bin')]).slice(0, 30);
      const parsed = parseJournal(Buffer.from(lines + torn), 2);
      expect(parsed.changes).to.deep.equal([
        ['a.bin', record('a.bin')],
        ['b.bin', null],
      ]);
      expect(parsed).to.include({ consumed: Buffer.byteLength(lines), lines: 2 });
      expect(parsed.problems).to.deep.equal([]);
    });

    it('leaves out a complete line that is not a valid change, keeping the lines around it', () => {
      const text = [
        journalLine(['a.bin', record('a.bin')]),
        '{"name":"a.bin","status":"compl\n',
        JSON.stringify({ ...record('neg.bin'), size: -1 }) + '\n',
        '{"forget":5}\n',
        journalLine(['b.bin', record('b.bin')]),
      ].join('');
      const parsed = parseJournal(Buffer.from(text), 2);
      expect(parsed.changes.map(([name]) => name)).to.deep.equal(['a.bin', 'b.bin']);
      expect(parsed.problems).to.deep.equal([
        'line 3 of its journal: not JSON',
        'line 4 of its journal: record "neg.bin" has size -1, not a whole number of bytes',
        'line 5 of its journal: forgets no name',
      ]);
    });
  });

  it('replays a journal over a snapshot that already holds it without changing anything (a compaction killed between its renames)', () => {
    const snapshot = tasksOf(record('a.bin'), record('b.bin'), record('c.bin'));
    const journal: TaskChange[] = [
      ['a.bin', record('a.bin', 7)],
      ['b.bin', null],
      ['d.bin', record('d.bin')],
      ['a.bin', record('a.bin', 8)],
    ];
    const once = { ...snapshot };
    applyChanges(once, journal);
    const compacted = JSON.parse([...snapshotChunks('id', once)].join('')).tasks;
    const twice = { ...compacted };
    applyChanges(twice, journal);
    expect(twice)
      .to.deep.equal(compacted)
      .and.to.deep.equal(tasksOf(record('a.bin', 8), record('c.bin'), record('d.bin')));
  });

  describe('on disk', () => {
    let dir: string;
    let cleanup: () => Promise<void>;
    beforeEach(async () => ({ dir, cleanup } = await tempDir()));
    afterEach(() => cleanup());

    it('reads a map written by the lowdb JSON file of earlier versions, and appends to it after one rewrite', async () => {
      const file = path.join(dir, 'tasks.json');
      // Exactly what lowdb's JSONFile wrote.
      await writeFile(file, JSON.stringify({ tasks: tasksOf(record('old.bin'), record('older.bin')) }, null, 2));
      expect(Object.keys((await readTaskMapFile(file))!.records).sort()).to.deep.equal(['old.bin', 'older.bin']);
      const store = await TaskStore.open(file);
      expect(store.get('old.bin')).to.deep.equal(record('old.bin'));
      await store.markComplete('new.bin', { size: 1, version: 'v', sha256: 'f'.repeat(64) });
      await store.markComplete('newer.bin', { size: 1, version: 'v', sha256: 'f'.repeat(64) });
      const snapshot = JSON.parse(await readFile(file, 'utf8'));
      expect(Object.keys(snapshot.tasks).sort(), 'the first write gives the snapshot its journal').to.deep.equal(['new.bin', 'old.bin', 'older.bin']);
      expect(
        (await readFile(journalOf(file), 'utf8'))
          .split('\n')
          .slice(1, -1)
          .map((line) => JSON.parse(line).name),
      ).to.deep.equal(['newer.bin']);
      expect(Object.keys((await readTaskMapFile(file))!.records).sort()).to.deep.equal(['new.bin', 'newer.bin', 'old.bin', 'older.bin']);
    });

    it('keeps every line before a torn one, and cuts the torn one off before appending', async () => {
      const file = path.join(dir, 'tasks.json');
      const store = await TaskStore.open(file);
      await store.markComplete('a.bin', { size: 1, version: 'v', sha256: 'f'.repeat(64) });
      await store.markComplete('b.bin', { size: 1, version: 'v', sha256: 'f'.repeat(64) });
      // What a writer killed mid-append leaves.
      await appendFile(journalOf(file), journalLine(['c.bin', record('c.bin')]).slice(0, 40));
      const told: string[] = [];
      const other = await TaskStore.open(file, { onProblem: (message) => told.push(message) });
      expect(other.all().map((r) => r.name)).to.deep.equal(['a.bin', 'b.bin']);
      await other.markComplete('d.bin', { size: 1, version: 'v', sha256: 'f'.repeat(64) });
      await store.reload();
      expect(store.all().map((r) => r.name)).to.deep.equal(['a.bin', 'b.bin', 'd.bin']);
      expect(Object.keys((await readTaskMapFile(file))!.records).sort()).to.deep.equal(['a.bin', 'b.bin', 'd.bin']);
      expect(told, 'a torn line is not a problem').to.deep.equal([]);
    });

    it('tells about an invalid journal line once, and writes it away with the next change', async () => {
      const file = path.join(dir, 'tasks.json');
      const store = await TaskStore.open(file);
      await store.markComplete('a.bin', { size: 1, version: 'v', sha256: 'f'.repeat(64) });
      await appendFile(journalOf(file), `${JSON.stringify({ ...record('bad.bin'), status: 'done' })}\n`);
      const told: string[] = [];
      const other = await TaskStore.open(file, { onProblem: (message) => told.push(message) });
      await store.markComplete('b.bin', { size: 1, version: 'v', sha256: 'f'.repeat(64) });
      await other.reload();
      expect(other.all().map((r) => r.name)).to.deep.equal(['a.bin', 'b.bin']);
      expect(told).to.deep.equal([
        `the task map ${file}: line 2 of its journal: record "bad.bin" has status "done", not "incomplete" or "complete"; left out: its partial resumes and its file is checked by digest`,
      ]);
      // The store that wrote b.bin read the bad line first, and compacted.
      expect(await readFile(journalOf(file), 'utf8')).not.to.include('bad.bin');
      expect(Object.keys(JSON.parse(await readFile(file, 'utf8')).tasks).sort()).to.deep.equal(['a.bin', 'b.bin']);
      await other.markComplete('c.bin', { size: 1, version: 'v', sha256: 'f'.repeat(64) });
      await other.reload();
      expect(told).to.have.length(1);
    });

    it('reads a journal of several MiB, read a piece at a time, on open and on catching up, with lines numbered across pieces', async () => {
      const file = path.join(dir, 'tasks.json');
      const store = await TaskStore.open(file);
      await store.markComplete('first.bin', { size: 1, version: 'v', sha256: 'f'.repeat(64) });
      // Names of growing length, so that lines end at every offset of a piece.
      const names = (from: number, count: number) => Array.from({ length: count }, (_, i) => `${from + i}${'n'.repeat((from + i) % 97)}.bin`);
      const before = names(0, 6000);
      const after = names(6000, 6000);
      expect(Buffer.byteLength(lines(before))).to.be.above(1.5 * 1024 * 1024);
      await appendFile(journalOf(file), `${lines(before.slice(0, 4000))}{"bad":1}\n${lines(before.slice(4000))}`);
      const told: string[] = [];
      const other = await TaskStore.open(file, { onProblem: (message) => told.push(message) });
      expect(other.names().sort()).to.deep.equal(['first.bin', ...before].sort());
      // first.bin went to the snapshot (a new map is written whole): the
      // header, then 4,000 lines, then the bad one.
      expect(told).to.deep.equal([
        `the task map ${file}: line 4002 of its journal: a record with no name; left out: its partial resumes and its file is checked by digest`,
      ]);
      await appendFile(journalOf(file), `${lines(after)}{"bad":2}\n${journalLine(['torn.bin', record('torn.bin')]).slice(0, 50)}`);
      await other.reload();
      expect(other.names().sort()).to.deep.equal(['first.bin', ...before, ...after].sort());
      // Then 2,000 more, all of `after`, and the second bad one.
      expect(told[1]).to.include(`line ${4002 + 2000 + 6000 + 1} of its journal: a record with no name`);
      // The torn line is cut off, and what follows it is read where it was written.
      await other.markComplete('last.bin', { size: 1, version: 'v', sha256: 'f'.repeat(64) });
      await store.reload();
      expect(store.get('last.bin')?.status).to.equal('complete');
      expect(store.get('torn.bin')).to.equal(undefined);
      expect(Object.keys((await readTaskMapFile(file))!.records)).to.have.length(1 + before.length + after.length + 1);
    });

    it('loses none of the lines another process writes over a torn line while the journal is read piece by piece', async function () {
      this.timeout(20_000);
      const file = path.join(dir, 'tasks.json');
      const store = await TaskStore.open(file);
      await store.markComplete('first.bin', { size: 1, version: 'v', sha256: 'f'.repeat(64) });
      const mine = Array.from({ length: 3800 }, (_, i) => `mine${i}.bin`);
      await appendFile(journalOf(file), lines(mine));
      const whole = (await stat(journalOf(file))).size;
      expect(whole).to.be.within(1024 * 1024 - 100_000, 1024 * 1024 - 1000);
      // A writer killed mid-append left a torn line that runs past the
      // first MiB the reader takes.
      await appendFile(journalOf(file), journalLine(['torn.bin', record(`${'t'.repeat(200_000)}.bin`)]).slice(0, 150_000));
      const others = Array.from({ length: 2000 }, (_, i) => `other${i}.bin`);
      // The first read of a whole MiB is the journal's first piece (the
      // snapshot is smaller); right after it, another process (holding the
      // lock) cuts the torn line off and appends its own lines where it was.
      const reader = await openAfterFirstPiece(file, async () => {
        await truncate(journalOf(file), whole);
        await appendFile(journalOf(file), lines(others));
      });
      // The reader writes, as a mirror does: under the lock it reads on from
      // where it stopped, so its write keeps everyone's records.
      await reader.markComplete('last.bin', { size: 1, version: 'v', sha256: 'f'.repeat(64) });
      const onDisk = Object.keys((await readTaskMapFile(file))!.records);
      expect(onDisk.filter((name) => name.startsWith('other'))).to.have.length(others.length);
      expect(onDisk).to.have.length(1 + mine.length + others.length + 1);
      expect(reader.get('other1999.bin')?.status).to.equal('complete');
    });

    it('stops at the end of a piece when a torn line that began there is cut off while it reads', async function () {
      this.timeout(20_000);
      const file = path.join(dir, 'tasks.json');
      const store = await TaskStore.open(file);
      await store.markComplete('first.bin', { size: 1, version: 'v', sha256: 'f'.repeat(64) });
      // Lines up to some hundred bytes short of the first MiB, then one
      // whose name is as long as it takes for the MiB to end with it.
      let size = (await stat(journalOf(file))).size;
      const mine: string[] = [];
      while (size < 1024 * 1024 - 500) {
        mine.push(`mine${mine.length}.bin`);
        size += Buffer.byteLength(lines(mine.slice(-1)));
      }
      const filler = (length: number) => lines([`${'f'.repeat(length)}.bin`]);
      const perChar = Buffer.byteLength(filler(1)) - Buffer.byteLength(filler(0));
      const length = (1024 * 1024 - size - Buffer.byteLength(filler(0))) / perChar;
      expect(length).to.be.within(1, 250);
      mine.push(`${'f'.repeat(length)}.bin`);
      await appendFile(journalOf(file), lines(mine));
      expect((await stat(journalOf(file))).size).to.equal(1024 * 1024);
      await appendFile(journalOf(file), journalLine(['torn.bin', record('torn.bin')]).slice(0, 50));
      const reader = await openAfterFirstPiece(file, () => truncate(journalOf(file), 1024 * 1024));
      expect(reader.names()).to.have.length(1 + mine.length);
      await reader.markComplete('last.bin', { size: 1, version: 'v', sha256: 'f'.repeat(64) });
      expect(Object.keys((await readTaskMapFile(file))!.records)).to.have.length(1 + mine.length + 1);
    });

    it('takes an empty journal file for one without its header: the next save starts a journal of its own', async () => {
      const file = path.join(dir, 'tasks.json');
      const store = await TaskStore.open(file);
      await store.markComplete('a.bin', { size: 1, version: 'v', sha256: 'f'.repeat(64) });
      await writeFile(journalOf(file), '');
      const other = await TaskStore.open(file);
      await other.markComplete('b.bin', { size: 1, version: 'v', sha256: 'f'.repeat(64) });
      expect(Object.keys((await readTaskMapFile(file))!.records).sort()).to.deep.equal(['a.bin', 'b.bin']);
    });

    it('says which journal it cannot read, as for the snapshot, when the journal is not a file', async () => {
      const file = path.join(dir, 'tasks.json');
      const store = await TaskStore.open(file);
      await store.markComplete('a.bin', { size: 1, version: 'v', sha256: 'f'.repeat(64) });
      await rm(journalOf(file));
      await mkdir(journalOf(file));
      const failure = await readTaskMapFile(file).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(failure).to.be.instanceOf(TaskMapError);
      expect((failure as TaskMapError).message).to.match(/^cannot read the task map's journal .*tasks\.json\.journal \(not a regular file\)$/);
    });

    it('refuses a FIFO given as the task map at once, where an open would wait for a writer', async () => {
      const file = path.join(dir, 'tasks.json');
      execFileSync('mkfifo', [file]);
      const failure = await TaskStore.open(file).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(failure).to.be.instanceOf(TaskMapError);
      expect((failure as TaskMapError).message).to.match(/^cannot read the task map .*tasks\.json \(not a regular file\)$/);
    });

    it('forgets a record with a line of its own', async () => {
      const file = path.join(dir, 'tasks.json');
      const store = await TaskStore.open(file);
      await store.markComplete('a.bin', { size: 1, version: 'v', sha256: 'f'.repeat(64) });
      await store.markComplete('b.bin', { size: 1, version: 'v', sha256: 'f'.repeat(64) });
      await store.forget('a.bin');
      expect(store.get('a.bin')).to.equal(undefined);
      expect((await readFile(journalOf(file), 'utf8')).trimEnd().split('\n').at(-1)).to.equal('{"forget":"a.bin"}');
      expect(Object.keys((await readTaskMapFile(file))!.records)).to.deep.equal(['b.bin']);
      expect((await TaskStore.open(file)).get('a.bin')).to.equal(undefined);
    });

    it('leaves out a journal that belongs to another snapshot: one replaced by hand or by an earlier version', async () => {
      const file = path.join(dir, 'tasks.json');
      const store = await TaskStore.open(file);
      await store.markComplete('a.bin', { size: 1, version: 'v', sha256: 'f'.repeat(64) });
      await store.markComplete('b.bin', { size: 1, version: 'v', sha256: 'f'.repeat(64) });
      await writeFile(file, JSON.stringify({ tasks: tasksOf(record('a.bin', 9)) }, null, 2));
      expect((await readTaskMapFile(file))!.records).to.deep.equal(tasksOf(record('a.bin', 9)));
      await store.reload();
      expect(store.all()).to.deep.equal([record('a.bin', 9)]);
    });

    it('catches up with a journal started after it read the snapshot of a compaction under way', async () => {
      const file = path.join(dir, 'tasks.json');
      // Between a compaction's renames: the new snapshot, the old journal.
      await writeFile(file, [...snapshotChunks('new', tasksOf(record('a.bin'), record('b.bin')))].join(''));
      await writeFile(journalOf(file), headerLine('old') + journalLine(['b.bin', record('b.bin')]));
      const store = await TaskStore.open(file);
      expect(store.all().map((r) => r.name)).to.deep.equal(['a.bin', 'b.bin']);
      await writeFile(`${journalOf(file)}.next`, headerLine('new') + journalLine(['c.bin', record('c.bin')]));
      await rename(`${journalOf(file)}.next`, journalOf(file));
      await store.reload();
      expect(store.all().map((r) => r.name)).to.deep.equal(['a.bin', 'b.bin', 'c.bin']);
    });

    it('saves one record into a map of 100,000 by appending one line, not by rewriting the map', async function () {
      this.timeout(20_000);
      const file = path.join(dir, 'tasks.json');
      // By template: JSON.stringify of 100,000 records would double the test's time.
      const line = (name: string, size: number) => `${JSON.stringify(name)}:${JSON.stringify(record(name, size))}`;
      const sample = line('NAME', 12345);
      const lines = Array.from({ length: 100_000 }, (_, i) => sample.replaceAll('NAME', `d${i % 100}/f${i}.bin`).replace('12345', String(i)));
      await writeFile(file, `{"journal":"the-id","tasks":{\n${lines.join(',\n')}\n}}\n`);
      await writeFile(journalOf(file), headerLine('the-id'));
      const snapshot = await stat(file);
      const store = await TaskStore.open(file);
      expect(store.get('d99/f99999.bin')).to.deep.equal(record('d99/f99999.bin', 99_999));

      const saved = await store.markComplete('one.bin', { size: 1, version: 'v', sha256: 'f'.repeat(64) });
      expect((await stat(file)).ino, 'the snapshot is the same file').to.equal(snapshot.ino);
      expect((await stat(file)).size).to.equal(snapshot.size);
      expect((await stat(journalOf(file))).size).to.equal(Buffer.byteLength(headerLine('the-id') + journalLine(['one.bin', saved])));
      await store.forget('d7/f7.bin');
      expect((await stat(journalOf(file))).size).to.equal(
        Buffer.byteLength(headerLine('the-id') + journalLine(['one.bin', saved]) + '{"forget":"d7/f7.bin"}\n'),
      );
    });

    it('two stores writing one map at once lose nothing, also across the compactions of either', async function () {
      this.timeout(20_000);
      const file = path.join(dir, 'tasks.json');
      const [a, b] = await Promise.all([TaskStore.open(file), TaskStore.open(file)]);
      const names: string[] = [];
      const ids = new Set<string>();
      for (let round = 0; round < 12; round += 1) {
        const saves = Array.from({ length: 800 }, (_, i) => {
          const name = `r${round}/f${i}-with-a-name-long-enough-to-fill-the-journal-sooner.bin`;
          names.push(name);
          return (i % 2 ? a : b).markComplete(name, { size: i, version: `v${round}`, sha256: 'e'.repeat(64) });
        });
        await Promise.all(saves);
        ids.add(JSON.parse(await readFile(file, 'utf8')).journal);
      }
      await Promise.all([a.flushed(), b.flushed()]);
      expect(ids.size, 'the map was compacted while both wrote').to.be.greaterThan(2);
      expect(Object.keys((await readTaskMapFile(file))!.records).sort()).to.deep.equal([...names].sort());
      await Promise.all([a.reload(), b.reload()]);
      expect(a.all()).to.deep.equal(b.all());
      expect(a.all()).to.have.length(names.length);
    });
  });
});
