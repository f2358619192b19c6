import { expect } from 'chai';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TaskStore } from '../../../src/client/taskStore.js';
import { tempDir } from '../../helpers/files.js';

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
      const onDisk = JSON.parse(await readFile(file, 'utf8'));
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
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? a : b).markComplete(`f${i}`, { size: i, version: 'v', sha256: 'e'.repeat(64) }),
      ),
    );
    await Promise.all([a.flushed(), b.flushed()]);
    const onDisk = JSON.parse(await readFile(file, 'utf8'));
    expect(Object.keys(onDisk.tasks)).to.have.length(20);
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
});
