// Original file: proto/filetransfer.proto

import type { Long } from '@grpc/proto-loader';

export interface DownloadRequest {
  'name'?: (string);
  'offset'?: (number | string | Long);
  'expectedVersion'?: (string);
}

export interface DownloadRequest__Output {
  'name': (string);
  'offset': (string);
  'expectedVersion': (string);
}
