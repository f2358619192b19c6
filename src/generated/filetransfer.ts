import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { BlockList as _filetransfer_v1_BlockList, BlockList__Output as _filetransfer_v1_BlockList__Output } from './filetransfer/v1/BlockList.js';
import type { BlocksRequest as _filetransfer_v1_BlocksRequest, BlocksRequest__Output as _filetransfer_v1_BlocksRequest__Output } from './filetransfer/v1/BlocksRequest.js';
import type { Chunk as _filetransfer_v1_Chunk, Chunk__Output as _filetransfer_v1_Chunk__Output } from './filetransfer/v1/Chunk.js';
import type { ChunkBatch as _filetransfer_v1_ChunkBatch, ChunkBatch__Output as _filetransfer_v1_ChunkBatch__Output } from './filetransfer/v1/ChunkBatch.js';
import type { DownloadManyRequest as _filetransfer_v1_DownloadManyRequest, DownloadManyRequest__Output as _filetransfer_v1_DownloadManyRequest__Output } from './filetransfer/v1/DownloadManyRequest.js';
import type { DownloadRequest as _filetransfer_v1_DownloadRequest, DownloadRequest__Output as _filetransfer_v1_DownloadRequest__Output } from './filetransfer/v1/DownloadRequest.js';
import type { FileError as _filetransfer_v1_FileError, FileError__Output as _filetransfer_v1_FileError__Output } from './filetransfer/v1/FileError.js';
import type { FileInfo as _filetransfer_v1_FileInfo, FileInfo__Output as _filetransfer_v1_FileInfo__Output } from './filetransfer/v1/FileInfo.js';
import type { FileInfoBatch as _filetransfer_v1_FileInfoBatch, FileInfoBatch__Output as _filetransfer_v1_FileInfoBatch__Output } from './filetransfer/v1/FileInfoBatch.js';
import type { FileServiceClient as _filetransfer_v1_FileServiceClient, FileServiceDefinition as _filetransfer_v1_FileServiceDefinition } from './filetransfer/v1/FileService.js';
import type { ListNamesRequest as _filetransfer_v1_ListNamesRequest, ListNamesRequest__Output as _filetransfer_v1_ListNamesRequest__Output } from './filetransfer/v1/ListNamesRequest.js';
import type { ListRequest as _filetransfer_v1_ListRequest, ListRequest__Output as _filetransfer_v1_ListRequest__Output } from './filetransfer/v1/ListRequest.js';
import type { QueryUploadRequest as _filetransfer_v1_QueryUploadRequest, QueryUploadRequest__Output as _filetransfer_v1_QueryUploadRequest__Output } from './filetransfer/v1/QueryUploadRequest.js';
import type { StatRequest as _filetransfer_v1_StatRequest, StatRequest__Output as _filetransfer_v1_StatRequest__Output } from './filetransfer/v1/StatRequest.js';
import type { UploadBegin as _filetransfer_v1_UploadBegin, UploadBegin__Output as _filetransfer_v1_UploadBegin__Output } from './filetransfer/v1/UploadBegin.js';
import type { UploadRequest as _filetransfer_v1_UploadRequest, UploadRequest__Output as _filetransfer_v1_UploadRequest__Output } from './filetransfer/v1/UploadRequest.js';
import type { UploadResponse as _filetransfer_v1_UploadResponse, UploadResponse__Output as _filetransfer_v1_UploadResponse__Output } from './filetransfer/v1/UploadResponse.js';
import type { UploadStatus as _filetransfer_v1_UploadStatus, UploadStatus__Output as _filetransfer_v1_UploadStatus__Output } from './filetransfer/v1/UploadStatus.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  filetransfer: {
    v1: {
      BlockList: MessageTypeDefinition<_filetransfer_v1_BlockList, _filetransfer_v1_BlockList__Output>
      BlocksRequest: MessageTypeDefinition<_filetransfer_v1_BlocksRequest, _filetransfer_v1_BlocksRequest__Output>
      Chunk: MessageTypeDefinition<_filetransfer_v1_Chunk, _filetransfer_v1_Chunk__Output>
      ChunkBatch: MessageTypeDefinition<_filetransfer_v1_ChunkBatch, _filetransfer_v1_ChunkBatch__Output>
      DownloadManyRequest: MessageTypeDefinition<_filetransfer_v1_DownloadManyRequest, _filetransfer_v1_DownloadManyRequest__Output>
      DownloadRequest: MessageTypeDefinition<_filetransfer_v1_DownloadRequest, _filetransfer_v1_DownloadRequest__Output>
      FileError: MessageTypeDefinition<_filetransfer_v1_FileError, _filetransfer_v1_FileError__Output>
      FileInfo: MessageTypeDefinition<_filetransfer_v1_FileInfo, _filetransfer_v1_FileInfo__Output>
      FileInfoBatch: MessageTypeDefinition<_filetransfer_v1_FileInfoBatch, _filetransfer_v1_FileInfoBatch__Output>
      FileService: SubtypeConstructor<typeof grpc.Client, _filetransfer_v1_FileServiceClient> & { service: _filetransfer_v1_FileServiceDefinition }
      ListNamesRequest: MessageTypeDefinition<_filetransfer_v1_ListNamesRequest, _filetransfer_v1_ListNamesRequest__Output>
      ListRequest: MessageTypeDefinition<_filetransfer_v1_ListRequest, _filetransfer_v1_ListRequest__Output>
      QueryUploadRequest: MessageTypeDefinition<_filetransfer_v1_QueryUploadRequest, _filetransfer_v1_QueryUploadRequest__Output>
      StatRequest: MessageTypeDefinition<_filetransfer_v1_StatRequest, _filetransfer_v1_StatRequest__Output>
      UploadBegin: MessageTypeDefinition<_filetransfer_v1_UploadBegin, _filetransfer_v1_UploadBegin__Output>
      UploadRequest: MessageTypeDefinition<_filetransfer_v1_UploadRequest, _filetransfer_v1_UploadRequest__Output>
      UploadResponse: MessageTypeDefinition<_filetransfer_v1_UploadResponse, _filetransfer_v1_UploadResponse__Output>
      UploadStatus: MessageTypeDefinition<_filetransfer_v1_UploadStatus, _filetransfer_v1_UploadStatus__Output>
    }
  }
}

