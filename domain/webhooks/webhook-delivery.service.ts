import { appendEvent, newEvent } from '../../events/event-log';
import { systemActor } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import { WebhookTransportError, type JobQueue, type SecretSealer, type WebhookTransport } from '../shared/ports';
import { isConditionFailure, writeTransaction } from '../store/transaction';
import {
  deliveryMessage,
  dueShards,
  nextAttemptMs,
  withDueKeys,
  type DeliveryItem,
  type DeliveryMessage,
} from './webhook-delivery-record';
import { signedHeaders } from './webhook-signing';
import { resolveWebhookTarget, UnsafeWebhookUrl, type WebhookNetworkPolicy } from './webhook-url';
import { findSubscription, signingSecrets, type SubscriptionItem } from './webhooks.service';
import { webhookSettings } from './webhook-settings';
import type { DeliveryAttempt } from './webhooks.schemas';

/** What an attempt needs: the table, the queue (its retry's message), the sealer (the secrets), the network. */
export type DeliveryDeps = CoreDeps & { queue: JobQueue; sealer: SecretSealer; transport: WebhookTransport; policy: WebhookNetworkPolicy };

export type AttemptOutcome = 'missing' | 'not_pending' | 'not_due' | 'held' | 'skipped' | 'delivered' | 'retrying' | 'failed';

const isoAt = (ms: number) => new Date(ms).toISOString();

async function readDeliveryItem(deps: CoreDeps, message: DeliveryMessage) {
  const { data } = await deps.db.entities.webhookDelivery.get(message).go({ consistent: true });
  return (data as DeliveryItem | null) ?? undefined;
}

/** Writes the delivery's next state, conditional on the version read; false when another writer won. */
async function writeDelivery(deps: CoreDeps, before: DeliveryItem, after: DeliveryItem): Promise<boolean> {
  try {
    await deps.db.entities.webhookDelivery
      .put(withDueKeys(after))
      .where((attr, { eq }) => eq(attr.version, before.version))
      .go();
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/** The payload Standard Webhooks recommends: `{ type, timestamp, data }`, data the event as the API shows it. */
const payloadOf = (item: DeliveryItem) => JSON.stringify({ type: item.eventType, timestamp: item.event.createdAt, data: item.event });

/** One POST of the delivery: its log line, whatever happened. */
async function post(deps: DeliveryDeps, subscription: SubscriptionItem, item: DeliveryItem, attempt: number): Promise<DeliveryAttempt> {
  const nowMs = deps.clock.nowMs();
  const logged = (fields: Partial<DeliveryAttempt>): DeliveryAttempt => ({
    attempt,
    at: isoAt(nowMs),
    statusCode: null,
    latencyMs: 0,
    responseExcerpt: null,
    error: null,
    ...fields,
  });
  let address;
  try {
    // Checked again at send time: the name may resolve elsewhere now (DNS rebinding); the POST connects to this address.
    address = await resolveWebhookTarget(subscription.url, deps.policy, (host) => deps.transport.resolve(host));
  } catch (error) {
    if (error instanceof UnsafeWebhookUrl) return logged({ error: `Refused: ${error.message}` });
    throw error;
  }
  const body = payloadOf(item);
  const headers = {
    'content-type': 'application/json',
    'user-agent': 'crm-webhooks/1',
    ...signedHeaders(await signingSecrets(deps, subscription), item.webhookId, new Date(nowMs), body),
  };
  try {
    const answer = await deps.transport.post({
      url: subscription.url,
      address,
      headers,
      body,
      timeoutMs: webhookSettings.attemptTimeoutMs,
      maxResponseBytes: webhookSettings.maxResponseBytes,
    });
    return logged({ statusCode: answer.status, latencyMs: answer.latencyMs, responseExcerpt: answer.bodyExcerpt || null });
  } catch (error) {
    if (error instanceof WebhookTransportError) return logged({ latencyMs: error.latencyMs, error: error.message });
    throw error;
  }
}

/**
 * The subscription's health after an attempt: a success clears `failingSince`; a failure sets it when
 * unset, and when it is older than the retry window the subscription is disabled with `webhook.disabled`
 * (`reason: failing`). Not part of the subscription's version: a user's If-Match is not disturbed.
 */
async function recordHealth(deps: CoreDeps, subscription: SubscriptionItem, succeeded: boolean): Promise<void> {
  const key = { workspaceId: subscription.workspaceId, subscriptionId: subscription.subscriptionId };
  const nowMs = deps.clock.nowMs();
  try {
    if (succeeded) {
      if (!subscription.failingSince) return;
      await deps.db.entities.webhookSubscription
        .patch(key)
        .remove(['failingSince'])
        .where((attr, { exists }) => exists(attr.failingSince))
        .go();
      return;
    }
    if (!subscription.failingSince) {
      await deps.db.entities.webhookSubscription
        .patch(key)
        .set({ failingSince: isoAt(nowMs) })
        .where((attr, { notExists }) => notExists(attr.failingSince))
        .go();
      return;
    }
  } catch (error) {
    if (isConditionFailure(error)) return;
    throw error;
  }
  if (subscription.status !== 'enabled' || nowMs - Date.parse(subscription.failingSince) < webhookSettings.retryWindowMs) return;
  const after: SubscriptionItem = {
    ...subscription,
    status: 'disabled',
    disabledReason: 'failing',
    disabledAt: isoAt(nowMs),
    version: subscription.version + 1,
    updatedAt: isoAt(nowMs),
  };
  const event = newEvent(deps, systemActor(subscription.workspaceId), 'webhook.disabled', { type: 'webhook', id: subscription.subscriptionId }, {
    reason: 'failing',
    failingSince: subscription.failingSince,
    url: subscription.url,
  });
  try {
    await writeTransaction(
      deps.db,
      (tx) => [
        tx.webhookSubscription
          .put(after)
          .where((attr, { eq }) => eq(attr.version, subscription.version))
          .commit(),
        appendEvent(tx, event),
      ],
      () => new Error('changed meanwhile'),
    );
  } catch {
    // Changed meanwhile (a user's edit, another attempt disabling it): the next failure decides again.
  }
}

/**
 * Handles one delivery message (the `deliver_webhook` queue): reads the delivery and its subscription;
 * an attempt not yet due is re-sent with the remaining delay (SQS delays at most 15 minutes); a due one
 * is held by a lease (a duplicate message then leaves it alone), POSTed once with a 10 s timeout, and
 * logged: delivered on a 2xx, else retried with backoff until its 3-day window ends (`failed`). Safe to
 * repeat: every write is conditional on the version read.
 */
export async function attemptDelivery(deps: DeliveryDeps, message: DeliveryMessage): Promise<AttemptOutcome> {
  const [item, subscription] = await Promise.all([
    readDeliveryItem(deps, message),
    findSubscription(deps, message.workspaceId, message.subscriptionId, true),
  ]);
  if (!item) return 'missing';
  if (item.status !== 'pending') return 'not_pending';
  const nowMs = deps.clock.nowMs();
  const at = isoAt(nowMs);
  if (!subscription || subscription.status !== 'enabled') {
    // Deleted or disabled meanwhile: not sent. A replay of an enabled subscription may send it later.
    await writeDelivery(deps, item, { ...item, status: 'skipped', version: item.version + 1, updatedAt: at });
    return 'skipped';
  }
  if (item.leaseUntil && Date.parse(item.leaseUntil) > nowMs) return 'held';
  const dueMs = Date.parse(item.nextAttemptAt ?? at);
  if (dueMs > nowMs + 1000) {
    await deps.queue.send(deliveryMessage(item, nowMs));
    return 'not_due';
  }
  const held: DeliveryItem = { ...item, leaseUntil: isoAt(nowMs + webhookSettings.leaseMs), version: item.version + 1, updatedAt: at };
  if (!(await writeDelivery(deps, item, held))) return 'held';

  const attempt = await post(deps, subscription, held, item.attemptCount + 1);
  const succeeded = attempt.statusCode !== null && attempt.statusCode >= 200 && attempt.statusCode < 300;
  const afterMs = deps.clock.nowMs();
  const attempts = [...item.attempts, attempt].slice(-webhookSettings.maxLoggedAttempts);
  const retryFromMs = Date.parse(item.retryFrom ?? at);
  const inWindow = attempts.filter((logged) => Date.parse(logged.at) >= retryFromMs).length;
  const next = succeeded ? undefined : nextAttemptMs(retryFromMs, inWindow, afterMs);
  const { leaseUntil: _lease, nextAttemptAt: _next, ...rest } = held;
  const after: DeliveryItem = {
    ...rest,
    attempts,
    attemptCount: item.attemptCount + 1,
    status: succeeded ? 'delivered' : next === undefined ? 'failed' : 'pending',
    ...(succeeded ? { deliveredAt: isoAt(afterMs) } : {}),
    ...(next !== undefined ? { nextAttemptAt: isoAt(next) } : {}),
    version: held.version + 1,
    updatedAt: isoAt(afterMs),
  };
  // Lost only if the lease ran out and another attempt took over: that one's log line stands.
  if (!(await writeDelivery(deps, held, after))) return 'held';
  await recordHealth(deps, subscription, succeeded);
  if (after.status === 'pending') await deps.queue.send(deliveryMessage(after, afterMs));
  return succeeded ? 'delivered' : after.status === 'pending' ? 'retrying' : 'failed';
}

/**
 * The webhooks part of the `sweep-jobs` schedule: pending deliveries overdue by more than `sweepGraceMs` (their message
 * was lost: a crash between a write and its send, a dead-lettered message) get a message again. All 16
 * shards of the due index in parallel, oldest first, at most `perShard` a run. Returns how many were sent.
 */
export async function sweepOverdueDeliveries(deps: CoreDeps & { queue: JobQueue }, perShard = 500): Promise<number> {
  const nowMs = deps.clock.nowMs();
  const before = isoAt(nowMs - webhookSettings.sweepGraceMs);
  const sent = await Promise.all(
    Array.from({ length: dueShards }, async (_, shard) => {
      let count = 0;
      let cursor: string | null = null;
      do {
        const page: { data: unknown[]; cursor: string | null } = await deps.db.entities.webhookDelivery.query
          .due({ dueShard: String(shard) })
          .lt({ dueKey: before })
          .go({ limit: 100, cursor });
        for (const item of page.data as DeliveryItem[]) {
          if (item.leaseUntil && Date.parse(item.leaseUntil) > nowMs) continue;
          await deps.queue.send(deliveryMessage(item));
          count += 1;
        }
        cursor = page.cursor;
      } while (cursor && count < perShard);
      return count;
    }),
  );
  return sent.reduce((sum, count) => sum + count, 0);
}
