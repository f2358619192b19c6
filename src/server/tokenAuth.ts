import { ServerInterceptingCall, status, type Metadata, type ServerInterceptor } from '@grpc/grpc-js';
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

/**
 * Makes every method need a token unless `open(path)` says otherwise, so an
 * RPC added later is closed by default instead of relying on its handler to
 * check. A refused call never reaches its handler. Its one request message
 * (for a method without a request stream) is still read, so the call log
 * can say what was asked; a streaming request is refused at once.
 */
export function authInterceptor(tokens: TokenSet, open: (path: string) => boolean): ServerInterceptor {
  return (method, call) => {
    if (open(method.path)) return new ServerInterceptingCall(call);
    let refusal: StatusError | undefined;
    let refused = false;
    const refuse = () => {
      if (refused) return;
      refused = true;
      call.sendStatus({ code: refusal!.code, details: refusal!.message });
    };
    return new ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, nextMetadata) => {
            try {
              tokens.authorize(metadata);
            } catch (err) {
              refusal = err as StatusError;
            }
            if (refusal === undefined) nextMetadata(metadata);
            else if (method.requestStream) refuse();
            else call.startRead();
          },
          onReceiveMessage: (message, nextMessage) => (refusal === undefined ? nextMessage(message) : refuse()),
          onReceiveHalfClose: (nextHalfClose) => (refusal === undefined ? nextHalfClose() : refuse()),
        }),
    });
  };
}
