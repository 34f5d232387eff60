/** A subscription is `enabled`, or `disabled` by a user or after failing for the retry window. */
export const subscriptionStatuses = ['enabled', 'disabled'] as const;
/** `pending`: an attempt is due (or running); `delivered`: a 2xx came back; `failed`: retried for the whole window; `skipped`: the subscription was disabled. */
export const deliveryStatuses = ['pending', 'delivered', 'failed', 'skipped'] as const;

/**
 * An outbound webhook subscription (Standard Webhooks): where a workspace's events are POSTed, which
 * types, an optional contact filter (the segment rule language), and its signing secrets, sealed
 * through the `SecretSealer` port (bound to the workspace, the subscription and the secret's slot).
 * Access patterns:
 * - get one: pk WS#<ws>#WEBHOOKS, sk WHK#<subscriptionId> (one GetItem)
 * - the workspace's subscriptions in creation order: pk WS#<ws>#WEBHOOKS, sk begins_with WHK# (one Query;
 *   a workspace has at most `maxSubscriptions`, so the fan-out reads them all in one page)
 */
export const webhookSubscriptionSchema = {
  model: { service: 'crm', entity: 'webhookSubscription', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    subscriptionId: { type: 'string', required: true, readOnly: true },
    url: { type: 'string', required: true },
    description: { type: 'string' },
    /** Exact types, `<group>.*` or `*`. */
    eventTypes: { type: 'list', items: { type: 'string' }, required: true },
    /** A segment rule over the event's contact; absent: every event of the types. */
    filter: { type: 'any' },
    status: { type: subscriptionStatuses, required: true },
    /** Why it is disabled: `user` or `failing`. */
    disabledReason: { type: 'string' },
    disabledAt: { type: 'string' },
    /** The current secret, sealed (context slot `current`). */
    secret: { type: 'string', required: true },
    /** The secret before the last rotation, sealed (slot `previous`), still signing until `previousSecretExpiresAt`. */
    previousSecret: { type: 'string' },
    previousSecretExpiresAt: { type: 'string' },
    /** When attempts began failing without a success since; absent while healthy. Not part of `version`. */
    failingSince: { type: 'string' },
    createdBy: { type: 'string', required: true, readOnly: true },
    /** Its slot under the workspace's cap (1..maxSubscriptions): its guard item goes with it, so concurrent creates never pass the cap. */
    slot: { type: 'number', readOnly: true },
    version: { type: 'number', required: true },
    createdAt: { type: 'string', required: true, readOnly: true },
    updatedAt: { type: 'string', required: true },
  },
  indexes: {
    byWorkspace: {
      pk: { field: 'pk', composite: ['workspaceId'], template: 'WS#${workspaceId}#WEBHOOKS', casing: 'none' },
      sk: { field: 'sk', composite: ['subscriptionId'], template: 'WHK#${subscriptionId}', casing: 'none' },
    },
  },
} as const;

/**
 * One event's delivery to one subscription: the outbox of its SQS messages and its log (every attempt,
 * newest last). The webhook id (`webhookId`) is the same on every attempt, redelivery and replay.
 * Access patterns:
 * - get one; a subscription's deliveries, newest event first: pk WS#<ws>#WEBHOOK#<subscriptionId>#DLV,
 *   sk <eventId> (GetItem; one Query a page, descending; a replay reads an event-id range ascending)
 * - pending deliveries of every workspace whose attempt is overdue (the `sweep-jobs` schedule
 *   re-sends their message): gsi1 pk WEBHOOKS#DUE#<shard 0-15>, sk <nextAttemptAt>#<ws>#<sub>#<eventId>;
 *   sparse, only pending deliveries carry the keys (`dueShard`, `dueKey`)
 * Items expire 30 days after their event (`expiresAt`).
 */
export const webhookDeliverySchema = {
  model: { service: 'crm', entity: 'webhookDelivery', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    subscriptionId: { type: 'string', required: true, readOnly: true },
    eventId: { type: 'string', required: true, readOnly: true },
    webhookId: { type: 'string', required: true, readOnly: true },
    eventType: { type: 'string', required: true, readOnly: true },
    /** The event as sent (`data` of the payload). */
    event: { type: 'any', required: true, readOnly: true },
    status: { type: deliveryStatuses, required: true },
    /** The latest attempts, oldest first (at most `maxLoggedAttempts`); `attemptCount` counts them all. */
    attempts: { type: 'any', required: true },
    attemptCount: { type: 'number', required: true },
    /** Start of the current retry window (the first attempt, a redelivery or a replay). */
    retryFrom: { type: 'string' },
    nextAttemptAt: { type: 'string' },
    /** An attempt in flight holds the delivery until then (a duplicate message leaves it alone). */
    leaseUntil: { type: 'string' },
    deliveredAt: { type: 'string' },
    dueShard: { type: 'string' },
    dueKey: { type: 'string' },
    version: { type: 'number', required: true },
    createdAt: { type: 'string', required: true, readOnly: true },
    updatedAt: { type: 'string', required: true },
    expiresAt: { type: 'number' },
  },
  indexes: {
    bySubscription: {
      pk: {
        field: 'pk',
        composite: ['workspaceId', 'subscriptionId'],
        template: 'WS#${workspaceId}#WEBHOOK#${subscriptionId}#DLV',
        casing: 'none',
      },
      sk: { field: 'sk', composite: ['eventId'], template: '${eventId}', casing: 'none' },
    },
    due: {
      index: 'gsi1',
      pk: { field: 'gsi1pk', composite: ['dueShard'], template: 'WEBHOOKS#DUE#${dueShard}', casing: 'none' },
      sk: { field: 'gsi1sk', composite: ['dueKey'], template: '${dueKey}', casing: 'none' },
    },
  },
} as const;
