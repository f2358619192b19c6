import { expect } from 'chai';
import { namedActionOf } from '../../../src/client/mirror/namedFiles.js';
import type { ListedFile } from '../../../src/client/remoteFile.js';
import type { TaskRecord } from '../../../src/client/taskMap/taskRecord.js';
import { recordOf } from '../../helpers/taskRecords.js';

const listed = (size: number, version = 'v1'): ListedFile => ({ name: 'a', size, version });
const record = (size: number, status?: 'complete' | 'incomplete', version?: string) => recordOf('a', size, status, version);
const SMALL = 1024;
const facts = (rec: TaskRecord | undefined, finalSize: number | null, partSize: number | null = null) => ({ record: rec, finalSize, partSize });

describe('what a download of many names does with one of them', () => {
  it('calls nothing for a file recorded complete, on disk at its size, and listed at that version and size', () => {
    expect(namedActionOf(listed(10), facts(record(10), 10), true, SMALL)).to.equal('unchanged');
  });

  it('asks about a complete file alone when the listing differs or lacks it: only its digest tells changed from touched', () => {
    expect(namedActionOf(listed(10, 'v2'), facts(record(10), 10), true, SMALL), 'another version').to.equal('single');
    expect(namedActionOf(listed(12), facts(record(10), 10), true, SMALL), 'another size').to.equal('single');
    expect(namedActionOf(undefined, facts(record(10), 10), true, SMALL), 'not listed').to.equal('single');
  });

  it('keeps a complete file without asking when the server is not to be asked', () => {
    expect(namedActionOf(listed(10, 'v2'), facts(record(10), 10), false, SMALL)).to.equal('unchanged');
    expect(namedActionOf(undefined, facts(record(10), 10), false, SMALL)).to.equal('unchanged');
    expect(namedActionOf(listed(10), facts(record(10), 9), false, SMALL), 'cut short here: fetched, not kept').to.equal('single');
  });

  it('streams a small file with nothing of it here: new, or deleted since it was fetched', () => {
    expect(namedActionOf(listed(10), facts(undefined, null), true, SMALL), 'new').to.equal('batch');
    expect(namedActionOf(listed(10), facts(record(10), null), true, SMALL), 'deleted').to.equal('batch');
    expect(namedActionOf(listed(SMALL), facts(undefined, null), true, SMALL), 'at the bound').to.equal('batch');
  });

  it('leaves to the download of one name a large file, a partial to resume, a file to verify, and a name not listed', () => {
    expect(namedActionOf(listed(SMALL + 1), facts(undefined, null), true, SMALL), 'large').to.equal('single');
    expect(namedActionOf(listed(10), facts(record(10, 'incomplete'), null, 4), true, SMALL), 'partial').to.equal('single');
    expect(namedActionOf(listed(10), facts(undefined, null, 4), true, SMALL), 'partial without a record').to.equal('single');
    expect(namedActionOf(listed(10), facts(undefined, 10), true, SMALL), 'a file found here').to.equal('single');
    expect(namedActionOf(listed(10), facts(record(10), 9), true, SMALL), 'cut short here').to.equal('single');
    expect(namedActionOf(undefined, facts(undefined, null), true, SMALL), 'not listed: its download says why').to.equal('single');
  });
});
