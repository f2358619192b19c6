// @ts-nocheck
// Original file: proto/filetransfer.proto

import type { Long } from '@grpc/proto-loader';

export interface DownloadRequest {
  'name'?: (string);
  'offset'?: (number | string | Long);
  'expectedVersion'?: (string);
  'prefixSha256'?: (string);
  'expectedSha256'?: (string);
  'limit'?: (number | string | Long);
}

export interface DownloadRequest__Output {
  'name': (string);
  'offset': (string);
  'expectedVersion': (string);
  'prefixSha256': (string);
  'expectedSha256': (string);
  'limit': (string);
}
