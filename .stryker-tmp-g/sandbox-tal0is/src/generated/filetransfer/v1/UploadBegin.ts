// @ts-nocheck
// Original file: proto/filetransfer.proto

import type { Long } from '@grpc/proto-loader';

export interface UploadBegin {
  'name'?: (string);
  'size'?: (number | string | Long);
  'sha256'?: (string);
  'offset'?: (number | string | Long);
  'ifSha256Match'?: (string);
  'ifVersionMatch'?: (string);
}

export interface UploadBegin__Output {
  'name': (string);
  'size': (string);
  'sha256': (string);
  'offset': (string);
  'ifSha256Match': (string);
  'ifVersionMatch': (string);
}
