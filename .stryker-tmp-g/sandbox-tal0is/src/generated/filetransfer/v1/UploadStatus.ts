// @ts-nocheck
// Original file: proto/filetransfer.proto

import type { Long } from '@grpc/proto-loader';

export interface UploadStatus {
  'committedSize'?: (number | string | Long);
  'complete'?: (boolean);
}

export interface UploadStatus__Output {
  'committedSize': (string);
  'complete': (boolean);
}
