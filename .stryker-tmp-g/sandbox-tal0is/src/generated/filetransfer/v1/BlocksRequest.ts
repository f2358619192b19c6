// @ts-nocheck
// Original file: proto/filetransfer.proto


export interface BlocksRequest {
  'name'?: (string);
  'expectedVersion'?: (string);
}

export interface BlocksRequest__Output {
  'name': (string);
  'expectedVersion': (string);
}
