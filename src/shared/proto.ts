import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';
import type { ProtoGrpcType } from '../generated/filetransfer.js';
import { decodeChunk, decodeChunkBatch, decodeDataChunk, decodeFileInfoBatch, WireChunk } from './chunkCodec.js';

// Two levels up from src/shared/, dist/shared/ and grpc-client's bundle in dist/bin/ alike.
export const PROTO_PATH = fileURLToPath(new URL('../../proto/filetransfer.proto', import.meta.url));

// Must match the flags of `npm run gen`, or the generated types describe
// messages other than the ones we get (int64 as exact decimal strings, unset
// fields filled with defaults so offset 0 is never undefined).
const LOADER_OPTIONS: protoLoader.Options = {
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

export type FileTransferPackage = ProtoGrpcType['filetransfer']['v1'];

let definition: protoLoader.PackageDefinition | undefined;
let cached: FileTransferPackage | undefined;

/** The loaded contract, as server reflection needs it. */
export function fileTransferDefinition(): protoLoader.PackageDefinition {
  definition ??= withChunkCodec(protoLoader.loadSync(PROTO_PATH, LOADER_OPTIONS));
  return definition;
}

/**
 * Download's data chunks, every message of DownloadMany and
 * DownloadManyBatches, the batches of ListBatches and ListNames and Upload's data messages
 * are decoded by our own codec (see chunkCodec.ts); every other message, and
 * any it does not recognise, by protobufjs as before.
 */
function withChunkCodec(loaded: protoLoader.PackageDefinition): protoLoader.PackageDefinition {
  const service = loaded['filetransfer.v1.FileService'] as protoLoader.ServiceDefinition;
  const fast = (
    method: protoLoader.MethodDefinition<object, object>,
    decode: (bytes: Buffer) => object | undefined,
  ): protoLoader.MethodDefinition<object, object> => {
    const { responseSerialize, responseDeserialize } = method;
    return {
      ...method,
      responseSerialize: (value: object) => (value instanceof WireChunk ? value.bytes : responseSerialize(value)),
      responseDeserialize: (bytes: Buffer) => decode(bytes) ?? responseDeserialize(bytes),
    };
  };
  // An Upload message of data alone has the wire form of a data Chunk
  // (see UploadRequest): the client seals file bytes as Download's server
  // does, and the server takes `data` as a view of the received message.
  const upload = service['Upload']!;
  const { requestSerialize, requestDeserialize } = upload;
  const fastUpload: protoLoader.MethodDefinition<object, object> = {
    ...upload,
    requestSerialize: (value: object) => (value instanceof WireChunk ? value.bytes : requestSerialize(value)),
    requestDeserialize: (bytes: Buffer) => {
      const chunk = decodeDataChunk(bytes);
      return chunk ? { data: chunk.data, offset: chunk.offset, begin: null } : requestDeserialize(bytes);
    },
  };
  // proto-loader lists each method under its proto name only; the client
  // constructor derives the camelCase alias from originalName.
  return {
    ...loaded,
    'filetransfer.v1.FileService': {
      ...service,
      Download: fast(service['Download']!, decodeDataChunk),
      DownloadMany: fast(service['DownloadMany']!, decodeChunk),
      DownloadManyBatches: fast(service['DownloadManyBatches']!, decodeChunkBatch),
      ListBatches: fast(service['ListBatches']!, decodeFileInfoBatch),
      ListNames: fast(service['ListNames']!, decodeFileInfoBatch),
      Upload: fastUpload,
    },
  };
}

export function loadFileTransfer(): FileTransferPackage {
  cached ??= (grpc.loadPackageDefinition(fileTransferDefinition()) as unknown as ProtoGrpcType).filetransfer.v1;
  return cached;
}
