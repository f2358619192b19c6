import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { getEventListeners } from 'node:events';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { FileClient } from '../../../src/client/fileClient.js';
import { startServer, type RunningServer } from '../../../src/server/server.js';
import { makeRandomFile, exists, tempDir } from '../../helpers/files.js';

describe('FileClient: long-lived and already aborted signals', function () {
  this.timeout(30_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  let server: RunningServer;

  before(async () => {
    ({ dir, cleanup } = await tempDir());
    await mkdir(path.join(dir, 'root', 'a'), { recursive: true });
    await mkdir(path.join(dir, 'root', 'b'));
    await makeRandomFile(path.join(dir, 'root', 'a', 'x'), 1024);
    await makeRandomFile(path.join(dir, 'root', 'b', 'y'), 1024);
    server = await startServer({ root: path.join(dir, 'root'), port: 0 });
  });

  after(async () => {
    await server.close();
    await cleanup();
  });

  it('stat leaves no abort listener behind on a signal that outlives its calls', async () => {
    const client = new FileClient({ server: `127.0.0.1:${server.port}`, out: path.join(dir, 'out-stat') });
    const session = new AbortController();
    try {
      for (let i = 0; i < 50; i += 1) expect(await client.stat('a/x', session.signal)).to.include({ name: 'a/x', size: 1024 });
      const failed = await client.stat('missing', session.signal).catch((err: { code: number }) => err);
      expect(failed).to.include({ code: status.NOT_FOUND });
      expect(getEventListeners(session.signal, 'abort')).to.have.length(0);
    } finally {
      await client.close();
    }
  });

  it('a batch given an already aborted signal creates no folder and fails every item as aborted', async () => {
    const out = path.join(dir, 'out-aborted');
    const client = new FileClient({ server: `127.0.0.1:${server.port}`, out });
    try {
      const outcomes = [];
      for await (const outcome of client.downloadMany(['a/x', 'b/y'], { signal: AbortSignal.abort() })) outcomes.push(outcome);
      expect(outcomes.map((o) => [o.name, o.ok, !o.ok && o.error.code]).sort()).to.deep.equal([
        ['a/x', false, status.CANCELLED],
        ['b/y', false, status.CANCELLED],
      ]);
      for (const outcome of outcomes) expect(!outcome.ok && outcome.error.message).to.match(/aborted/);
    } finally {
      await client.close();
    }
    for (const folder of ['a', 'b']) expect(await exists(path.join(out, folder)), folder).to.equal(false);
    expect(await exists(out), 'not even --out').to.equal(false);
  });

  it('a batch refused for its concurrency fails before it lists or fetches anything', async () => {
    const out = path.join(dir, 'out-refused');
    const client = new FileClient({ server: `127.0.0.1:${server.port}`, out });
    try {
      const batch = client.downloadMany(['a/x', 'b/y'], { concurrency: 0 });
      let thrown: unknown;
      await batch.next().catch((err: unknown) => (thrown = err));
      expect(thrown).to.be.instanceOf(RangeError);
      expect((thrown as Error).message).to.equal('concurrency must be a whole number ≥ 1, not 0');
    } finally {
      await client.close();
    }
    expect(await exists(out), 'not even --out').to.equal(false);
  });
});
