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

import type { Chunk__Output } from '../generated/filetransfer/v1/Chunk.js';

// Tag bytes: field number << 3 | wire type.
const DATA_TAG = (1 << 3) | 2;
const OFFSET_TAG = (2 << 3) | 0;

/** Room before the data for both tags and their varints (10 + 5 bytes at most). */
export const CHUNK_HEADER_ROOM = 1 + 10 + 1 + 5;

/** A data chunk in wire form, written as is by the Download serializer. */
export class WireChunk {
  constructor(readonly bytes: Buffer) {}
}

/**
 * Encodes the header of a data chunk in front of its data. `frame` holds
 * CHUNK_HEADER_ROOM spare bytes followed by `length` bytes of data.
 */
export function sealChunk(frame: Buffer, offset: number, length: number): WireChunk {
  const header = Buffer.allocUnsafe(CHUNK_HEADER_ROOM);
  let at = 0;
  header[at++] = OFFSET_TAG;
  at = writeVarint(header, at, offset);
  header[at++] = DATA_TAG;
  at = writeVarint(header, at, length);
  const start = CHUNK_HEADER_ROOM - at;
  header.copy(frame, start, 0, at);
  return new WireChunk(frame.subarray(start, CHUNK_HEADER_ROOM + length));
}

/**
 * Decodes a message made only of `data` and `offset` fields, with `data` a
 * view into `bytes`. Returns undefined for anything else (info, sha256,
 * unknown fields, malformed input), which the caller hands to protobufjs.
 */
export function decodeDataChunk(bytes: Buffer): Chunk__Output | undefined {
  let data: Buffer = EMPTY;
  let offset = 0;
  let at = 0;
  while (at < bytes.length) {
    const tag = bytes[at++];
    if (tag === OFFSET_TAG) {
      const read = readVarint(bytes, at);
      if (read === undefined) return undefined;
      [offset, at] = read;
    } else if (tag === DATA_TAG) {
      const read = readVarint(bytes, at);
      if (read === undefined) return undefined;
      const [length, start] = read;
      if (start + length > bytes.length) return undefined;
      data = bytes.subarray(start, start + length);
      at = start + length;
    } else {
      return undefined;
    }
  }
  return { data, offset: String(offset), info: null, sha256: '', error: null };
}

const EMPTY = Buffer.alloc(0);

/** What a whole-file or error message of DownloadMany carries, int64s as bigints. */
export interface ChunkFields {
  data?: Buffer;
  offset?: bigint;
  info?: { name: string; size?: bigint; version?: string; mtimeMs?: bigint };
  sha256?: string;
  error?: { code: number; message: string };
}

/**
 * Encodes a whole Chunk in one buffer with a single copy of `data`, where
 * protobufjs would build it field by field through a writer: DownloadMany
 * sends one such message per small file. Fields at their default are left
 * out, as protobufjs leaves them.
 */
export function encodeChunk(fields: ChunkFields): Buffer {
  const info = fields.info && [
    ...stringField(1, fields.info.name),
    int64Field(2, fields.info.size),
    ...stringField(3, fields.info.version),
    int64Field(5, fields.info.mtimeMs),
  ];
  const error = fields.error && [int64Field(1, BigInt(fields.error.code)), ...stringField(2, fields.error.message)];
  return Buffer.concat([
    int64Field(2, fields.offset),
    ...(info ? lengthDelimited(3, Buffer.concat(info)) : []),
    ...stringField(4, fields.sha256),
    ...(error ? lengthDelimited(5, Buffer.concat(error)) : []),
    ...(fields.data && fields.data.length > 0 ? lengthDelimited(1, fields.data) : []),
  ]);
}

function stringField(field: number, value: string | undefined): Buffer[] {
  return value ? lengthDelimited(field, Buffer.from(value, 'utf8')) : [];
}

/** A field's tag and length, and its value, as parts for one final concat. */
function lengthDelimited(field: number, value: Buffer): Buffer[] {
  const header = Buffer.allocUnsafe(1 + 5);
  header[0] = (field << 3) | 2;
  return [header.subarray(0, writeVarint(header, 1, value.length)), value];
}

/** Negative values take ten bytes, two's complement, as protobuf's int64 does. */
function int64Field(field: number, value: bigint | undefined): Buffer {
  if (!value) return EMPTY;
  const bytes = [(field << 3) | 0];
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
    target[at++] = (value % 0x80) | 0x80;
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
