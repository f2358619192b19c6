import { expect } from 'chai';
import { parseTaskMap } from '../../../src/client/taskMap/taskMapSchema.js';
import type { TaskRecord } from '../../../src/client/taskMap/taskRecord.js';
import { completeRecord } from '../../helpers/taskRecords.js';

const complete = (name: string): TaskRecord => completeRecord(name, { version: 'v1', sha256: 'a'.repeat(64), completedAt: '2026-01-01T00:00:01.000Z' });

const incomplete = (name: string): TaskRecord => ({ ...complete(name), status: 'incomplete', sha256: null, completedAt: null });

/** The one problem a map holding `good` and one bad record reports, or a failure. */
function problemOf(bad: unknown): string {
  const parsed = parseTaskMap({ tasks: { 'good.bin': complete('good.bin'), 'bad.bin': bad } });
  if (!parsed.ok) throw new Error(`refused: ${parsed.reason}`);
  expect(Object.keys(parsed.records)).to.deep.equal(['good.bin']);
  expect(parsed.problems).to.have.length(1);
  return parsed.problems[0]!;
}

describe('parseTaskMap', () => {
  it('accepts the records markIncomplete and markComplete write', () => {
    const parsed = parseTaskMap({ tasks: { 'a.bin': complete('a.bin'), 'dir/b.bin': incomplete('dir/b.bin') } });
    expect(parsed).to.deep.include({ ok: true, problems: [] });
    expect(parsed.ok && { ...parsed.records }).to.deep.equal({ 'a.bin': complete('a.bin'), 'dir/b.bin': incomplete('dir/b.bin') });
  });

  it('takes the verified blocks of a sparse partial, and drops a record whose ranges the file cannot have', () => {
    // 3 bytes in blocks of 1: blocks 0, 1, 2.
    const sparse = (verifiedBlocks: unknown) => ({ ...incomplete('bad.bin'), sha256: 'b'.repeat(64), verifiedBlocks });
    const good = {
      ...sparse({
        blockSize: 1,
        ranges: [
          [0, 1],
          [2, 3],
        ],
      }),
      name: 'sparse.bin',
    };
    const parsed = parseTaskMap({ tasks: { 'sparse.bin': good } });
    expect(parsed.ok && parsed.records['sparse.bin']).to.deep.equal(good);
    expect(problemOf(sparse({ blockSize: 1, ranges: [[0, 4]] }))).to.match(/ranges hold \[0, 4\], outside the 3 blocks/);
    expect(
      problemOf(
        sparse({
          blockSize: 1,
          ranges: [
            [0, 1],
            [1, 2],
          ],
        }),
      ),
    ).to.match(/ranges are not in order and apart at \[1, 2\]/);
    expect(problemOf(sparse({ blockSize: 1, ranges: [[2, 1]] }))).to.match(/outside/);
    expect(problemOf(sparse({ blockSize: 0, ranges: [] }))).to.match(/block size 0/);
    expect(problemOf(sparse({ blockSize: 1, ranges: 'all' }))).to.match(/ranges are not a list/);
    // The ranges alone, without their block size around them, as a hand edit might leave them.
    expect(problemOf(sparse([[0, 1]]))).to.match(/has verifiedBlocks an array, not an object$/);
    expect(problemOf({ ...sparse({ blockSize: 1, ranges: [] }), sha256: null })).to.match(/without the sha256/);
    expect(problemOf({ ...complete('bad.bin'), verifiedBlocks: { blockSize: 1, ranges: [] } })).to.match(/complete with verifiedBlocks/);
  });

  it('accepts an empty map', () => {
    expect(parseTaskMap({ tasks: {} })).to.deep.include({ ok: true, problems: [] });
  });

  for (const [what, data, reason] of [
    ['an array', [], /holds an array/],
    ['null', null, /holds null/],
    ['a number', 5, /holds 5/],
    ['an object without tasks', {}, /"tasks" is nothing/],
    ['tasks as a number', { tasks: 5 }, /"tasks" is 5/],
    ['tasks as an array', { tasks: [] }, /"tasks" is an array/],
    ['tasks as null', { tasks: null }, /"tasks" is null/],
  ] as const) {
    it(`refuses ${what}: it is not a task map`, () => {
      const parsed = parseTaskMap(data);
      expect(parsed.ok).to.equal(false);
      expect(!parsed.ok && parsed.reason).to.match(reason);
    });
  }

  it('drops a record without a name', () => {
    const { name: _, ...nameless } = complete('bad.bin');
    expect(problemOf(nameless)).to.equal('record "bad.bin" has no name');
  });

  it('drops a record filed under a key other than its name', () => {
    expect(problemOf(complete('other.bin'))).to.match(/filed under another name \("other\.bin"\)/);
  });

  it('drops a record whose name could escape the download folder', () => {
    const parsed = parseTaskMap({ tasks: { '../x': complete('../x') } });
    expect(parsed.ok && parsed.problems).to.deep.equal([`record "../x" is not a file we could have downloaded: invalid name "../x": it contains a '..' part`]);
  });

  for (const [what, change, problem] of [
    ['a record that is not an object', 'complete', /is "complete", not an object/],
    ['a record that is an array', [], /is an array/],
    ['an unknown status', { status: 'done' }, /status "done"/],
    ['a missing status', { status: undefined }, /status nothing/],
    ['a negative size', { size: -1 }, /size -1/],
    ['a fractional size', { size: 1.5 }, /size 1\.5/],
    ['a size past 2^53', { size: 2 ** 53 }, /size 9007199254740992/],
    ['a size as a string', { size: '3' }, /size "3"/],
    // Named by its kind, not quoted: an object's JSON may be long, and says nothing a reader needs.
    ['a size as an object', { size: { bytes: 3 } }, /has size an object, not a whole number/],
    ['a version that is not a string', { version: 7 }, /version 7/],
    ['a short sha256', { sha256: 'abc' }, /sha256 "abc"/],
    ['an upper-case sha256', { sha256: 'A'.repeat(64) }, /sha256 "AAAA/],
    ['a complete record without sha256', { sha256: null }, /complete without a sha256/],
    ['a missing createdAt', { createdAt: undefined }, /createdAt or updatedAt/],
    ['a complete record without completedAt', { completedAt: null }, /complete without a completedAt/],
  ] as const) {
    it(`drops ${what}`, () => {
      const bad = typeof change === 'object' && !Array.isArray(change) ? { ...complete('bad.bin'), ...change } : change;
      expect(problemOf(bad))
        .to.match(/^record "bad\.bin" /)
        .and.match(problem);
    });
  }

  it('drops an incomplete record that says when it completed', () => {
    expect(problemOf({ ...incomplete('bad.bin'), completedAt: '2026-01-01T00:00:00.000Z' })).to.match(/incomplete with a completedAt/);
  });

  it('keeps names like "constructor" and "__proto__" as plain records', () => {
    // JSON.parse makes "__proto__" an own key, as a task map file would.
    const parsed = parseTaskMap(JSON.parse(`{"tasks":{"__proto__":${JSON.stringify(complete('__proto__'))}}}`));
    expect(parsed.ok && parsed.problems).to.deep.equal([]);
    expect(parsed.ok && Object.keys(parsed.records)).to.deep.equal(['__proto__']);
    expect(parsed.ok && Object.getPrototypeOf(parsed.records)).to.equal(null);
    const empty = parseTaskMap({ tasks: {} });
    expect(empty.ok && empty.records.constructor).to.equal(undefined);
  });

  it('wants exactly 64 hex digits in a sha256, no more, nothing around them', () => {
    expect(problemOf({ ...complete('bad.bin'), sha256: 'a'.repeat(65) })).to.include('not 64 hex digits');
    expect(problemOf({ ...complete('bad.bin'), sha256: `x${'a'.repeat(64)}` })).to.include('not 64 hex digits');
  });

  it('wants an updatedAt time as well as a createdAt', () => {
    const { updatedAt: _dropped, ...withoutUpdatedAt } = complete('bad.bin');
    expect(problemOf(withoutUpdatedAt)).to.include('lacks its createdAt or updatedAt time');
  });

  it('quotes a bad value whole up to 40 characters, and cuts a longer one to 37 and an ellipsis', () => {
    const forty = `"${'v'.repeat(38)}"`;
    expect(problemOf({ ...complete('bad.bin'), size: 'v'.repeat(38) })).to.include(`has size ${forty},`);
    expect(problemOf({ ...complete('bad.bin'), size: 'v'.repeat(39) })).to.include(`has size "${'v'.repeat(36)}...,`);
  });
});
