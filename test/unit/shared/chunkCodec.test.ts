import * as protoLoader from '@grpc/proto-loader';
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import {
  CHUNK_HEADER_ROOM,
  chunkOfEntry,
  decodeChunk,
  decodeChunkBatch,
  decodeDataChunk,
  decodeFileInfoBatch,
  encodeChunk,
  encodeFileInfoBatch,
  entryHead,
  sealChunk,
  WireChunk,
  type ChunkFields,
} from '../../../src/shared/chunkCodec.js';
import { fileTransferDefinition, PROTO_PATH } from '../../../src/shared/proto.js';

// protobufjs, as proto-loader sets it up without our codec: the reference
// both directions are checked against.
const pristine = protoLoader.loadSync(PROTO_PATH, { longs: String, enums: String, defaults: true, oneofs: true });
const reference = (pristine['filetransfer.v1.FileService'] as protoLoader.ServiceDefinition)['Download']!;
const referenceMany = (pristine['filetransfer.v1.FileService'] as protoLoader.ServiceDefinition)['DownloadMany']!;
const oursMany = (fileTransferDefinition()['filetransfer.v1.FileService'] as protoLoader.ServiceDefinition)['DownloadMany']!;
const referenceBatches = (pristine['filetransfer.v1.FileService'] as protoLoader.ServiceDefinition)['ListBatches']!;
const ourBatches = (fileTransferDefinition()['filetransfer.v1.FileService'] as protoLoader.ServiceDefinition)['ListBatches']!;
const ours = (fileTransferDefinition()['filetransfer.v1.FileService'] as protoLoader.ServiceDefinition)['Download']!;
const referenceChunkBatches = (pristine['filetransfer.v1.FileService'] as protoLoader.ServiceDefinition)['DownloadManyBatches']!;
const ourChunkBatches = (fileTransferDefinition()['filetransfer.v1.FileService'] as protoLoader.ServiceDefinition)['DownloadManyBatches']!;

function framed(data: Buffer): Buffer {
  const frame = Buffer.alloc(CHUNK_HEADER_ROOM + data.length + 7, 0xee);
  data.copy(frame, CHUNK_HEADER_ROOM);
  return frame;
}

/**
 * What a deserializer makes of `bytes`: its message, or that it threw. Where
 * our codec declines a message, protobufjs decodes it, so both must agree on
 * either.
 */
function outcome(deserialize: (bytes: Buffer) => unknown, bytes: Buffer): { message: unknown } | { threw: true } {
  try {
    return { message: deserialize(bytes) };
  } catch {
    return { threw: true };
  }
}

/** A field's tag and length in front of its bytes, to nest a hand-made message in another. */
const nested = (field: number, bytes: readonly number[]) => [(field << 3) | 2, bytes.length, ...bytes];

/**
 * The fields protobufjs would encode for `fields`: only those not at their
 * default, int64s as decimal strings.
 */
function setFields(fields: object): Record<string, unknown> {
  const isDefault = (value: unknown) => value === undefined || value === '' || value === 0 || value === 0n || (Buffer.isBuffer(value) && value.length === 0);
  return Object.fromEntries(
    Object.entries(fields)
      .filter(([, value]) => !isDefault(value))
      .map(([key, value]: [string, unknown]) => [
        key,
        typeof value === 'bigint' ? String(value) : typeof value === 'object' && !Buffer.isBuffer(value) ? setFields(value as object) : value,
      ]),
  );
}

const offsets = [0, 1, 127, 128, 16_383, 16_384, 2 ** 32 + 5, 2 ** 49 - 1];
const lengths = [0, 1, 127, 128, 300, 256 * 1024];

/** What protobufjs makes of a ChunkBatch of these encoded Chunks. */
function referenceManyChunks(chunks: Buffer[]): { chunks: unknown[] } {
  return { chunks: chunks.map((chunk) => referenceMany.responseDeserialize(chunk)) };
}

describe('chunk codec', () => {
  it('encodes data chunks that protobufjs decodes to the same offset and bytes', () => {
    for (const offset of offsets) {
      for (const length of lengths) {
        const data = randomBytes(length);
        const wire = sealChunk(framed(data), offset, length);
        const decoded = reference.responseDeserialize(wire.bytes) as { data: Buffer; offset: string; sha256: string; info: unknown };
        expect(decoded.offset, `offset ${offset}, length ${length}`).to.equal(String(offset));
        expect(decoded.data.equals(data), `data at offset ${offset}, length ${length}`).to.equal(true);
        expect(decoded.sha256).to.equal('');
        expect(decoded.info).to.equal(null);
      }
    }
  });

  it("puts gRPC's length prefix right before the message, in the same memory", () => {
    for (const offset of offsets) {
      for (const length of lengths) {
        const frame = framed(randomBytes(length));
        const wire = sealChunk(frame, offset, length);
        const prefixed = wire.prefixed!;
        expect(prefixed[0], 'not compressed').to.equal(0);
        expect(prefixed.readUInt32BE(1), `offset ${offset}, length ${length}`).to.equal(wire.bytes.length);
        expect(prefixed.subarray(5).equals(wire.bytes)).to.equal(true);
        expect(prefixed.buffer, 'a view of the frame').to.equal(frame.buffer);
      }
    }
  });

  it("keeps room for gRPC's prefix before the longest header, a ten-byte offset varint", () => {
    // 2^63 is the smallest offset whose varint takes ten bytes; with a
    // four-byte length that is the most a header of this room may need.
    const offset = 2 ** 63;
    const data = Buffer.alloc(2 ** 21, 0x5a);
    const frame = framed(data);
    const wire = sealChunk(frame, offset, data.length);
    const prefixed = wire.prefixed!;
    expect(prefixed[0], 'not compressed').to.equal(0);
    expect(prefixed.readUInt32BE(1)).to.equal(wire.bytes.length);
    expect(prefixed.subarray(5).equals(wire.bytes)).to.equal(true);
    expect(prefixed.buffer, 'a view of the frame').to.equal(frame.buffer);
    const decoded = reference.responseDeserialize(wire.bytes) as { data: Buffer; offset: string };
    expect(decoded.offset).to.equal(String(BigInt.asIntN(64, BigInt(offset))));
    expect(decoded.data.equals(data)).to.equal(true);
  });

  it('encodes varints as short as protobufjs does', () => {
    for (const offset of offsets) {
      for (const length of [0, 127, 128]) {
        const data = randomBytes(length);
        const wire = sealChunk(framed(data), offset, length);
        expect(wire.bytes.length, `offset ${offset}, length ${length}`).to.equal(reference.responseSerialize({ offset: String(offset), data }).length);
      }
    }
  });

  it('decodes its own data chunks on the fast path, as views of the message', () => {
    for (const offset of offsets) {
      for (const length of lengths) {
        const data = randomBytes(length);
        const wire = sealChunk(framed(data), offset, length);
        const decoded = decodeDataChunk(wire.bytes);
        expect(decoded, `offset ${offset}, length ${length}`).to.deep.equal({ data, offset: String(offset), info: null, sha256: '', error: null });
        if (length > 0) expect(decoded!.data.buffer).to.equal(wire.bytes.buffer);
      }
    }
  });

  it("decodes protobufjs's data chunks as views, with the same fields", () => {
    for (const offset of offsets) {
      for (const length of lengths) {
        const data = randomBytes(length);
        const bytes = reference.responseSerialize({ offset: String(offset), data });
        const decoded = decodeDataChunk(bytes);
        expect(decoded, `offset ${offset}, length ${length}`).to.deep.equal({ data, offset: String(offset), info: null, sha256: '', error: null });
        if (length > 0) expect(decoded!.data.buffer).to.equal(bytes.buffer);
      }
    }
  });

  it('leaves info, digests, large offsets and malformed input to protobufjs', () => {
    const info = reference.responseSerialize({ offset: '0', info: { name: 'a', size: '3', version: 'v', sha256: '', mtimeMs: '1' } });
    const digest = reference.responseSerialize({ offset: '3', sha256: 'ab'.repeat(32) });
    const error = reference.responseSerialize({ offset: '0', error: { code: 5, message: 'not found: a' } });
    const huge = reference.responseSerialize({ offset: String(2n ** 62n + 3n), data: Buffer.from('x') });
    // 2^53 + 1 needs an 8-byte varint and is not exact as a JavaScript number.
    const unsafe = reference.responseSerialize({ offset: String(2n ** 53n + 1n), data: Buffer.from('x') });
    const truncated = reference.responseSerialize({ offset: '5', data: Buffer.from('hello') }).subarray(0, 5);
    const inOffsetVarint = Buffer.from([0x10, 0x80]);
    const inLengthVarint = Buffer.from([0x10, 0x05, 0x0a, 0x80]);
    for (const bytes of [info, digest, error, huge, unsafe, truncated, inOffsetVarint, inLengthVarint]) expect(decodeDataChunk(bytes)).to.equal(undefined);
    expect((ours.responseDeserialize(unsafe) as { offset: string }).offset).to.equal(String(2n ** 53n + 1n));
  });

  it('decodes Chunks with unknown fields, unexpected wire types and repeated messages as protobufjs does', () => {
    const cases: Record<string, number[]> = {
      // protobufjs reads a known field by its declared type whatever the wire type says.
      'data as a varint': [0x08, 0x00],
      'data as a varint, then an offset': [0x08, 0x02, 0x10, 0x07],
      'offset as bytes': [0x12, 0x00],
      'offset as bytes, then an offset': [0x12, 0x02, 0x10, 0x07],
      'info as a varint': [0x18, 0x00],
      'sha256 as a varint': [0x20, 0x00],
      'error as a varint': [0x28, 0x00],
      'data as a fixed32': [0x0d, 0x01, 0x41],
      'an unknown varint field, then an offset': [0x30, 0x00, 0x10, 0x05],
      'an unknown empty bytes field': [0x32, 0x00],
      'an unknown fixed32 field, then an offset': [0x35, 0x00, 0x00, 0x00, 0x00, 0x10, 0x05],
      'an unknown fixed32 field that holds what looks like offsets': [0x35, 0x10, 0x05, 0x10, 0x07],
      'an unknown field with a two-byte tag, then an offset': [0x80, 0x01, 0x00, 0x10, 0x05],
      // protobufjs keeps the last of a repeated message rather than merging them.
      'two infos': [...nested(3, [0x0a, 0x01, 0x61, 0x10, 0x03]), ...nested(3, [0x0a, 0x01, 0x62])],
      'two errors': [...nested(5, [0x08, 0x05]), ...nested(5, [0x12, 0x01, 0x78])],
      'data and an offset twice': [0x0a, 0x01, 0x61, 0x10, 0x05, 0x0a, 0x01, 0x62, 0x10, 0x07],
      'a string longer than the message': [0x22, 0x05, 0x41],
    };
    for (const [name, bytes] of Object.entries(cases)) {
      const message = Buffer.from(bytes);
      expect(outcome(oursMany.responseDeserialize, message), `DownloadMany: ${name}`).to.deep.equal(outcome(referenceMany.responseDeserialize, message));
      expect(outcome(ours.responseDeserialize, message), `Download: ${name}`).to.deep.equal(outcome(reference.responseDeserialize, message));
    }
  });

  it('decodes a FileInfo with unknown fields or unexpected wire types as protobufjs does, in a Chunk and in a FileInfoBatch', () => {
    const cases: Record<string, number[]> = {
      'all fields': [0x0a, 0x01, 0x61, 0x10, 0x03, 0x1a, 0x01, 0x76, 0x22, 0x01, 0x68, 0x28, 0x11],
      'no field at all': [],
      'a size alone': [0x10, 0x03],
      'name as a varint, then a size': [0x08, 0x02, 0x10, 0x07],
      'size as bytes': [0x12, 0x00],
      'mtime as bytes': [0x2a, 0x00],
      'an unknown varint field': [0x30, 0x07],
      'an unknown bytes field': [0x32, 0x01, 0x41],
      // protobufjs refuses a field that runs past the end of its message.
      'a size whose varint runs past the FileInfo': [0x10, 0x85],
    };
    for (const [name, info] of Object.entries(cases)) {
      // The byte after the FileInfo completes the overrunning varint and reads as an offset tag.
      const chunk = Buffer.from([...nested(3, info), 0x10, 0x07]);
      expect(outcome(oursMany.responseDeserialize, chunk), `Chunk: ${name}`).to.deep.equal(outcome(referenceMany.responseDeserialize, chunk));
      const batch = Buffer.from(nested(1, info));
      expect(outcome(ourBatches.responseDeserialize, batch), `FileInfoBatch: ${name}`).to.deep.equal(outcome(referenceBatches.responseDeserialize, batch));
    }
  });

  it('decodes a FileError with unknown fields, unexpected wire types or no message as protobufjs does', () => {
    const cases: Record<string, number[]> = {
      'a code and no message': [0x08, 0x05],
      'an unknown varint field': [0x18, 0x01],
      'an unknown bytes field': [0x1a, 0x01, 0x41],
      'message as a varint': [0x10, 0x00],
      'code as bytes, then a message': [0x0a, 0x02, 0x12, 0x00],
    };
    for (const [name, error] of Object.entries(cases)) {
      const chunk = Buffer.from([...nested(3, [0x0a, 0x01, 0x61]), ...nested(5, error)]);
      expect(outcome(oursMany.responseDeserialize, chunk), name).to.deep.equal(outcome(referenceMany.responseDeserialize, chunk));
    }
  });

  it('decodes a FileError code past int32 as protobufjs does: its low 32 bits, signed', () => {
    const varint = (value: number) => {
      const bytes: number[] = [];
      for (; value >= 0x80; value = Math.floor(value / 0x80)) bytes.push((value % 0x80) | 0x80);
      return [...bytes, value];
    };
    for (const code of [2 ** 31, 2 ** 32 - 1, 2 ** 32 + 5, 2 ** 48 + 7]) {
      const chunk = Buffer.from(nested(5, [0x08, ...varint(code)]));
      expect(outcome(oursMany.responseDeserialize, chunk), String(code)).to.deep.equal(outcome(referenceMany.responseDeserialize, chunk));
    }
  });

  it('decodes a FileInfoBatch with an unknown field or a file as a varint as protobufjs does', () => {
    const file = [0x0a, 0x01, 0x61, 0x10, 0x03];
    for (const bytes of [
      [0x12, 0x00],
      [...nested(1, file), ...nested(2, file)],
      [0x08, 0x00],
    ]) {
      const batch = Buffer.from(bytes);
      expect(outcome(ourBatches.responseDeserialize, batch), batch.toString('hex')).to.deep.equal(outcome(referenceBatches.responseDeserialize, batch));
    }
  });

  it('keeps the Download method exact for every message, through either path', () => {
    const data = randomBytes(1000);
    const messages = [
      { offset: '0', info: { name: 'a/b', size: '1000', version: 'v1', sha256: '', mtimeMs: '17' } },
      { offset: '1000', sha256: 'cd'.repeat(32) },
      { offset: String(2n ** 62n + 3n), data },
      { offset: '4096', data },
    ];
    for (const message of messages) {
      expect(ours.responseDeserialize(ours.responseSerialize(message))).to.deep.equal(reference.responseDeserialize(reference.responseSerialize(message)));
    }
    const wire = sealChunk(framed(data), 4096, data.length);
    expect(wire).to.be.instanceOf(WireChunk);
    expect(ours.responseDeserialize(ours.responseSerialize(wire))).to.deep.equal(reference.responseDeserialize(reference.responseSerialize(messages[3]!)));
  });

  it("encodes whole-file and error messages of DownloadMany that decode as protobufjs's own do, and are no longer", () => {
    const info = { name: 'dir/ünï cödé ✓.txt', size: 300n, version: 'abcdef0123456789abcdef01', mtimeMs: 1_796_069_469_581n };
    const cases: ChunkFields[] = [
      { info, data: randomBytes(300), sha256: 'ab'.repeat(32) },
      { info: { ...info, size: 0n, mtimeMs: -1500n }, sha256: 'cd'.repeat(32) },
      { info: { name: 'missing.txt' }, error: { code: 5, message: 'not found: missing.txt' } },
      { offset: 2n ** 40n, data: randomBytes(3) },
    ];
    for (const fields of cases) {
      const reference = referenceMany.responseSerialize({
        ...fields,
        offset: String(fields.offset ?? 0n),
        info: fields.info && { ...fields.info, size: String(fields.info.size ?? 0n), mtimeMs: String(fields.info.mtimeMs ?? 0n) },
      });
      const encoded = encodeChunk(fields);
      expect(referenceMany.responseDeserialize(encoded), fields.info?.name).to.deep.equal(referenceMany.responseDeserialize(reference));
      expect(encoded.length, fields.info?.name).to.be.at.most(reference.length);
      expect(oursMany.responseDeserialize(encoded), 'our client decodes it as protobufjs does').to.deep.equal(referenceMany.responseDeserialize(reference));
      const fast = decodeChunk(encoded);
      // A negative mtime takes a 10-byte varint, left to protobufjs.
      expect(fast === undefined, fields.info?.name).to.equal((fields.info?.mtimeMs ?? 0n) < 0n);
      if (fast && fields.data) expect(fast.data.buffer, 'data is a view').to.equal(encoded.buffer);
    }
  });

  it('encodes DownloadMany messages as long as protobufjs encodes the fields that are set, leaving defaults out', () => {
    const cases: ChunkFields[] = [
      { info: { name: 'empty.txt', size: 0n, version: 'v', mtimeMs: 127n }, data: Buffer.alloc(0), sha256: 'ab'.repeat(32) },
      { offset: 127n, data: randomBytes(3) },
      { offset: 128n, data: randomBytes(200) },
      { info: { name: 'gone.txt', size: 127n, version: '', mtimeMs: 128n }, error: { code: 127, message: '' } },
      { info: { name: 'late.txt', size: 2n ** 53n - 1n, mtimeMs: -1n }, error: { code: 0, message: 'changed while read' } },
      { info: { name: '' } },
      {},
    ];
    for (const fields of cases) {
      const reference = referenceMany.responseSerialize(setFields(fields));
      const encoded = encodeChunk(fields);
      expect(referenceMany.responseDeserialize(encoded), JSON.stringify(setFields(fields))).to.deep.equal(referenceMany.responseDeserialize(reference));
      expect(encoded.length, JSON.stringify(setFields(fields))).to.equal(reference.length);
    }
  });

  it('seals a data chunk as a ChunkBatch of that one chunk, prefixed in the same memory, for every offset and length', () => {
    for (const offset of [...offsets, 2 ** 63]) {
      for (const length of lengths) {
        const data = randomBytes(length);
        const frame = framed(data);
        const wire = sealChunk(frame, offset, length, true);
        const decoded = referenceChunkBatches.responseDeserialize(wire.bytes) as { chunks: { data: Buffer; offset: string; info: unknown }[] };
        expect(decoded.chunks, `offset ${offset}, length ${length}`).to.have.length(1);
        expect(decoded.chunks[0]!.offset).to.equal(String(BigInt.asIntN(64, BigInt(offset))));
        expect(decoded.chunks[0]!.data.equals(data), `data at offset ${offset}, length ${length}`).to.equal(true);
        expect(wire.prefixed!.readUInt32BE(1)).to.equal(wire.bytes.length);
        expect(wire.prefixed!.subarray(5).equals(wire.bytes)).to.equal(true);
        expect(wire.prefixed!.buffer, 'a view of the frame').to.equal(frame.buffer);
      }
    }
  });

  it('makes entries that, side by side, are the ChunkBatch protobufjs encodes, and finds each Chunk back in its entry', () => {
    const chunks = [
      encodeChunk({ info: { name: 'a.txt', size: 3n, version: 'v1', mtimeMs: 5n }, data: Buffer.from('abc'), sha256: 'ab'.repeat(32) }),
      encodeChunk({ info: { name: 'gone.txt' }, error: { code: 5, message: 'not found' } }),
      encodeChunk({ info: { name: 'empty', size: 0n, version: 'v2', mtimeMs: 6n }, sha256: 'cd'.repeat(32) }),
      // Lengths whose varint takes one, two and three bytes.
      encodeChunk({ offset: 7n, data: randomBytes(100) }),
      encodeChunk({ offset: 8n, data: randomBytes(200) }),
      encodeChunk({ offset: 9n, data: randomBytes(20_000) }),
      // Chunks of exactly 128 and 16,384 bytes: a length varint with a byte of 0x80.
      encodeChunk({ offset: 10n, data: randomBytes(128 - 4) }),
      encodeChunk({ offset: 11n, data: randomBytes(16_384 - 5) }),
    ];
    expect(chunks.slice(-2).map((chunk) => chunk.length)).to.deep.equal([128, 16_384]);
    const entries = chunks.map((chunk) => Buffer.concat([entryHead(chunk.length), chunk]));
    entries.forEach((entry, i) => expect(chunkOfEntry(entry).equals(chunks[i]!), `entry ${i}`).to.equal(true));
    const batch = Buffer.concat(entries);
    const expected = referenceManyChunks(chunks);
    expect(referenceChunkBatches.responseDeserialize(batch)).to.deep.equal(expected);
    expect(ourChunkBatches.responseDeserialize(batch)).to.deep.equal(expected);
    const fast = decodeChunkBatch(batch)!;
    expect(fast.chunks[0]!.data.buffer, 'data is a view of the message').to.equal(batch.buffer);
  });

  it('decodes ChunkBatch messages as protobufjs does, leaving what it cannot read to protobufjs', () => {
    const one = [...nested(3, [0x0a, 0x01, 0x61, 0x10, 0x03]), 0x0a, 0x03, 0x61, 0x62, 0x63, 0x22, 0x01, 0x68];
    const cases: Record<string, number[]> = {
      empty: [],
      'one chunk': nested(1, one),
      'an empty chunk': nested(1, []),
      'two chunks': [...nested(1, one), ...nested(1, [0x10, 0x05, 0x0a, 0x01, 0x7a])],
      'a chunk with an unknown field': nested(1, [0x30, 0x00, 0x10, 0x05]),
      'a chunk with a negative offset': nested(1, [0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
      'chunks as a varint': [0x08, 0x00],
      'an unknown field beside a chunk': [...nested(1, one), 0x10, 0x01],
      'an unknown bytes field that holds what looks like a chunk': [...nested(2, [0x10, 0x05]), ...nested(1, one)],
      'a chunk longer than the message': [0x0a, 0x05, 0x10],
      'a chunk whose string runs past its end': nested(1, [0x22, 0x05, 0x41]),
    };
    for (const [name, bytes] of Object.entries(cases)) {
      const message = Buffer.from(bytes);
      expect(outcome(ourChunkBatches.responseDeserialize, message), name).to.deep.equal(outcome(referenceChunkBatches.responseDeserialize, message));
    }
    expect(decodeChunkBatch(Buffer.from(cases['two chunks']!))?.chunks).to.have.length(2);
    expect(decodeChunkBatch(Buffer.from(cases['a chunk with an unknown field']!)), 'left to protobufjs').to.equal(undefined);
  });

  it('decodes ListBatches messages as protobufjs does, leaving what it cannot read to protobufjs', () => {
    const file = { name: 'dir/ünï cödé ✓.txt', size: '300', version: 'abcdef0123456789abcdef01', sha256: '', mtimeMs: '1796069469581' };
    const cases = [
      [],
      [file],
      [{ name: 'empty', size: '0', version: 'v', sha256: 'ab'.repeat(32), mtimeMs: '0' }, file, { ...file, name: 'big', size: String(2 ** 49 - 1) }],
      // A negative mtime takes a 10-byte varint: left to protobufjs, exactly.
      [{ ...file, mtimeMs: '-1500' }],
    ];
    for (const files of cases) {
      const encoded = referenceBatches.responseSerialize({ files });
      const expected = referenceBatches.responseDeserialize(encoded);
      expect(ourBatches.responseDeserialize(encoded), JSON.stringify(files)).to.deep.equal(expected);
      expect(decodeFileInfoBatch(encoded) === undefined, JSON.stringify(files)).to.equal(files.some((f) => f.mtimeMs.startsWith('-')));
    }
  });

  it('encodes ListBatches messages that protobufjs decodes to the same files, and leaves negative numbers to it', () => {
    const files = [
      { name: 'dir/ünï cödé ✓.txt', size: 300n, version: 'abcdef0123456789abcdef01', mtimeMs: 1_796_069_469_581n },
      { name: 'empty', size: 0n, version: 'v', mtimeMs: 0n },
      { name: 'x'.repeat(200), size: 2n ** 53n - 1n, version: 'y'.repeat(130), mtimeMs: 127n },
    ];
    for (const batch of [[], files]) {
      const encoded = encodeFileInfoBatch(batch);
      const expected = batch.map((f) => ({ name: f.name, size: String(f.size), version: f.version, sha256: '', mtimeMs: String(f.mtimeMs) }));
      expect(referenceBatches.responseDeserialize(encoded!.bytes)).to.deep.equal({ files: expected });
      expect(ourBatches.responseSerialize(encoded!).length, 'written as is').to.equal(encoded!.bytes.length);
      expect(encoded!.bytes.length, 'no longer than protobufjs').to.be.at.most(referenceBatches.responseSerialize({ files: expected }).length);
    }
    expect(encodeFileInfoBatch([{ ...files[0]!, mtimeMs: -1500n }])).to.equal(undefined);
    expect(encodeFileInfoBatch([{ ...files[0]!, size: 2n ** 53n }])).to.equal(undefined);
  });

  it('encodes ListBatches sizes and mtimes from 0 to 2^53 - 1, and leaves any other to protobufjs', () => {
    const file = { name: 'a', size: 1n, version: 'v', mtimeMs: 1n };
    for (const value of [-1n, 0n, 127n, 128n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n - 1n]) {
      for (const listed of [
        { ...file, size: value },
        { ...file, mtimeMs: value },
      ]) {
        const encoded = encodeFileInfoBatch([listed]);
        const label = `size ${listed.size}, mtime ${listed.mtimeMs}`;
        if (value < 0n || value > 2n ** 53n - 1n) {
          expect(encoded, label).to.equal(undefined);
          continue;
        }
        const set = { ...listed, size: String(listed.size), mtimeMs: String(listed.mtimeMs) };
        expect(referenceBatches.responseDeserialize(encoded!.bytes), label).to.deep.equal({ files: [{ ...set, sha256: '' }] });
        // Both write size and mtime even at 0: protobufjs writes what is present.
        expect(encoded!.bytes.length, label).to.equal(referenceBatches.responseSerialize({ files: [set] }).length);
      }
    }
  });
});
