import type { TaskRecord } from '../../src/client/taskMap/taskRecord.js';

/** A complete record of `name` as the task map stores one; `fields` replace its defaults. */
export const completeRecord = (name: string, fields: Partial<TaskRecord> = {}): TaskRecord => ({
  name,
  status: 'complete',
  size: 3,
  version: 'v',
  sha256: 'e'.repeat(64),
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  completedAt: '2026-01-01T00:00:00.000Z',
  ...fields,
});

/** A record as the engine writes it for a file of `size` bytes: complete ones carry a digest. */
export function recordOf(name: string, size: number, status: 'complete' | 'incomplete' = 'complete', version = 'v1'): TaskRecord {
  return {
    name,
    status,
    size,
    version,
    sha256: status === 'complete' ? 'a'.repeat(64) : null,
    createdAt: '',
    updatedAt: '',
    completedAt: null,
  };
}
