// @ts-nocheck
// Original file: proto/filetransfer.proto

import type { UploadBegin as _filetransfer_v1_UploadBegin, UploadBegin__Output as _filetransfer_v1_UploadBegin__Output } from '../../filetransfer/v1/UploadBegin.js';
import type { Long } from '@grpc/proto-loader';

export interface UploadRequest {
  'data'?: (Buffer | Uint8Array | string);
  'offset'?: (number | string | Long);
  'begin'?: (_filetransfer_v1_UploadBegin | null);
}

export interface UploadRequest__Output {
  'data': (Buffer);
  'offset': (string);
  'begin': (_filetransfer_v1_UploadBegin__Output | null);
}
