import { regularFileSizeSync } from '../localFile.js';
import { toClientError } from '../errors.js';
import { foldersAreReal, outputPathsOf, type OutputPaths } from '../outputPaths.js';
import type { ListedFile } from '../remoteFile.js';
import { planTask, type LocalFacts, type PlanState } from '../taskState.js';
import type { DownloadContext, DownloadOptions, DownloadResult } from '../download/downloadOptions.js';
import { abortedError } from '../download/retryLoop.js';
import { BATCH_LIMITS, fetchInBatches, SMALL_FILE_BYTES, type ManyOutcome } from './fetchMany.js';
import { batchesOf } from './mirrorPlan.js';

/**
 * What a download of many named files does with one of them, decided from
 * one listing of all the names before any transfer:
 * - unchanged: recorded complete, on disk at its size, and listed at the
 *   recorded version and size (or the server is not to be asked) → no call;
 * - batch: listed, small, and nothing of it here (new, or deleted since it
 *   was fetched) → whole in a DownloadManyBatches stream with the others;
 * - single: anything else → the download of that one name, which resumes a
 *   partial, verifies a file it finds, tells a changed file from one only
 *   touched by its digest, and says why a name cannot be had.
 */
export type NamedAction = 'unchanged' | 'batch' | 'single';

export function namedActionOf(remote: ListedFile | undefined, facts: LocalFacts, checkRemote: boolean, smallFileBytes: number): NamedAction {
  const plan = planTask(facts);
  if (plan.action === 'skip') {
    if (!checkRemote) return 'unchanged';
    return remote?.version === facts.record!.version && remote.size === facts.record!.size ? 'unchanged' : 'single';
  }
  if (remote === undefined || remote.size > smallFileBytes) return 'single';
  return plan.state === 'new' || plan.state === 'deleted' ? 'batch' : 'single';
}

/** The names a NamedBatch has: at once, or once its stream brings them. */
export interface NamedBatch {
  /**
   * The result of `name` when this batch has it, else undefined: the caller
   * downloads it alone. A file a stream could not bring whole and
   * unchanged (gone, or changed while read) is handed to `single`.
   */
  take(name: string, options: DownloadOptions): Promise<DownloadResult> | undefined;
  /**
   * Once the streams ended, the results of names never taken that are
   * here all the same: complete, or fetched before the batch was stopped
   * (a stream commits what it verified even when it is aborted).
   */
  untaken(): Promise<DownloadResult[]>;
  /** Resolves once the streams ended and their records are on disk. */
  done: Promise<void>;
}

export interface NamedBatchHooks {
  /** Hands over the listed files among `names`; resolves false for a server that cannot list names. */
  listNames(names: readonly string[], signal: AbortSignal, take: (file: ListedFile) => void): Promise<boolean>;
  /** The download of one name. */
  single(name: string, options: DownloadOptions): Promise<DownloadResult>;
}

interface Batched {
  remote: ListedFile;
  state: PlanState;
  outcome: Promise<ManyOutcome>;
  settle(outcome: ManyOutcome): void;
}

/**
 * Plans `names` (in the order they will be taken) from one listing, then
 * fetches the small new ones many per call while the caller takes results
 * name by name. Runs while the caller holds the output folder; `signal` is
 * that hold's. Resolves undefined, having fetched nothing, when the server
 * cannot list names or the listing fails: every name is then downloaded
 * alone, which retries and reports as it always did.
 */
export async function startNamedBatch(
  context: DownloadContext,
  names: readonly string[],
  hooks: NamedBatchHooks,
  signal: AbortSignal,
  onRetry: DownloadOptions['onRetry'],
): Promise<NamedBatch | undefined> {
  // Another process may have fetched some of them while we waited for the folder.
  await context.store.reload();
  const checkRemote = context.checkRemote ?? true;
  const local = new Map<string, { paths: OutputPaths; facts: LocalFacts }>();
  const realFolders = new Map<string, boolean>();
  for (const name of names) {
    // A name under a folder that is not a real one goes alone: its
    // download says what is wrong, where a file found through a symlink
    // would be taken for ours.
    if (local.has(name) || !foldersAreReal(context.out, name, realFolders)) continue;
    try {
      const paths = outputPathsOf(context.out, name);
      local.set(name, {
        paths,
        facts: { record: context.store.get(name), finalSize: regularFileSizeSync(paths.finalPath), partSize: regularFileSizeSync(paths.partPath) },
      });
    } catch {
      // Not a path here: its download says why.
    }
  }
  // Without checks, a complete file needs no listing: a list of those alone
  // asks the server nothing, as one name would not.
  const toList = checkRemote ? [...local.keys()] : [...local].filter(([, { facts }]) => planTask(facts).action !== 'skip').map(([name]) => name);
  const listed = new Map<string, ListedFile>();
  try {
    if (toList.length > 0 && !(await hooks.listNames(toList, signal, (file) => listed.set(file.name, file)))) return undefined;
  } catch {
    return undefined;
  }
  const unchanged = new Map<string, DownloadResult>();
  const batched = new Map<string, Batched>();
  for (const [name, { paths, facts }] of local) {
    const action = namedActionOf(listed.get(name), facts, checkRemote, SMALL_FILE_BYTES);
    if (action === 'unchanged') {
      const { size, sha256 } = facts.record!;
      unchanged.set(name, {
        name,
        path: paths.finalPath,
        size,
        sha256: sha256!,
        state: 'complete',
        transferred: false,
        resumedFrom: 0,
        bytesReceived: 0,
        attempts: 0,
      });
    } else if (action === 'batch') {
      let settle!: (outcome: ManyOutcome) => void;
      const outcome = new Promise<ManyOutcome>((resolve) => (settle = resolve));
      batched.set(name, { remote: listed.get(name)!, state: planTask(facts).state, outcome, settle });
    }
  }

  const remotes = [...batched.values()].map((file) => file.remote);
  const streamed = fetchInBatches(
    context,
    batchesOf(remotes, (remote) => remote.size, BATCH_LIMITS),
    {
      signal,
      label: (files) => `${files} files`,
      onRetry,
      onOutcome: (outcome) => batched.get(outcome.name)?.settle(outcome),
      onFailed: (remote, err) =>
        batched.get(remote.name)!.settle({
          name: remote.name,
          result: 'failed',
          error: signal.aborted ? abortedError(remote.name, signal, signal.reason) : toClientError(err, context),
        }),
    },
  );

  const resultOf = (name: string, file: Batched, outcome: ManyOutcome & { result: 'ok' }): DownloadResult => {
    const { size } = outcome.remote;
    const { finalPath } = outputPathsOf(context.out, name);
    return { name, path: finalPath, size, sha256: outcome.sha256, state: file.state, transferred: true, resumedFrom: 0, bytesReceived: size, attempts: 1 };
  };
  const taken = new Set<string>();
  // The last window's records are written after its files are published:
  // they must be on disk before the folder is let go.
  const done = streamed.then(() => context.store.flushed());
  return {
    take(name, options) {
      taken.add(name);
      const kept = unchanged.get(name);
      if (kept) return Promise.resolve(kept);
      const file = batched.get(name);
      if (!file) return undefined;
      return file.outcome.then((outcome) => {
        if (outcome.result === 'failed') throw outcome.error;
        // Gone since it was listed, or changed while it was read: the
        // download of the name alone says which, or gets the new version.
        if (outcome.result !== 'ok') return hooks.single(name, options);
        const result = resultOf(name, file, outcome);
        options.onStart?.({ name, size: result.size, offset: 0, attempt: 1 });
        options.onProgress?.({ name, received: result.size, size: result.size, attemptOffset: 0 });
        return result;
      });
    },
    async untaken() {
      await done;
      const results: DownloadResult[] = [];
      for (const name of local.keys()) {
        if (taken.has(name)) continue;
        const kept = unchanged.get(name);
        const file = batched.get(name);
        const outcome = await file?.outcome;
        if (kept) results.push(kept);
        else if (file && outcome?.result === 'ok') results.push(resultOf(name, file, outcome));
      }
      return results;
    },
    done,
  };
}
