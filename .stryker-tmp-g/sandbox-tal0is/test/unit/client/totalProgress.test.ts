// @ts-nocheck
import { expect } from 'chai';
import { formatSeconds, totalView, type BatchTally } from '../../../src/client/cli/totalProgress.js';
import { displayFor } from '../../../src/client/cli/reporters.js';

const MiB = 1024 * 1024;
const tally = (over: Partial<BatchTally>): BatchTally => ({
  totalFiles: 1,
  finishedFiles: 0,
  sizedFiles: 1,
  knownBytes: 200 * MiB,
  bytesOnDisk: 110 * MiB,
  bytesThisRun: 10 * MiB,
  elapsedMs: 10_000,
  ...over,
});

describe('totalView', () => {
  it("rates this run's bytes only, not a resumed partial's", () => {
    // 100 MiB were on disk before; 10 MiB arrived in 10 s under a 1 MiB/s limit.
    const view = totalView(tally({}));
    expect(view.rate).to.equal('1.00 MiB/s');
    expect(view.eta).to.equal('ETA 1m 30s');
  });
  it('omits the ETA while queued files have no known size, and counts them', () => {
    const view = totalView(tally({ totalFiles: 4, sizedFiles: 2 }));
    expect(view.eta).to.equal('');
    expect(view.size).to.equal('200.0 MiB + 2 queued');
    expect(view.label).to.equal('total 0/4 files');
  });
  it('omits the ETA before any byte of this run arrived', () => expect(totalView(tally({ bytesThisRun: 0 })).eta).to.equal(''));
});

describe('formatSeconds', () => {
  it('seconds, minutes, hours', () => {
    expect(formatSeconds(9.2)).to.equal('10s');
    expect(formatSeconds(90)).to.equal('1m 30s');
    expect(formatSeconds(3 * 3600 + 65)).to.equal('3h 01m');
  });
});

describe('displayFor', () => {
  const base = { json: false, quiet: false, stderrIsTerminal: true, stdoutIsPipe: false };
  it('bars on a terminal', () => expect(displayFor(base)).to.equal('bars'));
  it('lines when stdout goes through a pipe that may print on the same screen', () => expect(displayFor({ ...base, stdoutIsPipe: true })).to.equal('lines'));
  it('lines when stderr is not a terminal', () => expect(displayFor({ ...base, stderrIsTerminal: false })).to.equal('lines'));
  it('lines with --quiet, json with --json', () => {
    expect(displayFor({ ...base, quiet: true })).to.equal('lines');
    expect(displayFor({ ...base, json: true })).to.equal('json');
  });
});
