// @ts-nocheck
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BlockList__Output } from '../../../src/generated/filetransfer/v1/BlockList.js';
import type { Chunk__Output } from '../../../src/generated/filetransfer/v1/Chunk.js';
import type { FileServiceClient } from '../../../src/generated/filetransfer/v1/FileService.js';
import { makeRandomFile, sha256, tempDir } from '../../helpers/files.js';
import { bounded, pollUntil, startServerProcess, type ServerProcess } from '../../helpers/processes.js';
import { plainClient, rawClient, rawDownload } from '../../helpers/rawClient.js';

const BLOCK = 64 * 1024;

async function rawBlocks(
  client: FileServiceClient,
  name: string,
  expectedVersion = '',
): Promise<{ code: grpc.status; details: string; messages: BlockList__Output[] }> {
  const messages: BlockList__Output[] = [];
  try {
    for await (const message of client.blocks({ name, expectedVersion }) as AsyncIterable<BlockList__Output>) messages.push(message);
    return { code: grpc.status.OK, details: '', messages };
  } catch (err) {
    const { code, details } = err as grpc.ServiceError;
    return { code, details, messages };
  }
}

/** The list as the proto frames it, checked message by message: keep-alives, then info and digests numbered without gap. */
function listOf(messages: BlockList__Output[]): { info: NonNullable<BlockList__Output['info']>; blockSize: number; digests: Buffer[] } {
  const start = messages.findIndex((m) => m.info !== null);
  expect(start, 'a message with info').to.be.at.least(0);
  for (const keepAlive of messages.slice(0, start)) expect(keepAlive.sha256).to.deep.equal([]);
  const blockSize = Number(messages[start]!.blockSize);
  const digests: Buffer[] = [];
  for (const message of messages.slice(start)) {
    expect(Number(message.blockSize)).to.equal(blockSize);
    expect(Number(message.firstBlock), 'first_block').to.equal(digests.length);
    if (digests.length > 0) expect(message.info).to.equal(null);
    digests.push(...message.sha256);
  }
  return { info: messages[start]!.info!, blockSize, digests };
}

/** SHA-256 of each BLOCK bytes, as the contract defines the list. */
function slicesOf(content: Buffer): string[] {
  const digests: string[] = [];
  for (let at = 0; at < content.length; at += BLOCK)
    digests.push(
      createHash('sha256')
        .update(content.subarray(at, at + BLOCK))
        .digest('hex'),
    );
  return digests;
}

describe('grpc-server: Blocks and ranged Download', function () {
  let dir: string;
  let root: string;
  let cleanup: () => Promise<void>;

  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    root = path.join(dir, 'root');
    await mkdir(root);
  });

  afterEach(async () => {
    await cleanup();
  });

  it("lists ceil(size / block size) digests of the file's slices with its whole sha256, and answers from --state-dir after a restart without hashing", async () => {
    const content = await makeRandomFile(path.join(root, 'data.bin'), 3 * BLOCK + 123);
    await writeFile(path.join(root, 'empty.txt'), '');
    const state = path.join(dir, 'state');
    const args = ['--block-size', '64k', '--state-dir', state];
    let server: ServerProcess = await startServerProcess(root, { args });
    let client = plainClient(server.address);
    try {
      const listed = listOf((await rawBlocks(client, 'data.bin')).messages);
      expect(listed.blockSize).to.equal(BLOCK);
      expect(listed.info).to.include({ name: 'data.bin', size: String(content.length), sha256: sha256(content) });
      expect(listed.digests.map((d) => d.toString('hex'))).to.deep.equal(slicesOf(content));
      expect(listed.digests).to.have.length(4);
      expect(await server.waitForCall((c) => c.method === 'Blocks' && c.name === 'data.bin')).to.include({ blocks: 4, hashed: true, code: 'OK' });

      const empty = await rawBlocks(client, 'empty.txt');
      expect(empty.messages).to.have.length(1);
      expect(listOf(empty.messages)).to.deep.include({ blockSize: BLOCK, digests: [] });
      expect(empty.messages[0]!.info!.sha256).to.equal(sha256(Buffer.alloc(0)));

      const stale = await rawBlocks(client, 'data.bin', 'not-the-version');
      expect([stale.code, stale.details]).to.deep.equal([
        grpc.status.FAILED_PRECONDITION,
        'data.bin changed since version not-the-version; ask for its blocks again',
      ]);
      expect((await rawBlocks(client, 'missing.bin')).code).to.equal(grpc.status.NOT_FOUND);
      const log = path.join(state, 'digests.jsonl');
      await pollUntil(
        'the block list to reach the state dir',
        async () => ((await readFile(log, 'utf8')).includes(`"version":"${listed.info.version}"`) ? true : undefined),
        [server],
      );
      client.close();
      await server.kill('SIGKILL');

      server = await startServerProcess(root, { args });
      client = rawClient(server.address);
      const again = listOf((await rawBlocks(client, 'data.bin', listed.info.version)).messages);
      expect(again).to.deep.equal(listed);
      const call = await server.waitForCall((c) => c.method === 'Blocks' && c.name === 'data.bin');
      expect(call, 'answered from the digest log').to.include({ blocks: 4, hashed: false });
    } finally {
      client.close();
      await server.kill();
    }
  });

  it('sends exactly offset..offset+limit, to the end when that lies beyond, with the digest only when known; a request without limit as before', async () => {
    const content = await makeRandomFile(path.join(root, 'data.bin'), 300 * 1024 + 7);
    const streamed = await makeRandomFile(path.join(root, 'streamed.bin'), 2 * BLOCK + 5);
    const server = await startServerProcess(root, { args: ['--block-size', '64k'] });
    const client = plainClient(server.address);
    const sent = async (offset: string) => (await server.waitForCall((c) => c.method === 'Download' && c.name === 'data.bin' && c.offset === offset)).bytesSent;
    try {
      // A whole download hashes the blocks on the bytes it sends: no second read.
      expect((await rawDownload(client, { name: 'streamed.bin', offset: 0 })).data.equals(streamed)).to.equal(true);
      expect(listOf((await rawBlocks(client, 'streamed.bin')).messages).digests.map((d) => d.toString('hex'))).to.deep.equal(slicesOf(streamed));
      expect(await server.waitForCall((c) => c.method === 'Blocks')).to.include({ blocks: 3, hashed: false });

      // Nothing hashed yet: a range gets no digest, nor waits for one.
      const range = await rawDownload(client, { name: 'data.bin', offset: 1000, limit: 5000 });
      expect(range.code, range.details).to.equal(grpc.status.OK);
      expect(range.data.equals(content.subarray(1000, 6000))).to.equal(true);
      expect(range.messages[0]!.info).to.include({ size: String(content.length), sha256: '' });
      expect(range.messages.filter((m) => m.sha256 !== '')).to.deep.equal([]);
      expect(await sent('1000')).to.equal(5000);

      const tail = await rawDownload(client, { name: 'data.bin', offset: content.length - 100, limit: 1000 });
      expect(tail.data.equals(content.subarray(-100))).to.equal(true);
      expect(await sent(String(content.length - 100))).to.equal(100);
      const negative = await rawDownload(client, { name: 'data.bin', offset: 0, limit: -1 });
      expect([negative.code, negative.details]).to.deep.equal([grpc.status.INVALID_ARGUMENT, 'invalid limit -1: must not be negative']);

      // Without limit, as before the field existed: info without digest, the
      // data, then the digest alone on a last message at the size.
      const resumed = await rawDownload(client, { name: 'data.bin', offset: 200_000 });
      expect(resumed.data.equals(content.subarray(200_000))).to.equal(true);
      expect(resumed.messages[0]).to.deep.include({ offset: '200000', sha256: '' });
      expect(resumed.messages[0]!.info).to.include({ sha256: '' });
      expect(resumed.messages.at(-1)).to.deep.include({ offset: String(content.length), sha256: sha256(content), info: null, data: Buffer.alloc(0) });
      expect(resumed.messages.slice(1, -1).every((m) => m.sha256 === '' && m.info === null && m.data.length > 0)).to.equal(true);
      expect(await sent('200000')).to.equal(content.length - 200_000);

      // Known now: a range gets it in its info.
      const known = await rawDownload(client, { name: 'data.bin', offset: 70_000, limit: 10 });
      expect(known.messages[0]!.info!.sha256).to.equal(sha256(content));
      expect(known.data.equals(content.subarray(70_000, 70_010))).to.equal(true);
    } finally {
      client.close();
      await server.kill();
    }
  });

  it('--limit-rate caps the bytes per second of Download and DownloadMany together', async () => {
    // Three equal shares: a Download, DownloadMany's small files (one
    // message each) and its large file (in chunks). Any one unpaced would
    // end the whole a third sooner.
    const share = 48 * 1024;
    const files = {
      'alone.bin': await makeRandomFile(path.join(root, 'alone.bin'), share),
      'large.bin': await makeRandomFile(path.join(root, 'large.bin'), share),
      's1.bin': await makeRandomFile(path.join(root, 's1.bin'), share / 3),
      's2.bin': await makeRandomFile(path.join(root, 's2.bin'), share / 3),
      's3.bin': await makeRandomFile(path.join(root, 's3.bin'), share / 3),
    };
    const rate = 64 * 1024;
    const server = await startServerProcess(root, { args: ['--limit-rate', '64k', '--chunk-size', '16k'] });
    const client = rawClient(server.address);
    try {
      const started = Date.now();
      const many = async () => {
        const received: Chunk__Output[] = [];
        for await (const message of client.downloadMany({ names: ['s1.bin', 's2.bin', 'large.bin', 's3.bin'] }) as AsyncIterable<Chunk__Output>)
          received.push(message);
        return received;
      };
      const [alone, chunks] = await bounded('both downloads', Promise.all([rawDownload(client, { name: 'alone.bin' }), many()]), [server]);
      const elapsed = Date.now() - started;
      expect(alone.data.equals(files['alone.bin'])).to.equal(true);
      const data = Buffer.concat(chunks.map((m) => m.data));
      expect(data.equals(Buffer.concat([files['s1.bin'], files['s2.bin'], files['large.bin'], files['s3.bin']]))).to.equal(true);
      // 3 shares at `rate`, less the limiter's burst of 0.1 s: at least
      // 2.15 s. A lower bound only: a loaded machine is slower, never faster.
      const total = 3 * share;
      expect(elapsed, `${total} bytes at ${rate} bytes/s took ${elapsed} ms`).to.be.at.least(((total / rate) * 1000 - 100) * 0.9);
    } finally {
      client.close();
      await server.kill();
    }
  });
});
