// @ts-nocheck
import { expect } from 'chai';
import { StreamBudget } from '../../../src/server/streamBudget.js';

describe('StreamBudget', () => {
  it('gives a lone stream the most, splits the allowance and the read-ahead as streams join (one chunk each under fan-out)', () => {
    const budget = new StreamBudget(64, 2, 8, 3);
    expect([budget.share(), budget.readAhead()]).to.deep.equal([8, 3]);
    const leaves = Array.from({ length: 16 }, () => budget.join());
    expect([budget.share(), budget.readAhead()]).to.deep.equal([4, 2]);
    leaves.push(...Array.from({ length: 16 }, () => budget.join()));
    expect([budget.share(), budget.readAhead()]).to.deep.equal([2, 1]);
    leaves.push(...Array.from({ length: 100 }, () => budget.join()));
    expect([budget.share(), budget.readAhead()], 'never below the minimum, nor one chunk').to.deep.equal([2, 1]);
    for (const leave of leaves.splice(8)) leave();
    expect(budget.share()).to.equal(8);
    for (const leave of leaves) leave();
    expect(budget.readAhead()).to.equal(3);
  });

  it('counts a stream out once, however often it leaves', () => {
    const budget = new StreamBudget(16, 1, 16, 3);
    const first = budget.join();
    budget.join();
    budget.join();
    expect(budget.share()).to.equal(5);
    first();
    first();
    expect(budget.share()).to.equal(8);
  });
});
