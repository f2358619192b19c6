// @ts-nocheck
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { DownloadRequest__Output } from '../../../src/generated/filetransfer/v1/DownloadRequest.js';
import type { Chunk } from '../../../src/generated/filetransfer/v1/Chunk.js';
import { loadFileTransfer } from '../../../src/shared/proto.js';
import { MiB, makeRandomFile, sha256, sha256File, tempDir } from '../../helpers/files.js';
import { runClient, startServerProcess, type ServerProcess } from '../../helpers/processes.js';

/**
 * A peer that breaks the protocol once: its first stream of a file sends
 * `good` consistent bytes, then data that claims the wrong offset. Every
 * later request is served honestly from the offset asked for. Only a
 * hostile server can produce a protocol fault, so this one is not ours.
 */
async function startFaultyPeer(name: string, content: Buffer, good: number) {
  const requests: { offset: number; expectedVersion: string }[] = [];
  const server = new grpc.Server();
  const version = 'v1';
  const digest = createHash('sha256').update(content).digest('hex');
  const info = { name, size: String(content.length), version, sha256: digest, mtimeMs: '0' };
  server.addService(loadFileTransfer().FileService.service, {
    download: (call: grpc.ServerWritableStream<DownloadRequest__Output, Chunk>) => {
      const offset = Number(call.request.offset);
      requests.push({ offset, expectedVersion: call.request.expectedVersion });
      const chunks: Chunk[] = [{ info, offset: String(offset), data: Buffer.alloc(0) }];
      if (requests.length === 1) {
        chunks.push({ offset: String(offset), data: content.subarray(offset, good) });
        chunks.push({ offset: String(good + 4096), data: content.subarray(good, good + 4096) });
      } else {
        for (let at = offset; at < content.length; at += MiB)
          chunks.push({ offset: String(at), data: content.subarray(at, Math.min(at + MiB, content.length)) });
      }
      for (const chunk of chunks) call.write(chunk);
      call.end();
    },
    stat: (_call: unknown, callback: grpc.sendUnaryData<unknown>) => callback({ code: grpc.status.UNIMPLEMENTED }),
    list: (call: grpc.ServerWritableStream<unknown, unknown>) => call.destroy(Object.assign(new Error('not here'), { code: grpc.status.UNIMPLEMENTED })),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
  );
  return { address: `127.0.0.1:${port}`, requests, stop: () => server.forceShutdown() };
}

describe('grpc-client engine: protocol faults and traces', function () {
  this.timeout(30_000);

  it('keeps the consistent bytes of a stream that breaks the protocol, and resumes after them', async () => {
    const { dir, cleanup } = await tempDir();
    const content = randomBytes(3 * MiB + 123);
    const peer = await startFaultyPeer('odd.bin', content, 2 * MiB);
    try {
      const out = path.join(dir, 'out');
      const run = await runClient(['get', 'odd.bin', '-s', peer.address, '-o', out]);
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stderr).to.include('broke the protocol');
      expect(await sha256File(path.join(out, 'odd.bin'))).to.equal(sha256(content));
      // The second request resumes after the 2 MiB that arrived in order,
      // for the same version: they were not thrown away.
      expect(peer.requests).to.deep.equal([
        { offset: 0, expectedVersion: '' },
        { offset: 2 * MiB, expectedVersion: 'v1' },
      ]);
    } finally {
      peer.stop();
      await cleanup();
    }
  });

  describe('with NODE_DEBUG=grpc-file:*', () => {
    let server: ServerProcess;
    let root: { dir: string; cleanup: () => Promise<void> };
    before(async () => {
      root = await tempDir();
      server = await startServerProcess(root.dir);
    });
    after(async () => {
      await server.kill();
      await root.cleanup();
    });

    it('traces the plan, the lock and the resume point a user cannot otherwise see', async () => {
      const data = await makeRandomFile(path.join(root.dir, 'traced.bin'), MiB);
      const out = path.join(root.dir, 'out');
      // A partial without a record: resumed at its length, judged by the digest.
      await mkdir(out, { recursive: true });
      await writeFile(path.join(out, 'traced.bin.part'), data.subarray(0, 1000));
      const run = await runClient(['get', 'traced.bin', '-s', server.address, '-o', out], { NODE_DEBUG: 'grpc-file:*' });
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stderr).to.match(/GRPC-FILE:PLAN \d+: traced\.bin: record none, final file absent, partial 1000 -> .*"state":"orphan-partial".*"offset":1000/);
      // The output folder's lock, named by the folder's real path.
      expect(run.stderr).to.match(/GRPC-FILE:LOCK \d+: \/.*\/out: locked/);
      expect(server.calls('Download', 'traced.bin').map((call) => call.offset)).to.deep.equal(['1000']);
      expect(await sha256File(path.join(out, 'traced.bin'))).to.equal(sha256(data));
    });

    it('prints no trace without it', async () => {
      await makeRandomFile(path.join(root.dir, 'quiet.bin'), 1000);
      const run = await runClient(['get', 'quiet.bin', '-s', server.address, '-o', path.join(root.dir, 'out2')]);
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stderr).not.to.include('GRPC-FILE');
    });
  });
});
