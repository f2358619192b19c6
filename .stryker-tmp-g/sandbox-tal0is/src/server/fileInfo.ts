// @ts-nocheck
import type { FileInfo } from '../generated/filetransfer/v1/FileInfo.js';
import type { ServedFile } from './servedFile.js';

export function fileInfoOf(file: Pick<ServedFile, 'name' | 'version'> & { stat: Pick<ServedFile['stat'], 'size' | 'mtimeNs'> }, sha256: string): FileInfo {
  return {
    name: file.name,
    size: file.stat.size.toString(),
    version: file.version,
    sha256,
    mtimeMs: (file.stat.mtimeNs / 1_000_000n).toString(),
  };
}
