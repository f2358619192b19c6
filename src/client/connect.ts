import * as grpc from '@grpc/grpc-js';
import type { FileServiceClient } from '../generated/filetransfer/v1/FileService.js';
import { loadFileTransfer } from '../shared/proto.js';

// The client's HTTP/2 flow-control window bounds a stream's throughput to
// window/RTT; grpc-js's 64 KiB default is the main cost on fast links.
const MAX_WINDOW = 16 * 1024 * 1024;
const MIN_WINDOW = 64 * 1024;

export interface ConnectOptions {
  credentials?: grpc.ChannelCredentials;
  /** Bytes per second the caller paces downloads to, if it does. */
  limitRate?: number;
}

/**
 * A paced download needs only a quarter second of data in flight; a larger
 * window would just let the server run further ahead into our memory.
 */
export function flowControlWindow(limitRate: number | undefined): number {
  if (limitRate === undefined) return MAX_WINDOW;
  return Math.min(MAX_WINDOW, Math.max(MIN_WINDOW, Math.floor(limitRate / 4)));
}

export function connect(server: string, options: ConnectOptions = {}): FileServiceClient {
  const { FileService } = loadFileTransfer();
  return new FileService(server, options.credentials ?? grpc.credentials.createInsecure(), {
    'grpc-node.flow_control_window': flowControlWindow(options.limitRate),
  });
}
