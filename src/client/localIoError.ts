import { status } from '@grpc/grpc-js';
import { StatusError } from '../shared/statusError.js';

/**
 * A failure of this machine's disk (no space, no permission, ...). Never
 * retried: waiting does not free space. The partial and the task map stay
 * as they were, so the next run resumes once the cause is fixed.
 */
export class LocalIoError extends StatusError {
  constructor(action: string, file: string, cause: NodeJS.ErrnoException) {
    super(status.INTERNAL, `cannot ${action} ${file}: ${cause.message}`, { cause });
    this.name = 'LocalIoError';
  }
}

/** Runs a local file operation, turning its failure into a LocalIoError. */
export async function locally<T>(action: string, file: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof StatusError) throw err;
    throw new LocalIoError(action, file, err as NodeJS.ErrnoException);
  }
}
