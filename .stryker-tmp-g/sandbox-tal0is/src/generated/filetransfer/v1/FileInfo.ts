// @ts-nocheck
// Original file: proto/filetransfer.proto

import type { Long } from '@grpc/proto-loader';

export interface FileInfo {
  'name'?: (string);
  'size'?: (number | string | Long);
  'version'?: (string);
  'sha256'?: (string);
  'mtimeMs'?: (number | string | Long);
}

export interface FileInfo__Output {
  'name': (string);
  'size': (string);
  'version': (string);
  'sha256': (string);
  'mtimeMs': (string);
}
