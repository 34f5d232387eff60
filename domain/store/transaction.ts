import { DomainError, LostRace } from '../shared/errors';
import type { Db, TxEntities } from './db';

interface Rejection {
  rejected: boolean;
  code: string;
  message?: string;
}

// DynamoDB's words for an item past 400 KB: "Item size has exceeded ..." (put) and "Item size to
// update has exceeded ..." (update), as the error's message or a cancelled transaction's reason.
const itemTooLarge = /Item size (?:to update )?has exceeded the maximum allowed size/i;

const recordTooLarge = () =>
  new DomainError(
    'record_too_large',
    'The record would be larger than the 400 KB a record may hold: shorten its longest values (custom fields, text)',
  );

/**
 * The domain error for a write DynamoDB refused because an item would pass 400 KB, whether it came
 * straight from the SDK or wrapped by ElectroDB; undefined for any other error.
 */
export function asRecordTooLarge(error: unknown): DomainError | undefined {
  for (let current = error, depth = 0; current && typeof current === 'object' && depth < 3; depth++) {
    const { name, message } = current as { name?: string; message?: string };
    if (name === 'ValidationException' && itemTooLarge.test(message ?? '')) return recordTooLarge();
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
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
  if (rejections.some((item) => item.code === 'ValidationError' && itemTooLarge.test(item.message ?? ''))) {
    throw recordTooLarge();
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
