import { status, type Metadata } from '@grpc/grpc-js';
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { StatusError } from '../shared/statusError.js';

const digest = (token: string) => createHash('sha256').update(token, 'utf8').digest();

/**
 * The bearer tokens a server accepts, kept as SHA-256 digests. Checking
 * compares the presented token's digest with every accepted one in constant
 * time and without stopping at a match, so timing reveals neither a token
 * nor which one matched.
 */
export class TokenSet {
  private digests: Buffer[] = [];

  constructor(private readonly file: string) {}

  /** (Re)reads the file: one token a line; blank lines and '#' comments skipped. */
  async load(): Promise<number> {
    const text = await readFile(this.file, 'utf8');
    const tokens = text
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    if (tokens.length === 0) throw new Error(`the token file ${this.file} holds no token`);
    this.digests = tokens.map(digest);
    return tokens.length;
  }

  /** Throws UNAUTHENTICATED unless the call carries `authorization: Bearer <accepted token>`. */
  authorize(metadata: Metadata): void {
    const header = metadata.get('authorization')[0];
    const match = typeof header === 'string' ? /^Bearer (.+)$/.exec(header) : null;
    if (!match) throw new StatusError(status.UNAUTHENTICATED, 'this server needs a token: authorization: Bearer <token>');
    const presented = digest(match[1]!);
    let accepted = false;
    for (const known of this.digests) accepted = timingSafeEqual(known, presented) || accepted;
    if (!accepted) throw new StatusError(status.UNAUTHENTICATED, 'the token was not accepted');
  }
}
