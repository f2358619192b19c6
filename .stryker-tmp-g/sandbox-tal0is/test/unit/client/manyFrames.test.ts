// @ts-nocheck
import { expect } from 'chai';
import type { Chunk__Output } from '../../../src/generated/filetransfer/v1/Chunk.js';
import { ManyFrames } from '../../../src/client/mirror/manyFrames.js';

const info = (name: string, size: number) => ({ name, size: String(size), version: `v-${name}`, sha256: '', mtimeMs: '0' });
const msg = (fields: Partial<Chunk__Output>): Chunk__Output => ({ data: Buffer.alloc(0), offset: '0', info: null, sha256: '', error: null, ...fields });
const HASH = 'a'.repeat(64);

describe('ManyFrames', () => {
  it('reads a file in one message and another over three, in the order asked for', () => {
    const frames = new ManyFrames(['a', 'b']);
    const one = frames.read(msg({ info: info('a', 2), data: Buffer.from('hi'), sha256: HASH }));
    expect(one.map((e) => e.type)).to.deep.equal(['begin', 'data', 'end']);
    expect(frames.read(msg({ info: info('b', 3), data: Buffer.from('x') })).map((e) => e.type)).to.deep.equal(['begin', 'data']);
    expect(frames.remaining).to.deep.equal(['b']);
    expect(frames.read(msg({ offset: '1', data: Buffer.from('yz') })).map((e) => e.type)).to.deep.equal(['data']);
    expect(frames.read(msg({ offset: '3', sha256: HASH }))).to.deep.equal([{ type: 'end', name: 'b', sha256: HASH }]);
    expect(frames.remaining).to.deep.equal([]);
    frames.finish();
  });

  it('reads an empty file and a failed one, and goes on after the failure', () => {
    const frames = new ManyFrames(['empty', 'gone', 'c']);
    expect(frames.read(msg({ info: info('empty', 0), sha256: HASH })).map((e) => e.type)).to.deep.equal(['begin', 'end']);
    expect(frames.read(msg({ info: { ...info('gone', 0) }, error: { code: 5, message: 'not found: gone' } }))).to.deep.equal([
      { type: 'failed', name: 'gone', code: 5, message: 'not found: gone' },
    ]);
    expect(frames.remaining).to.deep.equal(['c']);
  });

  it('drops a file that fails after some of its data, and asks again for it after a break', () => {
    const frames = new ManyFrames(['a', 'b']);
    frames.read(msg({ info: info('a', 4), data: Buffer.from('ab') }));
    expect(frames.remaining, 'the open file is asked for again').to.deep.equal(['a', 'b']);
    expect(frames.read(msg({ info: info('a', 4), error: { code: 10, message: 'changed' } }))[0]).to.include({ type: 'failed', name: 'a', code: 10 });
    expect(frames.remaining).to.deep.equal(['b']);
  });

  const faults: [string, string[], Partial<Chunk__Output>[], RegExp][] = [
    ['a name out of turn', ['a', 'b'], [{ info: info('b', 0) }], /"b" arrived where "a" was due/],
    ['a name never asked for', ['a'], [{ info: info('a', 0), sha256: HASH }, { info: info('z', 0) }], /"z" was sent after every file asked for/],
    ['a file that starts inside another', ['a', 'b'], [{ info: info('a', 5) }, { info: info('b', 1) }], /"b" started before "a" ended/],
    ['data at the wrong offset', ['a'], [{ info: info('a', 5) }, { offset: '2', data: Buffer.from('x') }], /data for offset 2 arrived at 0/],
    ['more bytes than the size', ['a'], [{ info: info('a', 1), data: Buffer.from('xy') }], /more bytes than the file has/],
    ['an end before the last byte', ['a'], [{ info: info('a', 3), data: Buffer.from('x'), sha256: HASH }], /ended at byte 1 of 3/],
    ['a malformed sha256', ['a'], [{ info: info('a', 0), sha256: 'xyz' }], /malformed sha256/],
    ['a sha256 with more before it', ['a'], [{ info: info('a', 0), sha256: `zz${HASH}` }], /malformed sha256/],
    ['a sha256 with more after it', ['a'], [{ info: info('a', 0), sha256: `${HASH}zz` }], /malformed sha256/],
    ['data outside any file', ['a'], [{ data: Buffer.from('x') }], /data arrived outside any file/],
    ['a sha256 outside any file', ['a'], [{ sha256: HASH }], /protocol on a: a sha256 arrived outside any file/],
    // The fault names the file the stray data most likely belongs to: the last one begun.
    [
      'data between files, naming the last file begun',
      ['a', 'b', 'c'],
      [{ info: info('a', 0), sha256: HASH }, { info: info('b', 0), sha256: HASH }, { data: Buffer.from('x') }],
      /protocol on b: data arrived outside any file/,
    ],
    ['data in a stream that asked for no file', [], [{ data: Buffer.from('x') }], /protocol on : data arrived outside any file/],
    [
      'an error that names no file inside an open one',
      ['a'],
      [{ info: info('a', 3) }, { error: { code: 13, message: 'boom' } }],
      /an error for "" arrived inside "a"/,
    ],
    [
      'an error for another file than the open one',
      ['a', 'b'],
      [{ info: info('a', 3) }, { info: info('b', 0), error: { code: 5, message: '' } }],
      /an error for "b" arrived inside "a"/,
    ],
  ];
  for (const [what, names, messages, pattern] of faults) {
    it(`refuses ${what} as a protocol fault`, () => {
      const frames = new ManyFrames(names);
      expect(() => messages.forEach((m) => frames.read(msg(m))))
        .to.throw(pattern)
        .with.property('kind', 'protocol');
    });
  }

  it('refuses a stream that ends inside a file or before every file', () => {
    const inside = new ManyFrames(['a']);
    inside.read(msg({ info: info('a', 2), data: Buffer.from('x') }));
    expect(() => inside.finish()).to.throw(/ended inside a file/);
    const short = new ManyFrames(['a', 'b']);
    short.read(msg({ info: info('a', 0), sha256: HASH }));
    expect(() => short.finish()).to.throw(/before 1 of the files asked for/);
  });
});
