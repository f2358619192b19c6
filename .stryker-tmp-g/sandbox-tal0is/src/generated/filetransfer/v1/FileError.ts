// @ts-nocheck
// Original file: proto/filetransfer.proto


export interface FileError {
  'code'?: (number);
  'message'?: (string);
}

export interface FileError__Output {
  'code': (number);
  'message': (string);
}
