import { encodeTime } from 'ulid';
import { isEventTypePattern } from '../../events/events.schemas';
import { appendEvent, newEvent, type EventRecord } from '../../events/event-log';
import { createJob } from '../jobs/jobs.service';
import type { Job } from '../jobs/jobs.schemas';
import { assertValidRule } from '../segments/segments.service';
import type { SegmentRule } from '../segments/segment-rules';
import { requireManager, type CallerContext } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import { conflict, DomainError, limitExceeded, lostRace, notFound, stale, unprocessable } from '../shared/errors';
import { checkCursor, type Page } from '../shared/pagination';
import { retryLostRaces } from '../shared/retry';
import type { JobQueue, SealContext, SecretSealer, WebhookTransport } from '../shared/ports';
import { writeTransaction } from '../store/transaction';
import { newSigningSecret } from './webhook-signing';
import { resolveWebhookTarget, UnsafeWebhookUrl, type WebhookNetworkPolicy } from './webhook-url';
import { webhookSettings } from './webhook-settings';
import type {
  CreateWebhookInput,
  Delivery,
  ListDeliveriesQuery,
  ListWebhooksQuery,
  ReplayInput,
  UpdateWebhookInput,
  Webhook,
  WebhookWithSecret,
} from './webhooks.schemas';
import { deliveryMessage, redeliveredItem, toDelivery, type DeliveryItem } from './webhook-delivery-record';

/** What subscription operations need besides the table: the sealer, DNS (the URL check) and the network policy. */
export type WebhookDeps = CoreDeps & { sealer: SecretSealer; transport: Pick<WebhookTransport, 'resolve'>; policy: WebhookNetworkPolicy };
/** Redelivering also sends the delivery's message. */
export type RedeliverDeps = CoreDeps & { queue: JobQueue };

/** The subscription item as stored. */
export interface SubscriptionItem {
  workspaceId: string;
  subscriptionId: string;
  url: string;
  description?: string;
  eventTypes: string[];
  /** Its slot under the workspace's cap (absent on subscriptions made before slots). */
  slot?: number;
  filter?: SegmentRule;
  status: 'enabled' | 'disabled';
  disabledReason?: 'user' | 'failing';
  disabledAt?: string;
  secret: string;
  previousSecret?: string;
  previousSecretExpiresAt?: string;
  failingSince?: string;
  createdBy: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** Both secrets of a subscription are sealed under one context: a rotation moves the current one to `previousSecret` as it is. */
export const signingSecretContext = (item: Pick<SubscriptionItem, 'workspaceId' | 'subscriptionId'>): SealContext => ({
  workspaceId: item.workspaceId,
  subscriptionId: item.subscriptionId,
  secret: 'signing',
});

const webhookRef = (subscriptionId: string) => ({ type: 'webhook' as const, id: subscriptionId });

export function toWebhook(item: SubscriptionItem, nowMs: number): Webhook {
  const overlap = item.previousSecretExpiresAt && Date.parse(item.previousSecretExpiresAt) > nowMs ? item.previousSecretExpiresAt : null;
  return {
    id: item.subscriptionId,
    url: item.url,
    description: item.description ?? null,
    eventTypes: item.eventTypes,
    filter: item.filter ?? null,
    status: item.status,
    disabledReason: item.disabledReason ?? null,
    disabledAt: item.disabledAt ?? null,
    failingSince: item.failingSince ?? null,
    previousSecretExpiresAt: overlap,
    createdBy: item.createdBy,
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
    version: item.version,
  };
}

const manage = (caller: CallerContext) => requireManager(caller, 'manage webhooks');

export async function findSubscription(deps: CoreDeps, workspaceId: string, subscriptionId: string, consistent = false) {
  const { data } = await deps.db.entities.webhookSubscription.get({ workspaceId, subscriptionId }).go({ consistent });
  return (data as SubscriptionItem | null) ?? undefined;
}

async function readSubscription(deps: CoreDeps, workspaceId: string, subscriptionId: string, consistent = false) {
  const item = await findSubscription(deps, workspaceId, subscriptionId, consistent);
  if (!item) throw notFound('Webhook');
  return item;
}

/** Every subscription of the workspace (one Query: there are at most `maxSubscriptions`). */
export async function readWorkspaceSubscriptions(deps: CoreDeps, workspaceId: string): Promise<SubscriptionItem[]> {
  const { data } = await deps.db.entities.webhookSubscription.query.byWorkspace({ workspaceId }).go({ pages: 'all' });
  return data as SubscriptionItem[];
}

/** A 400 naming each pattern that matches no type of the catalogue (`body.eventTypes.1`). */
function assertKnownEventTypes(patterns: readonly string[]): void {
  const fields = patterns.flatMap((pattern, index) => {
    if (isEventTypePattern(pattern)) return [];
    return [{ field: `body.eventTypes.${index}`, message: `${JSON.stringify(pattern)} is no event type (GET /openapi.json lists them under Event types)` }];
  });
  if (fields.length > 0) throw new DomainError('validation_failed', 'Unknown event types', { fields });
}

/** The URL must resolve to addresses a webhook may reach (a 422 on `body.url`, before anything is written). */
async function assertSafeUrl(deps: WebhookDeps, url: string): Promise<void> {
  try {
    await resolveWebhookTarget(url, deps.policy, (host) => deps.transport.resolve(host));
  } catch (error) {
    if (!(error instanceof UnsafeWebhookUrl)) throw error;
    throw unprocessable(error.message, { reason: 'unsafe_url', fields: [{ field: 'body.url', message: error.message }] });
  }
}

async function commitSubscription(deps: CoreDeps, before: SubscriptionItem | undefined, after: SubscriptionItem | undefined, event: EventRecord) {
  await writeTransaction(
    deps.db,
    (tx) => [
      !before
        ? tx.webhookSubscription.create(after!).commit()
        : !after
          ? tx.webhookSubscription
              .delete({ workspaceId: before.workspaceId, subscriptionId: before.subscriptionId })
              .where((attr, { eq }) => eq(attr.version, before.version))
              .commit()
          : tx.webhookSubscription
              .put(after)
              .where((attr, { eq }) => eq(attr.version, before.version))
              .commit(),
      appendEvent(tx, event),
      // A new subscription takes its slot's guard; a deleted one frees it.
      ...(!before && after!.slot !== undefined
        ? [tx.uniqueGuard.create({ ...slotGuardKey(after!.workspaceId, after!.slot), ownerId: after!.subscriptionId, createdAt: after!.createdAt }).commit()]
        : []),
      ...(before && !after && before.slot !== undefined ? [tx.uniqueGuard.delete(slotGuardKey(before.workspaceId, before.slot)).commit()] : []),
    ],
    // A create loses only to another create that took the same slot (the id is new): it reads again.
    () => (before ? lostRace('The webhook') : lostRace('The webhook slots')),
  );
}

/**
 * Subscribes a URL to the workspace's events: the types (exact, `<group>.*` or `*`) checked against the
 * catalogue, the filter against the workspace's fields, the URL's addresses against the network policy.
 * The signing secret is made here, sealed, and shown in this answer only. Owner/admin only.
 */
export async function createWebhook(deps: WebhookDeps, caller: CallerContext, input: CreateWebhookInput): Promise<WebhookWithSecret> {
  manage(caller);
  assertKnownEventTypes(input.eventTypes);
  if (input.filter) await assertValidRule(deps, caller.workspaceId, input.filter, 'body.filter');
  await assertSafeUrl(deps, input.url);
  const ids = { workspaceId: caller.workspaceId, subscriptionId: deps.newId('whk') };
  const secret = newSigningSecret();
  const sealed = await deps.sealer.seal(secret, signingSecretContext(ids));
  // Two creates that read the same free slot collide on its guard item; the loser reads again.
  const item = await retryLostRaces(async () => {
    const slot = await freeSubscriptionSlot(deps, caller.workspaceId);
    const created = newSubscriptionItem(deps, caller, ids, input, sealed, slot);
    await commitSubscription(deps, undefined, created, subscriptionCreatedEvent(deps, caller, created));
    return created;
  });
  return { ...toWebhook(item, deps.clock.nowMs()), secret };
}

/**
 * The lowest slot (1..cap) no subscription holds, or a 422 at the cap. The cap bounds what every event's
 * fan-out reads; each subscription holds its slot's guard item, so concurrent creates never pass it.
 * (Subscriptions made before slots existed hold none and still count.)
 */
async function freeSubscriptionSlot(deps: CoreDeps, workspaceId: string): Promise<number> {
  const existing = await readWorkspaceSubscriptions(deps, workspaceId);
  const cap = webhookSettings.maxSubscriptions;
  const held = new Set(existing.map((subscription) => subscription.slot));
  for (let slot = 1; slot <= cap && existing.length < cap; slot += 1) if (!held.has(slot)) return slot;
  throw limitExceeded('body', `A workspace has at most ${cap} webhooks`, cap);
}

/** The guard scope of the slots that cap a workspace's webhook subscriptions. */
export const subscriptionSlotScope = 'webhook-slot';

const slotGuardKey = (workspaceId: string, slot: number) => ({ workspaceId, scope: subscriptionSlotScope, value: String(slot) });

const subscriptionCreatedEvent = (deps: CoreDeps, caller: CallerContext, item: SubscriptionItem) =>
  newEvent(deps, caller, 'webhook.created', webhookRef(item.subscriptionId), {
    url: item.url,
    eventTypes: item.eventTypes,
    filtered: item.filter !== undefined,
  });

function newSubscriptionItem(
  deps: CoreDeps,
  caller: CallerContext,
  ids: { workspaceId: string; subscriptionId: string },
  input: CreateWebhookInput,
  sealedSecret: string,
  slot: number,
): SubscriptionItem {
  const at = deps.clock.nowIso();
  return {
    ...ids,
    url: input.url,
    ...(input.description ? { description: input.description } : {}),
    eventTypes: [...new Set(input.eventTypes)],
    ...(input.filter ? { filter: input.filter } : {}),
    status: input.enabled ? 'enabled' : 'disabled',
    ...(input.enabled ? {} : { disabledReason: 'user' as const, disabledAt: at }),
    secret: sealedSecret,
    createdBy: caller.userId,
    slot,
    version: 1,
    createdAt: at,
    updatedAt: at,
  };
}

export async function getWebhook(deps: CoreDeps, caller: CallerContext, subscriptionId: string): Promise<Webhook> {
  manage(caller);
  return toWebhook(await readSubscription(deps, caller.workspaceId, subscriptionId), deps.clock.nowMs());
}

/** The workspace's webhooks in creation order (one Query a page). Owner/admin only. */
export async function listWebhooks(deps: CoreDeps, caller: CallerContext, query: ListWebhooksQuery): Promise<Page<Webhook>> {
  manage(caller);
  const result = await deps.db.entities.webhookSubscription.query
    .byWorkspace({ workspaceId: caller.workspaceId })
    .go({ limit: query.limit, cursor: checkCursor(caller.workspaceId, query.cursor) ?? null });
  const nowMs = deps.clock.nowMs();
  return { items: (result.data as SubscriptionItem[]).map((item) => toWebhook(item, nowMs)), nextCursor: result.cursor ?? null };
}

/**
 * Changes the URL (checked again), types, filter (null removes it), description, or enables / disables
 * it. Enabling forgets past failures (`failingSince`). Appends `webhook.updated`, and `webhook.disabled`
 * (`reason: user`) when it disables. Owner/admin only.
 */
export async function updateWebhook(
  deps: WebhookDeps,
  caller: CallerContext,
  subscriptionId: string,
  input: UpdateWebhookInput,
  expectedVersion?: number,
): Promise<Webhook> {
  manage(caller);
  if (input.eventTypes) assertKnownEventTypes(input.eventTypes);
  if (input.filter) await assertValidRule(deps, caller.workspaceId, input.filter, 'body.filter');
  const before = await readSubscription(deps, caller.workspaceId, subscriptionId, true);
  if (expectedVersion !== undefined && expectedVersion !== before.version) throw stale();
  if (input.url !== undefined && input.url !== before.url) await assertSafeUrl(deps, input.url);
  const at = deps.clock.nowIso();
  const {
    description: _description,
    filter: _filter,
    disabledReason: _reason,
    disabledAt: _disabledAt,
    failingSince: _failing,
    ...rest
  } = before;
  const description = input.description === undefined ? before.description : (input.description ?? undefined);
  const filter = input.filter === undefined ? before.filter : (input.filter ?? undefined);
  const status = input.enabled === undefined ? before.status : input.enabled ? 'enabled' : 'disabled';
  const after: SubscriptionItem = {
    ...rest,
    url: input.url ?? before.url,
    eventTypes: input.eventTypes ? [...new Set(input.eventTypes)] : before.eventTypes,
    ...(description ? { description } : {}),
    ...(filter ? { filter } : {}),
    status,
    ...(status === 'disabled'
      ? before.status === 'disabled'
        ? { disabledReason: before.disabledReason ?? 'user', ...(before.disabledAt ? { disabledAt: before.disabledAt } : {}) }
        : { disabledReason: 'user' as const, disabledAt: at }
      : {}),
    // Enabling again starts its failure clock afresh; otherwise the stream of attempts keeps it.
    ...(status === 'disabled' || before.status === 'enabled' ? (before.failingSince ? { failingSince: before.failingSince } : {}) : {}),
    version: before.version + 1,
    updatedAt: at,
  };
  const changes: Record<string, { from: unknown; to: unknown }> = {};
  const compare = (key: keyof SubscriptionItem) => {
    const [from, to] = [before[key] ?? null, after[key] ?? null];
    if (JSON.stringify(from) !== JSON.stringify(to)) changes[key] = { from, to };
  };
  (['url', 'eventTypes', 'filter', 'description', 'status'] as const).forEach(compare);
  if (Object.keys(changes).length === 0) return toWebhook(before, deps.clock.nowMs());
  const events = [newEvent(deps, caller, 'webhook.updated', webhookRef(subscriptionId), { changes })];
  if (before.status === 'enabled' && status === 'disabled') {
    events.push(newEvent(deps, caller, 'webhook.disabled', webhookRef(subscriptionId), { reason: 'user', failingSince: before.failingSince ?? null, url: after.url }));
  }
  await writeTransaction(
    deps.db,
    (tx) => [
      tx.webhookSubscription
        .put(after)
        .where((attr, { eq }) => eq(attr.version, before.version))
        .commit(),
      ...events.map((event) => appendEvent(tx, event)),
    ],
    () => lostRace('The webhook'),
  );
  return toWebhook(after, deps.clock.nowMs());
}

/** Removes the subscription: nothing more is sent to it; its delivery log expires with its items. Owner/admin only. */
export async function deleteWebhook(deps: CoreDeps, caller: CallerContext, subscriptionId: string, expectedVersion?: number): Promise<void> {
  manage(caller);
  const before = await readSubscription(deps, caller.workspaceId, subscriptionId, true);
  if (expectedVersion !== undefined && expectedVersion !== before.version) throw stale();
  const event = newEvent(deps, caller, 'webhook.deleted', webhookRef(subscriptionId), { url: before.url });
  await commitSubscription(deps, before, undefined, event);
}

/**
 * A new signing secret, shown in this answer only. The current one becomes the previous and keeps
 * signing beside it for `rotationOverlapMs` (both signatures in `webhook-signature`), so the receiver
 * can switch without missing a delivery. Appends `webhook.secret_rotated`. Owner/admin only.
 */
export async function rotateWebhookSecret(
  deps: WebhookDeps,
  caller: CallerContext,
  subscriptionId: string,
  expectedVersion?: number,
): Promise<WebhookWithSecret> {
  manage(caller);
  const before = await readSubscription(deps, caller.workspaceId, subscriptionId, true);
  if (expectedVersion !== undefined && expectedVersion !== before.version) throw stale();
  const secret = newSigningSecret();
  const at = deps.clock.nowIso();
  const previousSecretExpiresAt = new Date(deps.clock.nowMs() + webhookSettings.rotationOverlapMs).toISOString();
  const after: SubscriptionItem = {
    ...before,
    secret: await deps.sealer.seal(secret, signingSecretContext(before)),
    previousSecret: before.secret,
    previousSecretExpiresAt,
    version: before.version + 1,
    updatedAt: at,
  };
  const event = newEvent(deps, caller, 'webhook.secret_rotated', webhookRef(subscriptionId), { previousExpiresAt: previousSecretExpiresAt });
  await commitSubscription(deps, before, after, event);
  return { ...toWebhook(after, deps.clock.nowMs()), secret };
}

/**
 * Opened secrets by sealed value, for this process (a warm Lambda): every attempt signs, and on AWS each
 * open is a KMS call. A sealed value opens to one plaintext only, so a hit is always right.
 */
const openedSecrets = new Map<string, string>();
const maxOpenedSecrets = 200;

async function openSecret(sealer: SecretSealer, sealed: string, context: SealContext): Promise<string> {
  const key = `${JSON.stringify(context)}|${sealed}`;
  const hit = openedSecrets.get(key);
  if (hit !== undefined) return hit;
  const plaintext = await sealer.open(sealed, context);
  if (openedSecrets.size >= maxOpenedSecrets) openedSecrets.clear();
  openedSecrets.set(key, plaintext);
  return plaintext;
}

/** The secrets that sign now, in clear: the current one, and the previous while its overlap lasts. */
export async function signingSecrets(deps: { sealer: SecretSealer; clock: CoreDeps['clock'] }, item: SubscriptionItem): Promise<string[]> {
  const context = signingSecretContext(item);
  const current = await openSecret(deps.sealer, item.secret, context);
  const previousLive = item.previousSecret && item.previousSecretExpiresAt && Date.parse(item.previousSecretExpiresAt) > deps.clock.nowMs();
  return previousLive ? [current, await openSecret(deps.sealer, item.previousSecret!, context)] : [current];
}

// ---------------------------------------------------------------------------------------------
// The delivery log

/** A subscription's deliveries, newest event first (one Query a page). Owner/admin only. */
export async function listDeliveries(
  deps: CoreDeps,
  caller: CallerContext,
  subscriptionId: string,
  query: ListDeliveriesQuery,
): Promise<Page<Delivery>> {
  manage(caller);
  const ids = { workspaceId: caller.workspaceId, subscriptionId };
  const [subscription, result] = await Promise.all([
    findSubscription(deps, caller.workspaceId, subscriptionId),
    deps.db.entities.webhookDelivery.query
      .bySubscription(ids)
      .go({ order: 'desc', limit: query.limit, cursor: checkCursor(caller.workspaceId, query.cursor) ?? null }),
  ]);
  if (!subscription) throw notFound('Webhook');
  return { items: (result.data as DeliveryItem[]).map(toDelivery), nextCursor: result.cursor ?? null };
}

async function readDelivery(deps: CoreDeps, workspaceId: string, subscriptionId: string, eventId: string) {
  const { data } = await deps.db.entities.webhookDelivery.get({ workspaceId, subscriptionId, eventId }).go({ consistent: true });
  if (!data) throw notFound('Delivery');
  return data as DeliveryItem;
}

/**
 * Puts a delivery back to `pending` for an attempt now (same `webhook-id`, attempts counting on, a new
 * retry window) and sends its message (the sweep's to send if this fails). Any status: a delivered one is sent again too (a receiver that
 * lost it asks). Written conditional on the version read (a lost race is retried by the caller).
 */
export async function redeliverItem(deps: RedeliverDeps, item: DeliveryItem): Promise<DeliveryItem> {
  const after = redeliveredItem(item, deps.clock.nowMs());
  await deps.db.entities.webhookDelivery
    .put(after)
    .where((attr, { eq }) => eq(attr.version, item.version))
    .go();
  // The item is the outbox: a message lost here (the queue unreachable) is sent by the `sweep-jobs`
  // schedule once the attempt is overdue, so the redelivery stands either way.
  await deps.queue.send(deliveryMessage(after)).catch(() => undefined);
  return after;
}

/** `POST .../deliveries/{id}/redeliver`: one delivery sent again now. Owner/admin only. */
export async function redeliver(deps: RedeliverDeps, caller: CallerContext, subscriptionId: string, eventId: string): Promise<Delivery> {
  manage(caller);
  await readSubscription(deps, caller.workspaceId, subscriptionId);
  const item = await readDelivery(deps, caller.workspaceId, subscriptionId, eventId);
  if (item.status === 'pending' && item.leaseUntil && Date.parse(item.leaseUntil) > deps.clock.nowMs()) {
    throw conflict('concurrent_change', 'An attempt of this delivery is under way');
  }
  try {
    return toDelivery(await redeliverItem(deps, item));
  } catch (error) {
    if ((error as { name?: string }).name === 'ElectroError' || (error as Error).message?.includes('conditional')) throw lostRace('The delivery');
    throw error;
  }
}

/** The first and last possible event ids of a time range (ULIDs begin with their time): a key range. */
export const eventIdRange = (from: string, to: string) => ({
  first: `evt_${encodeTime(Date.parse(from), 10)}${'0'.repeat(16)}`,
  // `to` is exclusive: the last id of the millisecond before it.
  last: `evt_${encodeTime(Date.parse(to) - 1, 10)}${'Z'.repeat(16)}`,
});

/**
 * `POST /v1/webhooks/{id}/replay`: a `replay_webhook` job sends again every delivery of the
 * subscription whose event happened in [from, to), oldest first, resuming from its cursor. The range
 * must lie within the log's retention. Owner/admin only.
 */
export async function replayWebhook(deps: CoreDeps, caller: CallerContext, subscriptionId: string, input: ReplayInput): Promise<Job> {
  manage(caller);
  const subscription = await readSubscription(deps, caller.workspaceId, subscriptionId);
  if (subscription.status !== 'enabled') {
    throw unprocessable('The webhook is disabled: enable it (PATCH enabled: true) before replaying', { reason: 'webhook_disabled' });
  }
  const oldest = deps.clock.nowMs() - webhookSettings.deliveryRetentionMs;
  if (Date.parse(input.to) <= oldest) {
    throw unprocessable('The range ends before the delivery log’s retention (30 days): nothing to replay', {
      fields: [{ field: 'body.to', message: 'Older than the retention' }],
    });
  }
  return createJob(deps, caller, {
    kind: 'replay_webhook',
    input: { subscriptionId, from: new Date(Date.parse(input.from)).toISOString(), to: new Date(Date.parse(input.to)).toISOString() },
  });
}
