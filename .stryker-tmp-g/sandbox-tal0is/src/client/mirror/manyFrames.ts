// @ts-nocheck
import type { Chunk__Output } from '../../generated/filetransfer/v1/Chunk.js';
import { ProtocolError } from '../errors.js';
import { remoteFileOf, type RemoteFile } from '../remoteFile.js';

/** What one DownloadMany message says, file by file (see the framing in proto/filetransfer.proto). */
export type FrameEvent =
  | { type: 'begin'; remote: RemoteFile }
  | { type: 'data'; name: string; data: Buffer }
  | { type: 'end'; name: string; sha256: string }
  | { type: 'failed'; name: string; code: number; message: string };

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * Reads a DownloadMany stream against the names it asked for, in their
 * order, and refuses anything the framing does not allow before a byte of
 * it is written: a file that starts before the last one ended, a name not
 * asked for or out of turn, data out of place or past the size, an end
 * before the last byte. Pure: the caller does the I/O.
 */
export class ManyFrames {
  private next = 0;
  private open: { remote: RemoteFile; received: number } | undefined;

  constructor(private readonly names: readonly string[]) {}

  /** Names not yet begun or failed, in order: what a new call must ask for after this one broke. */
  get remaining(): readonly string[] {
    return this.names.slice(this.open ? this.next - 1 : this.next);
  }

  /** The events of one message, in the order its fields apply: info, data, sha256 or error. */
  read(message: Chunk__Output): FrameEvent[] {
    const events: FrameEvent[] = [];
    if (message.error) {
      const name = message.info?.name ?? '';
      if (this.open) {
        if (name !== this.open.remote.name)
          throw this.fault(name, `an error for ${JSON.stringify(name)} arrived inside ${JSON.stringify(this.open.remote.name)}`);
        this.open = undefined;
      } else {
        this.take(name);
      }
      return [{ type: 'failed', name, code: message.error.code, message: message.error.message }];
    }
    if (message.info) {
      if (this.open) throw this.fault(message.info.name, `${JSON.stringify(message.info.name)} started before ${JSON.stringify(this.open.remote.name)} ended`);
      this.take(message.info.name);
      const remote = remoteFileOf(message.info);
      this.open = { remote, received: 0 };
      events.push({ type: 'begin', remote });
    }
    if (message.data.length > 0) {
      const open = this.current('data');
      if (message.offset !== String(open.received)) throw this.fault(open.remote.name, `data for offset ${message.offset} arrived at ${open.received}`);
      if (open.received + message.data.length > open.remote.size) throw this.fault(open.remote.name, 'the server sent more bytes than the file has');
      open.received += message.data.length;
      events.push({ type: 'data', name: open.remote.name, data: message.data });
    }
    if (message.sha256 !== '') {
      const open = this.current('a sha256');
      if (open.received !== open.remote.size) throw this.fault(open.remote.name, `the file ended at byte ${open.received} of ${open.remote.size}`);
      if (!SHA256_HEX.test(message.sha256)) throw this.fault(open.remote.name, 'it reported a malformed sha256');
      this.open = undefined;
      events.push({ type: 'end', name: open.remote.name, sha256: message.sha256 });
    }
    return events;
  }

  /** Checks a stream that ended without error: every file asked for came or failed. */
  finish(): void {
    if (this.open) throw this.fault(this.open.remote.name, 'the stream ended inside a file');
    if (this.next < this.names.length)
      throw this.fault(this.names[this.next]!, `the stream ended before ${this.names.length - this.next} of the files asked for`);
  }

  private take(name: string): void {
    const expected = this.names[this.next];
    if (name !== expected) {
      throw this.fault(
        name,
        expected === undefined
          ? `${JSON.stringify(name)} was sent after every file asked for`
          : `${JSON.stringify(name)} arrived where ${JSON.stringify(expected)} was due`,
      );
    }
    this.next += 1;
  }

  private current(what: string): { remote: RemoteFile; received: number } {
    if (!this.open) throw this.fault(this.names[Math.max(0, this.next - 1)] ?? '', `${what} arrived outside any file`);
    return this.open;
  }

  private fault(name: string, detail: string): ProtocolError {
    return new ProtocolError(name, detail);
  }
}
