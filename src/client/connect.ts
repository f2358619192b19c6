import * as grpc from '@grpc/grpc-js';
import type { FileServiceClient } from '../generated/filetransfer/v1/FileService.js';
import { loadFileTransfer } from '../shared/proto.js';

// The client's HTTP/2 flow-control window bounds a stream's throughput to
// window/RTT; grpc-js's 64 KiB default is the main cost on fast links.
const FAST_WINDOW = 16 * 1024 * 1024;

export interface ConnectOptions {
  credentials?: grpc.ChannelCredentials;
  /** When the caller paces the download, a large window only buffers more. */
  paced?: boolean;
}

export function connect(server: string, options: ConnectOptions = {}): FileServiceClient {
  const { FileService } = loadFileTransfer();
  const channelOptions: grpc.ChannelOptions = options.paced ? {} : { 'grpc-node.flow_control_window': FAST_WINDOW };
  return new FileService(server, options.credentials ?? grpc.credentials.createInsecure(), channelOptions);
}
