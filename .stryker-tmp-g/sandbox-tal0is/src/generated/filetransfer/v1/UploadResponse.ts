// @ts-nocheck
// Original file: proto/filetransfer.proto

import type { FileInfo as _filetransfer_v1_FileInfo, FileInfo__Output as _filetransfer_v1_FileInfo__Output } from '../../filetransfer/v1/FileInfo.js';
import type { Long } from '@grpc/proto-loader';

export interface UploadResponse {
  'committedSize'?: (number | string | Long);
  'complete'?: (boolean);
  'info'?: (_filetransfer_v1_FileInfo | null);
}

export interface UploadResponse__Output {
  'committedSize': (string);
  'complete': (boolean);
  'info': (_filetransfer_v1_FileInfo__Output | null);
}
