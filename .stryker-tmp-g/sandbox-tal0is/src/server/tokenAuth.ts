// @ts-nocheck
import { ServerInterceptingCall, status, type Metadata, type ServerInterceptor } from '@grpc/grpc-js';
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { StatusError } from '../shared/statusError.js';

const digest = (token: string) => createHash('sha256').update(token, 'utf8').digest();

/** What a token may do: read files (Download, Stat, List, ...) or write them (Upload). */
export type Scope = 'read' | 'write';
const SCOPES: readonly Scope[] = ['read', 'write'];

/** A token without scopes reads only, as every token did before uploads existed. */
const DEFAULT_SCOPES: readonly Scope[] = ['read'];

interface Accepted {
  digest: Buffer;
  scopes: ReadonlySet<Scope>;
}

/**
 * One line of a token file: the token, then optionally whitespace and its
 * scopes, comma-separated (`s3cret read,write`). Throws for a scope it does
 * not know, naming the line: a typo must not quietly grant or deny.
 */
export function parseTokenLine(line: string, lineNumber: number): { token: string; scopes: Scope[] } {
  const [token, scopeList, ...rest] = line.split(/\s+/);
  if (rest.length > 0)
    throw new Error(`line ${lineNumber}: expected a token and at most one list of scopes (TOKEN read,write), found ${rest.length + 2} words`);
  if (scopeList === undefined) return { token: token!, scopes: [...DEFAULT_SCOPES] };
  const scopes = scopeList.split(',');
  const unknown = scopes.find((scope) => !(SCOPES as readonly string[]).includes(scope));
  if (unknown !== undefined) throw new Error(`line ${lineNumber}: unknown scope ${JSON.stringify(unknown)}; scopes are read and write (TOKEN read,write)`);
  return { token: token!, scopes: scopes as Scope[] };
}

/**
 * The bearer tokens a server accepts, kept as SHA-256 digests, each with
 * its scopes. Checking compares the presented token's digest with every
 * accepted one in constant time and without stopping at a match, so timing
 * reveals neither a token nor which one matched.
 */
export class TokenSet {
  private accepted: Accepted[] = [];

  constructor(private readonly file: string) {}

  /** (Re)reads the file: one token a line, optionally followed by its scopes; blank lines and '#' comments skipped. */
  async load(): Promise<number> {
    const text = await readFile(this.file, 'utf8');
    const accepted: Accepted[] = [];
    for (const [index, raw] of text.split(/\r?\n/).entries()) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      let parsed: ReturnType<typeof parseTokenLine>;
      try {
        parsed = parseTokenLine(line, index + 1);
      } catch (err) {
        throw new Error(`the token file ${this.file}: ${(err as Error).message}`, { cause: err });
      }
      accepted.push({ digest: digest(parsed.token), scopes: new Set(parsed.scopes) });
    }
    if (accepted.length === 0) throw new Error(`the token file ${this.file} holds no token`);
    this.accepted = accepted;
    return accepted.length;
  }

  /**
   * Throws UNAUTHENTICATED unless the call carries `authorization: Bearer
   * <accepted token>`, PERMISSION_DENIED when that token lacks one of `needed`.
   */
  authorize(metadata: Metadata, needed: readonly Scope[]): void {
    const header = metadata.get('authorization')[0];
    const match = typeof header === 'string' ? /^Bearer (.+)$/.exec(header) : null;
    if (!match) throw new StatusError(status.UNAUTHENTICATED, 'this server needs a token: authorization: Bearer <token>');
    const presented = digest(match[1]!);
    let found: Accepted | undefined;
    for (const known of this.accepted) if (timingSafeEqual(known.digest, presented)) found = known;
    if (!found) throw new StatusError(status.UNAUTHENTICATED, 'the token was not accepted');
    const missing = needed.filter((scope) => !found.scopes.has(scope));
    if (missing.length > 0) {
      throw new StatusError(status.PERMISSION_DENIED, `this token may not ${missing.join(' or ')}: its scope is ${[...found.scopes].join(',')}`);
    }
  }
}

/**
 * Makes every method need a token with the scopes `scopesOf(path)` names,
 * unless it names none (an open service): the caller decides by method, and
 * should give an RPC it does not know every scope, so that one added later
 * is closed by default instead of relying on its handler to check. A
 * refused call never reaches its handler. Its one request message (for a
 * method without a request stream) is still read, so the call log can say
 * what was asked; a streaming request is refused at once.
 */
export function authInterceptor(tokens: TokenSet, scopesOf: (path: string) => readonly Scope[]): ServerInterceptor {
  return (method, call) => {
    const needed = scopesOf(method.path);
    if (needed.length === 0) return new ServerInterceptingCall(call);
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
              tokens.authorize(metadata, needed);
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
