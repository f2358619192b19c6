// @ts-nocheck
import { expect } from 'chai';
import { listLineOf, ORDERS, parseList, queuePriority } from '../../../src/client/schedule.js';

describe('parseList', () => {
  it('reads one name a line with an optional integer priority, skipping blanks and comments', () => {
    expect(parseList('a.bin\n# comment\n\n  b.bin 5\nc d.bin\t-2\r\ne 1x\n')).to.deep.equal([
      { name: 'a.bin' },
      { name: 'b.bin', priority: 5 },
      { name: 'c d.bin', priority: -2 },
      { name: 'e 1x' },
    ]);
  });

  it('takes any run of spaces and tabs before a priority of several digits', () => {
    expect(parseList('a.bin  \t 10\nb.bin -123')).to.deep.equal([
      { name: 'a.bin', priority: 10 },
      { name: 'b.bin', priority: -123 },
    ]);
  });

  it('keeps the priority of a name holding a carriage return or a line separator', () => {
    expect(parseList('a\rb 5\nc\u2028d 7\n')).to.deep.equal([
      { name: 'a\rb', priority: 5 },
      { name: 'c\u2028d', priority: 7 },
    ]);
  });

  it('reads quotes that do not wrap the whole name as part of a plain name', () => {
    expect(parseList('say "hi"\nsay "hi" 3\n"draft" notes.txt\n"report 2" 7x\n')).to.deep.equal([
      { name: 'say "hi"' },
      { name: 'say "hi"', priority: 3 },
      { name: '"draft" notes.txt' },
      { name: '"report 2" 7x' },
    ]);
  });

  it('takes any run of spaces and tabs before a priority of several digits after a quoted name', () => {
    expect(parseList('"report 2"  \t 12\n"b" -345\n')).to.deep.equal([
      { name: 'report 2', priority: 12 },
      { name: 'b', priority: -345 },
    ]);
  });
});

describe('queuePriority', () => {
  it('is defined for each order --order offers', () => {
    expect(ORDERS).to.have.members(['fifo', 'lifo', 'priority']);
    for (const order of ORDERS) expect(queuePriority(order, { name: 'a', priority: 3 }, 2)).to.be.a('number');
  });

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

describe('listLineOf', () => {
  const tricky = [
    'plain.bin',
    'with space.txt',
    'report 2',
    'ends in tab\t7',
    ' lead',
    'trail ',
    '#hash',
    '"quoted"',
    'a\nb',
    'cr\rin',
    'x\u2028y',
    'ünïcode/ファイル',
    'v 1.2',
    '-3',
  ];

  it('writes every name so that parseList reads it back as itself', () => {
    const text = tricky.map((name) => `${listLineOf(name)}\n`).join('');
    expect(parseList(text).map((item) => item.name)).to.deep.equal(tricky);
  });

  it('leaves a name as it is where parseList would read it so, and quotes only the others', () => {
    expect(listLineOf('with space.txt')).to.equal('with space.txt');
    expect(listLineOf('ünïcode/ファイル')).to.equal('ünïcode/ファイル');
    expect(listLineOf('report 2')).to.equal('"report 2"');
    expect(listLineOf('#hash')).to.equal('"#hash"');
    expect(listLineOf('issue #5 "draft".txt')).to.equal('issue #5 "draft".txt');
    expect(listLineOf('v 1.2')).to.equal('v 1.2');
    expect(listLineOf('report 12')).to.equal('"report 12"');
  });

  it('quotes an empty name, which a bare line could not hold', () => {
    expect(listLineOf('')).to.equal('""');
    expect(parseList(`${listLineOf('')}\n`)).to.deep.equal([{ name: '' }]);
  });

  it('reads a priority after a quoted name', () => {
    expect(parseList('"report 2" 7\n"#x"\n')).to.deep.equal([{ name: 'report 2', priority: 7 }, { name: '#x' }]);
  });
});
