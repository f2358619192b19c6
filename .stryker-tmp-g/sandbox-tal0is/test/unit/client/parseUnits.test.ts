// @ts-nocheck
import { expect } from 'chai';
import { formatBytes, parseDuration } from '../../../src/client/cli/parseUnits.js';
import { parseByteSize } from '../../../src/shared/byteSize.js';
import { paceDelay } from '../../../src/shared/rateLimiter.js';

describe('parseByteSize', () => {
  it('reads k, M and G as binary units, like curl --limit-rate', () => {
    expect(parseByteSize('100')).to.equal(100);
    expect(parseByteSize('512k')).to.equal(512 * 1024);
    expect(parseByteSize('16M')).to.equal(16 * 1024 * 1024);
    expect(parseByteSize('1.5G')).to.equal(1.5 * 1024 ** 3);
    expect(parseByteSize('2MB')).to.equal(2 * 1024 * 1024);
    expect(parseByteSize('2MiB/s')).to.equal(2 * 1024 * 1024);
    expect(parseByteSize('1.25k')).to.equal(1280);
    expect(parseByteSize(' 16 m ')).to.equal(16 * 1024 * 1024);
  });

  it('rounds a fraction of a byte down', () => {
    expect(parseByteSize('1.9')).to.equal(1);
    expect(() => parseByteSize('0.5')).to.throw(/invalid size/);
  });

  it('refuses what is not a positive size, saying what it expects', () => {
    for (const text of ['', '0', '-1M', '16X', 'fast', '1e9', '16MB/h', 'x16M', '9'.repeat(20)]) {
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
    expect(parseDuration('1.25m')).to.equal(75_000);
    expect(parseDuration(' 2 M ')).to.equal(120_000);
  });

  it('takes zero (--retry-for 0) and rounds to whole milliseconds', () => {
    expect(parseDuration('0')).to.equal(0);
    expect(parseDuration('0.4ms')).to.equal(0);
  });

  it('refuses nonsense, negative and trailing text', () => {
    for (const text of ['soon', '', '-5s', '5 seconds', '5sx', '1d', '9'.repeat(400)]) {
      expect(() => parseDuration(text), text).to.throw(/invalid duration/);
    }
  });
});

describe('formatBytes', () => {
  it('uses binary units', () => {
    expect(formatBytes(512)).to.equal('512 B');
    expect(formatBytes(1536)).to.equal('1.50 KiB');
    expect(formatBytes(300 * 1024 * 1024)).to.equal('300.0 MiB');
    expect(formatBytes(3 * 1024 ** 3)).to.equal('3.00 GiB');
    expect(formatBytes(2 * 1024 ** 4)).to.equal('2.00 TiB');
  });

  it('moves to the next unit at exactly 1024 of the one before', () => {
    expect(formatBytes(1023)).to.equal('1023 B');
    expect(formatBytes(1024)).to.equal('1.00 KiB');
    expect(formatBytes(1024 ** 2)).to.equal('1.00 MiB');
  });

  it('keeps three significant digits: two decimals below 10, one from 10 on', () => {
    expect(formatBytes(9.99 * 1024)).to.equal('9.99 KiB');
    expect(formatBytes(10 * 1024)).to.equal('10.0 KiB');
  });

  it('stays in TiB past 1024 TiB rather than running out of units', () => {
    expect(formatBytes(1024 ** 5)).to.equal('1024.0 TiB');
    expect(formatBytes(5 * 1024 ** 5)).to.equal('5120.0 TiB');
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
