// @ts-nocheck
// Original file: proto/filetransfer.proto

import type { FileInfo as _filetransfer_v1_FileInfo, FileInfo__Output as _filetransfer_v1_FileInfo__Output } from '../../filetransfer/v1/FileInfo.js';
import type { Long } from '@grpc/proto-loader';

export interface BlockList {
  'info'?: (_filetransfer_v1_FileInfo | null);
  'blockSize'?: (number | string | Long);
  'firstBlock'?: (number | string | Long);
  'sha256'?: (Buffer | Uint8Array | string)[];
}

export interface BlockList__Output {
  'info': (_filetransfer_v1_FileInfo__Output | null);
  'blockSize': (string);
  'firstBlock': (string);
  'sha256': (Buffer)[];
}
