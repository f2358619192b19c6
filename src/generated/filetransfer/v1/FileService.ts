// Original file: proto/filetransfer.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { BlockList as _filetransfer_v1_BlockList, BlockList__Output as _filetransfer_v1_BlockList__Output } from '../../filetransfer/v1/BlockList.js';
import type { BlocksRequest as _filetransfer_v1_BlocksRequest, BlocksRequest__Output as _filetransfer_v1_BlocksRequest__Output } from '../../filetransfer/v1/BlocksRequest.js';
import type { Chunk as _filetransfer_v1_Chunk, Chunk__Output as _filetransfer_v1_Chunk__Output } from '../../filetransfer/v1/Chunk.js';
import type { ChunkBatch as _filetransfer_v1_ChunkBatch, ChunkBatch__Output as _filetransfer_v1_ChunkBatch__Output } from '../../filetransfer/v1/ChunkBatch.js';
import type { DownloadManyRequest as _filetransfer_v1_DownloadManyRequest, DownloadManyRequest__Output as _filetransfer_v1_DownloadManyRequest__Output } from '../../filetransfer/v1/DownloadManyRequest.js';
import type { DownloadRequest as _filetransfer_v1_DownloadRequest, DownloadRequest__Output as _filetransfer_v1_DownloadRequest__Output } from '../../filetransfer/v1/DownloadRequest.js';
import type { FileInfo as _filetransfer_v1_FileInfo, FileInfo__Output as _filetransfer_v1_FileInfo__Output } from '../../filetransfer/v1/FileInfo.js';
import type { FileInfoBatch as _filetransfer_v1_FileInfoBatch, FileInfoBatch__Output as _filetransfer_v1_FileInfoBatch__Output } from '../../filetransfer/v1/FileInfoBatch.js';
import type { ListNamesRequest as _filetransfer_v1_ListNamesRequest, ListNamesRequest__Output as _filetransfer_v1_ListNamesRequest__Output } from '../../filetransfer/v1/ListNamesRequest.js';
import type { ListRequest as _filetransfer_v1_ListRequest, ListRequest__Output as _filetransfer_v1_ListRequest__Output } from '../../filetransfer/v1/ListRequest.js';
import type { QueryUploadRequest as _filetransfer_v1_QueryUploadRequest, QueryUploadRequest__Output as _filetransfer_v1_QueryUploadRequest__Output } from '../../filetransfer/v1/QueryUploadRequest.js';
import type { StatRequest as _filetransfer_v1_StatRequest, StatRequest__Output as _filetransfer_v1_StatRequest__Output } from '../../filetransfer/v1/StatRequest.js';
import type { UploadRequest as _filetransfer_v1_UploadRequest, UploadRequest__Output as _filetransfer_v1_UploadRequest__Output } from '../../filetransfer/v1/UploadRequest.js';
import type { UploadResponse as _filetransfer_v1_UploadResponse, UploadResponse__Output as _filetransfer_v1_UploadResponse__Output } from '../../filetransfer/v1/UploadResponse.js';
import type { UploadStatus as _filetransfer_v1_UploadStatus, UploadStatus__Output as _filetransfer_v1_UploadStatus__Output } from '../../filetransfer/v1/UploadStatus.js';

export interface FileServiceClient extends grpc.Client {
  Blocks(argument: _filetransfer_v1_BlocksRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_filetransfer_v1_BlockList__Output>;
  Blocks(argument: _filetransfer_v1_BlocksRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_filetransfer_v1_BlockList__Output>;
  blocks(argument: _filetransfer_v1_BlocksRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_filetransfer_v1_BlockList__Output>;
  blocks(argument: _filetransfer_v1_BlocksRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_filetransfer_v1_BlockList__Output>;
  
  Download(argument: _filetransfer_v1_DownloadRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_filetransfer_v1_Chunk__Output>;
  Download(argument: _filetransfer_v1_DownloadRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_filetransfer_v1_Chunk__Output>;
  download(argument: _filetransfer_v1_DownloadRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_filetransfer_v1_Chunk__Output>;
  download(argument: _filetransfer_v1_DownloadRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_filetransfer_v1_Chunk__Output>;
  
  DownloadMany(argument: _filetransfer_v1_DownloadManyRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_filetransfer_v1_Chunk__Output>;
  DownloadMany(argument: _filetransfer_v1_DownloadManyRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_filetransfer_v1_Chunk__Output>;
  downloadMany(argument: _filetransfer_v1_DownloadManyRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_filetransfer_v1_Chunk__Output>;
  downloadMany(argument: _filetransfer_v1_DownloadManyRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_filetransfer_v1_Chunk__Output>;
  
  DownloadManyBatches(argument: _filetransfer_v1_DownloadManyRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_filetransfer_v1_ChunkBatch__Output>;
  DownloadManyBatches(argument: _filetransfer_v1_DownloadManyRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_filetransfer_v1_ChunkBatch__Output>;
  downloadManyBatches(argument: _filetransfer_v1_DownloadManyRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_filetransfer_v1_ChunkBatch__Output>;
  downloadManyBatches(argument: _filetransfer_v1_DownloadManyRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_filetransfer_v1_ChunkBatch__Output>;
  
  List(argument: _filetransfer_v1_ListRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_filetransfer_v1_FileInfo__Output>;
  List(argument: _filetransfer_v1_ListRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_filetransfer_v1_FileInfo__Output>;
  list(argument: _filetransfer_v1_ListRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_filetransfer_v1_FileInfo__Output>;
  list(argument: _filetransfer_v1_ListRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_filetransfer_v1_FileInfo__Output>;
  
  ListBatches(argument: _filetransfer_v1_ListRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_filetransfer_v1_FileInfoBatch__Output>;
  ListBatches(argument: _filetransfer_v1_ListRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_filetransfer_v1_FileInfoBatch__Output>;
  listBatches(argument: _filetransfer_v1_ListRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_filetransfer_v1_FileInfoBatch__Output>;
  listBatches(argument: _filetransfer_v1_ListRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_filetransfer_v1_FileInfoBatch__Output>;
  
  ListNames(argument: _filetransfer_v1_ListNamesRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_filetransfer_v1_FileInfoBatch__Output>;
  ListNames(argument: _filetransfer_v1_ListNamesRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_filetransfer_v1_FileInfoBatch__Output>;
  listNames(argument: _filetransfer_v1_ListNamesRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_filetransfer_v1_FileInfoBatch__Output>;
  listNames(argument: _filetransfer_v1_ListNamesRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_filetransfer_v1_FileInfoBatch__Output>;
  
  QueryUpload(argument: _filetransfer_v1_QueryUploadRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_filetransfer_v1_UploadStatus__Output>): grpc.ClientUnaryCall;
  QueryUpload(argument: _filetransfer_v1_QueryUploadRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_filetransfer_v1_UploadStatus__Output>): grpc.ClientUnaryCall;
  QueryUpload(argument: _filetransfer_v1_QueryUploadRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_filetransfer_v1_UploadStatus__Output>): grpc.ClientUnaryCall;
  QueryUpload(argument: _filetransfer_v1_QueryUploadRequest, callback: grpc.requestCallback<_filetransfer_v1_UploadStatus__Output>): grpc.ClientUnaryCall;
  queryUpload(argument: _filetransfer_v1_QueryUploadRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_filetransfer_v1_UploadStatus__Output>): grpc.ClientUnaryCall;
  queryUpload(argument: _filetransfer_v1_QueryUploadRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_filetransfer_v1_UploadStatus__Output>): grpc.ClientUnaryCall;
  queryUpload(argument: _filetransfer_v1_QueryUploadRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_filetransfer_v1_UploadStatus__Output>): grpc.ClientUnaryCall;
  queryUpload(argument: _filetransfer_v1_QueryUploadRequest, callback: grpc.requestCallback<_filetransfer_v1_UploadStatus__Output>): grpc.ClientUnaryCall;
  
  Stat(argument: _filetransfer_v1_StatRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_filetransfer_v1_FileInfo__Output>): grpc.ClientUnaryCall;
  Stat(argument: _filetransfer_v1_StatRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_filetransfer_v1_FileInfo__Output>): grpc.ClientUnaryCall;
  Stat(argument: _filetransfer_v1_StatRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_filetransfer_v1_FileInfo__Output>): grpc.ClientUnaryCall;
  Stat(argument: _filetransfer_v1_StatRequest, callback: grpc.requestCallback<_filetransfer_v1_FileInfo__Output>): grpc.ClientUnaryCall;
  stat(argument: _filetransfer_v1_StatRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_filetransfer_v1_FileInfo__Output>): grpc.ClientUnaryCall;
  stat(argument: _filetransfer_v1_StatRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_filetransfer_v1_FileInfo__Output>): grpc.ClientUnaryCall;
  stat(argument: _filetransfer_v1_StatRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_filetransfer_v1_FileInfo__Output>): grpc.ClientUnaryCall;
  stat(argument: _filetransfer_v1_StatRequest, callback: grpc.requestCallback<_filetransfer_v1_FileInfo__Output>): grpc.ClientUnaryCall;
  
  Upload(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_filetransfer_v1_UploadResponse__Output>): grpc.ClientWritableStream<_filetransfer_v1_UploadRequest>;
  Upload(metadata: grpc.Metadata, callback: grpc.requestCallback<_filetransfer_v1_UploadResponse__Output>): grpc.ClientWritableStream<_filetransfer_v1_UploadRequest>;
  Upload(options: grpc.CallOptions, callback: grpc.requestCallback<_filetransfer_v1_UploadResponse__Output>): grpc.ClientWritableStream<_filetransfer_v1_UploadRequest>;
  Upload(callback: grpc.requestCallback<_filetransfer_v1_UploadResponse__Output>): grpc.ClientWritableStream<_filetransfer_v1_UploadRequest>;
  upload(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_filetransfer_v1_UploadResponse__Output>): grpc.ClientWritableStream<_filetransfer_v1_UploadRequest>;
  upload(metadata: grpc.Metadata, callback: grpc.requestCallback<_filetransfer_v1_UploadResponse__Output>): grpc.ClientWritableStream<_filetransfer_v1_UploadRequest>;
  upload(options: grpc.CallOptions, callback: grpc.requestCallback<_filetransfer_v1_UploadResponse__Output>): grpc.ClientWritableStream<_filetransfer_v1_UploadRequest>;
  upload(callback: grpc.requestCallback<_filetransfer_v1_UploadResponse__Output>): grpc.ClientWritableStream<_filetransfer_v1_UploadRequest>;
  
}

export interface FileServiceHandlers extends grpc.UntypedServiceImplementation {
  Blocks: grpc.handleServerStreamingCall<_filetransfer_v1_BlocksRequest__Output, _filetransfer_v1_BlockList>;
  
  Download: grpc.handleServerStreamingCall<_filetransfer_v1_DownloadRequest__Output, _filetransfer_v1_Chunk>;
  
  DownloadMany: grpc.handleServerStreamingCall<_filetransfer_v1_DownloadManyRequest__Output, _filetransfer_v1_Chunk>;
  
  DownloadManyBatches: grpc.handleServerStreamingCall<_filetransfer_v1_DownloadManyRequest__Output, _filetransfer_v1_ChunkBatch>;
  
  List: grpc.handleServerStreamingCall<_filetransfer_v1_ListRequest__Output, _filetransfer_v1_FileInfo>;
  
  ListBatches: grpc.handleServerStreamingCall<_filetransfer_v1_ListRequest__Output, _filetransfer_v1_FileInfoBatch>;
  
  ListNames: grpc.handleServerStreamingCall<_filetransfer_v1_ListNamesRequest__Output, _filetransfer_v1_FileInfoBatch>;
  
  QueryUpload: grpc.handleUnaryCall<_filetransfer_v1_QueryUploadRequest__Output, _filetransfer_v1_UploadStatus>;
  
  Stat: grpc.handleUnaryCall<_filetransfer_v1_StatRequest__Output, _filetransfer_v1_FileInfo>;
  
  Upload: grpc.handleClientStreamingCall<_filetransfer_v1_UploadRequest__Output, _filetransfer_v1_UploadResponse>;
  
}

export interface FileServiceDefinition extends grpc.ServiceDefinition {
  Blocks: MethodDefinition<_filetransfer_v1_BlocksRequest, _filetransfer_v1_BlockList, _filetransfer_v1_BlocksRequest__Output, _filetransfer_v1_BlockList__Output>
  Download: MethodDefinition<_filetransfer_v1_DownloadRequest, _filetransfer_v1_Chunk, _filetransfer_v1_DownloadRequest__Output, _filetransfer_v1_Chunk__Output>
  DownloadMany: MethodDefinition<_filetransfer_v1_DownloadManyRequest, _filetransfer_v1_Chunk, _filetransfer_v1_DownloadManyRequest__Output, _filetransfer_v1_Chunk__Output>
  DownloadManyBatches: MethodDefinition<_filetransfer_v1_DownloadManyRequest, _filetransfer_v1_ChunkBatch, _filetransfer_v1_DownloadManyRequest__Output, _filetransfer_v1_ChunkBatch__Output>
  List: MethodDefinition<_filetransfer_v1_ListRequest, _filetransfer_v1_FileInfo, _filetransfer_v1_ListRequest__Output, _filetransfer_v1_FileInfo__Output>
  ListBatches: MethodDefinition<_filetransfer_v1_ListRequest, _filetransfer_v1_FileInfoBatch, _filetransfer_v1_ListRequest__Output, _filetransfer_v1_FileInfoBatch__Output>
  ListNames: MethodDefinition<_filetransfer_v1_ListNamesRequest, _filetransfer_v1_FileInfoBatch, _filetransfer_v1_ListNamesRequest__Output, _filetransfer_v1_FileInfoBatch__Output>
  QueryUpload: MethodDefinition<_filetransfer_v1_QueryUploadRequest, _filetransfer_v1_UploadStatus, _filetransfer_v1_QueryUploadRequest__Output, _filetransfer_v1_UploadStatus__Output>
  Stat: MethodDefinition<_filetransfer_v1_StatRequest, _filetransfer_v1_FileInfo, _filetransfer_v1_StatRequest__Output, _filetransfer_v1_FileInfo__Output>
  Upload: MethodDefinition<_filetransfer_v1_UploadRequest, _filetransfer_v1_UploadResponse, _filetransfer_v1_UploadRequest__Output, _filetransfer_v1_UploadResponse__Output>
}
