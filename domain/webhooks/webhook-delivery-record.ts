import { createHash } from 'node:crypto';
import * as z from 'zod';
import { toEventDto, type EventRecord } from '../../events/event-log';
import type { QueuedMessage } from '../shared/ports';
import { webhookIdOf } from './webhook-signing';
import { webhookSettings } from './webhook-settings';
import type { Delivery, DeliveryAttempt } from './webhooks.schemas';

/** The queue deliveries' messages go to (functions/jobs/job-queues.ts). */
export const deliveryQueue = 'deliver_webhook';

/** A delivery item as stored. */
export interface DeliveryItem {
  workspaceId: string;
  subscriptionId: string;
  eventId: string;
  webhookId: string;
  eventType: string;
  /** The event as the API shows it (`data` of the payload). */
  event: ReturnType<typeof toEventDto>;
  status: 'pending' | 'delivered' | 'failed' | 'skipped';
  attempts: DeliveryAttempt[];
  attemptCount: number;
  retryFrom?: string;
  nextAttemptAt?: string;
  leaseUntil?: string;
  deliveredAt?: string;
  dueShard?: string;
  dueKey?: string;
  version: number;
  createdAt: string;
  updatedAt: string;
  expiresAt?: number;
}

/** What a delivery's SQS message carries: which delivery; the item says whether and when to attempt it. */
export const deliveryMessageSchema = z.object({ workspaceId: z.string().min(1), subscriptionId: z.string().min(1), eventId: z.string().min(1) });
export type DeliveryMessage = z.infer<typeof deliveryMessageSchema>;

/** Partitions of the due index: pending deliveries spread over them by a hash of their key. */
export const dueShards = 16;

const dueShardOf = (item: Pick<DeliveryItem, 'subscriptionId' | 'eventId'>) =>
  String(createHash('sha256').update(`${item.subscriptionId}/${item.eventId}`).digest().readUInt32BE(0) % dueShards);

/**
 * The item with the due index's keys when pending (the sweep finds it once overdue), without them
 * otherwise. Every write of a delivery goes through here.
 */
export function withDueKeys(item: DeliveryItem): DeliveryItem {
  const { dueShard: _shard, dueKey: _key, ...rest } = item;
  if (item.status !== 'pending' || !item.nextAttemptAt) return rest;
  return { ...rest, dueShard: dueShardOf(item), dueKey: `${item.nextAttemptAt}#${item.workspaceId}#${item.subscriptionId}#${item.eventId}` };
}

/** A new delivery of the event to the subscription: pending now, or `skipped` for a disabled subscription (a replay may send it later). */
export function newDeliveryItem(event: EventRecord, subscriptionId: string, enabled: boolean, nowIso: string): DeliveryItem {
  return withDueKeys({
    workspaceId: event.workspaceId,
    subscriptionId,
    eventId: event.eventId,
    webhookId: webhookIdOf(event.eventId, subscriptionId),
    eventType: event.type,
    event: toEventDto(event),
    status: enabled ? 'pending' : 'skipped',
    attempts: [],
    attemptCount: 0,
    ...(enabled ? { retryFrom: nowIso, nextAttemptAt: nowIso } : {}),
    version: 1,
    createdAt: nowIso,
    updatedAt: nowIso,
    expiresAt: Math.floor((Date.parse(event.createdAt) + webhookSettings.deliveryRetentionMs) / 1000),
  });
}

/** Back to pending for an attempt now, in a new retry window (a redelivery or a replay). */
export function redeliveredItem(item: DeliveryItem, nowMs: number): DeliveryItem {
  const at = new Date(nowMs).toISOString();
  const { leaseUntil: _lease, ...rest } = item;
  return withDueKeys({ ...rest, status: 'pending', retryFrom: at, nextAttemptAt: at, version: item.version + 1, updatedAt: at });
}

/** The SQS message of a delivery, delayed until its attempt is due (at most SQS's 15 minutes; the handler waits again if need be). */
export function deliveryMessage(item: DeliveryItem, nowMs?: number): QueuedMessage {
  const dueInMs = item.nextAttemptAt && nowMs !== undefined ? Date.parse(item.nextAttemptAt) - nowMs : 0;
  const delaySeconds = Math.min(900, Math.max(0, Math.ceil(dueInMs / 1000)));
  return {
    queue: deliveryQueue,
    body: { workspaceId: item.workspaceId, subscriptionId: item.subscriptionId, eventId: item.eventId } satisfies DeliveryMessage,
    ...(delaySeconds > 0 ? { delaySeconds } : {}),
  };
}

export function toDelivery(item: DeliveryItem): Delivery {
  return {
    id: item.eventId,
    webhookId: item.webhookId,
    eventType: item.eventType,
    status: item.status,
    attemptCount: item.attemptCount,
    attempts: item.attempts,
    nextAttemptAt: item.status === 'pending' ? (item.nextAttemptAt ?? null) : null,
    deliveredAt: item.deliveredAt ?? null,
    createdAt: item.createdAt,
    event: item.event as Delivery['event'],
  };
}

/** The wait before the attempt after attempt `n` (1-based): 5 s, 20 s, 80 s... ×4 each time, at most 12 h. */
export const retryDelayMs = (attempt: number) =>
  Math.min(webhookSettings.maxRetryDelayMs, webhookSettings.firstRetryDelayMs * 4 ** Math.max(0, attempt - 1));

/**
 * When to try again after a failed attempt, or undefined to give up: the backoff, but never past the
 * retry window's end, where one last attempt is made (so a receiver down for the whole window is tried
 * at its very end, and the subscription's 3 days of failing are reached by that attempt).
 */
export function nextAttemptMs(retryFromMs: number, attemptInWindow: number, nowMs: number): number | undefined {
  const windowEnd = retryFromMs + webhookSettings.retryWindowMs;
  if (nowMs >= windowEnd) return undefined;
  return Math.min(nowMs + retryDelayMs(attemptInWindow), windowEnd);
}
