/**
 * A hand-written wire codec for the Chunk messages that carry file data,
 * beside protobufjs, which still handles every other message. protobufjs
 * copies each chunk's bytes into a fresh buffer when it encodes, and grpc-js
 * copies the result again to frame it; on a 2-core machine those copies
 * and the garbage they make cost more than the file read itself. Here the
 * server reads file bytes straight into the buffer that becomes the message,
 * and the client's `data` is a view of the received message.
 *
 * Wire form of a data chunk (field order is free in protobuf):
 *   0x10 varint(offset)  0x0a varint(length) <length bytes of data>
 */
// @ts-nocheck
function stryNS_9fa48() {
  var g = typeof globalThis === 'object' && globalThis && globalThis.Math === Math && globalThis || new Function("return this")();
  var ns = g.__stryker__ || (g.__stryker__ = {});
  if (ns.activeMutant === undefined && g.process && g.process.env && g.process.env.__STRYKER_ACTIVE_MUTANT__) {
    ns.activeMutant = g.process.env.__STRYKER_ACTIVE_MUTANT__;
  }
  function retrieveNS() {
    return ns;
  }
  stryNS_9fa48 = retrieveNS;
  return retrieveNS();
}
stryNS_9fa48();
function stryCov_9fa48() {
  var ns = stryNS_9fa48();
  var cov = ns.mutantCoverage || (ns.mutantCoverage = {
    static: {},
    perTest: {}
  });
  function cover() {
    var c = cov.static;
    if (ns.currentTestId) {
      c = cov.perTest[ns.currentTestId] = cov.perTest[ns.currentTestId] || {};
    }
    var a = arguments;
    for (var i = 0; i < a.length; i++) {
      c[a[i]] = (c[a[i]] || 0) + 1;
    }
  }
  stryCov_9fa48 = cover;
  cover.apply(null, arguments);
}
function stryMutAct_9fa48(id) {
  var ns = stryNS_9fa48();
  function isActive(id) {
    if (ns.activeMutant === id) {
      if (ns.hitCount !== void 0 && ++ns.hitCount > ns.hitLimit) {
        throw new Error('Stryker: Hit count limit reached (' + ns.hitCount + ')');
      }
      return true;
    }
    return false;
  }
  stryMutAct_9fa48 = isActive;
  return isActive(id);
}
import type { Chunk__Output } from '../generated/filetransfer/v1/Chunk.js';
import type { ChunkBatch__Output } from '../generated/filetransfer/v1/ChunkBatch.js';
import type { FileInfoBatch__Output } from '../generated/filetransfer/v1/FileInfoBatch.js';

// Tag bytes: field number << 3 | wire type.
const DATA_TAG = 1 << 3 | 2;
const OFFSET_TAG = 2 << 3 | 0;

/** gRPC's length prefix of a message: a compressed flag and 4 bytes of length. */
const GRPC_PREFIX = 5;

/**
 * ChunkBatch's one field, `repeated Chunk chunks = 1`: each Chunk of a
 * batch is this tag, the Chunk's length and its bytes (an entry).
 */
const CHUNKS_TAG = 1 << 3 | 2;
/** An entry's tag and length in front of a Chunk of up to 2^35 bytes. */
const ENTRY_HEAD_ROOM = 1 + 5;

/**
 * Room before the data for both tags and their varints (10 + 5 bytes at
 * most), before them a batch entry's head (DownloadManyBatches), and before
 * all gRPC's prefix.
 */
export const CHUNK_HEADER_ROOM = GRPC_PREFIX + ENTRY_HEAD_ROOM + 1 + 10 + 1 + 5;

/** A message already in wire form (a data chunk, a listing batch), written as is by the serializer. */
export class WireChunk {
  constructor(readonly bytes: Buffer, /** `bytes` with gRPC's length prefix in front, in the same memory, where there was room for it. */
  readonly prefixed?: Buffer) {}
}

/**
 * Encodes the header of a data chunk in front of its data. `frame` holds
 * CHUNK_HEADER_ROOM spare bytes followed by `length` bytes of data. With
 * `asBatch`, the message is a ChunkBatch holding that one chunk.
 */
export function sealChunk(frame: Buffer, offset: number, length: number, asBatch = stryMutAct_9fa48("62") ? true : (stryCov_9fa48("62"), false)): WireChunk {
  if (stryMutAct_9fa48("63")) {
    {}
  } else {
    stryCov_9fa48("63");
    const header = Buffer.allocUnsafe(CHUNK_HEADER_ROOM);
    let at = ENTRY_HEAD_ROOM;
    header[stryMutAct_9fa48("64") ? at-- : (stryCov_9fa48("64"), at++)] = OFFSET_TAG;
    at = writeVarint(header, at, offset);
    header[stryMutAct_9fa48("65") ? at-- : (stryCov_9fa48("65"), at++)] = DATA_TAG;
    at = writeVarint(header, at, length);
    let from = ENTRY_HEAD_ROOM;
    if (stryMutAct_9fa48("67") ? false : stryMutAct_9fa48("66") ? true : (stryCov_9fa48("66", "67"), asBatch)) {
      if (stryMutAct_9fa48("68")) {
        {}
      } else {
        stryCov_9fa48("68");
        const head = entryHead(stryMutAct_9fa48("69") ? at - ENTRY_HEAD_ROOM - length : (stryCov_9fa48("69"), (stryMutAct_9fa48("70") ? at + ENTRY_HEAD_ROOM : (stryCov_9fa48("70"), at - ENTRY_HEAD_ROOM)) + length));
        stryMutAct_9fa48("71") ? from += head.length : (stryCov_9fa48("71"), from -= head.length);
        head.copy(header, from);
      }
    }
    const start = stryMutAct_9fa48("72") ? CHUNK_HEADER_ROOM + (at - from) : (stryCov_9fa48("72"), CHUNK_HEADER_ROOM - (stryMutAct_9fa48("73") ? at + from : (stryCov_9fa48("73"), at - from)));
    header.copy(frame, start, from, at);
    const bytes = stryMutAct_9fa48("74") ? at - from - length : (stryCov_9fa48("74"), (stryMutAct_9fa48("75") ? at + from : (stryCov_9fa48("75"), at - from)) + length);
    frame[stryMutAct_9fa48("76") ? start + GRPC_PREFIX : (stryCov_9fa48("76"), start - GRPC_PREFIX)] = 0;
    frame.writeUInt32BE(bytes, stryMutAct_9fa48("77") ? start - GRPC_PREFIX - 1 : (stryCov_9fa48("77"), (stryMutAct_9fa48("78") ? start + GRPC_PREFIX : (stryCov_9fa48("78"), start - GRPC_PREFIX)) + 1));
    return new WireChunk(frame.subarray(start, stryMutAct_9fa48("79") ? CHUNK_HEADER_ROOM - length : (stryCov_9fa48("79"), CHUNK_HEADER_ROOM + length)), frame.subarray(stryMutAct_9fa48("80") ? start + GRPC_PREFIX : (stryCov_9fa48("80"), start - GRPC_PREFIX), stryMutAct_9fa48("81") ? CHUNK_HEADER_ROOM - length : (stryCov_9fa48("81"), CHUNK_HEADER_ROOM + length)));
  }
}

/**
 * The tag and length that make the `length` bytes of an encoded Chunk an
 * entry of a ChunkBatch: entries side by side are a batch's whole wire form.
 */
export function entryHead(length: number): Buffer {
  if (stryMutAct_9fa48("82")) {
    {}
  } else {
    stryCov_9fa48("82");
    const head = Buffer.allocUnsafe(ENTRY_HEAD_ROOM);
    head[0] = CHUNKS_TAG;
    return head.subarray(0, writeVarint(head, 1, length));
  }
}

/** The encoded Chunk of an entry that entryHead began. */
export function chunkOfEntry(entry: Buffer): Buffer {
  if (stryMutAct_9fa48("83")) {
    {}
  } else {
    stryCov_9fa48("83");
    let at = 1;
    while (stryMutAct_9fa48("86") ? entry[at++]! < 0x80 : stryMutAct_9fa48("85") ? entry[at++]! > 0x80 : stryMutAct_9fa48("84") ? false : (stryCov_9fa48("84", "85", "86"), entry[stryMutAct_9fa48("87") ? at-- : (stryCov_9fa48("87"), at++)]! >= 0x80));
    return entry.subarray(at);
  }
}

/**
 * Decodes a message made only of `data` and `offset` fields, with `data` a
 * view into `bytes`. Returns undefined for anything else (info, sha256,
 * unknown fields, malformed input), which the caller hands to protobufjs.
 */
export function decodeDataChunk(bytes: Buffer): Chunk__Output | undefined {
  const chunk = decodeChunk(bytes);
  return chunk && chunk.info === null && chunk.sha256 === '' && chunk.error === null ? chunk : undefined;
}

/**
 * Decodes any Chunk as protobufjs would (defaults filled, int64s as decimal
 * strings, `data` a view into `bytes`), for DownloadMany, where most
 * messages carry a whole small file with its info and digest: measured,
 * protobufjs took about 17 µs a message. Returns undefined for what it
 * leaves to protobufjs: unknown or repeated fields, varints past 7 bytes
 * (negative numbers, offsets past 512 TiB), malformed input.
 */
export function decodeChunk(bytes: Buffer): Chunk__Output | undefined {
  const chunk: Chunk__Output = {
    data: EMPTY,
    offset: '0',
    info: null,
    sha256: '',
    error: null
  };
  const ok = readFields(bytes, 0, bytes.length, (field, value, start, end) => {
    if (field === 1 && typeof value !== 'number') chunk.data = bytes.subarray(start, end);else if (field === 2 && typeof value === 'number') chunk.offset = String(value);else if (field === 3 && typeof value !== 'number' && chunk.info === null) chunk.info = decodeInfo(bytes, start, end);else if (field === 4 && typeof value !== 'number') chunk.sha256 = bytes.toString('utf8', start, end);else if (field === 5 && typeof value !== 'number' && chunk.error === null) chunk.error = decodeError(bytes, start, end);else return false;
    return !(field === 3 && chunk.info === null) && !(field === 5 && chunk.error === null);
  });
  return ok ? chunk : undefined;
}

/**
 * Decodes a ChunkBatch as protobufjs would, each Chunk as decodeChunk does.
 * Returns undefined for what it leaves to protobufjs, as decodeChunk does.
 */
export function decodeChunkBatch(bytes: Buffer): ChunkBatch__Output | undefined {
  if (stryMutAct_9fa48("88")) {
    {}
  } else {
    stryCov_9fa48("88");
    const chunks: Chunk__Output[] = stryMutAct_9fa48("89") ? ["Stryker was here"] : (stryCov_9fa48("89"), []);
    const ok = readFields(bytes, 0, bytes.length, (field, value, start, end) => {
      if (stryMutAct_9fa48("90")) {
        {}
      } else {
        stryCov_9fa48("90");
        const chunk = (stryMutAct_9fa48("93") ? field === 1 || typeof value !== 'number' : stryMutAct_9fa48("92") ? false : stryMutAct_9fa48("91") ? true : (stryCov_9fa48("91", "92", "93"), (stryMutAct_9fa48("95") ? field !== 1 : stryMutAct_9fa48("94") ? true : (stryCov_9fa48("94", "95"), field === 1)) && (stryMutAct_9fa48("97") ? typeof value === 'number' : stryMutAct_9fa48("96") ? true : (stryCov_9fa48("96", "97"), typeof value !== (stryMutAct_9fa48("98") ? "" : (stryCov_9fa48("98"), 'number')))))) ? decodeChunk(bytes.subarray(start, end)) : undefined;
        if (stryMutAct_9fa48("100") ? false : stryMutAct_9fa48("99") ? true : (stryCov_9fa48("99", "100"), chunk)) chunks.push(chunk);
        return stryMutAct_9fa48("103") ? chunk === undefined : stryMutAct_9fa48("102") ? false : stryMutAct_9fa48("101") ? true : (stryCov_9fa48("101", "102", "103"), chunk !== undefined);
      }
    });
    return ok ? stryMutAct_9fa48("104") ? {} : (stryCov_9fa48("104"), {
      chunks
    }) : undefined;
  }
}

/**
 * Decodes a FileInfoBatch as protobufjs would: a listing of 100,000 files
 * comes in 100 of them, and protobufjs made two Long objects and a copy of
 * every FileInfo on the way to the same strings. Returns undefined for what
 * it leaves to protobufjs, as decodeChunk does.
 */
export function decodeFileInfoBatch(bytes: Buffer): FileInfoBatch__Output | undefined {
  const files: FileInfoOutput[] = [];
  const ok = readFields(bytes, 0, bytes.length, (field, value, start, end) => {
    const info = field === 1 && typeof value !== 'number' ? decodeInfo(bytes, start, end) : null;
    if (info) files.push(info);
    return info !== null;
  });
  return ok ? {
    files
  } : undefined;
}
type FileInfoOutput = NonNullable<Chunk__Output['info']>;
function decodeInfo(bytes: Buffer, from: number, to: number): FileInfoOutput | null {
  const info: FileInfoOutput = {
    name: '',
    size: '0',
    version: '',
    sha256: '',
    mtimeMs: '0'
  };
  const ok = readFields(bytes, from, to, (field, value, start, end) => {
    const text = typeof value === 'number' ? undefined : bytes.toString('utf8', start, end);
    if (field === 1 && text !== undefined) info.name = text;else if (field === 2 && text === undefined) info.size = String(value);else if (field === 3 && text !== undefined) info.version = text;else if (field === 4 && text !== undefined) info.sha256 = text;else if (field === 5 && text === undefined) info.mtimeMs = String(value);else return false;
    return true;
  });
  return ok ? info : null;
}
function decodeError(bytes: Buffer, from: number, to: number): Chunk__Output['error'] {
  const error = {
    code: 0,
    message: ''
  };
  const ok = readFields(bytes, from, to, (field, value, start, end) => {
    // An int32 as protobufjs reads one: the low 32 bits, signed, of a varint
    // of up to 5 bytes; a longer one (10 bytes for a negative code) is left
    // to it.
    if (field === 1 && typeof value === 'number' && end - start <= 5) error.code = value | 0;else if (field === 2 && typeof value !== 'number') error.message = bytes.toString('utf8', start, end);else return false;
    return true;
  });
  return ok ? error : null;
}

/**
 * Walks the fields in bytes[from, to): varints (wire type 0) as numbers,
 * length-delimited ones (2) as their range. False when `take` refuses a
 * field or the input is not what we decode.
 */
function readFields(bytes: Buffer, from: number, to: number, take: (field: number, value: number | 'bytes', start: number, end: number) => boolean): boolean {
  let at = from;
  while (at < to) {
    const tag = bytes[at++]!;
    // One-byte tags only: every field here is numbered below 16.
    if (tag >= 0x80) return false;
    const read = readVarint(bytes, at);
    if (read === undefined || read[1] > to) return false;
    const [value, next] = read;
    if ((tag & 7) === 0) {
      if (!take(tag >> 3, value, at, next)) return false;
      at = next;
    } else if ((tag & 7) === 2) {
      if (next + value > to || !take(tag >> 3, 'bytes', next, next + value)) return false;
      at = next + value;
    } else {
      return false;
    }
  }
  return true;
}
const EMPTY = Buffer.alloc(0);

/** What a whole-file or error message of DownloadMany carries, int64s as bigints. */
export interface ChunkFields {
  data?: Buffer;
  offset?: bigint;
  info?: {
    name: string;
    size?: bigint;
    version?: string;
    mtimeMs?: bigint;
  };
  sha256?: string;
  error?: {
    code: number;
    message: string;
  };
}

/**
 * Encodes a whole Chunk in one buffer with a single copy of `data`, where
 * protobufjs would build it field by field through a writer: DownloadMany
 * sends one such message per small file. Fields at their default are left
 * out, as protobufjs leaves them.
 */
export function encodeChunk(fields: ChunkFields): Buffer {
  const info = fields.info && [...stringField(1, fields.info.name), int64Field(2, fields.info.size), ...stringField(3, fields.info.version), int64Field(5, fields.info.mtimeMs)];
  const error = fields.error && [int64Field(1, BigInt(fields.error.code)), ...stringField(2, fields.error.message)];
  return Buffer.concat([int64Field(2, fields.offset), ...(info ? lengthDelimited(3, Buffer.concat(info)) : []), ...stringField(4, fields.sha256), ...(error ? lengthDelimited(5, Buffer.concat(error)) : []), ...(fields.data && fields.data.length > 0 ? lengthDelimited(1, fields.data) : [])]);
}

/** A listed file as ListBatches sends it: sha256 is always empty in a listing. */
interface ListedFields {
  name: string;
  size: bigint;
  version: string;
  mtimeMs: bigint;
}

/**
 * Encodes a FileInfoBatch into one buffer, each string written once, where
 * protobufjs made a Long per int64 and a writer op per field: measured, a
 * third of the server's work for a listing. Undefined when a number is
 * negative or past 2^53 (a file dated before 1970), for protobufjs to encode.
 */
export function encodeFileInfoBatch(files: readonly ListedFields[]): WireChunk | undefined {
  const sizes: number[] = [];
  let total = 0;
  for (const file of files) {
    if (file.size < 0n || file.size > MAX_SAFE || file.mtimeMs < 0n || file.mtimeMs > MAX_SAFE) return undefined;
    const inner = fieldLength(Buffer.byteLength(file.name)) + fieldLength(Buffer.byteLength(file.version)) + 2 + varintLength(Number(file.size)) + varintLength(Number(file.mtimeMs));
    sizes.push(inner);
    total += fieldLength(inner);
  }
  const bytes = Buffer.allocUnsafe(total);
  let at = 0;
  files.forEach((file, i) => {
    bytes[at++] = 1 << 3 | 2;
    at = writeVarint(bytes, at, sizes[i]!);
    at = writeString(bytes, at, 1, file.name);
    bytes[at++] = 2 << 3 | 0;
    at = writeVarint(bytes, at, Number(file.size));
    at = writeString(bytes, at, 3, file.version);
    bytes[at++] = 5 << 3 | 0;
    at = writeVarint(bytes, at, Number(file.mtimeMs));
  });
  return new WireChunk(bytes);
}
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
function varintLength(value: number): number {
  let length = 1;
  for (; value > 0x7f; length += 1) value = Math.floor(value / 0x80);
  return length;
}

/** A length-delimited field's bytes: tag, length, value. */
const fieldLength = (length: number) => 1 + varintLength(length) + length;
function writeString(target: Buffer, at: number, field: number, value: string): number {
  target[at++] = field << 3 | 2;
  const length = Buffer.byteLength(value);
  at = writeVarint(target, at, length);
  return at + target.write(value, at, length, 'utf8');
}
function stringField(field: number, value: string | undefined): Buffer[] {
  return value ? lengthDelimited(field, Buffer.from(value, 'utf8')) : [];
}

/** A field's tag and length, and its value, as parts for one final concat. */
function lengthDelimited(field: number, value: Buffer): Buffer[] {
  const header = Buffer.allocUnsafe(1 + 5);
  header[0] = field << 3 | 2;
  return [header.subarray(0, writeVarint(header, 1, value.length)), value];
}

/** Negative values take ten bytes, two's complement, as protobuf's int64 does. */
function int64Field(field: number, value: bigint | undefined): Buffer {
  if (!value) return EMPTY;
  const bytes = [field << 3 | 0];
  let rest = BigInt.asUintN(64, value);
  while (rest > 0x7fn) {
    bytes.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  bytes.push(Number(rest));
  return Buffer.from(bytes);
}
function writeVarint(target: Buffer, at: number, value: number): number {
  // Division, not bit shifts: offsets go past 2^32.
  while (value > 0x7f) {
    target[at++] = value % 0x80 | 0x80;
    value = Math.floor(value / 0x80);
  }
  target[at++] = value;
  return at;
}

/**
 * Reads a varint of at most 7 bytes, which always fits a safe integer;
 * longer ones (offsets past 512 TiB) are left to protobufjs, which keeps
 * them exact as strings.
 */
function readVarint(bytes: Buffer, at: number): [number, number] | undefined {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 7 && at < bytes.length; i += 1) {
    const byte = bytes[at++]!;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return [value, at];
    scale *= 0x80;
  }
  return undefined;
}