// @ts-nocheck
import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { FileClient } from '../../../src/client/fileClient.js';
import { startServer, type RunningServer } from '../../../src/server/server.js';
import { StatusError } from '../../../src/shared/statusError.js';
import { MiB, makeRandomFile, sha256, sha256File, tempDir } from '../../helpers/files.js';

describe('FileClient and startServer: the library API', function () {
  this.timeout(30_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  let server: RunningServer;
  let content: Buffer;

  before(async () => {
    ({ dir, cleanup } = await tempDir());
    await mkdir(path.join(dir, 'root'));
    content = await makeRandomFile(path.join(dir, 'root', 'f.bin'), 3 * MiB);
    server = await startServer({ root: path.join(dir, 'root'), port: 0 });
  });

  after(async () => {
    await server.close();
    await cleanup();
  });

  it('aborting leaves a resumable partial; the next download resumes it', async () => {
    const out = path.join(dir, 'out');
    const client = new FileClient({ server: `127.0.0.1:${server.port}`, out, limitRate: 4 * MiB });
    try {
      const abort = new AbortController();
      const aborted = await client.download('f.bin', { signal: abort.signal, onProgress: ({ received }) => received >= MiB && abort.abort() }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(aborted).to.be.instanceOf(StatusError);
      expect((aborted as StatusError).code).to.equal(status.CANCELLED);
      const partial = (await stat(path.join(out, 'f.bin.part'))).size;
      expect(partial).to.be.within(MiB, 3 * MiB - 1);
      expect((await client.tasks())[0]).to.include({ name: 'f.bin', status: 'incomplete' });

      let progressEvents = 0;
      const result = await client.download('f.bin', { limitRate: 64 * MiB, onProgress: () => (progressEvents += 1) });
      expect(result).to.include({ resumedFrom: partial, transferred: true, state: 'incomplete', size: content.length, sha256: sha256(content) });
      expect(result.bytesReceived).to.equal(content.length - partial);
      expect(progressEvents).to.be.greaterThan(0);
      expect(await sha256File(result.path)).to.equal(sha256(content));
    } finally {
      await client.close();
    }
  });

  it('downloadMany yields every outcome as it settles, failures included', async () => {
    await makeRandomFile(path.join(dir, 'root', 'g.bin'), 100_000);
    const client = new FileClient({ server: `127.0.0.1:${server.port}`, out: path.join(dir, 'out3') });
    try {
      const outcomes = [];
      for await (const outcome of client.downloadMany(['f.bin', 'nope.bin', { name: 'g.bin', priority: 2 }], { concurrency: 2, order: 'priority' })) {
        outcomes.push(outcome);
      }
      expect(outcomes.map((o) => [o.name, o.ok]).sort()).to.deep.equal([
        ['f.bin', true],
        ['g.bin', true],
        ['nope.bin', false],
      ]);
      const failure = outcomes.find((o) => !o.ok);
      expect(failure && !failure.ok && failure.error.code).to.equal(status.NOT_FOUND);
      const f = outcomes.find((o) => o.name === 'f.bin');
      expect(f?.ok && (await sha256File(f.result.path))).to.equal(sha256(content));
    } finally {
      await client.close();
    }
  });

  it('stat and list describe the remote files; errors carry a gRPC code', async () => {
    const client = new FileClient({ server: `127.0.0.1:${server.port}`, out: path.join(dir, 'out2') });
    try {
      expect(await client.stat('f.bin')).to.include({ name: 'f.bin', size: content.length, sha256: sha256(content) });
      expect((await client.list()).map((f) => f.name)).to.deep.equal(['f.bin', 'g.bin']);
      const missing = await client.stat('nope').catch((err: StatusError) => err);
      expect(missing).to.be.instanceOf(StatusError);
      expect((missing as StatusError).code).to.equal(status.NOT_FOUND);
    } finally {
      await client.close();
    }
  });
});
