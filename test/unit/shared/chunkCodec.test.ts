import * as protoLoader from '@grpc/proto-loader';
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import {
  CHUNK_HEADER_ROOM,
  decodeChunk,
  decodeDataChunk,
  decodeFileInfoBatch,
  encodeChunk,
  encodeFileInfoBatch,
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

function framed(data: Buffer): Buffer {
  const frame = Buffer.alloc(CHUNK_HEADER_ROOM + data.length + 7, 0xee);
  data.copy(frame, CHUNK_HEADER_ROOM);
  return frame;
}

const offsets = [0, 1, 127, 128, 16_383, 16_384, 2 ** 32 + 5, 2 ** 49 - 1];
const lengths = [0, 1, 127, 128, 300, 256 * 1024];

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
    const huge = reference.responseSerialize({ offset: String(2n ** 62n + 3n), data: Buffer.from('x') });
    // 2^53 + 1 needs an 8-byte varint and is not exact as a JavaScript number.
    const unsafe = reference.responseSerialize({ offset: String(2n ** 53n + 1n), data: Buffer.from('x') });
    const truncated = reference.responseSerialize({ offset: '5', data: Buffer.from('hello') }).subarray(0, 5);
    const inOffsetVarint = Buffer.from([0x10, 0x80]);
    const inLengthVarint = Buffer.from([0x10, 0x05, 0x0a, 0x80]);
    for (const bytes of [info, digest, huge, unsafe, truncated, inOffsetVarint, inLengthVarint]) expect(decodeDataChunk(bytes)).to.equal(undefined);
    expect((ours.responseDeserialize(unsafe) as { offset: string }).offset).to.equal(String(2n ** 53n + 1n));
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
});
