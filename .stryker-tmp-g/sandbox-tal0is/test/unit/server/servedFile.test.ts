// @ts-nocheck
import { expect } from 'chai';
import { procProblem } from '../../../src/server/servedFile.js';

describe('servedFile: the /proc requirement', () => {
  it('runs where /proc/self/fd resolves the root descriptor to the root', () => {
    expect(procProblem('/srv/files', '/srv/files')).to.equal(undefined);
  });

  it('refuses, in one line naming /proc, where it cannot be read or points elsewhere', () => {
    for (const resolved of [undefined, '/somewhere/else']) {
      const problem = procProblem('/srv/files', resolved);
      expect(problem).to.match(/^Linux's \/proc is needed \(\/proc\/self\/fd .*\) and is not available here$/);
    }
  });
});
