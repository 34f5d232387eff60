import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import * as z from 'zod';
import type { CallerContext } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import { retryLostRaces } from '../shared/retry';
import { writeTransaction } from '../store/transaction';
import { conversationKinds } from './inbox.entity';

/** The stream consumer name under which the unread totals record their receipts. */
export const unreadTotalsConsumer = 'unread-totals';
/** How long a receipt outlives its change: far beyond the stream's 24-hour retention. */
const receiptTtlSeconds = 7 * 24 * 60 * 60;
/** Receipts per transaction, with the one totals item they add to (DynamoDB allows 100 items). */
const changesPerTransaction = 99;

export const totalsFields = ['total', 'mine', 'unassigned', 'all', 'direct', 'conversations'] as const;
export type UnreadTotals = Record<(typeof totalsFields)[number], number>;

const counterImageSchema = z.object({
  __edb_e__: z.literal('unreadCounter'),
  workspaceId: z.string().min(1),
  userId: z.string().min(1),
  conversationId: z.string().min(1),
  unread: z.number(),
  kind: z.enum(conversationKinds),
  assigneeKey: z.string(),
});
type CounterImage = z.infer<typeof counterImageSchema>;

/** One stream record of a user's unread counter: the counter before and after (absent: no item). */
export interface CounterChange {
  /** The stream record's id: unique, and the same when the record is delivered again. */
  eventId: string;
  workspaceId: string;
  userId: string;
  before?: CounterImage;
  after?: CounterImage;
}

/** Reads a counter's stream record (DynamoDB JSON images); throws on anything that is not a counter. */
export function parseCounterChange(
  eventId: string | undefined,
  newImage: Record<string, unknown> | undefined,
  oldImage: Record<string, unknown> | undefined,
): CounterChange {
  if (!eventId) throw new Error('The stream record has no eventID');
  const read = (image: Record<string, unknown> | undefined) =>
    image ? counterImageSchema.parse(unmarshall(image as Record<string, AttributeValue>)) : undefined;
  const after = read(newImage);
  const before = read(oldImage);
  const either = after ?? before;
  if (!either) throw new Error('The stream record has neither image: is the stream NEW_AND_OLD_IMAGES?');
  return { eventId, workspaceId: either.workspaceId, userId: either.userId, before, after };
}

const zero = (): UnreadTotals => ({ total: 0, mine: 0, unassigned: 0, all: 0, direct: 0, conversations: 0 });

/** What one counter adds to its user's totals (a counter below zero, read meanwhile, adds nothing). */
export function contribution(counter: CounterImage | undefined): UnreadTotals {
  const totals = zero();
  const unread = Math.max(0, counter?.unread ?? 0);
  if (!counter || unread === 0) return totals;
  totals.total = unread;
  totals.conversations = 1;
  if (counter.kind === 'direct') totals.direct = unread;
  else {
    totals.all = unread;
    if (counter.assigneeKey === counter.userId) totals.mine = unread;
    if (counter.assigneeKey === 'none') totals.unassigned = unread;
  }
  return totals;
}

/** After minus before: what a change adds to its user's totals. */
export function totalsDelta(change: Pick<CounterChange, 'before' | 'after'>): UnreadTotals {
  const before = contribution(change.before);
  const after = contribution(change.after);
  const delta = zero();
  for (const field of totalsFields) delta[field] = after[field] - before[field];
  return delta;
}

const sum = (deltas: UnreadTotals[]) => {
  const total = zero();
  for (const delta of deltas) for (const field of totalsFields) total[field] += delta[field];
  return total;
};

class SomeApplied extends Error {}

export interface ApplyOutcome {
  applied: number;
  duplicates: number;
}

/**
 * Adds counter changes to their users' totals, exactly once each: per user, in transactions of up to
 * 99 changes, each change's receipt (created only if absent) with one ADD of their summed difference.
 * A transaction that meets a receipt already written (a record delivered again) is redone change by
 * change, skipping the duplicates. Users are independent items, so they are written in parallel.
 */
export async function applyCounterChanges(deps: CoreDeps, changes: CounterChange[]): Promise<ApplyOutcome> {
  const byUser = new Map<string, CounterChange[]>();
  for (const change of changes) {
    const key = `${change.workspaceId}#${change.userId}`;
    byUser.set(key, [...(byUser.get(key) ?? []), change]);
  }
  const outcomes = await Promise.all(
    [...byUser.values()].map(async (userChanges) => {
      const outcome: ApplyOutcome = { applied: 0, duplicates: 0 };
      for (let start = 0; start < userChanges.length; start += changesPerTransaction) {
        const group = userChanges.slice(start, start + changesPerTransaction);
        try {
          await addToTotals(deps, group);
          outcome.applied += group.length;
        } catch (error) {
          if (!(error instanceof SomeApplied)) throw error;
          for (const change of group) {
            try {
              await addToTotals(deps, [change]);
              outcome.applied += 1;
            } catch (single) {
              if (!(single instanceof SomeApplied)) throw single;
              outcome.duplicates += 1;
            }
          }
        }
      }
      return outcome;
    }),
  );
  return {
    applied: outcomes.reduce((n, outcome) => n + outcome.applied, 0),
    duplicates: outcomes.reduce((n, outcome) => n + outcome.duplicates, 0),
  };
}

/** One user's changes: their receipts and one ADD of their sum, in one transaction. */
function addToTotals(deps: CoreDeps, changes: CounterChange[]): Promise<void> {
  const { workspaceId, userId } = changes[0]!;
  const delta = sum(changes.map(totalsDelta));
  const expiresAt = Math.floor(deps.clock.nowMs() / 1000) + receiptTtlSeconds;
  // Two shards' batches may add to one user's totals at once: the loser is sent again.
  return retryLostRaces(() =>
    writeTransaction(
      deps.db,
      (tx) => [
        ...changes.map((change) =>
          tx.streamReceipt
            .create({ workspaceId, consumer: unreadTotalsConsumer, eventId: change.eventId, expiresAt })
            .commit(),
        ),
        tx.unreadTotals.upsert({ workspaceId, userId }).add(delta).commit(),
      ],
      () => new SomeApplied(),
    ),
  );
}

/** The caller's totals (zeros before their first unread message); never below zero. */
export async function readUnreadTotals(deps: CoreDeps, caller: CallerContext): Promise<UnreadTotals> {
  const { data } = await deps.db.entities.unreadTotals.get({ workspaceId: caller.workspaceId, userId: caller.userId }).go();
  return totalsOf(data ?? undefined);
}

/** The totals an item holds (absent fields, or no item, are 0; never below zero). */
export function totalsOf(item: Partial<Record<(typeof totalsFields)[number], unknown>> | undefined): UnreadTotals {
  const totals = zero();
  for (const field of totalsFields) {
    const value = item?.[field];
    totals[field] = typeof value === 'number' ? Math.max(0, value) : 0;
  }
  return totals;
}
