import type { CoreDeps } from '../shared/deps';
import { DomainError } from '../shared/errors';
import { writeTransaction } from '../store/transaction';
import type { EventRecord } from '../../events/event-log';

/** The stream consumer name under which counters record their receipts. */
export const countersConsumer = 'counters';

/** The actor id of the counter that totals a type over every actor. */
export const allActors = '*';

/** How long a receipt outlives its event: far beyond the stream's 24-hour retention. */
const receiptTtlSeconds = 7 * 24 * 60 * 60;

/** A hot counter can lose a race with another transaction on the same item; try again briefly. */
const conflictAttempts = 3;

class AlreadyApplied extends Error {}

export type CounterOutcome = 'applied' | 'duplicate';

/**
 * Counts one event: +1 on (day, type, all actors) and on (day, type, actor), in the same transaction
 * as this consumer's receipt for the event, written only if absent. A replayed stream record finds
 * the receipt, the whole transaction is cancelled, and nothing is counted twice: `duplicate`.
 */
export async function applyEventToCounters(deps: CoreDeps, event: EventRecord): Promise<CounterOutcome> {
  const day = utcDay(event.createdAt);
  const keys = { workspaceId: event.workspaceId, day, type: event.type };
  const actors = event.actorUserId === allActors ? [allActors] : [allActors, event.actorUserId];
  const receipt = {
    workspaceId: event.workspaceId,
    consumer: countersConsumer,
    eventId: event.eventId,
    expiresAt: Math.floor(deps.clock.nowMs() / 1000) + receiptTtlSeconds,
  };
  for (let attempt = 1; ; attempt++) {
    try {
      await writeTransaction(
        deps.db,
        (tx) => [
          tx.streamReceipt.create(receipt).commit(),
          // `update` is an upsert: it SETs the key composites and ElectroDB's identity attributes, so a
          // counter created by its first ADD is found by `counter.query.byDay`.
          ...actors.map((actorUserId) =>
            tx.counter
              .update({ ...keys, actorUserId })
              .add({ count: 1 })
              .commit(),
          ),
        ],
        () => new AlreadyApplied(),
      );
      return 'applied';
    } catch (error) {
      if (error instanceof AlreadyApplied) return 'duplicate';
      const conflicted = error instanceof DomainError && error.code === 'conflict';
      if (!conflicted || attempt >= conflictAttempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20 * attempt + Math.random() * 30));
    }
  }
}

export interface DayCounters {
  workspaceId: string;
  day: string;
  /** Events of each type that day, over all actors. */
  totals: Record<string, number>;
  /** Events of each type that day, by the actor's user id (`system` for the system). */
  byActor: Record<string, Record<string, number>>;
}

/** A workspace's counters for one UTC day (`YYYY-MM-DD`), read by one Query on the day's partition. */
export async function readDayCounters(
  deps: CoreDeps,
  workspaceId: string,
  day: string,
): Promise<DayCounters> {
  const { data } = await deps.db.entities.counter.query.byDay({ workspaceId, day }).go({ pages: 'all' });
  const result: DayCounters = { workspaceId, day, totals: {}, byActor: {} };
  for (const item of data) {
    if (item.actorUserId === allActors) result.totals[item.type] = item.count;
    else (result.byActor[item.type] ??= {})[item.actorUserId] = item.count;
  }
  return result;
}

/** The UTC calendar day of an ISO timestamp. */
export const utcDay = (iso: string) => new Date(iso).toISOString().slice(0, 10);
