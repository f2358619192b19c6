import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';
import type { ProtoGrpcType } from '../generated/filetransfer.js';

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
  definition ??= protoLoader.loadSync(PROTO_PATH, LOADER_OPTIONS);
  return definition;
}

export function loadFileTransfer(): FileTransferPackage {
  cached ??= (grpc.loadPackageDefinition(fileTransferDefinition()) as unknown as ProtoGrpcType).filetransfer.v1;
  return cached;
}
