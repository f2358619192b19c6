// @ts-nocheck
import { fstatSync } from 'node:fs';

/** Whether `fd` is a pipe or a socket (`| tee`), where progress bars would interleave with lines. */
export function isPipe(fd: number): boolean {
  try {
    const found = fstatSync(fd);
    return found.isFIFO() || found.isSocket();
  } catch {
    return false;
  }
}
