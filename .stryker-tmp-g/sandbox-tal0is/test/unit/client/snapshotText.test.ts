// @ts-nocheck
import { expect } from 'chai';
import { snapshotChunks } from '../../../src/client/taskMap/taskJournal.js';
import { SnapshotSyntaxError, SnapshotText } from '../../../src/client/taskMap/snapshotText.js';
import { parseTaskMap } from '../../../src/client/taskMap/taskMapSchema.js';
import type { TaskRecord } from '../../../src/client/taskMap/taskRecord.js';
import { completeRecord } from '../../helpers/taskRecords.js';

const record = (name: string, size = 3): TaskRecord => completeRecord(name, { size });

/** Feeds `text` in pieces of `size` characters. */
function read(text: string, size: number) {
  const reader = new SnapshotText();
  for (let at = 0; at < text.length; at += size) reader.add(text.slice(at, at + size));
  return reader.end();
}

const asWhole = (text: string) => {
  const data = JSON.parse(text) as { journal?: string };
  return { parsed: parseTaskMap(data), id: data.journal };
};

describe('SnapshotText', () => {
  // Names that could be mistaken for the layout: a separator, a closing and
  // a header inside names, and characters outside ASCII.
  const names = ['a', 'x,\ny', 'z\n}}', '{"journal":"q","tasks":{', 'é/ü b', '__proto__'];
  const tasks = Object.fromEntries(names.map((name, i) => [name, record(name, i)]));
  const text = [...snapshotChunks('id-"1"', tasks)].join('');

  it('reads what snapshotChunks wrote, in pieces of any size, as JSON.parse would', () => {
    const expected = asWhole(text);
    expect(expected.parsed.ok).to.equal(true);
    for (const size of [1, 2, 3, 7, 64, text.length]) {
      const got = read(text, size);
      expect(got.id, `pieces of ${size}`).to.equal('id-"1"');
      expect(got.parsed, `pieces of ${size}`).to.deep.equal(expected.parsed);
    }
  });

  it('reads the last record without a final newline, and a map of another layout that starts like a header', () => {
    expect(read(text.slice(0, -1), 5)).to.deep.equal(read(text, 5));
    const oneLine = JSON.stringify({ journal: 'j', tasks: { a: record('a') } });
    expect(read(`${oneLine}\n`, 7)).to.deep.equal(asWhole(oneLine));
    const indented = ` ${[...snapshotChunks('k', { a: record('a') })].join('')}`;
    expect(read(indented, 7)).to.deep.equal(asWhole(indented));
  });

  it('reads an empty map', () => {
    const empty = [...snapshotChunks('e', {})].join('');
    expect(read(empty, 5)).to.deep.equal({ parsed: { ok: true, records: {}, problems: [] }, id: 'e' });
  });

  it('reads a map in any other layout whole, as it always was', () => {
    const lowdb = JSON.stringify({ tasks }, null, 2);
    const got = read(lowdb, 10);
    expect(got.id).to.equal(undefined);
    expect(got.parsed).to.deep.equal(asWhole(lowdb).parsed);
    expect(read('[1,2]', 1).parsed).to.deep.include({ ok: false });
  });

  it('leaves out bad records with a problem each, a later record of a name replacing an earlier one', () => {
    const twice = `{"journal":"j","tasks":{\n"a":${JSON.stringify(record('a'))},\n"b":{"name":"b"},\n"a":{"name":"a","status":"odd"}\n}}\n`;
    const got = read(twice, 9).parsed;
    const whole = asWhole(twice).parsed;
    if (!got.ok || !whole.ok) throw new Error('expected a map');
    expect(got.records).to.deep.equal(whole.records).and.deep.equal({});
    expect([...got.problems].sort(), 'the same problems, maybe in another order')
      .to.deep.equal([...whole.problems].sort())
      .and.have.length(2);
  });

  it('refuses a bad record as soon as the separator after it arrives, the header itself split over pieces', () => {
    const reader = new SnapshotText();
    reader.add('{"journal":"id-2","ta');
    expect(() => reader.add(`sks":{\n"a":${JSON.stringify(record('a'))},\n"b":{oops},\n"c":`)).to.throw(SnapshotSyntaxError);
    // A header line with anything before it is no header: read whole, refused only at the end.
    const other = new SnapshotText();
    other.add('x{"journal":"id-3","tasks":{\n"b":{oops},\n');
    expect(() => other.end()).to.throw(SnapshotSyntaxError);
  });

  it('refuses text cut short, or with anything after the map, as not JSON', () => {
    expect(() => read(text.slice(0, -4), 16)).to.throw(SnapshotSyntaxError, 'it ends before its last record is closed');
    const leadingSeparator = `{"journal":"j","tasks":{\n,\n"a":${JSON.stringify(record('a'))}\n}}\n`;
    for (const bad of [leadingSeparator, text.slice(0, -4), text.slice(0, text.indexOf(',\n') + 5), `${text}x`, `${text.slice(0, -1)}}\n`, '']) {
      expect(() => read(bad, 16), JSON.stringify(bad.slice(-12))).to.throw(SnapshotSyntaxError);
    }
  });
});
