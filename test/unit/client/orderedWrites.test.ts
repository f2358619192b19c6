import { expect } from 'chai';
import { closeSync, openSync, write, writeSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { OrderedWrites } from '../../../src/client/download/orderedWrites.js';
import { tempDir } from '../../helpers/files.js';

describe('OrderedWrites', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let file: string;
  let fd: number | undefined;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    file = path.join(dir, 'part');
    await writeFile(file, '');
    fd = openSync(file, 'r+');
  });
  afterEach(async () => {
    if (fd !== undefined) closeSync(fd);
    await cleanup();
  });

  /** Chunks of 4 bytes, each its own letter. */
  const chunks = (count: number) => Array.from({ length: count }, (_, i) => Buffer.alloc(4, 97 + i));

  it('writes in the order given, tells each chunk once it is on disk, and asks the caller to wait past its bound', async () => {
    const writes = new OrderedWrites(fd!, 8);
    const told: string[] = [];
    const waits: boolean[] = [];
    for (const [i, chunk] of chunks(5).entries()) {
      const room = writes.add(chunk, i * 4, (data) => told.push(data.toString()));
      waits.push(room !== undefined);
      if (room) await room;
    }
    await writes.drained();
    expect(await readFile(file, 'utf8')).to.equal('aaaabbbbccccddddeeee');
    expect(told).to.deep.equal(['aaaa', 'bbbb', 'cccc', 'dddd', 'eeee']);
    // Given more once all was written: it starts again.
    expect(writes.add(Buffer.from('ffff'), 20, (data) => told.push(data.toString()))).to.equal(undefined);
    await writes.drained();
    expect(await readFile(file, 'utf8')).to.equal('aaaabbbbccccddddeeeeffff');
    // Added in one tick, before any write could end: 4 bytes wait, then 8, then 12 > 8.
    expect(waits.slice(0, 3)).to.deep.equal([false, false, true]);
  });

  it('waits past 1 MiB by default: four chunks of 256 KiB, not a fifth', async () => {
    const writes = new OrderedWrites(fd!);
    const chunk = Buffer.alloc(256 * 1024, 1);
    const rooms = [0, 1, 2, 3, 4].map((i) => writes.add(chunk, i * chunk.length, () => undefined));
    expect(rooms.map((room) => room !== undefined)).to.deep.equal([false, false, false, false, true]);
    await writes.drained();
  });

  it('goes on after a short write from where it stopped', async () => {
    // At most 3 bytes a call, told a turn later, as a write to a nearly full disk may return.
    const short = (target: number, buffer: Buffer, offset: number, length: number, position: number, done: (err: null, written: number) => void) => {
      const written = writeSync(target, buffer, offset, Math.min(3, length), position);
      setImmediate(() => done(null, written));
    };
    const writes = new OrderedWrites(fd!, 1024, short);
    const told: string[] = [];
    writes.add(Buffer.from('abcdefgh'), 0, (data) => told.push(data.toString()));
    writes.add(Buffer.from('ijklmnop'), 8, (data) => told.push(data.toString()));
    await writes.drained();
    expect(await readFile(file, 'utf8')).to.equal('abcdefghijklmnop');
    expect(told).to.deep.equal(['abcdefgh', 'ijklmnop']);
  });

  it('makes one write of a chunk the disk takes whole', async () => {
    // Each write is a round trip through libuv's threadpool: a second one of 0 bytes per chunk would double them.
    const lengths: number[] = [];
    const counted: ConstructorParameters<typeof OrderedWrites>[2] = (target, buffer, offset, length, position, done) => {
      lengths.push(length);
      write(target, buffer, offset, length, position, done);
    };
    const writes = new OrderedWrites(fd!, 1024, counted);
    for (const [i, chunk] of chunks(3).entries()) writes.add(chunk, i * 4, () => undefined);
    await writes.drained();
    expect(await readFile(file, 'utf8')).to.equal('aaaabbbbcccc');
    expect(lengths).to.deep.equal([4, 4, 4]);
  });

  it('writes nothing after a write that failed: the file stays a prefix, and the failure is told to every later call', async () => {
    const writes = new OrderedWrites(fd!, 1024);
    const told: string[] = [];
    const [a, b, c] = chunks(3);
    // Closing the descriptor once the first chunk is on disk fails the second's write.
    writes.add(a!, 0, (data) => {
      told.push(data.toString());
      closeSync(fd!);
      fd = undefined;
    });
    writes.add(b!, 4, (data) => told.push(data.toString()));
    writes.add(c!, 8, (data) => told.push(data.toString()));
    const failure = (await writes.drained().catch((err: NodeJS.ErrnoException) => err)) as NodeJS.ErrnoException;
    expect(failure.code).to.equal('EBADF');
    expect(told).to.deep.equal(['aaaa']);
    expect(await readFile(file, 'utf8')).to.equal('aaaa');
    expect(() => writes.add(c!, 8, () => undefined)).to.throw(/EBADF/);
  });

  it('abandons what has not started, and resolves once the write under way ended', async () => {
    const writes = new OrderedWrites(fd!, 1024);
    const told: string[] = [];
    for (const [i, chunk] of chunks(4).entries()) writes.add(chunk, i * 4, (data) => told.push(data.toString()));
    await writes.abandon();
    expect(told).to.deep.equal(['aaaa']);
    expect(await readFile(file, 'utf8')).to.equal('aaaa');
    await writes.drained();
  });

  it('abandons nothing at rest: before any chunk, and once all were written', async () => {
    // A lock is as likely lost while nothing waits for the disk, and the partial is closed through abandon all the same.
    const writes = new OrderedWrites(fd!, 1024);
    await writes.abandon();
    writes.add(Buffer.from('abcd'), 0, () => undefined);
    await writes.drained();
    await writes.abandon();
    expect(await readFile(file, 'utf8')).to.equal('abcd');
    expect(
      writes.add(Buffer.from('efgh'), 4, () => undefined),
      'nothing left waiting',
    ).to.equal(undefined);
    await writes.drained();
  });
});
