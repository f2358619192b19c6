// @ts-nocheck
import { status } from './grpcStatus.js';
import path from 'node:path';
import { StatusError } from './statusError.js';

/** Longest accepted name in UTF-8 bytes; well under PATH_MAX so a name joined to any root stays valid. */
const MAX_NAME_BYTES = 1024;
/** NAME_MAX of common Linux file systems. */
const MAX_SEGMENT_BYTES = 255;

/**
 * Checks a file name as both sides use it: relative to a root (the server's
 * folder, the client's --out), '/'-separated, with no part that could climb
 * out of that root. Returns its segments.
 *
 * Strict on purpose: '.', '..', empty parts and backslashes are refused rather
 * than normalised, so one name always means one file on every platform.
 */
export function parseName(name: string): string[] {
  checkName(name);
  return name.split('/');
}

/** Throws as parseName does; for callers that need no parts, e.g. a check of every name of a tree. */
export function checkName(name: string): void {
  if (name.length <= MAX_NAME_BYTES && PLAIN_NAME.test(name)) return;
  const invalid = (why: string) => new StatusError(status.INVALID_ARGUMENT, `invalid name ${JSON.stringify(name)}: ${why}`);
  if (name.length === 0) throw invalid('it is empty');
  if (name.includes('\0')) throw invalid('it contains a NUL byte');
  if (mayExceed(name, MAX_NAME_BYTES) && Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) throw invalid(`it is longer than ${MAX_NAME_BYTES} bytes`);
  if (name.startsWith('/')) throw invalid('it is absolute; names are relative to the root');
  if (name.includes('\\')) throw invalid("it contains '\\'; use '/' between folders");
  const segments = name.split('/');
  for (const segment of segments) {
    if (segment === '') throw invalid("it has an empty part ('//' or a trailing '/')");
    if (segment === '.' || segment === '..') throw invalid(`it contains a '${segment}' part`);
    if (mayExceed(segment, MAX_SEGMENT_BYTES) && Buffer.byteLength(segment, 'utf8') > MAX_SEGMENT_BYTES)
      throw invalid(`a part is longer than ${MAX_SEGMENT_BYTES} bytes`);
  }
}

/**
 * Names that pass every rule of parseName at a glance: ASCII letters,
 * digits, '_', '-' and '.', parts of 1 to 255 of them, none '.' or '..'.
 * Most names of a tree are such, and a mirror checks every one of them:
 * one test instead of a look at each part.
 */
const PLAIN_NAME = /^(?!\.\.?(?:\/|$))[\w.-]{1,255}(?:\/(?!\.\.?(?:\/|$))[\w.-]{1,255})*$/;

/**
 * `name`, checked by parseName, joined under `folder` as path.join would
 * join its parts, without path.join's pass over the whole result: the
 * parts of a checked name need no normalizing, only the folder does.
 */
export function joinName(folder: string, name: string): string {
  checkName(name);
  const base = path.normalize(folder);
  if (base === '.' || base === `.${path.sep}`) return name;
  return base.endsWith(path.sep) ? `${base}${name}` : `${base}${path.sep}${name}`;
}

/**
 * Whether `text` could take more than `bytes` in UTF-8: a UTF-16 code unit
 * takes at most 3 bytes, so most names need no count (a mirror checks every
 * name of a tree).
 */
const mayExceed = (text: string, bytes: number) => text.length * 3 > bytes;

/**
 * A listing prefix is a name that may be empty and may end with '/', e.g.
 * "logs/" (everything in logs) or "logs/2026-" (names starting with it).
 */
export function parsePrefix(prefix: string): string {
  if (prefix === '') return '';
  parseName(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
  return prefix;
}

/** Whether `target` lies strictly under `root`; both are real, absolute paths. */
export function isInside(root: string, target: string): boolean {
  const relative = path.relative(root, target);
  return relative !== '' && relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
}

/**
 * The suffix of the partial files our client writes beside downloads: the
 * server refuses uploads by such names, the client does not download them.
 */
export const PARTIAL_SUFFIX = '.part';

/**
 * Checks the name of a file to upload: as parseName does, and not a
 * partial's name (`x.part`), which a client mirroring the server's tree
 * would take for the partial of `x`. Returns its segments.
 */
export function parseUploadName(name: string): string[] {
  const segments = parseName(name);
  if (segments.at(-1)!.endsWith(PARTIAL_SUFFIX)) {
    throw new StatusError(status.INVALID_ARGUMENT, `invalid name ${JSON.stringify(name)}: names ending in ${PARTIAL_SUFFIX} are kept for partial files`);
  }
  return segments;
}
