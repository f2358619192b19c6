// @ts-nocheck
import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const CONF = fileURLToPath(new URL('../../../deploy/nginx.conf', import.meta.url));

/** The arguments of a directive's one occurrence, comments left out. */
async function directive(name: string): Promise<string[]> {
  const text = (await readFile(CONF, 'utf8')).replace(/#.*$/gm, '');
  const found = [...text.matchAll(new RegExp(`^\\s*${name}\\s+([^;]*);`, 'gm'))];
  expect(found, `one ${name} in deploy/nginx.conf`).to.have.length(1);
  return found[0]![1]!.trim().split(/\s+/);
}

/** nginx's time syntax (10m, 90s, 1h30m, a bare number of seconds) in seconds. */
function seconds(time: string): number {
  const units: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400 };
  const parts = [...time.matchAll(/(\d+)(ms|s|m|h|d)?/g)];
  expect(parts.map((p) => p[0]).join(''), `a time: ${time}`).to.equal(time);
  return parts.reduce((sum, p) => sum + Number(p[1]) * units[p[2] ?? 's']!, 0);
}

describe('deploy/nginx.conf', () => {
  it("leaves a stream quiet in either direction for minutes, not nginx's 60 s", async () => {
    for (const name of ['grpc_read_timeout', 'grpc_send_timeout', 'send_timeout', 'client_body_timeout']) {
      expect(seconds((await directive(name))[0]!), name).to.be.at.least(300);
    }
  });

  it('sends a call no replica took to the next one, also once it was sent: every call only reads', async () => {
    expect(await directive('grpc_next_upstream')).to.include.members(['error', 'timeout', 'non_idempotent']);
    expect(seconds((await directive('grpc_connect_timeout'))[0]!)).to.be.at.most(5);
  });
});
