import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import * as z from 'zod';
import { acceptsAssignmentEvent, applyAssignmentEvent, assignmentConsumer } from '../domain/assignment/assignment.service';
import { applyBotEvent, botAccepts } from '../domain/bot/autoreply.service';
import { applyEventsToCounters, applyEventToCounters } from '../domain/metrics/counters.service';
import type { CoreDeps } from '../domain/shared/deps';
import type { JobQueue } from '../domain/shared/ports';
import { fanOutBatchToWebhooks, fanOutToWebhooks } from '../domain/webhooks/webhook-fanout';
import type { EventRecord } from './event-log';
import { feedConsumer } from './feed';

/**
 * An event item as the stream delivers it (the NewImage of an INSERT), after unmarshalling. ElectroDB's
 * identity attribute tells event items apart from every other item in the table.
 */
export const streamedEventSchema = z
  .object({
    __edb_e__: z.literal('event'),
    workspaceId: z.string().min(1),
    eventId: z.string().min(1),
    type: z.string().min(1),
    entityType: z.string().min(1),
    entityId: z.string().min(1),
    actorUserId: z.string().min(1),
    payload: z.unknown(),
    createdAt: z.iso.datetime(),
    contactId: z.string().optional(),
    companyId: z.string().optional(),
    dealId: z.string().optional(),
    channel: z.string().optional(),
  })
  .transform(({ __edb_e__: _identity, ...event }): EventRecord => event);

/**
 * What fan-out consumers may use: the table, clock and ids, and the queues (outbound webhooks enqueue
 * their deliveries). No model: a consumer whose work calls one writes a job for it (the bot's `bot_reply`).
 */
export type FanoutDeps = CoreDeps & { queue: JobQueue };

export interface FanoutConsumer {
  /** Also the consumer's name in its stream receipts. */
  name: string;
  /** Which events it wants; all when absent. Consumers check what changed before they do work. */
  accepts?: (event: EventRecord) => boolean;
  /** Must be idempotent per event id: a replayed stream record changes nothing twice. */
  apply: (deps: FanoutDeps, event: EventRecord) => Promise<unknown>;
  /**
   * The whole batch at once, when the consumer can do better than one event at a time (counters fold
   * a batch into a few transactions). Idempotent per event like `apply`; all of it applied or it
   * throws, and then each event goes through `apply`, so one bad event fails alone.
   */
  applyBatch?: (deps: FanoutDeps, events: readonly EventRecord[]) => Promise<unknown>;
}

/** Where each appended event goes. Adding a consumer (segments, outbound integrations) is one line. */
export const fanoutConsumers: readonly FanoutConsumer[] = [
  { name: 'counters', apply: applyEventToCounters, applyBatch: applyEventsToCounters },
  feedConsumer,
  { name: assignmentConsumer, accepts: acceptsAssignmentEvent, apply: applyAssignmentEvent },
  // Outbound webhooks: a delivery per matching subscription, its message to the `deliver_webhook` queue.
  { name: 'webhooks', apply: fanOutToWebhooks, applyBatch: fanOutBatchToWebhooks },
  // The autoreply bot: a contact's message (`<channel>.replied`) it may answer becomes a `bot_reply` job
  // (the model is called there, off the stream); resolutions reset its reply count.
  { name: 'bot', accepts: botAccepts, apply: applyBotEvent },
];

/** Parses an event item's stream image (DynamoDB JSON); throws on anything that is not a valid event. */
export function parseEventImage(image: Record<string, unknown> | undefined): EventRecord {
  if (!image) throw new Error('The stream record has no NewImage: is the stream NEW_AND_OLD_IMAGES?');
  return streamedEventSchema.parse(unmarshall(image as Record<string, AttributeValue>));
}

/**
 * Hands one event to every consumer that accepts it. All run even when one fails; then the failure is
 * thrown so the stream record is retried (consumers that succeeded hold receipts and skip it then).
 */
export async function fanOutEvent(
  deps: FanoutDeps,
  event: EventRecord,
  consumers: readonly FanoutConsumer[] = fanoutConsumers,
): Promise<void> {
  const chosen = consumers.filter((consumer) => consumer.accepts?.(event) ?? true);
  const results = await Promise.allSettled(chosen.map((consumer) => consumer.apply(deps, event)));
  const failures = results.flatMap((result, index) =>
    result.status === 'rejected' ? [{ consumer: chosen[index]!.name, error: result.reason as unknown }] : [],
  );
  if (failures.length === 1) throw failures[0]!.error;
  if (failures.length > 1) {
    throw new AggregateError(
      failures.map((failure) => failure.error),
      `Fan-out failed for ${failures.map((failure) => failure.consumer).join(', ')} on event ${event.eventId}`,
    );
  }
}

/**
 * Hands a batch's events to every consumer that takes batches (`applyBatch`), each with the events it
 * accepts. Returns the names of those that applied all of theirs; a consumer whose batch failed is
 * left to the event-by-event path (`fanOutEvent`), where its receipts make the events it did apply
 * before failing count once.
 */
export async function fanOutBatch(
  deps: FanoutDeps,
  events: readonly EventRecord[],
  consumers: readonly FanoutConsumer[] = fanoutConsumers,
  onFailure: (consumer: string, error: unknown) => void = () => {},
): Promise<Set<string>> {
  const done = new Set<string>();
  await Promise.all(
    consumers.map(async (consumer) => {
      if (!consumer.applyBatch) return;
      try {
        await consumer.applyBatch(deps, events.filter((event) => consumer.accepts?.(event) ?? true));
        done.add(consumer.name);
      } catch (error) {
        onFailure(consumer.name, error);
      }
    }),
  );
  return done;
}
