import type { CoreDeps } from '../shared/deps';
import type { EventRecord } from '../../events/event-log';
import { allParties, counterUpdate, sendTransaction, type CounterChange } from './counter-store';
import { performanceCredits } from './performance-credits';

/** The stream consumer name under which counters record their receipts. */
export const countersConsumer = 'counters';

/** How long a receipt outlives its event: far beyond the stream's 24-hour retention. */
const receiptTtlSeconds = 7 * 24 * 60 * 60;

/** A hot counter can lose a race with another transaction on the same item; try again briefly. */
const conflictAttempts = 3;

export type CounterOutcome = 'applied' | 'duplicate';

/**
 * Counts one event: +1 on its type for (day, every actor) and for (day, its actor), plus the
 * performance figures it credits to a user (see `performanceCredits`), in one transaction with this
 * consumer's receipt for the event, written only if absent. A replayed stream record finds the
 * receipt, the transaction is cancelled, nothing is counted twice: `duplicate`.
 */
export async function applyEventToCounters(deps: CoreDeps, event: EventRecord): Promise<CounterOutcome> {
  const receipt = deps.db.entities.streamReceipt
    .create({
      workspaceId: event.workspaceId,
      consumer: countersConsumer,
      eventId: event.eventId,
      expiresAt: Math.floor(deps.clock.nowMs() / 1000) + receiptTtlSeconds,
    })
    .params();
  const items = [
    { Put: receipt },
    ...counterChanges(event).map((change) => counterUpdate(deps.db.table, event.workspaceId, change)),
  ];
  for (let attempt = 1; ; attempt++) {
    try {
      await sendTransaction(deps, items);
      return 'applied';
    } catch (error) {
      const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
      if (reasons[0]?.Code === 'ConditionalCheckFailed') return 'duplicate';
      const conflicted = reasons.some((reason) => reason.Code === 'TransactionConflict');
      if (!conflicted || attempt >= conflictAttempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20 * attempt + Math.random() * 30));
    }
  }
}

/** What an event adds, per party: its type to every actor and to its actor, its credits to their users. */
export function counterChanges(event: EventRecord): CounterChange[] {
  const eventDay = utcDay(event.createdAt);
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
    const change = of(credit.userId, credit.day);
    for (const [figure, amount] of Object.entries(credit.figures)) {
      change.figures[figure] = (change.figures[figure] ?? 0) + amount;
    }
    if (credit.firstResponseSeconds !== undefined) change.firstResponseSeconds.push(credit.firstResponseSeconds);
  }
  return [...changes.values()];
}

/** The UTC calendar day of an ISO timestamp. */
export const utcDay = (iso: string) => new Date(iso).toISOString().slice(0, 10);
