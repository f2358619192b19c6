import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdir, rename, symlink, writeFile, open } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import type { FileServiceClient } from '../../../src/generated/filetransfer/v1/FileService.js';
import { makeRandomFile, sha256, tempDir } from '../../helpers/files.js';
import { startServerProcess, type ServerProcess } from '../../helpers/processes.js';
import { plainClient, rawClient, rawDownload, rawList, rawListing, rawStat } from '../../helpers/rawClient.js';

const asRoot = process.getuid?.() === 0;

describe('grpc-server: the Download, Stat and List contract', function () {
  let root: string;
  let outside: string;
  let cleanup: () => Promise<void>;
  let server: ServerProcess;
  let client: FileServiceClient;
  let content: Buffer;

  before(async () => {
    const temp = await tempDir();
    cleanup = temp.cleanup;
    root = path.join(temp.dir, 'root');
    outside = path.join(temp.dir, 'outside');
    await mkdir(path.join(root, 'sub'), { recursive: true });
    await mkdir(outside);
    content = await makeRandomFile(path.join(root, 'data.bin'), 700 * 1024 + 3);
    await writeFile(path.join(root, 'sub', 'small.txt'), 'small\n');
    await writeFile(path.join(root, 'empty.txt'), '');
    await writeFile(path.join(outside, 'secret.txt'), 'secret\n');
    await symlink(path.join(outside, 'secret.txt'), path.join(root, 'leak.txt'));
    await symlink(outside, path.join(root, 'leakdir'));
    await symlink('data.bin', path.join(root, 'alias.bin'));
    execFileSync('mkfifo', [path.join(root, 'pipe')]);
    if (asRoot) execFileSync('mknod', [path.join(root, 'null'), 'c', '1', '3']);
    // A socket file: another kind of file that is not a regular one, which
    // any user can make.
    const socketMaker = createServer();
    await new Promise<void>((resolve) => socketMaker.listen(path.join(root, 'sock'), resolve));
    await new Promise((resolve) => socketMaker.close(resolve));
    server = await startServerProcess(root);
    client = rawClient(server.address);
  });

  after(async () => {
    client?.close();
    await server?.kill('SIGTERM');
    await cleanup?.();
  });

  it('streams a whole file with its info first and its digest last', async () => {
    const result = await rawDownload(client, { name: 'data.bin', offset: 0 });
    expect(result.code).to.equal(status.OK);
    expect(sha256(result.data)).to.equal(sha256(content));
    const [first] = result.messages;
    expect(first!.info).to.include({ name: 'data.bin', size: String(content.length) });
    expect(first!.info!.version).to.match(/^[0-9a-f]+$/);
    const digest = first!.info!.sha256 || result.messages.at(-1)!.sha256;
    expect(digest).to.equal(sha256(content));
    expect(Math.max(...result.messages.map((m) => m.data.length))).to.be.at.most(1024 * 1024);
  });

  it('streams from an offset, with offsets on every chunk', async () => {
    const offset = 300_001;
    const result = await rawDownload(client, { name: 'data.bin', offset });
    expect(result.code).to.equal(status.OK);
    expect(sha256(result.data)).to.equal(sha256(content.subarray(offset)));
    const withData = result.messages.filter((m) => m.data.length > 0);
    expect(withData[0]!.offset).to.equal(String(offset));
    expect(result.messages.find((m) => m.sha256 !== '' || m.info?.sha256)).not.to.equal(undefined);
  });

  it('answers offset == size with OK, the info and no data', async () => {
    const result = await rawDownload(client, { name: 'data.bin', offset: content.length });
    expect(result.code).to.equal(status.OK);
    expect(result.data.length).to.equal(0);
    expect(result.messages[0]!.info!.size).to.equal(String(content.length));
  });

  it('serves an empty file', async () => {
    const result = await rawDownload(client, { name: 'empty.txt', offset: 0 });
    expect(result.code).to.equal(status.OK);
    expect(result.data.length).to.equal(0);
    const digest = result.messages[0]!.info!.sha256 || result.messages.at(-1)!.sha256;
    expect(digest).to.equal(sha256(Buffer.alloc(0)));
  });

  it('follows a symlink that stays inside the root', async () => {
    const result = await rawDownload(client, { name: 'alias.bin', offset: 0 });
    expect(result.code).to.equal(status.OK);
    expect(sha256(result.data)).to.equal(sha256(content));
  });

  const notFound: [string, string][] = [
    ['a missing file', 'missing.bin'],
    ['a folder', 'sub'],
    ['a FIFO', 'pipe'],
    // mknod needs root; without it, a socket stands in: another file that
    // is neither regular nor a folder, taking the same path through the code.
    asRoot ? ['a device', 'null'] : ['a socket (standing in for a device without root)', 'sock'],
    ['a socket', 'sock'],
    ['a symlink leaving the root', 'leak.txt'],
    ['a file under a symlinked folder leaving the root', 'leakdir/secret.txt'],
  ];
  for (const [what, name] of notFound) {
    it(`answers NOT_FOUND for ${what}, on Download and Stat`, async () => {
      const download = await rawDownload(client, { name, offset: 0 });
      expect(download.code, download.details).to.equal(status.NOT_FOUND);
      expect(download.data.length).to.equal(0);
      expect(download.details).to.not.include(outside);
      expect((await rawStat(client, name)).code).to.equal(status.NOT_FOUND);
    });
  }

  const invalid: [string, string][] = [
    ['an empty name', ''],
    ['an absolute name', '/etc/passwd'],
    ['a name climbing out with ..', '../outside/secret.txt'],
    ['a name with a NUL byte', 'data.bin\0x'],
    ['an over-long name', 'x'.repeat(5000)],
  ];
  for (const [what, name] of invalid) {
    it(`answers INVALID_ARGUMENT for ${what}`, async () => {
      const result = await rawDownload(client, { name, offset: 0 });
      expect(result.code, result.details).to.equal(status.INVALID_ARGUMENT);
      expect(result.data.length).to.equal(0);
    });
  }

  it('answers INVALID_ARGUMENT for a negative offset and OUT_OF_RANGE past the end', async () => {
    expect((await rawDownload(client, { name: 'data.bin', offset: -1 })).code).to.equal(status.INVALID_ARGUMENT);
    const past = await rawDownload(client, { name: 'data.bin', offset: content.length + 1 });
    expect(past.code).to.equal(status.OUT_OF_RANGE);
    expect(past.details).to.include(String(content.length));
  });

  it('answers OUT_OF_RANGE past the end with the current version too, and for an offset beyond 2^53, read exactly', async () => {
    const { info } = await rawStat(client, 'data.bin');
    const withVersion = await rawDownload(client, { name: 'data.bin', offset: content.length + 1, expectedVersion: info!.version });
    expect(withVersion.code, withVersion.details).to.equal(status.OUT_OF_RANGE);
    expect(withVersion.data.length).to.equal(0);
    const far = await rawDownload(client, { name: 'data.bin', offset: '9223372036854775807' });
    expect(far.code, far.details).to.equal(status.OUT_OF_RANGE);
    expect(far.details).to.equal(`offset 9223372036854775807 is past the end of data.bin (${content.length} bytes)`);
    expect(far.messages).to.deep.equal([]);
  });

  it('answers FAILED_PRECONDITION when the expected version is no longer current', async () => {
    const stale = await rawDownload(client, { name: 'data.bin', offset: 10, expectedVersion: 'not-the-version' });
    expect(stale.code).to.equal(status.FAILED_PRECONDITION);
    const { info } = await rawStat(client, 'data.bin');
    const current = await rawDownload(client, { name: 'data.bin', offset: 10, expectedVersion: info!.version });
    expect(current.code).to.equal(status.OK);
    expect(sha256(current.data)).to.equal(sha256(content.subarray(10)));
  });

  it('never hangs on FIFOs, even more of them at once than the threadpool has threads', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => rawDownload(client, { name: 'pipe', offset: 0 })));
    expect(results.map((r) => r.code)).to.deep.equal(Array(8).fill(status.NOT_FOUND));
    const after = await rawDownload(client, { name: 'sub/small.txt', offset: 0 });
    expect(after.data.toString()).to.equal('small\n');
  });

  it('Stat gives size, version, sha256 and mtime', async () => {
    const { code, info } = await rawStat(client, 'data.bin');
    expect(code).to.equal(status.OK);
    expect(info).to.include({ name: 'data.bin', size: String(content.length), sha256: sha256(content) });
    expect(Number(info!.mtimeMs)).to.be.greaterThan(0);
  });

  it('List gives the regular files under a prefix, in order, never what lies outside', async () => {
    expect((await rawList(client, '')).names).to.deep.equal(['alias.bin', 'data.bin', 'empty.txt', 'sub/small.txt']);
    expect((await rawList(client, 'sub/')).names).to.deep.equal(['sub/small.txt']);
    expect((await rawList(client, 'da')).names).to.deep.equal(['data.bin']);
    expect((await rawList(client, '../')).code).to.equal(status.INVALID_ARGUMENT);
  });

  it('ListBatches gives exactly what List gives, by the same rules, as protobufjs decodes it', async () => {
    const plain = plainClient(server.address);
    try {
      for (const prefix of ['', 'sub/', 'da', 'leak', 'nothing-here']) {
        const listed = await rawListing(plain, 'list', prefix);
        const batches = await rawListing(plain, 'listBatches', prefix);
        expect(batches.code, prefix).to.equal(status.OK);
        expect(batches.files, prefix).to.deep.equal(listed.files);
        expect(
          batches.perMessage.every((n) => n > 0),
          `no empty message for ${JSON.stringify(prefix)}`,
        ).to.equal(true);
      }
      expect((await rawListing(plain, 'listBatches', '')).files.map((f) => f.name)).to.deep.equal(['alias.bin', 'data.bin', 'empty.txt', 'sub/small.txt']);
      expect((await rawListing(plain, 'listBatches', '../')).code).to.equal(status.INVALID_ARGUMENT);
    } finally {
      plain.close();
    }
  });

  it('ListNames gives what List gives of the names asked, in their order, leaving out what List would not list', async () => {
    const plain = plainClient(server.address);
    try {
      const all = (await rawListing(plain, 'list', '')).files;
      const byName = new Map(all.map((file) => [file.name, file]));
      const asked = [
        'sub/small.txt',
        'nothing-here',
        'data.bin',
        'leak.txt',
        'leakdir/secret.txt',
        'pipe',
        'sub',
        '../outside',
        'alias.bin',
        'data.bin',
        'empty.txt',
      ];
      const named = await rawListing(plain, 'listNames', asked);
      expect(named.code).to.equal(status.OK);
      expect(named.files).to.deep.equal(['sub/small.txt', 'data.bin', 'alias.bin', 'empty.txt'].map((name) => byName.get(name)));
      expect(named.perMessage.every((n) => n > 0)).to.equal(true);
      expect((await rawListing(plain, 'listNames', [])).files).to.deep.equal([]);
      const tooMany = Array.from({ length: 10_001 }, (_, i) => `f${i}`);
      expect((await rawListing(plain, 'listNames', tooMany)).code).to.equal(status.INVALID_ARGUMENT);
    } finally {
      plain.close();
    }
  });

  it('keeps serving after all of the above', async () => {
    const result = await rawDownload(client, { name: 'data.bin', offset: 0 });
    expect(sha256(result.data)).to.equal(sha256(content));
    expect(server.process.exitCode).to.equal(null);
  });

  it('never splices a file replaced during a stream: the stream stays on the old content', async () => {
    const name = 'replaced.bin';
    const old = await makeRandomFile(path.join(root, name), 4 * 1024 * 1024);
    const stream = client.download({ name, offset: 0 });
    const received: Buffer[] = [];
    let info: { sha256: string } | undefined;
    let trailer = '';
    const ended = new Promise<number>((resolve) => {
      stream.on('status', (s: { code: number }) => resolve(s.code));
      stream.on('error', () => undefined);
    });
    let replaced = false;
    for await (const message of stream) {
      info ??= message.info;
      received.push(message.data);
      if (message.sha256) trailer = message.sha256;
      if (!replaced && message.data.length > 0) {
        replaced = true;
        const fresh = path.join(root, 'fresh.tmp');
        await makeRandomFile(fresh, old.length);
        await rename(fresh, path.join(root, name));
      }
    }
    expect(await ended).to.equal(status.OK);
    expect(sha256(Buffer.concat(received))).to.equal(sha256(old));
    expect(info!.sha256 || trailer).to.equal(sha256(old));
  });

  it('aborts, never ends OK, when a file is overwritten in place during a stream', async () => {
    const name = 'inplace.bin';
    // Far larger than what the server may read ahead of this client (its
    // in-flight budget and the 64 KiB window of a raw client), and written
    // near its end: the server is provably still reading when it changes.
    await makeRandomFile(path.join(root, name), 48 * 1024 * 1024);
    const stream = client.download({ name, offset: 0 });
    let code: number | undefined;
    let written = false;
    try {
      for await (const message of stream) {
        if (!written && message.data.length > 0) {
          written = true;
          const handle = await open(path.join(root, name), 'r+');
          await handle.write(Buffer.alloc(1024 * 1024, 7), 0, 1024 * 1024, 44 * 1024 * 1024);
          await handle.close();
        }
      }
      code = status.OK;
    } catch (err) {
      code = (err as { code: number }).code;
    }
    expect(code).to.equal(status.ABORTED);
  });
});
