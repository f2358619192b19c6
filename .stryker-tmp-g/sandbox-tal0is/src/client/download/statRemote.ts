// @ts-nocheck
import type { FileServiceClient } from '../../generated/filetransfer/v1/FileService.js';
import { toClientError } from '../errors.js';
import { remoteFileOf, type RemoteFile } from '../remoteFile.js';

/** One Stat call; aborting the signal cancels it. */
export function statRemote(client: FileServiceClient, name: string, signal?: AbortSignal, channel?: { secure: boolean }): Promise<RemoteFile> {
  return new Promise((resolve, reject) => {
    const onAbort = () => call.cancel();
    const call = client.stat({ name }, (err, info) => {
      signal?.removeEventListener('abort', onAbort);
      if (err) reject(toClientError(err, channel));
      else {
        try {
          resolve(remoteFileOf(info!));
        } catch (invalid) {
          reject(invalid);
        }
      }
    });
    // A listener added to an already aborted signal never fires.
    if (signal?.aborted) call.cancel();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}
