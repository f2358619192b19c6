/**
 * Replaces `method` on the prototype of `className`, a class grpc-js keeps
 * in one of its own modules (under build/src) and does not document, with
 * what `replace` makes of the original. For the few places where grpc-js
 * copies every message and we know the copy is not needed. `exported` is
 * that module, imported by its literal name where it is used, so that a
 * bundle of the command (see scripts/bundleClient.mjs) takes the very
 * module its grpc-js runs; undefined when the import failed. Its version is
 * pinned in package-lock.json; the tests of each replacement fail when
 * grpc-js changes what they rely on. Returns false, replacing nothing, when
 * the module, the class or the method is gone: callers then run grpc-js's
 * own code, slower, never wrong.
 */
// @ts-nocheck

export function replaceGrpcMethod<M extends (...args: never[]) => unknown>(
  exported: object | undefined,
  className: string,
  method: string,
  replace: (original: M) => M,
): boolean {
  const prototype = (exported as Record<string, { prototype?: Record<string, unknown> } | undefined> | undefined)?.[className]?.prototype;
  const original = prototype?.[method];
  if (!prototype || typeof original !== 'function') return false;
  prototype[method] = replace(original as M);
  return true;
}
