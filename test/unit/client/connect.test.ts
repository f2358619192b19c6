import { expect } from 'chai';
import { flowControlWindow } from '../../../src/client/connection/connect.js';

const KiB = 1024;
const MiB = 1024 * KiB;

describe('flowControlWindow', () => {
  it('opens the window to 8 MiB when downloads are not paced', () => {
    expect(flowControlWindow(undefined)).to.equal(8 * MiB);
  });

  it('keeps a quarter second of a paced download in flight', () => {
    expect(flowControlWindow(1 * MiB)).to.equal(256 * KiB);
    expect(flowControlWindow(1_000_001)).to.equal(250_000);
  });

  it('never goes below 64 KiB (grpc-js default) for slow rates', () => {
    expect(flowControlWindow(100 * KiB)).to.equal(64 * KiB);
    expect(flowControlWindow(1)).to.equal(64 * KiB);
  });

  it('never goes above the unpaced window for fast rates', () => {
    expect(flowControlWindow(1024 * MiB)).to.equal(8 * MiB);
  });
});
