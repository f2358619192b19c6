import { createRequire } from 'node:module';

/**
 * Replaces `method` on the prototype of `className`, a class grpc-js keeps
 * in its own module `modulePath` (under build/src) and does not document,
 * with what `replace` makes of the original. For the few places where
 * grpc-js copies every message and we know the copy is not needed. Its
 * version is pinned in package-lock.json; the tests of each replacement
 * fail when grpc-js changes what they rely on. Returns false, replacing
 * nothing, when the class or the method is gone: callers then run
 * grpc-js's own code, slower, never wrong.
 */
export function replaceGrpcMethod<M extends (...args: never[]) => unknown>(
  modulePath: string,
  className: string,
  method: string,
  replace: (original: M) => M,
): boolean {
  let prototype: Record<string, unknown> | undefined;
  try {
    const exported = createRequire(import.meta.url)(`@grpc/grpc-js/build/src/${modulePath}`) as Record<
      string,
      { prototype?: Record<string, unknown> } | undefined
    >;
    prototype = exported[className]?.prototype;
  } catch {
    return false;
  }
  const original = prototype?.[method];
  if (!prototype || typeof original !== 'function') return false;
  prototype[method] = replace(original as M);
  return true;
}
