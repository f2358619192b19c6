// Original file: proto/filetransfer.proto


export interface ListNamesRequest {
  'names'?: (string)[];
}

export interface ListNamesRequest__Output {
  'names': (string)[];
}
