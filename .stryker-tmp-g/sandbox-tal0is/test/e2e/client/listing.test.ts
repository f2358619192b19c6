// @ts-nocheck
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FileClient } from '../../../src/client/fileClient.js';
import type { RemoteFile } from '../../../src/client/remoteFile.js';
import type { FileInfo } from '../../../src/generated/filetransfer/v1/FileInfo.js';
import type { FileServiceHandlers } from '../../../src/generated/filetransfer/v1/FileService.js';
import { loadFileTransfer } from '../../../src/shared/proto.js';
import { tempDir } from '../../helpers/files.js';
import { startServerProcess } from '../../helpers/processes.js';
import { plainClient, rawListing } from '../../helpers/rawClient.js';

/** More than one ListBatches message holds. */
const MANY = 1203;

const described = (files: RemoteFile[]) => files.map((f) => ({ name: f.name, size: String(f.size), version: f.version, mtimeMs: String(f.mtime.getTime()) }));

/** A client interceptor that notes each method the client calls, as sent. */
function methodsCalled(): { methods: string[]; interceptor: grpc.Interceptor } {
  const methods: string[] = [];
  const interceptor: grpc.Interceptor = (options, next) => {
    methods.push(options.method_definition.path.split('/').pop()!);
    return new grpc.InterceptingCall(next(options));
  };
  return { methods, interceptor };
}

/**
 * Another implementation of the contract, as it stood before ListBatches:
 * List only, over a fixed set of files. grpc-js answers anything else with
 * UNIMPLEMENTED, as any server of that contract does.
 */
async function olderServer(files: FileInfo[]): Promise<{ address: string; listCalls: () => number; close: () => void }> {
  const server = new grpc.Server();
  let listCalls = 0;
  const { FileService } = loadFileTransfer();
  const { List } = FileService.service;
  const handlers: Pick<FileServiceHandlers, 'List'> = {
    List(call) {
      listCalls += 1;
      for (const file of files) if (file.name!.startsWith(call.request.prefix)) call.write(file);
      call.end();
    },
  };
  server.addService({ List }, handlers);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
  );
  return { address: `127.0.0.1:${port}`, listCalls: () => listCalls, close: () => server.forceShutdown() };
}

describe('FileClient listing: ListBatches, or List from a server without it', function () {
  this.timeout(30_000);
  let dir: string;
  let cleanup: () => Promise<void>;

  before(async () => {
    ({ dir, cleanup } = await tempDir());
    await mkdir(path.join(dir, 'root', 'many'), { recursive: true });
    await Promise.all(Array.from({ length: MANY }, (_, i) => writeFile(path.join(dir, 'root', 'many', `f${String(i).padStart(4, '0')}`), String(i))));
    await writeFile(path.join(dir, 'root', 'x.txt'), 'x');
  });

  after(async () => {
    await cleanup?.();
  });

  it('lists through ListBatches, in messages of at most 1,000 files, exactly what List lists', async () => {
    const server = await startServerProcess(path.join(dir, 'root'));
    const client = new FileClient({ server: server.address, out: path.join(dir, 'out') });
    const plain = plainClient(server.address);
    try {
      const listed = await client.list('');
      const reference = await rawListing(plain, 'list', '');
      expect(reference.files).to.have.length(MANY + 1);
      expect(described(listed)).to.deep.equal(reference.files.map(({ name, size, version, mtimeMs }) => ({ name, size, version, mtimeMs })));
      expect(described(await client.list('many/f11'))).to.deep.equal(described(listed.filter((f) => f.name.startsWith('many/f11'))));

      const batches = await rawListing(plain, 'listBatches', '');
      expect(batches.files).to.deep.equal(reference.files);
      expect(batches.perMessage.length, 'several messages').to.be.greaterThan(1);
      expect(Math.max(...batches.perMessage)).to.be.at.most(1000);

      // Ours two and the raw client's one; the only List is the raw client's.
      await server.waitForCall(() => server.calls('ListBatches').length === 3 && server.calls('List').length === 1);
      expect(
        server
          .calls()
          .map((call) => call.method)
          .sort(),
      ).to.deep.equal(['List', 'ListBatches', 'ListBatches', 'ListBatches']);
    } finally {
      plain.close();
      await client.close();
      await server.kill('SIGTERM');
    }
  });

  it('falls back to List on a server without ListBatches, and asks it directly from then on', async () => {
    const files: FileInfo[] = [
      { name: 'a/one.txt', size: '3', version: 'v1', sha256: '', mtimeMs: '1700000000000' },
      { name: 'a/two.txt', size: '0', version: 'v2', sha256: '', mtimeMs: '1700000000001' },
      { name: 'b.txt', size: '5', version: 'v3', sha256: '', mtimeMs: '1700000000002' },
    ];
    const older = await olderServer(files);
    const { methods, interceptor } = methodsCalled();
    const client = new FileClient({ server: older.address, out: path.join(dir, 'out-older'), channelOptions: { interceptors: [interceptor] } });
    try {
      const expected = files.map(({ name, size, version, mtimeMs }) => ({ name, size, version, mtimeMs }));
      expect(described(await client.list(''))).to.deep.equal(expected);
      expect(described(await client.list('a/'))).to.deep.equal(expected.slice(0, 2));
      expect(methods).to.deep.equal(['ListBatches', 'List', 'List']);
      expect(older.listCalls()).to.equal(2);
    } finally {
      await client.close();
      older.close();
    }
  });
});
