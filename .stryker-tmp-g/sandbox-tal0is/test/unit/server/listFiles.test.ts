// @ts-nocheck
import { expect } from 'chai';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { folderIsInPlace, readAhead } from '../../../src/server/listFiles.js';
import { tempDir } from '../../helpers/files.js';

describe('listFiles: which opened folders may be listed', () => {
  it('lists a folder whose descriptor resolves to the path meant, and on reopening only the same folder', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const a = path.join(dir, 'a');
      const b = path.join(dir, 'b');
      await mkdir(a);
      await mkdir(b);
      await writeFile(path.join(dir, 'f'), '');
      const [infoA, infoB, infoF] = await Promise.all([a, b, path.join(dir, 'f')].map((p) => stat(p, { bigint: true })));
      expect(folderIsInPlace(a, a, infoA!)).to.equal(true);
      expect(folderIsInPlace(a, a, infoA!, infoA)).to.equal(true);
      expect(folderIsInPlace(a, '/elsewhere/a', infoA!), 'a symlink on the way').to.equal(false);
      expect(folderIsInPlace(a, a, infoF!), 'not a folder').to.equal(false);
      expect(folderIsInPlace(a, a, infoB!, infoA), 'another folder now has the name').to.equal(false);
    } finally {
      await cleanup();
    }
  });
});

describe('readAhead', () => {
  /** A source that counts how far it was asked, failing at `failAt`. */
  function counted(values: number, failAt = -1) {
    const state = { produced: 0, closed: false };
    async function* source(): AsyncGenerator<number> {
      try {
        for (let i = 0; i < values; i += 1) {
          await Promise.resolve();
          if (i === failAt) throw new Error(`failed at ${i}`);
          state.produced += 1;
          yield i;
        }
      } finally {
        state.closed = true;
      }
    }
    return { state, source: source() };
  }

  it('yields every value in order while the source runs ahead by the given count', async () => {
    const { state, source } = counted(10);
    const seen: number[] = [];
    const ahead: number[] = [];
    for await (const value of readAhead(source, 2)) {
      seen.push(value);
      ahead.push(state.produced - seen.length);
    }
    expect(seen).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(Math.max(...ahead), 'values found before they were wanted').to.equal(2);
    expect(state.closed).to.equal(true);
  });

  it('throws a failure where its value would have come, after the values before it', async () => {
    const { source } = counted(10, 3);
    const seen: number[] = [];
    let failure: unknown;
    try {
      for await (const value of readAhead(source, 2)) seen.push(value);
    } catch (err) {
      failure = err;
    }
    expect(seen).to.deep.equal([0, 1, 2]);
    expect((failure as Error).message).to.equal('failed at 3');
  });

  it('closes the source when the caller stops early, with no unhandled failure', async () => {
    const { state, source } = counted(10, 2);
    for await (const value of readAhead(source, 2)) if (value === 0) break;
    expect(state.closed).to.equal(true);
  });
});
