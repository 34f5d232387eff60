import { QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { requireManager, type CallerContext } from '../domain/shared/context';
import type { CoreDeps } from '../domain/shared/deps';
import { unprocessable } from '../domain/shared/errors';
import { toEventDto, type EventRecord } from './event-log';
import type { FanoutConsumer } from './fanout';

/** The fan-out consumer that gives events their feed positions; also its name in stream receipts. */
export const feedConsumerName = 'feed';

/** How long the feed keeps an event (its entries expire; the events themselves stay in the log). */
export const feedRetentionDays = 30;

/** A receipt, an entry per event and the head: 49 events fill DynamoDB's 100 items of a transaction. */
const eventsPerTransaction = 49;
/** Receipts outlive the stream's 24-hour retention by far. */
const receiptTtlSeconds = 7 * 24 * 60 * 60;
/** Several stream shards append for one workspace at once and race for its head: each round one wins. */
const maxAttempts = 25;

const positionDigits = 15;
export const positionKey = (position: number) => String(position).padStart(positionDigits, '0');

export interface FeedAppendOutcome {
  appended: number;
  duplicates: number;
  transactions: number;
}

/**
 * Gives each event the next position of its workspace's feed. Per workspace, in event id order, up to
 * 49 events a transaction: their receipts (only if absent: a replayed event is left out), their entries
 * at head + 1 ... head + n, and the head moved from the value read to head + n (conditional). Of two
 * consumers appending for one workspace, the second's head condition fails; it reads the head again.
 */
export async function appendToFeed(deps: CoreDeps, events: readonly EventRecord[]): Promise<FeedAppendOutcome> {
  const outcome: FeedAppendOutcome = { appended: 0, duplicates: 0, transactions: 0 };
  const byWorkspace = new Map<string, EventRecord[]>();
  for (const event of events) byWorkspace.set(event.workspaceId, [...(byWorkspace.get(event.workspaceId) ?? []), event]);
  for (const [workspaceId, own] of byWorkspace) {
    const sorted = [...own].sort((a, b) => (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0));
    for (let start = 0; start < sorted.length; start += eventsPerTransaction) {
      await appendChunk(deps, workspaceId, sorted.slice(start, start + eventsPerTransaction), outcome);
    }
  }
  return outcome;
}

async function appendChunk(deps: CoreDeps, workspaceId: string, events: EventRecord[], outcome: FeedAppendOutcome): Promise<void> {
  const { entities } = deps.db;
  let chunk = events;
  for (let attempt = 1; chunk.length > 0; attempt += 1) {
    const head = await entities.feedHead.get({ workspaceId }).go({ consistent: true });
    const from = head.data?.position ?? 0;
    const writtenAt = Math.floor(deps.clock.nowMs() / 1000);
    const receipts = chunk.map((event) => ({
      Put: entities.streamReceipt
        .create({ workspaceId, consumer: feedConsumerName, eventId: event.eventId, expiresAt: writtenAt + receiptTtlSeconds })
        .params(),
    }));
    const entries = chunk.map((event, index) => ({
      Put: entities.feedEntry
        .create({
          ...feedAttributes(event),
          positionKey: positionKey(from + index + 1),
          expiresAt: writtenAt + feedRetentionDays * 24 * 60 * 60,
        })
        .params(),
    }));
    const to = from + chunk.length;
    const moveHead = head.data
      ? {
          Update: entities.feedHead
            .patch({ workspaceId })
            .set({ position: to })
            .where((attr, { eq }) => eq(attr.position, from))
            .params(),
        }
      : { Put: entities.feedHead.create({ workspaceId, position: to }).params() };
    try {
      await deps.db.client.send(new TransactWriteCommand({ TransactItems: [...receipts, ...entries, moveHead] as never }));
      outcome.appended += chunk.length;
      outcome.transactions += 1;
      return;
    } catch (error) {
      const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
      if (!reasons) throw error;
      // Receipts come first, in the chunk's order: a failed one names an event already in the feed.
      const applied = new Set(reasons.slice(0, chunk.length).flatMap((reason, index) => (reason.Code === 'ConditionalCheckFailed' ? [index] : [])));
      if (applied.size > 0) {
        outcome.duplicates += applied.size;
        chunk = chunk.filter((_, index) => !applied.has(index));
        continue;
      }
      // The head moved (another shard appended) or a concurrent transaction touched it: read it again.
      if (attempt >= maxAttempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(200, 10 * 2 ** attempt)));
    }
  }
}

const feedAttributes = ({ eventId, workspaceId, type, entityType, entityId, actorUserId, payload, createdAt, contactId, companyId, dealId, channel }: EventRecord) => ({
  eventId,
  workspaceId,
  type,
  entityType,
  entityId,
  actorUserId,
  payload,
  createdAt,
  ...(contactId ? { contactId } : {}),
  ...(companyId ? { companyId } : {}),
  ...(dealId ? { dealId } : {}),
  ...(channel ? { channel } : {}),
});

export const feedConsumer: FanoutConsumer = {
  name: feedConsumerName,
  apply: (deps, event) => appendToFeed(deps, [event]),
  applyBatch: appendToFeed,
};

export interface FeedQuery {
  after?: string;
  /** Exact event types, or `<prefix>.*`. */
  types?: string[];
  limit: number;
}

export interface FeedPage {
  items: (ReturnType<typeof toEventDto> & { position: string })[];
  nextAfter: string;
  hasMore: boolean;
}

/**
 * A page of the workspace's feed after a position, oldest first: one consistent Query of the feed's
 * partition (a `types` filter is a FilterExpression, so a filtered page may be short, even empty, with
 * `hasMore`). `nextAfter` is where the next page starts, also when this one is the last for now: the
 * integrator keeps it and asks again later. Owners and admins only: the feed holds every record's events.
 */
export async function readFeed(deps: CoreDeps, caller: CallerContext, query: FeedQuery): Promise<FeedPage> {
  requireManager(caller, 'read the change feed');
  const after = Number(query.after ?? '0');
  const { entities, client } = deps.db;
  const keyed = entities.feedEntry.query.byPosition({ workspaceId: caller.workspaceId }).gt({ positionKey: positionKey(after) });
  const exact = query.types?.filter((type) => !type.endsWith('.*')) ?? [];
  const prefixes = query.types?.filter((type) => type.endsWith('.*')).map((type) => type.slice(0, -1)) ?? [];
  const params = query.types
    ? keyed
        .where((attr, { eq, begins }) =>
          [...exact.map((type) => eq(attr.type, type)), ...prefixes.map((prefix) => begins(attr.type, prefix))].join(' OR '),
        )
        .params({ limit: query.limit, consistent: true })
    : keyed.params({ limit: query.limit, consistent: true });
  const result = await client.send(new QueryCommand(params as ConstructorParameters<typeof QueryCommand>[0]));
  const { data } = entities.feedEntry.parse({ Items: result.Items ?? [] });
  const items = data.map(({ positionKey: key, expiresAt: _expiresAt, ...event }) => ({ position: String(Number(key)), ...toEventDto(event as EventRecord) }));
  // Positions are dense: without a filter, a first entry past `after + 1` means those between expired.
  if (!query.types && after > 0 && items.length > 0 && Number(items[0]!.position) > after + 1) {
    throw unprocessable(`The events after position ${after} are past the feed's ${feedRetentionDays} days: start again from the oldest kept`, {
      oldestPosition: items[0]!.position,
    });
  }
  const lastRead = result.LastEvaluatedKey?.sk;
  const nextAfter = typeof lastRead === 'string' ? String(Number(lastRead)) : (items.at(-1)?.position ?? String(after));
  return { items, nextAfter, hasMore: result.LastEvaluatedKey !== undefined };
}
