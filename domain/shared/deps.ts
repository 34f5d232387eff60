import type { Db } from '../store/db';
import type { BlobStore, Clock, IdGenerator, JobQueue, Mailer } from './ports';

/** Everything a domain call may use, built once per cold start (functions/shared/deps.ts). */
export interface Deps {
  db: Db;
  clock: Clock;
  newId: IdGenerator;
  queue: JobQueue;
  blobs: BlobStore;
  mailer: Mailer;
}

/** Most domain calls need only the table, the clock and ids. */
export type CoreDeps = Pick<Deps, 'db' | 'clock' | 'newId'>;
