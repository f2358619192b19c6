// @ts-nocheck
// Original file: proto/filetransfer.proto


export interface ListRequest {
  'prefix'?: (string);
}

export interface ListRequest__Output {
  'prefix': (string);
}
