// @ts-nocheck
import { expect } from 'chai';
import { flowControlWindow, plaintextTokenWarning } from '../../../src/client/connection/connect.js';

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

describe('plaintextTokenWarning', () => {
  it('stays quiet for every address in 127.0.0.0/8, also IPv4-mapped, and for a bare ::1', () => {
    for (const server of ['127.255.255.254:50051', '127.10.200.3:1', 'ipv6:::1', '::1', '[::ffff:127.0.0.1]:50051', 'ipv6:[::FFFF:127.0.0.2]:1']) {
      expect(plaintextTokenWarning(server, false, 'secret'), server).to.equal(undefined);
    }
  });

  // Only a target that is loopback as a whole keeps the token safe: a name
  // that merely contains a loopback address may resolve anywhere.
  it('warns for a host that only contains a loopback address or name', () => {
    for (const server of ['127.0.0.1.attacker.example:50051', 'attacker-127.0.0.1:50051', 'x[::1]:50051', '[::1]x:50051', '127.0:1.0.1', 'localhostdns:']) {
      expect(plaintextTokenWarning(server, false, 'secret'), server).to.include(`sent to ${server} without TLS`);
    }
  });
});
