// @ts-nocheck
// Original file: proto/filetransfer.proto


export interface StatRequest {
  'name'?: (string);
}

export interface StatRequest__Output {
  'name': (string);
}
