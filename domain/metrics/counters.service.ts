import type { CoreDeps } from '../shared/deps';
import type { EventRecord } from '../../events/event-log';
import { allParties, counterUpdate, sendTransaction, type CounterChange } from './counter-store';
import { performanceCredits } from './performance-credits';
import { dayIn, defaultTimeZone } from '../shared/time-zones';
import { workspaceTimeZones } from '../workspaces/workspaces.service';

/** The stream consumer name under which counters record their receipts. */
export const countersConsumer = 'counters';

/** How long a receipt outlives its event: far beyond the stream's 24-hour retention. */
const receiptTtlSeconds = 7 * 24 * 60 * 60;

/** A hot counter can lose a race with another transaction on the same item; try again briefly. */
const conflictAttempts = 3;

export type CounterOutcome = 'applied' | 'duplicate';

/** DynamoDB's limit of items in one TransactWriteItems. */
const maxTransactionItems = 100;

/** Counts one event (see `applyEventsToCounters`): `duplicate` when it was counted before. */
export async function applyEventToCounters(deps: CoreDeps, event: EventRecord): Promise<CounterOutcome> {
  return (await applyEventsToCounters(deps, [event])).applied === 1 ? 'applied' : 'duplicate';
}

export interface CountersBatchOutcome {
  applied: number;
  duplicates: number;
  transactions: number;
}

/**
 * Counts events: +1 on each one's type for (day, every actor) and for (day, its actor), plus the
 * performance figures it credits to a user (see `performanceCredits`). A stream batch is folded into
 * as few transactions as DynamoDB's 100 items allow: each holds one receipt per event (written only if
 * absent) and one ADD per counter item for all its events together. A batch of one workspace's
 * activity is then about one transaction per 90 events instead of one per event, and a busy day item
 * takes one write per transaction. A replayed event finds its receipt: the transaction is cancelled,
 * the events already counted are left out, and it is sent again, so nothing is counted twice.
 */
export async function applyEventsToCounters(deps: CoreDeps, events: readonly EventRecord[]): Promise<CountersBatchOutcome> {
  const outcome: CountersBatchOutcome = { applied: 0, duplicates: 0, transactions: 0 };
  const expiresAt = Math.floor(deps.clock.nowMs() / 1000) + receiptTtlSeconds;
  // Days are the workspace's own: counted in its time zone.
  const zones = await workspaceTimeZones(deps, events.map((event) => event.workspaceId));
  const changesOf = (event: EventRecord) => counterChanges(event, zones.get(event.workspaceId) ?? defaultTimeZone);
  for (let start = 0; start < events.length; ) {
    let chunk = takeChunk(events, start, changesOf);
    start += chunk.length;
    for (let attempt = 1; chunk.length > 0; ) {
      const receipts = chunk.map(({ event }) => ({
        Put: deps.db.entities.streamReceipt
          .create({ workspaceId: event.workspaceId, consumer: countersConsumer, eventId: event.eventId, expiresAt })
          .params(),
      }));
      const updates = [...mergeChanges(chunk).values()].map(({ workspaceId, change }) => counterUpdate(deps.db.table, workspaceId, change));
      try {
        await sendTransaction(deps, [...receipts, ...updates]);
        outcome.applied += chunk.length;
        outcome.transactions += 1;
        break;
      } catch (error) {
        const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
        // Receipts come first, in the chunk's order: a failed condition names an event counted before.
        const counted = new Set(reasons.slice(0, chunk.length).flatMap((reason, index) => (reason.Code === 'ConditionalCheckFailed' ? [index] : [])));
        if (counted.size > 0) {
          outcome.duplicates += counted.size;
          chunk = chunk.filter((_, index) => !counted.has(index));
          continue;
        }
        const conflicted = reasons.some((reason) => reason.Code === 'TransactionConflict');
        if (!conflicted || attempt >= conflictAttempts) throw error;
        attempt += 1;
        await new Promise((resolve) => setTimeout(resolve, 20 * attempt + Math.random() * 30));
      }
    }
  }
  return outcome;
}

interface ChunkEntry {
  event: EventRecord;
  changes: CounterChange[];
}

const itemKey = (workspaceId: string, change: CounterChange) => `${workspaceId} ${change.party} ${change.day}`;

/** The events from `start` on whose receipts and distinct counter items fit one transaction. */
function takeChunk(
  events: readonly EventRecord[],
  start: number,
  changesOf: (event: EventRecord) => CounterChange[],
): ChunkEntry[] {
  const chunk: ChunkEntry[] = [];
  const items = new Set<string>();
  for (const event of events.slice(start)) {
    const changes = changesOf(event);
    const fresh = new Set(changes.map((change) => itemKey(event.workspaceId, change)).filter((key) => !items.has(key)));
    if (chunk.length > 0 && chunk.length + 1 + items.size + fresh.size > maxTransactionItems) break;
    chunk.push({ event, changes });
    fresh.forEach((key) => items.add(key));
  }
  return chunk;
}

/** The chunk's changes summed per counter item: a transaction may not touch an item twice. */
function mergeChanges(chunk: readonly ChunkEntry[]) {
  const merged = new Map<string, { workspaceId: string; change: CounterChange }>();
  for (const { event, changes } of chunk) {
    for (const change of changes) {
      const key = itemKey(event.workspaceId, change);
      const into = merged.get(key);
      if (!into) {
        merged.set(key, {
          workspaceId: event.workspaceId,
          change: { ...change, counts: { ...change.counts }, figures: { ...change.figures }, firstResponseSeconds: [...change.firstResponseSeconds] },
        });
        continue;
      }
      for (const [type, amount] of Object.entries(change.counts)) into.change.counts[type] = (into.change.counts[type] ?? 0) + amount;
      for (const [figure, amount] of Object.entries(change.figures)) into.change.figures[figure] = (into.change.figures[figure] ?? 0) + amount;
      into.change.firstResponseSeconds.push(...change.firstResponseSeconds);
    }
  }
  return merged;
}

/**
 * What an event adds, per party and day: its type to every actor and to its actor, its credits to
 * their users; days in the workspace's time zone.
 */
export function counterChanges(event: EventRecord, timeZone: string): CounterChange[] {
  const eventDay = dayIn(event.createdAt, timeZone);
  const changes = new Map<string, CounterChange>();
  // One update per item: a transaction may not touch an item twice.
  const of = (party: string, day = eventDay) => {
    let change = changes.get(`${party} ${day}`);
    if (!change) changes.set(`${party} ${day}`, (change = { party, day, counts: {}, figures: {}, firstResponseSeconds: [] }));
    return change;
  };
  of(allParties).counts[event.type] = 1;
  of(event.actorUserId).counts[event.type] = 1;
  for (const credit of performanceCredits(event)) {
    const change = of(credit.userId, credit.at ? dayIn(credit.at, timeZone) : eventDay);
    for (const [figure, amount] of Object.entries(credit.figures)) {
      change.figures[figure] = (change.figures[figure] ?? 0) + amount;
    }
    if (credit.firstResponseSeconds !== undefined) change.firstResponseSeconds.push(credit.firstResponseSeconds);
  }
  return [...changes.values()];
}

