// @ts-nocheck
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { pathToFileURL } from 'node:url';
import type { FileServiceClient } from '../../../src/generated/filetransfer/v1/FileService.js';
import { exists, MiB, sha256, tempDir } from '../../helpers/files.js';
import { killHard, pollUntil, runClient, startServerProcess, type ServerProcess } from '../../helpers/processes.js';
import { openUpload, plainClient, rawDownload, rawList, rawQueryUpload, rawStat, rawUpload } from '../../helpers/rawClient.js';

/** The bytes staged per upload file in `staging`. */
async function stagedSizes(staging: string): Promise<number[]> {
  const names = (await readdir(staging)).filter((name) => name.endsWith('.upload'));
  return Promise.all(names.map(async (name) => (await stat(path.join(staging, name))).size));
}

describe('grpc-server: uploads (Upload, QueryUpload)', function () {
  this.timeout(30_000);
  let dir: string;
  let root: string;
  let staging: string;
  let cleanup: () => Promise<void>;
  let server: ServerProcess;
  // protobufjs alone frames these calls: a client that is not ours.
  let client: FileServiceClient;

  before(async () => {
    ({ dir, cleanup } = await tempDir());
    root = path.join(dir, 'root');
    staging = path.join(dir, 'staging');
    await mkdir(root);
    server = await startServerProcess(root, {
      args: ['--allow-upload', '--upload-staging', staging, '--metrics-port', '0', '--max-upload-size', '10M', '--max-staged-bytes', '16M'],
    });
    client = plainClient(server.address);
  });

  after(async () => {
    client?.close();
    await server?.kill('SIGTERM');
    await cleanup();
  });

  it('stages a half-written upload where nothing serves it, continues it only at the staged length, and publishes it once its digest is the declared one', async () => {
    const data = randomBytes(MiB + 17);
    const begin = { name: 'in/half.bin', size: data.length, sha256: sha256(data) };
    const half = 600 * 1024;

    const first = await rawUpload(client, { ...begin, offset: 0 }, data.subarray(0, half));
    expect(first.code, first.details).to.equal(grpc.status.OK);
    expect(first.response).to.include({ committedSize: String(half), complete: false });
    expect((await rawList(client, '')).names).to.deep.equal([]);
    expect((await rawDownload(client, { name: 'in/half.bin' })).code).to.equal(grpc.status.NOT_FOUND);
    expect((await rawStat(client, 'in/half.bin')).code).to.equal(grpc.status.NOT_FOUND);
    expect(await exists(path.join(root, 'in'))).to.equal(false);
    expect(await stagedSizes(staging)).to.deep.equal([half]);
    expect(await rawQueryUpload(client, begin)).to.include({ code: grpc.status.OK, committed: half, complete: false });

    const again = await rawUpload(client, { ...begin, offset: 0 }, data);
    expect(again.code).to.equal(grpc.status.OUT_OF_RANGE);
    expect(again.details).to.equal(`the server holds ${half} bytes of this upload, so it continues at offset ${half}, not 0`);

    const rest = await rawUpload(client, { ...begin, offset: half }, data.subarray(half));
    expect(rest.code, rest.details).to.equal(grpc.status.OK);
    expect(rest.response).to.deep.include({ committedSize: String(data.length), complete: true });
    expect(rest.response!.info).to.include({ name: 'in/half.bin', size: String(data.length), sha256: sha256(data) });
    expect(await readFile(path.join(root, 'in', 'half.bin'))).to.deep.equal(data);
    expect(await stagedSizes(staging)).to.deep.equal([]);
    // Remembered when published: Stat answers without a hash of its own.
    expect((await rawStat(client, 'in/half.bin')).info).to.include({ sha256: sha256(data), version: rest.response!.info!.version });
    expect(await rawQueryUpload(client, begin)).to.include({ committed: data.length, complete: true });

    const calls = server.calls('Upload', 'in/half.bin');
    expect(calls.map((c) => [c.offset, c.bytesReceived, c.code])).to.deep.equal([
      ['0', half, 'OK'],
      ['0', 0, 'OUT_OF_RANGE'],
      [String(half), data.length - half, 'OK'],
    ]);
    const metrics = await (await fetch(`http://127.0.0.1:${server.metricsPort}/metrics`)).text();
    expect(metrics).to.match(new RegExp(`^filetransfer_bytes_received_total ${data.length}$`, 'm'));
    expect(metrics).to.match(/^grpc_server_handled_total\{grpc_method="Upload",grpc_code="OUT_OF_RANGE"\} 1$/m);
  });

  it('publishes nothing for a client killed -9 with every byte staged: a lost connection is not the end of the stream', async () => {
    const data = randomBytes(2 * MiB);
    const begin = { name: 'killed.bin', size: data.length, sha256: sha256(data) };
    const file = path.join(dir, 'killed.bin');
    await writeFile(file, data);
    // A plain grpc-js client in its own process: it sends every byte and
    // waits, never half-closing, until it is killed. Node's HTTP/2 then
    // ends the request stream before grpc-js reports the cancel, which
    // looks like a half-close with every byte there.
    const sender = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { readFileSync } from 'node:fs';
         import * as grpc from '@grpc/grpc-js';
         import { loadFileTransfer } from ${JSON.stringify(pathToFileURL(path.resolve('dist/shared/proto.js')).href)};
         const { FileService } = loadFileTransfer();
         const client = new FileService(${JSON.stringify(server.address)}, grpc.credentials.createInsecure());
         const data = readFileSync(${JSON.stringify(file)});
         const call = client.upload(() => undefined);
         call.write({ begin: ${JSON.stringify({ ...begin, offset: 0 })} });
         for (let at = 0; at < data.length; at += 262144) call.write({ offset: at, data: data.subarray(at, at + 262144) });
         setInterval(() => undefined, 60_000);`,
      ],
      { stdio: 'ignore' },
    );
    const watched = { ended: once(sender, 'exit').then(() => 'the sending process exited'), describe: () => 'the sending process' };
    await pollUntil('every byte to be staged', async () => ((await rawQueryUpload(client, begin)).committed === data.length ? true : undefined), [
      server,
      watched,
    ]);
    await killHard(sender);
    // The killed Upload's own line: QueryUpload's lines name the file too.
    await server.waitForCall((call) => call.method === 'Upload' && call.name === 'killed.bin');

    // The name is free again once the killed call is done with it: the
    // call that finishes the upload is the one that publishes it.
    const finished = await pollUntil(
      'the killed call to let go of the name',
      async () => {
        const outcome = await rawUpload(client, { ...begin, offset: data.length });
        return outcome.code === grpc.status.ABORTED ? undefined : outcome;
      },
      [server],
    );
    expect(finished.code, finished.details).to.equal(grpc.status.OK);
    const finishing = await server.waitForCall((call) => call.name === 'killed.bin' && call.offset === String(data.length) && call.code === 'OK');
    expect(finishing).to.include({ bytesReceived: 0, complete: true }).and.not.have.property('alreadyPublished');
    expect(server.calls('Upload', 'killed.bin')[0]).to.include({ code: 'CANCELLED', bytesReceived: data.length });
    expect(await readFile(path.join(root, 'killed.bin'))).to.deep.equal(data);
  });

  it('discards bytes whose digest is not the declared one (DATA_LOSS) and publishes nothing', async () => {
    const data = randomBytes(100_000);
    const declared = sha256(Buffer.from('something else'));
    const sent = await rawUpload(client, { name: 'lie.bin', size: data.length, sha256: declared, offset: 0 }, data);
    expect(sent.code).to.equal(grpc.status.DATA_LOSS);
    expect(sent.details).to.equal(
      `lie.bin: the ${data.length} bytes received hash to ${sha256(data)}, not the declared ${declared}; they were discarded: upload again from offset 0`,
    );
    expect(await exists(path.join(root, 'lie.bin'))).to.equal(false);
    expect(await rawQueryUpload(client, { name: 'lie.bin', size: data.length, sha256: declared })).to.include({ committed: 0, complete: false });
  });

  it('only creates, unless the client names the sha256 or version it replaces; the same content again is complete at once', async () => {
    const [a, b, c] = [randomBytes(3000), randomBytes(4000), randomBytes(5000)];
    await writeFile(path.join(root, 'kept.bin'), a);
    const upload = (data: Buffer, precondition: { ifSha256Match?: string; ifVersionMatch?: string } = {}) =>
      rawUpload(client, { name: 'kept.bin', size: data.length, sha256: sha256(data), offset: 0, ...precondition }, data);

    const refused = await upload(b);
    expect([refused.code, refused.details]).to.deep.equal([
      grpc.status.ALREADY_EXISTS,
      'kept.bin already exists; to replace it, say which sha256 or version it must have',
    ]);
    const same = await upload(a);
    expect(same.response).to.include({ complete: true });
    expect((await upload(b, { ifSha256Match: sha256(c) })).code).to.equal(grpc.status.FAILED_PRECONDITION);
    expect((await upload(b, { ifVersionMatch: 'not-its-version' })).code).to.equal(grpc.status.FAILED_PRECONDITION);
    expect(await readFile(path.join(root, 'kept.bin'))).to.deep.equal(a);

    const replaced = await upload(b, { ifSha256Match: sha256(a) });
    expect(replaced.code, replaced.details).to.equal(grpc.status.OK);
    expect(await readFile(path.join(root, 'kept.bin'))).to.deep.equal(b);
    const byVersion = await upload(c, { ifVersionMatch: replaced.response!.info!.version });
    expect(byVersion.code, byVersion.details).to.equal(grpc.status.OK);
    expect(await readFile(path.join(root, 'kept.bin'))).to.deep.equal(c);
    expect((await upload(a, { ifSha256Match: sha256(a) })).details).to.equal(`kept.bin was not replaced: its sha256 is ${sha256(c)}, not ${sha256(a)}`);
    // Refused before a byte was taken: nothing staged, nothing received.
    expect(server.calls('Upload', 'kept.bin').map((call) => call.bytesReceived)).to.deep.equal([0, 0, 0, 0, b.length, c.length, 0]);
    expect(await stagedSizes(staging)).to.deep.equal([]);
  });

  it('runs one upload of a name at a time: the second gets ABORTED, then ALREADY_EXISTS once the first published; never a mix', async () => {
    const [first, second] = [randomBytes(256 * 1024), randomBytes(256 * 1024)];
    const beginOf = (data: Buffer) => ({ name: 'race.bin', size: data.length, sha256: sha256(data), offset: 0 });
    const running = openUpload(client, beginOf(first));
    running.send(0, first.subarray(0, 1000));
    await pollUntil(
      'the first upload to stage its first bytes',
      async () => ((await rawQueryUpload(client, beginOf(first))).committed === 1000 ? true : undefined),
      [server],
    );

    const during = await rawUpload(client, beginOf(second), second);
    expect([during.code, during.details]).to.deep.equal([grpc.status.ABORTED, 'another upload of race.bin is in progress; try again once it has ended']);
    running.send(1000, first.subarray(1000));
    expect((await running.end()).code).to.equal(grpc.status.OK);
    const after = await rawUpload(client, beginOf(second), second);
    expect(after.code).to.equal(grpc.status.ALREADY_EXISTS);
    expect(await readFile(path.join(root, 'race.bin'))).to.deep.equal(first);
  });

  it('refuses hostile names and writes nothing outside the root', async () => {
    const outside = path.join(dir, 'outside');
    await mkdir(outside);
    await symlink(outside, path.join(root, 'escape'));
    await writeFile(path.join(root, 'plain.txt'), 'a file, not a folder');
    const data = Buffer.from('payload');
    const upload = (name: string) => rawUpload(client, { name, size: data.length, sha256: sha256(data), offset: 0 }, data);
    const refusals: [string, grpc.status, string][] = [
      ['../up.bin', grpc.status.INVALID_ARGUMENT, `invalid name "../up.bin": it contains a '..' part`],
      ['/tmp/up.bin', grpc.status.INVALID_ARGUMENT, 'invalid name "/tmp/up.bin": it is absolute; names are relative to the root'],
      ['in/up.bin.part', grpc.status.INVALID_ARGUMENT, 'invalid name "in/up.bin.part": names ending in .part are kept for partial files'],
      ['nul\0.bin', grpc.status.INVALID_ARGUMENT, 'invalid name "nul\\u0000.bin": it contains a NUL byte'],
      ['', grpc.status.INVALID_ARGUMENT, 'invalid name "": it is empty'],
      ['escape/up.bin', grpc.status.FAILED_PRECONDITION, 'cannot create escape/up.bin: escape on its path is not a folder'],
      ['plain.txt/up.bin', grpc.status.FAILED_PRECONDITION, 'cannot create plain.txt/up.bin: plain.txt on its path is not a folder'],
    ];
    for (const [name, code, details] of refusals) {
      const refused = await upload(name);
      expect([refused.code, refused.details], JSON.stringify(name)).to.deep.equal([code, details]);
    }
    expect(await readdir(outside)).to.deep.equal([]);
    expect(await stagedSizes(staging)).to.deep.equal([]);
  });

  it('bounds uploads: a size over --max-upload-size is refused at once; one over the staging quota gets RESOURCE_EXHAUSTED and the bytes staged stay', async () => {
    const big = randomBytes(9 * MiB);
    const beginOf = (name: string, size = big.length, hash = sha256(big)) => ({ name, size, sha256: hash, offset: 0 });
    const tooLarge = await rawUpload(client, beginOf('huge.bin', 11 * MiB));
    expect([tooLarge.code, tooLarge.details]).to.deep.equal([
      grpc.status.INVALID_ARGUMENT,
      `huge.bin: ${11 * MiB} bytes is more than this server accepts in one upload (${10 * MiB} bytes)`,
    ]);

    const running = openUpload(client, beginOf('one.bin'));
    running.send(0, big.subarray(0, MiB));
    await pollUntil(
      'the first upload to stage its first MiB',
      async () => ((await rawQueryUpload(client, beginOf('one.bin'))).committed === MiB ? true : undefined),
      [server],
    );
    const overQuota = await rawUpload(client, beginOf('two.bin'), big);
    expect(overQuota.code).to.equal(grpc.status.RESOURCE_EXHAUSTED);
    expect(overQuota.details).to.match(/^the upload staging area holds \d+ bytes of its 16777216-byte quota; 9437184 more do not fit/);
    running.call.cancel();
    await running.answer;
    expect(await rawQueryUpload(client, beginOf('one.bin'))).to.include({ committed: MiB, complete: false });
  });
});

describe('grpc-server: who may upload', function () {
  this.timeout(30_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  let server: ServerProcess | undefined;

  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    await mkdir(path.join(dir, 'root'));
    await writeFile(path.join(dir, 'root', 'there.bin'), 'served');
    await writeFile(path.join(dir, 'up.bin'), 'uploaded');
  });

  afterEach(async () => {
    await server?.kill('SIGTERM');
    await cleanup();
  });

  it('deletes an upload abandoned for --upload-ttl: its staged bytes go, and QueryUpload answers 0', async () => {
    const staging = path.join(dir, 'staging');
    server = await startServerProcess(path.join(dir, 'root'), { args: ['--allow-upload', '--upload-staging', staging, '--upload-ttl', '500ms'] });
    const client = plainClient(server.address);
    try {
      const data = randomBytes(10_000);
      const begin = { name: 'left.bin', size: data.length, sha256: sha256(data) };
      expect((await rawUpload(client, { ...begin, offset: 0 }, data.subarray(0, 4000))).response).to.include({ committedSize: '4000' });
      await server.waitForLog('abandoned upload expired');
      expect(await stagedSizes(staging)).to.deep.equal([]);
      expect(await rawQueryUpload(client, begin)).to.include({ committed: 0, complete: false });
    } finally {
      client.close();
    }
  });

  it('refuses uploads on a server started without --allow-upload: PERMISSION_DENIED, exit 6', async () => {
    server = await startServerProcess(path.join(dir, 'root'));
    const run = await runClient(['put', path.join(dir, 'up.bin'), '--server', server.address, '--db', path.join(dir, 'uploads.json')]);
    expect(run.code).to.equal(6);
    expect(run.stderr).to.equal(
      'grpc-client: up.bin: the server refused the call (this server does not accept uploads: it was started without --allow-upload)\n',
    );
    expect(server.calls('QueryUpload').map((call) => call.code)).to.deep.equal(['PERMISSION_DENIED']);
    expect(await readdir(path.join(dir, 'root'))).to.deep.equal(['there.bin']);
  });

  it('lets a token write only with the write scope, and read only with the read scope', async () => {
    const tokens = path.join(dir, 'tokens.txt');
    await writeFile(tokens, '# token, then its scopes (read when none)\nreader-token\nwriter-token write\nboth-token read,write\n');
    server = await startServerProcess(path.join(dir, 'root'), { args: ['--allow-upload', '--token-file', tokens] });
    const put = (token: string) =>
      runClient(['put', path.join(dir, 'up.bin'), '--server', server!.address, '--db', path.join(dir, `${token}.json`)], { GRPC_FILE_TOKEN: token });

    const reader = await put('reader-token');
    expect(reader.code).to.equal(6);
    expect(reader.stderr).to.equal('grpc-client: up.bin: the server refused the call (this token may not write: its scope is read)\n');
    expect(await exists(path.join(dir, 'root', 'up.bin'))).to.equal(false);
    const writer = await put('writer-token');
    expect(writer.code, writer.stderr).to.equal(0);
    expect(await readFile(path.join(dir, 'root', 'up.bin'), 'utf8')).to.equal('uploaded');

    const get = (token: string) => runClient(['get', 'there.bin', '--server', server!.address, '--out', path.join(dir, token)], { GRPC_FILE_TOKEN: token });
    expect((await get('writer-token')).stderr).to.equal('grpc-client: there.bin: the server refused the call (this token may not read: its scope is write)\n');
    expect((await get('both-token')).code).to.equal(0);
    expect((await put('both-token')).code).to.equal(0);
    expect(server.calls('Upload').map((call) => call.code)).to.deep.equal(['OK']);
  });
});
