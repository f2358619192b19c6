// @ts-nocheck
// Original file: proto/filetransfer.proto

import type { FileInfo as _filetransfer_v1_FileInfo, FileInfo__Output as _filetransfer_v1_FileInfo__Output } from '../../filetransfer/v1/FileInfo.js';

export interface FileInfoBatch {
  'files'?: (_filetransfer_v1_FileInfo)[];
}

export interface FileInfoBatch__Output {
  'files': (_filetransfer_v1_FileInfo__Output)[];
}
