// @ts-nocheck
import { expect } from 'chai';
import { KnownDigests, respawnVerdict, Scrapes, Turns } from '../../../src/server/workers.js';

describe('Turns: hash and upload turns across workers', () => {
  const digests = { sha256: 'a'.repeat(64), blocks: Buffer.alloc(32, 1) };

  it('grants a free key at once, and refuses a held one to a worker that will not wait', () => {
    const turns = new Turns();
    expect(turns.take('k', 1, false)).to.deep.equal([{ owner: 1, granted: true }]);
    expect(turns.take('k', 2, false)).to.deep.equal([{ owner: 2, granted: false }]);
    expect(turns.give('k', 1)).to.deep.equal([]);
    expect(turns.take('k', 2, false)).to.deep.equal([{ owner: 2, granted: true }]);
  });

  it('gives every waiter the digests of the turn that computed them, and frees the key', () => {
    const turns = new Turns();
    turns.take('k', 1, true);
    expect(turns.take('k', 2, true)).to.deep.equal([]);
    expect(turns.take('k', 3, true)).to.deep.equal([]);
    expect(turns.give('k', 1, digests)).to.deep.equal([
      { owner: 2, granted: true, digests },
      { owner: 3, granted: true, digests },
    ]);
    expect(turns.take('k', 1, true)).to.deep.equal([{ owner: 1, granted: true }]);
  });

  it('passes a failed turn to the next waiter alone', () => {
    const turns = new Turns();
    turns.take('k', 1, true);
    turns.take('k', 2, true);
    turns.take('k', 3, true);
    expect(turns.give('k', 1)).to.deep.equal([{ owner: 2, granted: true }]);
    expect(turns.give('k', 3)).to.deep.equal([], 'only the owner ends a turn');
    expect(turns.give('k', 2)).to.deep.equal([{ owner: 3, granted: true }]);
  });

  it('passes on the turns of a worker that died, and forgets it waited', () => {
    const turns = new Turns();
    turns.take('a', 1, true);
    turns.take('a', 2, true);
    turns.take('b', 2, true);
    turns.take('b', 1, true);
    expect(turns.leave(1)).to.deep.equal([{ key: 'a', answer: { owner: 2, granted: true } }]);
    expect(turns.give('b', 2)).to.deep.equal([]);
  });
});

describe('Scrapes: metrics of the workers that listen', () => {
  it('ends when the last worker asked answers, or without one that died', () => {
    const scrapes = new Scrapes();
    expect(scrapes.begin([])).to.deep.equal({ id: 1, done: [] });
    const { id } = scrapes.begin([1, 2]);
    expect(scrapes.answer(id, 3, [{ name: 'x' }]), 'a worker not asked').to.equal(undefined);
    expect(scrapes.answer(id, 1, [{ name: 'a' }])).to.equal(undefined);
    expect(scrapes.leave(2)).to.deep.equal([{ id, answers: [[{ name: 'a' }]] }]);
    expect(scrapes.answer(id, 2, [{ name: 'late' }]), 'an answer after the end').to.equal(undefined);
  });

  it('forgets a scrape that timed out: a late answer ends nothing', () => {
    const scrapes = new Scrapes();
    const { id } = scrapes.begin([1]);
    scrapes.drop(id);
    expect(scrapes.answer(id, 1, [{ name: 'late' }])).to.equal(undefined);
  });
});

describe('respawnVerdict', () => {
  it('replaces a worker that ran a while, whatever happened before', () => {
    expect(respawnVerdict(2, 60_000)).to.deep.equal({ respawn: true, quickDeaths: 0 });
    expect(respawnVerdict(2, 10_000), 'exactly the quick bound').to.deep.equal({ respawn: true, quickDeaths: 0 });
  });

  it('gives up on the third quick death in a row', () => {
    expect(respawnVerdict(0, 100)).to.deep.equal({ respawn: true, quickDeaths: 1 });
    expect(respawnVerdict(1, 9_999)).to.deep.equal({ respawn: true, quickDeaths: 2 });
    expect(respawnVerdict(2, 100)).to.deep.equal({ respawn: false, quickDeaths: 3 });
  });
});

describe('KnownDigests: what the primary logs and passes on', () => {
  const sha = 'a'.repeat(64);

  it('passes a digest on once, again when blocks or another digest come, and forgets the oldest past its bound', () => {
    const known = new KnownDigests(2);
    expect(known.isNews('v1', { sha256: sha })).to.equal(true);
    expect(known.isNews('v1', { sha256: sha }), 'the same, from a second worker').to.equal(false);
    expect(known.isNews('v1', { sha256: sha, blocks: Buffer.alloc(32) }), 'now with blocks').to.equal(true);
    expect(known.isNews('v1', { sha256: sha }), 'without the blocks it has').to.equal(false);
    expect(known.isNews('v1', { sha256: sha, blocks: Buffer.alloc(32) }), 'the blocks again').to.equal(false);
    expect(known.isNews('v1', { sha256: 'b'.repeat(64) })).to.equal(true);
    known.isNews('v2', { sha256: sha });
    known.isNews('v3', { sha256: sha });
    expect(known.isNews('v1', { sha256: 'b'.repeat(64) }), 'forgotten').to.equal(true);
    expect(known.isNews('v3', { sha256: sha })).to.equal(false);
  });
});
