import { LostRace } from '../shared/errors';
import type { Db, TxEntities } from './db';

interface Rejection {
  rejected: boolean;
  code: string;
}

/**
 * Runs one TransactWriteItems through ElectroDB. A cancelled transaction does not throw in ElectroDB:
 * this turns a failed condition into the caller's domain error (`explain` gets the indexes of the
 * items whose condition failed; a failed condition on a version read is a `LostRace`), and a conflict
 * with a concurrent transaction into a `LostRace`: nothing was written, and the request runs again.
 */
export async function writeTransaction(
  db: Db,
  // ElectroDB's own signature for the callback is too generic to restate here.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  build: (entities: TxEntities) => any[],
  explain: (failedConditions: number[]) => Error,
): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const result = await db.transactWrite(build as any).go();
  if (!result.canceled) return;
  const rejections = result.data as unknown as Rejection[];
  const failed = rejections.flatMap((item, index) => (item.code === 'ConditionalCheckFailed' ? [index] : []));
  if (failed.length > 0) throw explain(failed);
  if (rejections.some((item) => item.code === 'TransactionConflict')) {
    throw new LostRace('Records this request writes');
  }
  throw new Error(`Transaction cancelled: ${rejections.map((item) => item.code).join(', ')}`);
}

/** True when an ElectroDB/SDK error is a failed condition on a single-item write. */
export function isConditionFailure(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  const cause = (error as { cause?: { name?: string } }).cause;
  return (
    (error as { name?: string }).name === 'ConditionalCheckFailedException' ||
    cause?.name === 'ConditionalCheckFailedException'
  );
}
