import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { expect } from 'chai';
import { once } from 'node:events';
import { mkdir, open, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Chunk__Output } from '../../../src/generated/filetransfer/v1/Chunk.js';
import type { ChunkBatch__Output } from '../../../src/generated/filetransfer/v1/ChunkBatch.js';
import type { DownloadManyRequest } from '../../../src/generated/filetransfer/v1/DownloadManyRequest.js';
import type { FileInfo__Output } from '../../../src/generated/filetransfer/v1/FileInfo.js';
import type { FileServiceClient } from '../../../src/generated/filetransfer/v1/FileService.js';
import { MiB, makeRandomFile, sha256, sha256File, tempDir } from '../../helpers/files.js';
import { bounded, startServerProcess, type ServerProcess } from '../../helpers/processes.js';
import { plainClient, rawList } from '../../helpers/rawClient.js';
import { PROTO_PATH } from '../../../src/shared/proto.js';

/** One file as the stream framed it. */
interface Framed {
  name: string;
  info?: FileInfo__Output;
  data: Buffer;
  sha256?: string;
  error?: { code: number; message: string };
  messages: number;
}

/**
 * Splits a DownloadMany stream into files by the framing the proto states,
 * failing on any message out of place: data whose offset is not where the
 * file's bytes so far end, a file that starts before the previous ended.
 */
function reassemble(messages: Chunk__Output[]): Framed[] {
  const files: Framed[] = [];
  let current: (Framed & { parts: Buffer[] }) | undefined;
  const finish = () => {
    files.push({
      name: current!.name,
      info: current!.info,
      data: Buffer.concat(current!.parts),
      sha256: current!.sha256,
      error: current!.error,
      messages: current!.messages,
    });
    current = undefined;
  };
  for (const message of messages) {
    if (message.info && !message.error) {
      expect(current, `${message.info.name} starts before ${current?.name} ended`).to.equal(undefined);
      current = { name: message.info.name, info: message.info, data: Buffer.alloc(0), parts: [], messages: 0 };
    }
    if (message.error) {
      const name = message.info?.name ?? '';
      if (current && current.name !== name) expect.fail(`error frame for ${name} inside ${current.name}`);
      current ??= { name, data: Buffer.alloc(0), parts: [], messages: 0 };
      current.messages += 1;
      current.error = { code: message.error.code, message: message.error.message };
      finish();
      continue;
    }
    expect(current, 'a message outside any file').to.not.equal(undefined);
    current!.messages += 1;
    if (message.data.length > 0) {
      const received = current!.parts.reduce((sum, part) => sum + part.length, 0);
      expect(Number(message.offset), `offset of data in ${current!.name}`).to.equal(received);
      current!.parts.push(message.data);
    }
    if (message.sha256) {
      current!.sha256 = message.sha256;
      finish();
    }
  }
  expect(current, 'the stream ended inside a file').to.equal(undefined);
  return files;
}

async function downloadMany(client: FileServiceClient, request: DownloadManyRequest): Promise<{ code: grpc.status; details: string; files: Framed[] }> {
  const messages: Chunk__Output[] = [];
  try {
    for await (const message of client.downloadMany(request) as AsyncIterable<Chunk__Output>) messages.push(message);
    return { code: grpc.status.OK, details: '', files: reassemble(messages) };
  } catch (err) {
    const { code, details } = err as grpc.ServiceError;
    return { code, details, files: [] };
  }
}

/** A DownloadManyBatches call as a client of the contract sees it: its messages, their Chunks in order, its end. */
async function downloadManyBatches(
  client: FileServiceClient,
  request: DownloadManyRequest,
): Promise<{ code: grpc.status; details: string; batches: ChunkBatch__Output[]; chunks: Chunk__Output[] }> {
  const batches: ChunkBatch__Output[] = [];
  try {
    for await (const batch of client.downloadManyBatches(request) as AsyncIterable<ChunkBatch__Output>) batches.push(batch);
    return { code: grpc.status.OK, details: '', batches, chunks: batches.flatMap((batch) => batch.chunks) };
  } catch (err) {
    const { code, details } = err as grpc.ServiceError;
    return { code, details, batches, chunks: [] };
  }
}

/** All Chunks of a DownloadMany call, in order. */
async function manyChunks(client: FileServiceClient, request: DownloadManyRequest): Promise<Chunk__Output[]> {
  const messages: Chunk__Output[] = [];
  for await (const message of client.downloadMany(request) as AsyncIterable<Chunk__Output>) messages.push(message);
  return messages;
}

const CHUNK = 64 * 1024;

/** A ChunkBatch's size on the wire, as protobufjs encodes it. */
const plainBatchBytes = (batch: ChunkBatch__Output) => {
  const definition = protoLoader.loadSync(PROTO_PATH, { longs: String, enums: String, defaults: true, oneofs: true });
  return (definition['filetransfer.v1.FileService'] as protoLoader.ServiceDefinition)['DownloadManyBatches']!.responseSerialize(batch).length;
};

describe('grpc-server: DownloadMany', function () {
  this.timeout(30_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  let server: ServerProcess;
  let client: FileServiceClient;

  before(async () => {
    ({ dir, cleanup } = await tempDir());
    await mkdir(path.join(dir, 'data/deep/er'), { recursive: true });
    await mkdir(path.join(dir, 'folder'));
    await writeFile(path.join(dir, 'data/empty.txt'), '');
    await makeRandomFile(path.join(dir, 'data/one-chunk.bin'), CHUNK);
    await makeRandomFile(path.join(dir, 'data/multi.bin'), 3 * CHUNK + 5);
    await makeRandomFile(path.join(dir, 'data/deep/er/nested.txt'), 1000);
    await writeFile(path.join(dir, 'data/ünï cödé ✓.txt'), 'unicode and spaces\n');
    await writeFile(path.join(dir, 'data-old.bin'), 'not under data/\n');
    await mkdir(path.join(dir, 'pack'));
    for (let i = 0; i < 100; i += 1) await makeRandomFile(path.join(dir, 'pack', `f${String(i).padStart(3, '0')}.bin`), 1000 + i);
    await mkdir(path.join(dir, 'pack20k'));
    for (let i = 0; i < 32; i += 1) await makeRandomFile(path.join(dir, 'pack20k', `f${String(i).padStart(2, '0')}.bin`), 20 * 1024);
    server = await startServerProcess(dir, { args: ['--chunk-size', '64k'] });
    client = plainClient(server.address);
  });
  after(async () => {
    client.close();
    await server.kill();
    await cleanup();
  });

  /** Each file whole: its info as on disk, a digest that matches the disk, one message when it fits one. */
  async function expectWhole(file: Framed, name: string): Promise<void> {
    const onDisk = path.join(dir, name);
    const info = await stat(onDisk, { bigint: true });
    expect(file.name).to.equal(name);
    expect(file.error, name).to.equal(undefined);
    expect(file.info!.size, name).to.equal(info.size.toString());
    expect(file.info!.mtimeMs, name).to.equal((info.mtimeNs / 1_000_000n).toString());
    expect(file.info!.version, name).to.match(/^[0-9a-f]{24}$/);
    expect(file.sha256, name).to.equal(await sha256File(onDisk));
    expect(sha256(file.data), name).to.equal(file.sha256);
    if (info.size <= BigInt(CHUNK)) expect(file.messages, `${name} fits one message`).to.equal(1);
  }

  it('frames each file asked for, in order; a missing name and a folder get error frames and later files still arrive', async () => {
    const names = [
      'data/multi.bin',
      'data/empty.txt',
      'missing.txt',
      'data/ünï cödé ✓.txt',
      'folder',
      'data/one-chunk.bin',
      '../escape',
      'data/deep/er/nested.txt',
    ];
    const { code, details, files } = await downloadMany(client, { names });
    expect(code, details).to.equal(grpc.status.OK);
    expect(files.map((f) => f.name)).to.deep.equal(names);
    for (const [index, name] of names.entries()) {
      if (['missing.txt', 'folder'].includes(name)) expect(files[index]!.error, name).to.deep.include({ code: grpc.status.NOT_FOUND });
      else if (name === '../escape') expect(files[index]!.error, name).to.deep.include({ code: grpc.status.INVALID_ARGUMENT });
      else await expectWhole(files[index]!, name);
    }
    expect(files[0]!.messages, 'info, 4 chunks, digest').to.be.at.least(5);
    const logged = await server.waitForCall((c) => c.method === 'DownloadMany' && c.code === 'OK');
    expect(logged).to.deep.include({ files: 5, failed: 3, bytesSent: 4 * CHUNK + 5 + 1000 + Buffer.byteLength('unicode and spaces\n') });
  });

  it('sends exactly what List returns for a prefix, in name order', async () => {
    const listed = await rawList(client, 'data/');
    const { code, files } = await downloadMany(client, { prefix: 'data/' });
    expect(code).to.equal(grpc.status.OK);
    expect(files.map((f) => f.name)).to.deep.equal(listed.names);
    expect(listed.names).to.not.include('data-old.bin');
    for (const file of files) await expectWhole(file, file.name);
  });

  it('refuses more than 10,000 names, and a bad prefix, for the whole call', async () => {
    const many = await downloadMany(client, { names: Array.from({ length: 10_001 }, (_, i) => `f${i}`) });
    expect(many.code).to.equal(grpc.status.INVALID_ARGUMENT);
    expect(many.details).to.equal('10001 names asked for; at most 10000 per call');
    expect((await downloadMany(client, { prefix: '../' })).code).to.equal(grpc.status.INVALID_ARGUMENT);
  });

  it('drops a file written to while it is read with ABORTED, and sends the next one whole', async () => {
    const big = path.join(dir, 'big.bin');
    await makeRandomFile(big, 32 * MiB);
    const call = client.downloadMany({ names: ['big.bin', 'data/deep/er/nested.txt'] });
    const messages: Chunk__Output[] = [];
    // The reader stops after the first data: HTTP/2 flow control then holds
    // the server inside the 32 MiB file until the reader resumes.
    let paused = false;
    const firstData = new Promise<void>((resolve) =>
      call.on('data', (message: Chunk__Output) => {
        messages.push(message);
        if (message.data.length > 0 && !paused) {
          paused = true;
          call.pause();
          resolve();
        }
      }),
    );
    const ended = once(call, 'end');
    await bounded('the first data of big.bin', firstData, [server]);
    const handle = await open(big, 'r+');
    await handle.write(Buffer.from('changed in place'), 0, 16, 20 * MiB);
    await handle.close();
    call.resume();
    await bounded('the end of the call', ended, [server]);
    const files = reassemble(messages);
    expect(files.map((f) => f.name)).to.deep.equal(['big.bin', 'data/deep/er/nested.txt']);
    expect(files[0]!.error).to.deep.include({ code: grpc.status.ABORTED });
    await expectWhole(files[1]!, 'data/deep/er/nested.txt');
  });

  describe('DownloadManyBatches', () => {
    // The large file between small ones: they come before and after it, in order.
    const names = [
      'data/empty.txt',
      'missing.txt',
      'data/ünï cödé ✓.txt',
      'data/multi.bin',
      'folder',
      'data/one-chunk.bin',
      '../escape',
      'data/deep/er/nested.txt',
    ];

    it('sends the very Chunks DownloadMany sends, in order, several to a message, none empty', async () => {
      const { code, details, batches, chunks } = await downloadManyBatches(client, { names });
      expect(code, details).to.equal(grpc.status.OK);
      expect(chunks).to.deep.equal(await manyChunks(client, { names }));
      expect(reassemble(chunks).map((f) => f.name)).to.deep.equal(names);
      for (const batch of batches) expect(batch.chunks.length, 'no empty message').to.be.above(0);
      expect(batches.length, 'the small files share messages').to.be.below(chunks.length);
      const logged = await server.waitForCall((c) => c.method === 'DownloadManyBatches' && c.code === 'OK');
      expect(logged).to.deep.include({ files: 5, failed: 3, bytesSent: 4 * CHUNK + 5 + 1000 + Buffer.byteLength('unicode and spaces\n') });
    });

    it('packs a folder of small files into a few messages, each file whole', async () => {
      const listed = await rawList(client, 'pack/');
      const { code, batches, chunks } = await downloadManyBatches(client, { prefix: 'pack/' });
      expect(code).to.equal(grpc.status.OK);
      const files = reassemble(chunks);
      expect(files.map((f) => f.name)).to.deep.equal(listed.names);
      for (const file of files) await expectWhole(file, file.name);
      // The server reads small files 32 at a time; each such read is one message here.
      expect(batches.length, 'messages for 100 files').to.be.at.most(Math.ceil(100 / 32));
    });

    it('keeps each message within the chunk size, as many files as fit', async () => {
      const { code, batches, chunks } = await downloadManyBatches(client, { prefix: 'pack20k/' });
      expect(code).to.equal(grpc.status.OK);
      expect(reassemble(chunks)).to.have.length(32);
      for (const batch of batches) expect(plainBatchBytes(batch), 'a message').to.be.at.most(CHUNK);
      // Three files of 20 KiB with their headers fit 64 KiB: 32 files in 11 messages.
      expect(batches.length).to.be.within(Math.ceil((32 * 20 * 1024) / CHUNK), 16);
    });

    it('refuses a bad request for the whole call, as DownloadMany does', async () => {
      const many = await downloadManyBatches(client, { names: Array.from({ length: 10_001 }, (_, i) => `f${i}`) });
      expect(many.code).to.equal(grpc.status.INVALID_ARGUMENT);
      expect(many.details).to.equal('10001 names asked for; at most 10000 per call');
      expect((await downloadManyBatches(client, { prefix: '../' })).code).to.equal(grpc.status.INVALID_ARGUMENT);
    });
  });
});
