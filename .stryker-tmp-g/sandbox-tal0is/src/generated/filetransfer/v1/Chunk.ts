// @ts-nocheck
// Original file: proto/filetransfer.proto

import type { FileInfo as _filetransfer_v1_FileInfo, FileInfo__Output as _filetransfer_v1_FileInfo__Output } from '../../filetransfer/v1/FileInfo.js';
import type { FileError as _filetransfer_v1_FileError, FileError__Output as _filetransfer_v1_FileError__Output } from '../../filetransfer/v1/FileError.js';
import type { Long } from '@grpc/proto-loader';

export interface Chunk {
  'data'?: (Buffer | Uint8Array | string);
  'offset'?: (number | string | Long);
  'info'?: (_filetransfer_v1_FileInfo | null);
  'sha256'?: (string);
  'error'?: (_filetransfer_v1_FileError | null);
}

export interface Chunk__Output {
  'data': (Buffer);
  'offset': (string);
  'info': (_filetransfer_v1_FileInfo__Output | null);
  'sha256': (string);
  'error': (_filetransfer_v1_FileError__Output | null);
}
