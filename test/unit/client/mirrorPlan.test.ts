import { expect } from 'chai';
import { batchesOf, folderPrefixOf, mirrorActionOf, orphanActionOf, orphansOf } from '../../../src/client/mirror/mirrorPlan.js';
import type { RemoteFile } from '../../../src/client/remoteFile.js';
import { recordOf } from '../../helpers/taskRecords.js';

const remote = (name: string, size: number, version = 'v1'): RemoteFile => ({ name, size, version, sha256: '', mtime: new Date(0) });
const record = recordOf;

describe('mirror plan', () => {
  it('reads a folder argument as a prefix that only matches inside the folder', () => {
    expect(folderPrefixOf('data')).to.equal('data/');
    expect(folderPrefixOf('data/')).to.equal('data/');
    expect(folderPrefixOf('a/b//')).to.equal('a/b/');
    for (const root of ['', '.', '/']) expect(folderPrefixOf(root), JSON.stringify(root)).to.equal('');
    expect(() => folderPrefixOf('../etc'))
      .to.throw(/invalid folder/)
      .with.property('kind', 'invalid-name');
  });

  it('skips only a file recorded complete at the listed version and size that is on disk at that size', () => {
    const small = 1024;
    expect(mirrorActionOf(remote('a', 10), record('a', 10), 10, small)).to.equal('unchanged');
    expect(mirrorActionOf(remote('a', 10, 'v2'), record('a', 10), 10, small), 'changed on the server').to.equal('batch');
    expect(mirrorActionOf(remote('a', 10), record('a', 10), null, small), 'deleted here').to.equal('batch');
    expect(mirrorActionOf(remote('a', 10), record('a', 10), 9, small), 'cut short here').to.equal('batch');
    expect(mirrorActionOf(remote('a', 10), record('a', 10, 'incomplete'), 10, small), 'incomplete').to.equal('batch');
    expect(mirrorActionOf(remote('a', 10), undefined, null, small), 'new').to.equal('batch');
    expect(mirrorActionOf(remote('a', 12), record('a', 10), 12, small), 'another size at the same version').to.equal('batch');
    expect(mirrorActionOf(remote('big', 2048), undefined, null, small), 'large').to.equal('single');
    expect(mirrorActionOf(remote('a', 1024), undefined, null, small), 'at the bound').to.equal('batch');
  });

  it('splits batches by count and by bytes, never leaving a file out', () => {
    const files = [3, 3, 3, 9, 1, 1].map((size, i) => remote(`f${i}`, size));
    const names = (batches: RemoteFile[][]) => batches.map((b) => b.map((f) => f.name));
    expect(names(batchesOf(files, (f) => f.size, { maxFiles: 2, maxBytes: 100 }))).to.deep.equal([
      ['f0', 'f1'],
      ['f2', 'f3'],
      ['f4', 'f5'],
    ]);
    expect(names(batchesOf(files, (f) => f.size, { maxFiles: 10, maxBytes: 6 }))).to.deep.equal([['f0', 'f1'], ['f2'], ['f3'], ['f4', 'f5']]);
    expect(batchesOf([], (f: RemoteFile) => f.size, { maxFiles: 1, maxBytes: 1 })).to.deep.equal([]);
    expect(
      names(batchesOf([remote('huge', 50), remote('b', 1)], (f) => f.size, { maxFiles: 10, maxBytes: 6 })),
      'no empty batch before a file over the bound',
    ).to.deep.equal([['huge'], ['b']]);
  });

  it('finds orphans under the prefix only, and removes only what is still as fetched', () => {
    const recorded = ['data/a', 'data/b', 'data-old.bin', 'other/c'];
    expect(orphansOf(recorded, new Set(['data/a']), 'data/')).to.deep.equal(['data/b']);
    expect(orphansOf([...recorded].reverse(), new Set(), ''), 'in name order').to.deep.equal(['data-old.bin', 'data/a', 'data/b', 'other/c']);
    expect(orphanActionOf(record('x', 5), 5)).to.equal('remove');
    expect(orphanActionOf(record('x', 5), 6)).to.equal('keep-changed');
    expect(orphanActionOf(record('x', 5), null)).to.equal('forget');
    expect(orphanActionOf(record('x', 5, 'incomplete'), 3)).to.equal('remove');
  });
});
