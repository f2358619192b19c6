// @ts-nocheck
import { expect } from 'chai';
import {
  describeResult,
  describeResume,
  describeSummary,
  fitToWidth,
  nameList,
  shortSha256,
  shownPath,
  type BatchSummary,
} from '../../../src/client/cli/reportText.js';
import type { DownloadResult } from '../../../src/client/download/downloadOptions.js';

const MiB = 1024 * 1024;
const digest = 'd2d116f4' + '0'.repeat(48) + '71265980';
const result: DownloadResult = {
  name: 'big.bin',
  path: '/home/me/downloads/big.bin',
  size: 200 * MiB,
  sha256: digest,
  state: 'incomplete',
  transferred: true,
  resumedFrom: 0,
  bytesReceived: 200 * MiB,
  attempts: 1,
};
const summary = (over: Partial<BatchSummary>): BatchSummary => ({
  total: 4,
  downloaded: 0,
  skipped: 0,
  failed: [],
  bytesReceived: 0,
  elapsedMs: 3200,
  interrupted: false,
  partials: [],
  neverStarted: [],
  ...over,
});

describe('shortSha256', () => {
  it('keeps the first and last 8 hex digits', () => expect(shortSha256(digest)).to.equal('d2d116f4…71265980'));
  it('leaves a value too short to shorten as it is', () => expect(shortSha256('abc')).to.equal('abc'));
});

describe('shownPath', () => {
  it('is relative to the current folder inside it', () => expect(shownPath('/home/me/downloads/big.bin', '/home/me')).to.equal('downloads/big.bin'));
  it('stays absolute when the relative form is longer', () => expect(shownPath('/srv/big.bin', '/home/me/deep/folder')).to.equal('/srv/big.bin'));
});

describe('describeResult', () => {
  it('on a terminal: short digest and relative path', () =>
    expect(describeResult({ ...result, resumedFrom: 33.8 * MiB }, { short: true, cwd: '/home/me' })).to.equal(
      'big.bin: downloaded 200.0 MiB to downloads/big.bin, sha256 d2d116f4…71265980 verified, resumed from 33.8 MiB',
    ));
  it('elsewhere: the full digest and the absolute path', () =>
    expect(describeResult(result, { short: false, cwd: '/home/me' })).to.equal(
      `big.bin: downloaded 200.0 MiB to /home/me/downloads/big.bin, sha256 ${digest} verified`,
    ));
});

describe('describeResume', () => {
  const start = { name: 'big.bin', size: 200 * MiB, offset: 33.8 * MiB, attempt: 1 };
  it('announces a first attempt that starts from a partial', () => expect(describeResume(start)).to.equal('big.bin: resuming at 33.8 MiB of 200.0 MiB'));
  it('says nothing for a fresh start', () => expect(describeResume({ ...start, offset: 0 })).to.equal(undefined));
  it('says nothing for a retry: the retry line already did', () => expect(describeResume({ ...start, attempt: 2 })).to.equal(undefined));
});

describe('describeSummary', () => {
  it('counts a finished batch on one line', () =>
    expect(describeSummary(summary({ downloaded: 3, skipped: 1, bytesReceived: 3 * MiB }))).to.deep.equal([
      '4 files: 3 downloaded, 1 already complete, 0 failed (3.00 MiB received in 3.2s)',
    ]));
  it('says nothing for one file that finished', () => expect(describeSummary(summary({ total: 1, downloaded: 1 }))).to.deep.equal([]));
  it('after an interruption: what was interrupted, saved, and never started', () =>
    expect(
      describeSummary(
        summary({
          interrupted: true,
          bytesReceived: 52 * MiB,
          partials: [
            { name: 'a.bin', bytesOnDisk: 20 * MiB },
            { name: 'b.bin', bytesOnDisk: 16 * MiB },
            { name: 'c.bin', bytesOnDisk: 16 * MiB },
          ],
          neverStarted: ['d.bin'],
        }),
      ),
    ).to.deep.equal([
      '4 files: 0 downloaded, 0 already complete, 0 failed, 3 interrupted, 1 never started (52.0 MiB received in 3.2s)',
      'interrupted, 52.0 MiB saved on disk to resume from: a.bin (20.0 MiB), b.bin (16.0 MiB), c.bin (16.0 MiB)',
      'never started: d.bin',
    ]));
  it('an interrupted single file says what it saved', () =>
    expect(describeSummary(summary({ total: 1, interrupted: true, partials: [{ name: 'a.bin', bytesOnDisk: 1024 }] }))).to.deep.equal([
      'interrupted, 1.00 KiB saved on disk to resume from: a.bin (1.00 KiB)',
    ]));
});

describe('nameList', () => {
  it('names up to five, then counts the rest', () => expect(nameList(['a', 'b', 'c', 'd', 'e', 'f', 'g'])).to.equal('a, b, c, d, e and 2 more'));
});

describe('fitToWidth', () => {
  it('leaves a line that fits', () => expect(fitToWidth('a short line', 80)).to.deep.equal(['a short line']));
  it('breaks at the last space that fits', () => expect(fitToWidth('aaa bbb ccc', 7)).to.deep.equal(['aaa bbb', 'ccc']));
  it('cuts a word longer than the line', () => expect(fitToWidth('abcdefghij', 4)).to.deep.equal(['abcd', 'efgh', 'ij']));
  it('counts a multi-byte character as one column', () => expect(fitToWidth('ab…cd ef', 5)).to.deep.equal(['ab…cd', 'ef']));
});
