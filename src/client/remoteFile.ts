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

/** Checks what the server says before anything is written because of it. */
export function remoteFileOf(info: FileInfo__Output): RemoteFile {
  const size = Number(info.size);
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new ProtocolError(info.name, `it reported an impossible size ${JSON.stringify(info.size)}`);
  }
  if (info.sha256 !== '' && !/^[0-9a-f]{64}$/.test(info.sha256)) {
    throw new ProtocolError(info.name, 'it reported a malformed sha256');
  }
  return { name: info.name, size, version: info.version, sha256: info.sha256, mtime: new Date(Number(info.mtimeMs)) };
}
