import { status, type ServerReadableStream } from '@grpc/grpc-js';
import { createHash, type Hash } from 'node:crypto';
import { constants } from 'node:fs';
import { link, lstat, mkdir, open, rename, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { QueryUploadRequest__Output } from '../generated/filetransfer/v1/QueryUploadRequest.js';
import type { UploadBegin__Output } from '../generated/filetransfer/v1/UploadBegin.js';
import type { UploadRequest__Output } from '../generated/filetransfer/v1/UploadRequest.js';
import type { UploadResponse } from '../generated/filetransfer/v1/UploadResponse.js';
import type { UploadStatus } from '../generated/filetransfer/v1/UploadStatus.js';
import { readOneAhead } from '../shared/readOneAhead.js';
import { receiveBuffers } from '../shared/receiveBuffers.js';
import { parseName, parseUploadName } from '../shared/names.js';
import { StatusError } from '../shared/statusError.js';
import type { DigestCache } from './digestCache.js';
import { fileInfoOf } from './fileInfo.js';
import type { DescriptorBudget } from './limits.js';
import { openServedFile, versionOf } from './servedFile.js';
import { uploadIdOf, type Staging, type StagingClaim } from './staging.js';

export interface UploadContext {
  root: string;
  staging: Staging;
  digests: DigestCache;
  files: DescriptorBudget;
  /** Largest declared size accepted. */
  maxUploadSize: number;
  /** Told about every byte staged, as it is. */
  onBytes?: (bytes: number) => void;
}

/** What an Upload call's log line tells about it. */
export interface UploadOutcome {
  name?: string;
  offset?: string;
  size?: number;
  bytesReceived: number;
  /** Whether the call ended with the file published (or found there already). */
  complete?: boolean;
  /** The name held the declared content already: nothing was published by this call. */
  alreadyPublished?: boolean;
}

/** What a client asks to upload, checked. */
export interface UploadPlan {
  name: string;
  size: number;
  sha256: string;
  offset: number;
  ifSha256: string;
  ifVersion: string;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
/** Longer than any version this server gives (see VERSION_LENGTH), with room for another implementation's. */
const MAX_VERSION_LENGTH = 256;

const invalid = (message: string) => new StatusError(status.INVALID_ARGUMENT, message);

/** A non-negative int64 as proto-loader hands it over (an exact decimal string), within JavaScript's safe integers. */
function count(raw: string, what: string): number {
  const value = /^\d{1,16}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value))
    throw invalid(`invalid ${what} ${JSON.stringify(raw)}: expected a whole number of bytes from 0 to ${Number.MAX_SAFE_INTEGER}`);
  return value;
}

function checkSha256(value: string, what: string): string {
  if (!SHA256_HEX.test(value)) throw invalid(`invalid ${what} ${JSON.stringify(value.slice(0, 80))}: expected 64 lowercase hex digits`);
  return value;
}

/** Checks an Upload call's first message; throws INVALID_ARGUMENT naming what is wrong. */
export function parseBegin(begin: UploadBegin__Output | null, maxUploadSize: number): UploadPlan {
  if (begin === null) throw invalid('the first message of an upload must carry begin (name, size, sha256)');
  parseUploadName(begin.name);
  const size = count(begin.size, 'size');
  if (size > maxUploadSize) throw invalid(`${begin.name}: ${size} bytes is more than this server accepts in one upload (${maxUploadSize} bytes)`);
  const offset = count(begin.offset, 'offset');
  if (offset > size) throw invalid(`invalid offset ${offset}: past the declared size ${size}`);
  if (begin.ifVersionMatch.length > MAX_VERSION_LENGTH) throw invalid(`invalid if_version_match: longer than ${MAX_VERSION_LENGTH} characters`);
  return {
    name: begin.name,
    size,
    sha256: checkSha256(begin.sha256, 'sha256'),
    offset,
    ifSha256: begin.ifSha256Match === '' ? '' : checkSha256(begin.ifSha256Match, 'if_sha256_match'),
    ifVersion: begin.ifVersionMatch,
  };
}

/** What is under an upload's name now. */
export type TargetFacts =
  | { kind: 'none' }
  /** Not a regular file inside the root: a folder, a FIFO, a symlink leaving it. */
  | { kind: 'other' }
  /** A folder on the name's path (`part`, as a name) is not a real folder: a file, or a symlink, which publishing never follows. */
  | { kind: 'blocked'; part: string }
  | { kind: 'file'; size: number; version: string; sha256?: string };

export type TargetVerdict = { action: 'create' } | { action: 'complete' } | { action: 'replace'; version: string } | { action: 'refuse'; error: StatusError };

/**
 * Create only, unless the client names what it replaces (like GCS's
 * if_generation_match); a name that already holds exactly the declared
 * content is complete, so a retry whose answer was lost succeeds.
 */
export function targetVerdict(plan: Pick<UploadPlan, 'name' | 'size' | 'sha256' | 'ifSha256' | 'ifVersion'>, facts: TargetFacts): TargetVerdict {
  const same = facts.kind === 'file' && facts.size === plan.size && facts.sha256 === plan.sha256;
  if (facts.kind === 'blocked') {
    return { action: 'refuse', error: blockedError(plan.name, facts.part) };
  }
  if (plan.ifSha256 === '' && plan.ifVersion === '') {
    if (facts.kind === 'none') return { action: 'create' };
    if (same) return { action: 'complete' };
    return {
      action: 'refuse',
      error: new StatusError(status.ALREADY_EXISTS, `${plan.name} already exists; to replace it, say which sha256 or version it must have`),
    };
  }
  if (facts.kind !== 'file') {
    const what = facts.kind === 'none' ? 'does not exist' : 'is not a regular file';
    return { action: 'refuse', error: new StatusError(status.FAILED_PRECONDITION, `${plan.name} ${what}, so it cannot be replaced`) };
  }
  const mismatch =
    plan.ifVersion !== '' && plan.ifVersion !== facts.version
      ? `its version is ${facts.version}, not ${plan.ifVersion}`
      : plan.ifSha256 !== '' && plan.ifSha256 !== facts.sha256
        ? `its sha256 is ${facts.sha256}, not ${plan.ifSha256}`
        : undefined;
  if (mismatch !== undefined) return { action: 'refuse', error: new StatusError(status.FAILED_PRECONDITION, `${plan.name} was not replaced: ${mismatch}`) };
  return same ? { action: 'complete' } : { action: 'replace', version: facts.version };
}

/** The tus offset check: a call continues exactly where the staged bytes end. */
export function offsetProblem(committed: number, offset: number): StatusError | undefined {
  if (committed === offset) return undefined;
  return new StatusError(status.OUT_OF_RANGE, `the server holds ${committed} bytes of this upload, so it continues at offset ${committed}, not ${offset}`);
}

const blockedError = (name: string, part: string) => new StatusError(status.FAILED_PRECONDITION, `cannot create ${name}: ${part} on its path is not a folder`);

/**
 * The first folder on the path of `segments` that exists and is not a real
 * folder (a file, a symlink), or undefined: checked before any byte is
 * staged, so an upload that could never be published is refused at once.
 * Publishing checks again, through descriptors (see openFolderOf).
 */
async function blockedPart(root: string, segments: string[]): Promise<string | undefined> {
  for (let depth = 1; depth < segments.length; depth += 1) {
    const part = segments.slice(0, depth);
    const found = await lstat(path.join(root, ...part)).catch(() => undefined);
    if (!found) return undefined;
    if (!found.isDirectory()) return part.join('/');
  }
  return undefined;
}

/** Looks at what `name` holds now; its digest only when `withDigest` says it is worth a hash. */
async function lookAt(context: UploadContext, name: string, withDigest: (size: number) => boolean, signal: AbortSignal): Promise<TargetFacts> {
  const segments = parseName(name);
  const part = await blockedPart(context.root, segments);
  if (part !== undefined) return { kind: 'blocked', part };
  try {
    await lstat(path.join(context.root, ...segments));
  } catch {
    return { kind: 'none' };
  }
  const release = context.files.take();
  let digest: Promise<string> | undefined;
  let facts: TargetFacts;
  try {
    const file = await openServedFile(context.root, name).catch(() => undefined);
    if (!file) return { kind: 'other' };
    try {
      const size = Number(file.stat.size);
      facts = { kind: 'file', size, version: file.version };
      if (withDigest(size)) {
        digest = context.digests.digestOf(file, signal);
        digest.catch(() => undefined);
      }
    } finally {
      // The digest cache holds a descriptor of its own while it hashes.
      await file.handle.close();
    }
  } finally {
    release();
  }
  return digest ? { ...facts, sha256: await digest } : facts;
}

function factsFor(context: UploadContext, plan: UploadPlan, signal: AbortSignal): Promise<TargetFacts> {
  // A file of another size cannot hold the declared content; a digest
  // named in the precondition must be known.
  return lookAt(context, plan.name, (size) => size === plan.size || plan.ifSha256 !== '', signal);
}

/**
 * QueryUpload: how many bytes of (name, size, sha256) are staged, or
 * complete when the name already holds exactly that content.
 */
export async function queryUpload(request: QueryUploadRequest__Output, context: UploadContext, signal: AbortSignal): Promise<UploadStatus> {
  parseUploadName(request.name);
  const size = count(request.size, 'size');
  const sha256 = checkSha256(request.sha256, 'sha256');
  const facts = await lookAt(context, request.name, (found) => found === size, signal);
  if (facts.kind === 'file' && facts.size === size && facts.sha256 === sha256) return { committedSize: String(size), complete: true };
  return { committedSize: String(await context.staging.committed(uploadIdOf(request.name, size, sha256))), complete: false };
}

/**
 * One Upload call: checks what the client declares and what the name
 * holds, continues the staged file exactly at its end, and once the stream
 * ends with every byte there and their digest the declared one, publishes
 * it. Bytes that arrived stay staged whatever ends the call, except a
 * digest that differs, which discards them.
 */
export async function receiveUpload(
  call: ServerReadableStream<UploadRequest__Output, UploadResponse>,
  context: UploadContext,
  signal: AbortSignal,
  outcome: UploadOutcome,
): Promise<UploadResponse> {
  readOneAhead(call);
  const messages = call[Symbol.asyncIterator]() as AsyncIterator<UploadRequest__Output>;
  const first = await messages.next();
  if (first.done) throw invalid('the upload stream ended before its first message');
  // Logged as sent, even when it is refused below.
  if (first.value.begin) outcome.name = first.value.begin.name;
  const plan = parseBegin(first.value.begin, context.maxUploadSize);
  Object.assign(outcome, { name: plan.name, offset: String(plan.offset), size: plan.size });
  const claim = await context.staging.claim(plan.name, uploadIdOf(plan.name, plan.size, plan.sha256), plan.size);
  try {
    const verdict = targetVerdict(plan, await factsFor(context, plan, signal));
    if (verdict.action === 'refuse') throw verdict.error;
    if (verdict.action === 'complete') {
      await claim.discard();
      Object.assign(outcome, { complete: true, alreadyPublished: true });
      return { committedSize: String(plan.size), complete: true, info: await publishedInfo(context, plan, undefined) };
    }
    const staged = await StagedFile.open(claim);
    try {
      const problem = offsetProblem(staged.length, plan.offset);
      if (problem) throw problem;
      await staged.hashPrefix(signal);
      await staged.take(first.value, plan, outcome, context);
      for (let next = await messages.next(); !next.done; next = await messages.next()) {
        if (next.value.begin !== null) throw invalid('begin may only come in the first message of an upload');
        await staged.take(next.value, plan, outcome, context);
      }
      if (staged.length < plan.size) return { committedSize: String(staged.length), complete: false };
      const digest = staged.digest();
      if (digest !== plan.sha256) {
        await claim.discard();
        throw new StatusError(
          status.DATA_LOSS,
          `${plan.name}: the ${plan.size} bytes received hash to ${digest}, not the declared ${plan.sha256}; they were discarded: upload again from offset 0`,
        );
      }
      await staged.sync();
      // Node's HTTP/2 ends the request stream of a call the client
      // cancelled just before grpc-js reports the cancel, so the loop above
      // cannot tell it from a half-close; by the time the sync is back, the
      // cancel has been told. A cancelled call never publishes.
      signal.throwIfAborted();
    } finally {
      await staged.close();
    }
    await publish(context, plan, claim, verdict, signal);
    outcome.complete = true;
    return { committedSize: String(plan.size), complete: true, info: await publishedInfo(context, plan, staged.inode) };
  } finally {
    claim.release();
  }
}

/** A staged file opened for appending, with the SHA-256 of what it holds. */
class StagedFile {
  private readonly hash: Hash = createHash('sha256');

  private constructor(
    private readonly handle: FileHandle,
    public length: number,
    /** The staged file's inode, which keeps its identity when it is published. */
    readonly inode: bigint,
    private readonly claim: StagingClaim,
  ) {}

  static async open(claim: StagingClaim): Promise<StagedFile> {
    // Never truncated: its bytes are what a resume continues after. The
    // length comes from the descriptor, so it is the file we write.
    const handle = await open(claim.file, constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW, 0o644);
    try {
      const { size, ino } = await handle.stat({ bigint: true });
      claim.holds(Number(size));
      return new StagedFile(handle, Number(size), ino, claim);
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /** Hashes the bytes an earlier call staged, so the digest covers the whole file. */
  async hashPrefix(signal: AbortSignal): Promise<void> {
    if (this.length === 0) return;
    const reader = await open(this.claim.file, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const buffer = Buffer.allocUnsafe(1024 * 1024);
      for (let at = 0; at < this.length;) {
        signal.throwIfAborted();
        const { bytesRead } = await reader.read(buffer, 0, Math.min(buffer.length, this.length - at), at);
        if (bytesRead === 0) throw new Error(`the staged file ${this.claim.file} ended at ${at} of ${this.length} bytes`);
        this.hash.update(buffer.subarray(0, bytesRead));
        at += bytesRead;
      }
    } finally {
      await reader.close();
    }
  }

  /** Appends one message's data, checked to come where the staged bytes end and to stay within the declared size. */
  async take(message: UploadRequest__Output, plan: UploadPlan, outcome: UploadOutcome, context: UploadContext): Promise<void> {
    const { data } = message;
    if (data.length === 0) return;
    if (message.offset !== String(this.length)) {
      throw invalid(`data for offset ${message.offset} arrived where the upload stands at ${this.length}; each message continues where the last ended`);
    }
    if (this.length + data.length > plan.size) throw invalid(`more bytes than the declared size ${plan.size}`);
    // Counted as taken, before the write: a call cancelled meanwhile is
    // logged at once, and the write under way still lands.
    outcome.bytesReceived += data.length;
    context.onBytes?.(data.length);
    // Hashed while the write runs on the thread pool: the digest is
    // thrown away with the call if the write fails.
    const writing = this.write(data, plan.name);
    writing.catch(() => undefined);
    this.hash.update(data);
    await writing;
    this.length += data.length;
    // Written and hashed: nothing reads these bytes any more, so the
    // buffer grpc-js assembled the message in takes the next one.
    receiveBuffers.give(data);
  }

  /**
   * Writes `data` where the staged bytes end. A write may stop short (the
   * disk filling up): what reached the file is staged, the rest is written
   * again or fails.
   */
  private async write(data: Buffer, name: string): Promise<void> {
    for (let written = 0; written < data.length;) {
      let bytesWritten: number;
      try {
        ({ bytesWritten } = await this.handle.write(data, written, data.length - written, this.length + written));
      } catch (err) {
        throw writeFailure(err, name, this.length + written);
      }
      if (bytesWritten === 0) throw new Error(`writing ${this.claim.file} made no progress`);
      written += bytesWritten;
      this.claim.holds(this.length + written);
    }
  }

  digest(): string {
    return this.hash.digest('hex');
  }

  sync(): Promise<void> {
    return this.handle.sync();
  }

  close(): Promise<void> {
    return this.handle.close().catch(() => undefined);
  }
}

/** A full disk or quota keeps what was staged: RESOURCE_EXHAUSTED, which a client retries or resumes later. */
function writeFailure(err: unknown, name: string, staged: number): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new StatusError(
      status.RESOURCE_EXHAUSTED,
      `the server's disk is full: ${staged} bytes of ${name} are staged; upload again once there is room, and it continues from there`,
    );
  }
  return err;
}

/**
 * Moves the verified staged file to its name in one step: a hard link
 * that fails if the name exists (create only, atomic even against other
 * processes), or a rename over the file the precondition named, checked
 * again now. The folders on the way are created and entered one by one
 * without following symlinks, so nothing is written outside the root.
 */
async function publish(context: UploadContext, plan: UploadPlan, claim: StagingClaim, verdict: TargetVerdict, signal: AbortSignal): Promise<void> {
  const segments = parseName(plan.name);
  const folder = await openFolderOf(context.root, segments, plan.name);
  try {
    const target = `/proc/self/fd/${folder.fd}/${segments.at(-1)!}`;
    signal.throwIfAborted();
    if (verdict.action === 'replace') {
      const now = await lookAt(context, plan.name, () => false, signal);
      if (now.kind !== 'file' || now.version !== verdict.version) {
        throw new StatusError(status.FAILED_PRECONDITION, `${plan.name} changed while it was uploaded; it was not replaced`);
      }
      await rename(claim.file, target);
    } else {
      try {
        await link(claim.file, target);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        // Someone else created it meanwhile: fine if it is this very content.
        const now = targetVerdict(plan, await factsFor(context, plan, signal));
        if (now.action !== 'complete') throw new StatusError(status.ALREADY_EXISTS, `${plan.name} was created by someone else while it was uploaded`);
      }
    }
    await claim.discard();
    await folder.sync();
  } finally {
    await folder.close();
  }
}

/**
 * Opens the folder that will hold `segments`' last part, creating the
 * folders on the way; each is entered through its parent's descriptor with
 * O_NOFOLLOW, so a symlink on the way is refused rather than followed.
 */
async function openFolderOf(root: string, segments: string[], name: string): Promise<FileHandle> {
  const flags = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
  let folder = await open(root, flags);
  try {
    for (const [depth, segment] of segments.slice(0, -1).entries()) {
      const next = `/proc/self/fd/${folder.fd}/${segment}`;
      await mkdir(next, 0o755).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
      });
      const entered = await open(next, flags).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOTDIR' || err.code === 'ELOOP') throw blockedError(name, segments.slice(0, depth + 1).join('/'));
        throw err;
      });
      await folder.close();
      folder = entered;
    }
    return folder;
  } catch (err) {
    await folder.close().catch(() => undefined);
    throw err;
  }
}

/**
 * The published file's info. Its digest is remembered by version, so that
 * Stat and Download need no hash of it, only when the name still holds the
 * inode we published (`inode`): a file swapped in since must not get our
 * digest. Undefined `inode`: the name held the content already, and its
 * digest is known.
 */
async function publishedInfo(context: UploadContext, plan: UploadPlan, inode: bigint | undefined): Promise<UploadResponse['info']> {
  const found = await stat(path.join(context.root, ...parseName(plan.name)), { bigint: true });
  const version = versionOf(found);
  if (inode !== undefined && found.ino === inode) context.digests.remember(version, plan.sha256);
  return fileInfoOf({ name: plan.name, stat: found, version }, plan.sha256);
}
