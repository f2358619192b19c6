import { expect } from 'chai';
import { parseList, queuePriority } from '../../../src/client/schedule.js';

describe('parseList', () => {
  it('reads one name a line with an optional integer priority, skipping blanks and comments', () => {
    expect(parseList('a.bin\n# comment\n\n  b.bin 5\nc d.bin\t-2\r\ne 1x\n')).to.deep.equal([
      { name: 'a.bin' },
      { name: 'b.bin', priority: 5 },
      { name: 'c d.bin', priority: -2 },
      { name: 'e 1x' },
    ]);
  });
});

describe('queuePriority', () => {
  const items = [{ name: 'a', priority: 1 }, { name: 'b' }, { name: 'c', priority: 9 }];
  it('fifo gives everyone the same priority (p-queue keeps insertion order)', () => {
    expect(items.map((item, i) => queuePriority('fifo', item, i))).to.deep.equal([0, 0, 0]);
  });
  it('lifo ranks later items higher', () => {
    expect(items.map((item, i) => queuePriority('lifo', item, i))).to.deep.equal([0, 1, 2]);
  });
  it('priority uses the given priority, 0 when none', () => {
    expect(items.map((item, i) => queuePriority('priority', item, i))).to.deep.equal([1, 0, 9]);
  });
});
