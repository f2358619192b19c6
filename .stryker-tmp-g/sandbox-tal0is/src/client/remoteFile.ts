// @ts-nocheck
import type { Chunk__Output } from '../generated/filetransfer/v1/Chunk.js';
import type { FileInfo__Output } from '../generated/filetransfer/v1/FileInfo.js';
import { ProtocolError } from './errors.js';

/** A file as the server describes it. */
export interface RemoteFile {
  name: string;
  size: number;
  version: string;
  /** SHA-256 (hex); empty in listings. */
  sha256: string;
  mtime: Date;
}

/**
 * What a mirror keeps of each listed file while it plans and fetches: a
 * tree of 100,000 files held as RemoteFiles costs a Date and two more
 * fields per file for the whole run.
 */
export type ListedFile = Pick<RemoteFile, 'name' | 'size' | 'version'>;

/** Checks what the server says before anything is written because of it. */
export function remoteFileOf(info: FileInfo__Output): RemoteFile {
  const { name, size, version } = listedFileOf(info);
  if (info.sha256 !== '' && !/^[0-9a-f]{64}$/.test(info.sha256)) {
    throw new ProtocolError(info.name, 'it reported a malformed sha256');
  }
  return { name, size, version, sha256: info.sha256, mtime: new Date(Number(info.mtimeMs)) };
}

/** The file a Download stream is about, from its first message, which must say (see Chunk.info). */
export function firstMessageFile(name: string, message: Chunk__Output): RemoteFile {
  if (!message.info) throw new ProtocolError(name, 'the first message carries no file info');
  return remoteFileOf(message.info);
}

/** The fields of a listed file that a mirror uses, checked as remoteFileOf checks them. */
export function listedFileOf(info: FileInfo__Output): ListedFile {
  const size = Number(info.size);
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new ProtocolError(info.name, `it reported an impossible size ${JSON.stringify(info.size)}`);
  }
  return { name: info.name, size, version: info.version };
}
