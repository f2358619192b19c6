// @ts-nocheck
import { expect } from 'chai';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readTaskMapFile, TaskMapError } from '../../../src/client/taskMap/taskJournal.js';
import { TaskStore } from '../../../src/client/taskMap/taskStore.js';
import { tempDir } from '../../helpers/files.js';
import { completeRecord } from '../../helpers/taskRecords.js';

describe('TaskStore', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(() => cleanup());

  it('persists records to its JSON file, also under NODE_ENV=test', async () => {
    const previous = process.env.NODE_ENV;
    process.env.NODE_ENV = 'test';
    try {
      const file = path.join(dir, 'nested', 'tasks.json');
      const store = await TaskStore.open(file);
      await store.markIncomplete('a.bin', { size: 10, version: 'v1', sha256: null });
      await store.markComplete('b.bin', { size: 3, version: 'v2', sha256: 'f'.repeat(64) });
      const onDisk = { tasks: (await readTaskMapFile(file))!.records };
      expect(onDisk.tasks['a.bin']).to.include({ status: 'incomplete', size: 10, version: 'v1', sha256: null });
      expect(onDisk.tasks['b.bin']).to.include({ status: 'complete', size: 3, version: 'v2' });
      const reopened = await TaskStore.open(file);
      expect(reopened.all().map((t) => [t.name, t.status])).to.deep.equal([
        ['a.bin', 'incomplete'],
        ['b.bin', 'complete'],
      ]);
    } finally {
      process.env.NODE_ENV = previous;
    }
  });

  it('keeps the first start time while the same version is resumed, and resets it for a new version', async () => {
    const store = await TaskStore.open(path.join(dir, 'tasks.json'));
    const first = await store.markIncomplete('a.bin', { size: 10, version: 'v1', sha256: 'a'.repeat(64) });
    const again = await store.markIncomplete('a.bin', { size: 10, version: 'v1', sha256: null });
    expect(again.createdAt).to.equal(first.createdAt);
    expect(again.sha256).to.equal('a'.repeat(64));
    const changed = await store.markIncomplete('a.bin', { size: 12, version: 'v2', sha256: null });
    expect(changed).to.include({ version: 'v2', size: 12, sha256: null });
  });

  it('merges the writes of two stores on one file instead of losing either', async () => {
    const file = path.join(dir, 'tasks.json');
    const [a, b] = await Promise.all([TaskStore.open(file), TaskStore.open(file)]);
    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).markComplete(`f${i}`, { size: i, version: 'v', sha256: 'e'.repeat(64) })));
    await Promise.all([a.flushed(), b.flushed()]);
    expect(Object.keys((await readTaskMapFile(file))!.records)).to.have.length(20);
    await a.reload();
    expect(a.get('f2')).to.include({ status: 'complete', size: 2 });
  });

  it('says how to recover from a damaged task map', async () => {
    const file = path.join(dir, 'tasks.json');
    await writeFile(file, '{"tasks": {');
    let message = '';
    await TaskStore.open(file).catch((err: Error) => (message = err.message));
    expect(message).to.match(/not valid JSON.*move it aside and run again/);
  });

  const record = (name: string) => completeRecord(name);

  it('refuses a file that is not a task map, saying how to recover', async () => {
    const file = path.join(dir, 'tasks.json');
    for (const content of ['[]', '{"tasks":5}', '{"tasks":[]}', 'null', '']) {
      await writeFile(file, content);
      const err = await TaskStore.open(file).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, content).to.be.instanceOf(TaskMapError);
      expect((err as Error).message, content).to.match(
        /^the task map .* is not (a task map|valid JSON).*; move it aside and run again: partials will resume and digests will be checked$/,
      );
    }
  });

  it('leaves out invalid records on open, tells each once, and writes them away with its next change', async () => {
    const file = path.join(dir, 'tasks.json');
    const { name: _, ...nameless } = record('x');
    await writeFile(file, JSON.stringify({ tasks: { 'good.bin': record('good.bin'), 'bad.bin': nameless } }));
    const told: string[] = [];
    const store = await TaskStore.open(file, { onProblem: (message) => told.push(message) });
    expect(told).to.deep.equal([`the task map ${file}: record "bad.bin" has no name; left out: its partial resumes and its file is checked by digest`]);
    expect(store.all().map((r) => r.name)).to.deep.equal(['good.bin']);
    expect(store.get('bad.bin')).to.equal(undefined);
    await store.markComplete('new.bin', { size: 1, version: 'v', sha256: 'f'.repeat(64) });
    expect(Object.keys(JSON.parse(await readFile(file, 'utf8')).tasks).sort()).to.deep.equal(['good.bin', 'new.bin']);
    await store.reload();
    expect(told).to.have.length(1);
  });

  it('checks what another process wrote when it re-reads the map', async () => {
    const file = path.join(dir, 'tasks.json');
    const told: string[] = [];
    const store = await TaskStore.open(file, { onProblem: (message) => told.push(message) });
    await store.markComplete('mine.bin', { size: 1, version: 'v', sha256: 'f'.repeat(64) });
    await writeFile(file, JSON.stringify({ tasks: { 'mine.bin': record('mine.bin'), 'theirs.bin': { ...record('theirs.bin'), size: -5 } } }));
    await store.reload();
    expect(store.get('theirs.bin')).to.equal(undefined);
    expect(store.get('mine.bin')).to.include({ size: 3 });
    expect(told).to.have.length(1);
    expect(told[0]).to.match(/record "theirs\.bin" has size -5/);

    await writeFile(file, '{"tasks":[]}');
    const err = await store.reload().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(TaskMapError);
    expect((err as Error).message).to.match(/"tasks" is an array.*move it aside and run again/);
  });

  it('does not take "constructor" for a record', async () => {
    const store = await TaskStore.open(path.join(dir, 'tasks.json'));
    expect(store.get('constructor')).to.equal(undefined);
    expect(store.get('__proto__')).to.equal(undefined);
    expect(store.get('toString')).to.equal(undefined);
  });
});
