// @ts-nocheck
// Original file: proto/filetransfer.proto


export interface DownloadManyRequest {
  'names'?: (string)[];
  'prefix'?: (string);
}

export interface DownloadManyRequest__Output {
  'names': (string)[];
  'prefix': (string);
}
