// @ts-nocheck
import { expect } from 'chai';
import { status } from '@grpc/grpc-js';
import { describeTree } from '../../../src/client/cli/treeReporter.js';
import { outcomeOfFailure } from '../../../src/client/mirror/fetchMany.js';
import type { MirrorResult } from '../../../src/client/mirror/mirror.js';
import { LocalIoError } from '../../../src/client/errors.js';

const result = (fields: Partial<MirrorResult>): MirrorResult => ({
  prefix: 'data/',
  listed: 0,
  fetched: 0,
  unchanged: 0,
  bytesReceived: 0,
  vanished: [],
  deleted: [],
  leftInPlace: [],
  failed: [],
  ...fields,
});

describe('the summary of a mirrored folder', () => {
  it('says what moved and what did not, in one line', () => {
    expect(describeTree(result({ listed: 2000, fetched: 1990, unchanged: 10, bytesReceived: 32 * 1024 * 1024 }), 1234)).to.equal(
      'data/: 2,000 files: 1,990 fetched (32.0 MiB in 1.2 s), 10 unchanged',
    );
  });

  it('names failures, files gone meanwhile, deletions and what is left in place', () => {
    const line = describeTree(
      result({
        prefix: '',
        listed: 1,
        failed: [{ name: 'x', error: new LocalIoError('write', 'x', 'full') }],
        vanished: ['y'],
        deleted: ['z'],
        leftInPlace: ['w'],
      }),
      0,
    );
    expect(line).to.equal(
      'the server root: 1 file: 0 fetched (0 B in 0.0 s), 0 unchanged, 1 failed, 1 gone from the server meanwhile, 1 deleted here; 1 file the server no longer has left in place (--delete removes what was fetched unchanged)',
    );
  });
});

describe('a file of a DownloadMany stream that the server could not send', () => {
  it('is gone when not found, worth a Download of its own when it changed while read, else failed', () => {
    expect(outcomeOfFailure('a', status.NOT_FOUND, 'not found: a')).to.deep.equal({ name: 'a', result: 'vanished' });
    const changed = outcomeOfFailure('b', status.ABORTED, 'b changed while it was read');
    expect(changed).to.include({ name: 'b', result: 'handOver' });
    const other = outcomeOfFailure('c', status.PERMISSION_DENIED, 'no');
    expect(other.result).to.equal('failed');
    expect(other).to.have.nested.property('error.code', status.PERMISSION_DENIED);
  });
});
