// @ts-nocheck
import { expect } from 'chai';
import { humanLogLine } from '../../../src/server/logFormat.js';

describe('humanLogLine (server logs on a terminal)', () => {
  it('turns a pino JSON line into time, level, message and fields', () => {
    const json = JSON.stringify({
      level: 30,
      time: Date.UTC(2026, 10, 30, 18, 20, 1, 176),
      pid: 7,
      msg: 'call',
      method: 'Download',
      name: 'my file.bin',
      bytesSent: 42,
    });
    expect(humanLogLine(`${json}\n`)).to.equal('18:20:01.176 INFO  call method=Download name="my file.bin" bytesSent=42\n');
  });

  it('names the levels pino numbers', () => {
    expect(humanLogLine(JSON.stringify({ level: 40, time: 0, msg: 'at the connection limit' }))).to.match(/^00:00:00\.000 WARN {2}at the connection limit\n$/);
    expect(humanLogLine(JSON.stringify({ level: 50, time: 0, msg: 'x', err: { code: 'E' } }))).to.equal('00:00:00.000 ERROR x err={"code":"E"}\n');
  });

  it('passes a line that is not JSON through unchanged', () => {
    expect(humanLogLine('plain words')).to.equal('plain words\n');
  });
});
