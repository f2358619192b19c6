import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType } from '../../src/generated/filetransfer.js';
import type { Chunk__Output } from '../../src/generated/filetransfer/v1/Chunk.js';
import type { DownloadRequest } from '../../src/generated/filetransfer/v1/DownloadRequest.js';
import type { FileInfo__Output } from '../../src/generated/filetransfer/v1/FileInfo.js';
import type { FileInfoBatch__Output } from '../../src/generated/filetransfer/v1/FileInfoBatch.js';
import type { FileServiceClient } from '../../src/generated/filetransfer/v1/FileService.js';
import type { QueryUploadRequest } from '../../src/generated/filetransfer/v1/QueryUploadRequest.js';
import type { UploadBegin } from '../../src/generated/filetransfer/v1/UploadBegin.js';
import type { UploadRequest } from '../../src/generated/filetransfer/v1/UploadRequest.js';
import type { UploadResponse__Output } from '../../src/generated/filetransfer/v1/UploadResponse.js';
import { loadFileTransfer, PROTO_PATH } from '../../src/shared/proto.js';

/** A plain grpc-js client of the contract, to send requests our CLI never would. */
export function rawClient(address: string, channelOptions: grpc.ChannelOptions = {}): FileServiceClient {
  const { FileService } = loadFileTransfer();
  return new FileService(address, grpc.credentials.createInsecure(), channelOptions);
}

export interface DownloadOutcome {
  code: grpc.status;
  details: string;
  messages: Chunk__Output[];
  data: Buffer;
}

export async function rawDownload(client: FileServiceClient, request: DownloadRequest): Promise<DownloadOutcome> {
  const messages: Chunk__Output[] = [];
  try {
    for await (const message of client.download(request) as AsyncIterable<Chunk__Output>) messages.push(message);
    return { code: grpc.status.OK, details: '', messages, data: Buffer.concat(messages.map((m) => m.data)) };
  } catch (err) {
    const { code, details } = err as grpc.ServiceError;
    return { code, details, messages, data: Buffer.concat(messages.map((m) => m.data)) };
  }
}

export function rawStat(client: FileServiceClient, name: string): Promise<{ code: grpc.status; info?: FileInfo__Output; details?: string }> {
  return new Promise((resolve) => {
    client.stat({ name }, (err, info) => resolve(err ? { code: err.code, details: err.details } : { code: grpc.status.OK, info: info! }));
  });
}

export async function rawList(client: FileServiceClient, prefix: string): Promise<{ code: grpc.status; names: string[] }> {
  const names: string[] = [];
  try {
    for await (const info of client.list({ prefix }) as AsyncIterable<FileInfo__Output>) names.push(info.name);
    return { code: grpc.status.OK, names };
  } catch (err) {
    return { code: (err as grpc.ServiceError).code, names };
  }
}

/** Every FileInfo of a listing, and each message's count for ListBatches (1 each for List). */
export async function rawListing(
  client: FileServiceClient,
  method: 'list' | 'listBatches' | 'listNames',
  what: string | string[],
): Promise<{ code: grpc.status; files: FileInfo__Output[]; perMessage: number[] }> {
  const files: FileInfo__Output[] = [];
  const perMessage: number[] = [];
  try {
    const call =
      method === 'listNames'
        ? client.listNames({ names: [what].flat() })
        : method === 'list'
          ? client.list({ prefix: String(what) })
          : client.listBatches({ prefix: String(what) });
    for await (const message of call as AsyncIterable<FileInfo__Output | FileInfoBatch__Output>) {
      const batch = 'files' in message ? message.files : [message];
      files.push(...batch);
      perMessage.push(batch.length);
    }
    return { code: grpc.status.OK, files, perMessage };
  } catch (err) {
    return { code: (err as grpc.ServiceError).code, files, perMessage };
  }
}

/**
 * A client of the contract decoded by protobufjs alone, without our chunk
 * codec: what another implementation sees on the wire.
 */
export function plainClient(address: string): FileServiceClient {
  const loaded = grpc.loadPackageDefinition(protoLoader.loadSync(PROTO_PATH, { longs: String, enums: String, defaults: true, oneofs: true }));
  const { FileService } = (loaded as unknown as ProtoGrpcType).filetransfer.v1;
  return new FileService(address, grpc.credentials.createInsecure());
}

/** What an Upload call ended with. */
export interface UploadOutcome {
  code: grpc.status;
  details: string;
  response?: UploadResponse__Output;
}

/**
 * An Upload call left open: `send` writes data messages (each with its
 * offset), `end` half-closes and resolves with the outcome, which `answer`
 * also gives if the server answers first.
 */
export function openUpload(client: FileServiceClient, begin: UploadBegin) {
  let call!: grpc.ClientWritableStream<UploadRequest>;
  const answer = new Promise<UploadOutcome>((resolve) => {
    call = client.upload((err, response) =>
      resolve(err ? { code: err.code, details: err.details } : { code: grpc.status.OK, details: '', response: response! }),
    );
  });
  call.write({ begin });
  return {
    call,
    answer,
    /** Resolves once grpc-js has handed the message to HTTP/2. */
    send(offset: number, data: Buffer): Promise<void> {
      return new Promise((resolve) => call.write({ offset, data }, () => resolve()));
    },
    end(): Promise<UploadOutcome> {
      call.end();
      return answer;
    },
  };
}

/** One whole Upload call: `begin`, then `data` in messages of `chunk` bytes from begin.offset, then a half-close. */
export function rawUpload(client: FileServiceClient, begin: UploadBegin, data: Buffer = Buffer.alloc(0), chunk = 64 * 1024): Promise<UploadOutcome> {
  const upload = openUpload(client, begin);
  const from = Number(begin.offset ?? 0);
  for (let at = 0; at < data.length; at += chunk) upload.send(from + at, data.subarray(at, at + chunk));
  return upload.end();
}

export function rawQueryUpload(
  client: FileServiceClient,
  request: QueryUploadRequest,
): Promise<{ code: grpc.status; details?: string; committed?: number; complete?: boolean }> {
  return new Promise((resolve) => {
    client.queryUpload(request, (err, status) =>
      resolve(err ? { code: err.code, details: err.details } : { code: grpc.status.OK, committed: Number(status!.committedSize), complete: status!.complete }),
    );
  });
}

/** The name the Stat of allCallsLogged asks for starts with this. */
const BARRIER = 'barrier-';

/**
 * Resolves once every call that ended at `server` (listening on `address`,
 * when not on its own) before now is in its log:
 * a call's log line is written as it ends, so a Stat made now and seen in
 * the log comes after them.
 */
export async function allCallsLogged(
  server: { address: string; waitForCall(predicate: (call: { method: string; name?: string }) => boolean): Promise<unknown> },
  address = server.address,
): Promise<void> {
  const client = rawClient(address);
  const name = `${BARRIER}${Date.now()}-${Math.random().toString(36).slice(2)}`;
  try {
    await rawStat(client, name);
  } finally {
    client.close();
  }
  await server.waitForCall((c) => c.method === 'Stat' && c.name === name);
}

/** Every call `server` logged from its `mark`-th on, up to now, less allCallsLogged's own. */
export async function callsSince<T extends { method: string; name?: string }>(
  server: { address: string; calls(): T[]; waitForCall(predicate: (call: T) => boolean): Promise<unknown> },
  mark: number,
  address = server.address,
): Promise<T[]> {
  await allCallsLogged(server, address);
  return server
    .calls()
    .slice(mark)
    .filter((c) => !c.name?.startsWith(BARRIER));
}
