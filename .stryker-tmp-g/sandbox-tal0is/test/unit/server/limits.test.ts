// @ts-nocheck
import { expect } from 'chai';
import { DescriptorBudget, defaultLimits } from '../../../src/server/limits.js';

describe('server limits', () => {
  it('takes the usual caps when descriptors are plenty', () => {
    expect(defaultLimits(1_048_576)).to.deep.equal({ maxConnections: 1024, maxOpenFiles: 256 });
  });

  it('shrinks both caps to fit a low descriptor limit, hashes and Node set aside', () => {
    // 1024 - 64 reserved - 2 running - 64 queued hashes = 894 descriptors to share.
    const { maxConnections, maxOpenFiles } = defaultLimits(1024);
    expect({ maxConnections, maxOpenFiles }).to.deep.equal({ maxConnections: 670, maxOpenFiles: 223 });
    expect(maxConnections + maxOpenFiles + 64 + 2 + 64).to.be.at.most(1024);
  });

  it('never goes below one of each', () => {
    expect(defaultLimits(50)).to.deep.equal({ maxConnections: 1, maxOpenFiles: 1 });
  });

  it('refuses a descriptor over the budget with RESOURCE_EXHAUSTED until one is given back, once', () => {
    const budget = new DescriptorBudget(2);
    const first = budget.take();
    budget.take();
    expect(() => budget.take())
      .to.throw(/2 files open, its limit/)
      .with.property('code', 8);
    first();
    first();
    expect(budget.inUse).to.equal(1);
    budget.take();
    expect(() => budget.take()).to.throw();
  });
});
