// @ts-nocheck
// Original file: proto/filetransfer.proto

import type { Long } from '@grpc/proto-loader';

export interface QueryUploadRequest {
  'name'?: (string);
  'size'?: (number | string | Long);
  'sha256'?: (string);
}

export interface QueryUploadRequest__Output {
  'name': (string);
  'size': (string);
  'sha256': (string);
}
