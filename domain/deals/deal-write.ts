import type { CoreDeps } from '../shared/deps';
import { conflict, lostRace } from '../shared/errors';
import type { TxEntities } from '../store/db';
import { writeTransaction } from '../store/transaction';
import { appendEvent, type EventRecord } from '../../events/event-log';
import { totalBucket } from '../pipelines/pipeline-record';
import { entryKey, listEntriesOf, statsDeltas, type DealItem } from './deal-record';

type Op = (tx: TxEntities) => unknown;

/**
 * The item budget of one deal change's transaction (DynamoDB allows 100):
 *   1 deal + at most 7 list entries deleted + 7 put + 4 stats items (the total and the currency
 *   bucket of the stage left and of the stage entered) + at most 3 events = 22.
 */
export const maxDealTransactionItems = 22;

/**
 * The transaction items of a deal change, in order: the deal (created, or put conditional on the
 * version read), its list entries (those whose key went away deleted, all current ones put: each
 * carries the deal), the stage stats ADDs and the events. Exported for the seeding of benches and
 * tests, which write the same items.
 */
export function dealChangeOps(before: DealItem | undefined, after: DealItem | undefined, events: EventRecord[]) {
  const ops: { op: Op; kind: 'deal' | 'entry' | 'stage' | 'other' }[] = [];
  if (after) {
    ops.push({
      kind: 'deal',
      op: before
        ? (tx) =>
            tx.deal
              .put(after)
              .where((attr, { eq }) => eq(attr.version, before.version))
              .commit()
        : (tx) => tx.deal.create(after).commit(),
    });
  }
  const afterEntries = after ? listEntriesOf(after) : [];
  const afterKeys = new Set(afterEntries.map(entryKey));
  for (const entry of before ? listEntriesOf(before) : []) {
    if (afterKeys.has(entryKey(entry))) continue;
    const { workspaceId, list, valueKey, dealId } = entry;
    ops.push({ kind: 'entry', op: (tx) => tx.dealListEntry.delete({ workspaceId, list, valueKey, dealId }).commit() });
  }
  for (const entry of afterEntries) ops.push({ kind: 'entry', op: (tx) => tx.dealListEntry.put(entry).commit() });
  const workspaceId = (after ?? before)!.workspaceId;
  for (const delta of statsDeltas(before, after)) {
    const key = { workspaceId, pipelineId: delta.pipelineId, stageId: delta.stageId, bucket: delta.bucket };
    ops.push(
      delta.bucket === totalBucket
        ? // The stage must still exist (its total item goes only with it, when it holds no deal).
          { kind: 'stage', op: (tx) => tx.stageStats.patch(key).add({ count: delta.count }).commit() }
        : { kind: 'other', op: (tx) => tx.stageStats.update(key).add({ count: delta.count, sum: delta.sum }).commit() },
    );
  }
  for (const event of events) ops.push({ kind: 'other', op: (tx) => appendEvent(tx, event) });
  return ops;
}

/**
 * Writes one deal change in ONE transaction (see `dealChangeOps`): nothing is half-written, the stage
 * counts and sums move with the deal, and the version condition makes a lost update impossible: of
 * two concurrent changes of one deal, the second fails and counts nothing (a `LostRace`: the request
 * runs again from its read). A transaction that lost to another deal's on a stats item is one too.
 */
export async function commitDeal(
  deps: CoreDeps,
  before: DealItem | undefined,
  after: DealItem,
  events: EventRecord[],
): Promise<void> {
  const ops = dealChangeOps(before, after, events);
  if (ops.length > maxDealTransactionItems) throw new Error(`A deal change of ${ops.length} items`);
  await writeTransaction(
    deps.db,
    (tx) => ops.map(({ op }) => op(tx)),
    (failed) => {
      const kind = ops[failed[0]!]?.kind;
      if (kind === 'deal' && !before) return conflict('already_exists', 'A deal with this id already exists');
      // The version read is gone, or the stage's stats item went with the stage (removed meanwhile):
      // run again from the read, which then sees the other change (412 with If-Match; the stage gone).
      if (kind === 'stage') return lostRace('The stage');
      return lostRace('The deal');
    },
  );
}
