import { expect } from 'chai';
import { formatBytes, parseByteSize, parseDuration } from '../../../src/client/cli/parseUnits.js';
import { paceDelay } from '../../../src/client/rateLimiter.js';

describe('parseByteSize', () => {
  it('reads k, M and G as binary units, like curl --limit-rate', () => {
    expect(parseByteSize('100')).to.equal(100);
    expect(parseByteSize('512k')).to.equal(512 * 1024);
    expect(parseByteSize('16M')).to.equal(16 * 1024 * 1024);
    expect(parseByteSize('1.5G')).to.equal(1.5 * 1024 ** 3);
    expect(parseByteSize('2MB')).to.equal(2 * 1024 * 1024);
    expect(parseByteSize('2MiB/s')).to.equal(2 * 1024 * 1024);
  });

  it('refuses what is not a positive size, saying what it expects', () => {
    for (const text of ['', '0', '-1M', '16X', 'fast', '1e9']) {
      expect(() => parseByteSize(text), text).to.throw(/invalid size .*16M/);
    }
  });
});

describe('parseDuration', () => {
  it('reads ms, s, m and h; a bare number is seconds', () => {
    expect(parseDuration('500ms')).to.equal(500);
    expect(parseDuration('30')).to.equal(30_000);
    expect(parseDuration('2m')).to.equal(120_000);
    expect(parseDuration('1h')).to.equal(3_600_000);
  });

  it('refuses nonsense', () => {
    expect(() => parseDuration('soon')).to.throw(/invalid duration/);
  });
});

describe('formatBytes', () => {
  it('uses binary units', () => {
    expect(formatBytes(512)).to.equal('512 B');
    expect(formatBytes(1536)).to.equal('1.50 KiB');
    expect(formatBytes(300 * 1024 * 1024)).to.equal('300.0 MiB');
  });
});

describe('paceDelay', () => {
  it('spaces bytes out at the rate', () => {
    const first = paceDelay(0, 10_000, 1000, 1000);
    expect(first.waitMs).to.equal(900);
    const second = paceDelay(first.due, 10_000, 1000, 1000);
    expect(second.waitMs).to.equal(1900);
  });

  it('does not let an idle spell bank more than a short burst', () => {
    expect(paceDelay(0, 1_000_000, 100, 1000).waitMs).to.equal(0);
    expect(paceDelay(0, 1_000_000, 5000, 1000).waitMs).to.equal(4900);
  });
});
