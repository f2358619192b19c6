// @ts-nocheck
// Original file: proto/filetransfer.proto

import type { Chunk as _filetransfer_v1_Chunk, Chunk__Output as _filetransfer_v1_Chunk__Output } from '../../filetransfer/v1/Chunk.js';

export interface ChunkBatch {
  'chunks'?: (_filetransfer_v1_Chunk)[];
}

export interface ChunkBatch__Output {
  'chunks': (_filetransfer_v1_Chunk__Output)[];
}
