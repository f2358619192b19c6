import { expect } from 'chai';
import { randomBytes, randomInt } from 'node:crypto';
import { createRequire } from 'node:module';
import { installPooledDecoder, ReceiveBuffers, receiveBuffers } from '../../../src/shared/receiveBuffers.js';

type DecoderClass = new (maxReadMessageLength: number) => { write(data: Buffer): Buffer[] };
const require = createRequire(import.meta.url);
const modulePath = require.resolve('@grpc/grpc-js/build/src/stream-decoder.js');

/** grpc-js's own decoder, from a fresh load of its module: the reference. */
function pristineDecoder(): DecoderClass {
  const used = require.cache[modulePath];
  delete require.cache[modulePath];
  try {
    return (require(modulePath) as { StreamDecoder: DecoderClass }).StreamDecoder;
  } finally {
    require.cache[modulePath] = used;
  }
}

/** Messages in gRPC's framing; every other one flagged compressed, which the decoders pass on as they find it. */
function framed(messages: Buffer[]): Buffer {
  return Buffer.concat(messages.flatMap((message, i) => [Buffer.from([i % 2]), Buffer.from(new Uint32Array([message.length]).buffer).reverse(), message]));
}

function decodeAll(decoder: { write(data: Buffer): Buffer[] }, wire: Buffer, cuts: number[]): string[] {
  const out: Buffer[] = [];
  let from = 0;
  for (const cut of [...cuts, wire.length]) {
    out.push(...decoder.write(wire.subarray(from, cut)));
    from = cut;
  }
  return out.map((message) => message.toString('hex'));
}

describe('received messages assembled in reused buffers', () => {
  // The one grpc-js uses first, then a copy of its own for the reference.
  const { StreamDecoder: Pooled } = require(modulePath) as { StreamDecoder: DecoderClass };
  const Pristine = pristineDecoder();
  before(() => expect(installPooledDecoder(), 'installed on the grpc-js of package-lock.json').to.equal(true));

  it('decodes exactly what grpc-js decodes, however the bytes are split', () => {
    expect(Pooled.prototype.write).not.to.equal(Pristine.prototype.write);
    for (let round = 0; round < 40; round += 1) {
      const sizes = Array.from({ length: randomInt(1, 6) }, () => [0, 1, 4, 5, 100, 65_535, 65_536, 70_000, 262_144][randomInt(9)]!);
      const wire = framed(sizes.map((size) => randomBytes(size)));
      const cuts = [...new Set(Array.from({ length: randomInt(0, 40) }, () => randomInt(wire.length + 1)))].sort((a, b) => a - b);
      expect(decodeAll(new Pooled(-1), wire, cuts), `sizes ${sizes}, cuts ${cuts}`).to.deep.equal(decodeAll(new Pristine(-1), wire, cuts));
    }
  });

  it('refuses a message over the limit as grpc-js does, and takes one at the limit', () => {
    const wire = framed([randomBytes(2000)]);
    expect(() => new Pooled(1000).write(wire)).to.throw('Received message larger than max (2000 vs 1000)');
    expect(new Pooled(2000).write(wire)).to.have.length(1);
  });

  it('fails on a read state it does not know as grpc-js does, rather than spin on it', () => {
    // grpc-js fails the one call whose decoder throws; a replacement that skipped the state would spin and hang the process.
    for (const Decoder of [Pooled, Pristine]) {
      const decoder = Object.assign(new Decoder(-1), { readState: 3 });
      expect(() => decoder.write(Buffer.from([0])), Decoder === Pooled ? 'pooled' : 'grpc-js').to.throw('Unexpected read state');
    }
  });

  it('reuses a buffer given back, once, and never one it did not lend', () => {
    const pool = new ReceiveBuffers();
    const first = pool.take(262_149);
    pool.give(first.subarray(100, 200));
    pool.give(first);
    const second = pool.take(262_149);
    expect(second.buffer, 'the given buffer again').to.equal(first.buffer);
    expect(pool.take(262_149).buffer, 'given back once: lent once').not.to.equal(first.buffer);
    const foreign = Buffer.alloc(262_149);
    pool.give(foreign);
    expect(pool.take(262_149).buffer).not.to.equal(foreign.buffer);
    const small = pool.take(65_535);
    pool.give(small);
    const again = pool.take(65_535);
    expect(again.buffer === small.buffer && again.byteOffset === small.byteOffset, 'under 64 KiB: fresh buffers').to.equal(false);
    // A 65,531-byte message is 64 KiB with its 5-byte prefix: the smallest that is pooled.
    const least = pool.take(65_536);
    pool.give(least);
    expect(pool.take(65_536).buffer, '64 KiB: pooled').to.equal(least.buffer);
  });

  it('reuses a buffer for any message of its 64 KiB size class, and keeps at most 16 idle', () => {
    const pool = new ReceiveBuffers();
    const lent = pool.take(65_537);
    pool.give(lent);
    expect(pool.take(131_072).buffer, 'the same class').to.equal(lent.buffer);
    pool.give(pool.take(65_536));
    expect(pool.take(65_537).buffer, 'another class').not.to.equal(lent.buffer);
    const many = Array.from({ length: 17 }, () => pool.take(262_149));
    for (const buffer of many) pool.give(buffer);
    const reused = Array.from({ length: 17 }, () => pool.take(262_149)).filter((buffer) => many.some((given) => given.buffer === buffer.buffer));
    expect(reused).to.have.length(16);
  });

  it('is the pool the decoder takes from', () => {
    const message = new Pooled(-1).write(framed([randomBytes(100_000)]))[0]!;
    receiveBuffers.give(message);
    expect(receiveBuffers.take(100_005).buffer).to.equal(message.buffer);
  });
});
