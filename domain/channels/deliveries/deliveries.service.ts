/**
 * Seed 001 Delivery: the delivery of an outbound message on an external channel, kept on the message
 * item (`delivery`, guarded by `deliveryVersion`), so a conversation's message page shows each message's
 * delivery with no extra read. Every change is a conditional write of the message item with its events;
 * a write that loses a race reads again and re-applies (statuses are monotonic, so order never matters).
 *
 * - The send path writes `newDelivery(...)` with the message (and its `deliver_message` job).
 * - The job: `beginProviderCall` (the attempt's call starts: recorded first, so a run that dies mid-call
 *   is seen by the next one), then `recordAccepted` (the provider's id, `sent`, the reference back from the
 *   id, and any status that arrived first) or `recordAttemptFailed`.
 * - Status webhooks: `applyProviderStatus`.
 * - A user's retry of a failed delivery: `retryDelivery` (a new attempt and a new job dispatch).
 */
import { appendEvent, newEvent, type EventRecord, type EventSubjects } from '../../../events/event-log';
import { suppressContact } from '../../contacts/contacts.service';
import { systemActor } from '../../shared/context';
import type { CoreDeps } from '../../shared/deps';
import { lostRace, LostRace } from '../../shared/errors';
import { isConditionFailure, writeTransaction } from '../../store/transaction';
import type { TxEntities } from '../../store/db';
import type { MessageItem } from '../../inbox/messages.service';
import type { DeliveryStatusEvent } from '../inbound-events';
import type { SendReceipt } from '../outbound';
import {
  advanceAttempt,
  currentAttempt,
  newAttempt,
  withAttempt,
  type AttemptTrigger,
  type AttemptUpdate,
  type DeliveryAttempt,
  type DeliveryError,
  type DeliveryRecord,
} from './delivery-state';

/** A message with a delivery, as stored. */
export type DeliveredMessageItem = MessageItem & { delivery: DeliveryRecord; deliveryVersion: number };

export interface MessageKey {
  workspaceId: string;
  conversationId: string;
  messageId: string;
}

const day = 86_400;
const refLifetimeSeconds = 35 * day;
const pendingLifetimeSeconds = 7 * day;
/** A status change that keeps losing races gives up after this many reads (each read sees the newer state). */
const maxChangeRuns = 8;

/** The delivery a send writes with its message: one queued attempt, sent by job `jobId`. */
export function newDelivery(
  deps: Pick<CoreDeps, 'newId'>,
  input: { connectionId: string; to: string; jobId: string },
  at: string,
): DeliveryRecord {
  return {
    deliveryId: deps.newId('dlv'),
    connectionId: input.connectionId,
    to: input.to,
    status: 'queued',
    attempt: 1,
    attempts: [newAttempt(1, 'send', null, at)],
    jobId: input.jobId,
    autoRetries: 0,
    createdAt: at,
    updatedAt: at,
  };
}

export async function findDeliveredMessage(deps: CoreDeps, key: MessageKey): Promise<DeliveredMessageItem | undefined> {
  const { data } = await deps.db.entities.message.get(key).go({ consistent: true });
  const item = data as (MessageItem & { delivery?: DeliveryRecord; deliveryVersion?: number }) | null;
  if (!item?.delivery) return undefined;
  return item as DeliveredMessageItem;
}

/** What a change of a delivery writes besides the message item. */
interface DeliveryChange {
  delivery: DeliveryRecord;
  events?: EventRecord[];
  extraOps?: (tx: TxEntities) => unknown[];
}

/**
 * The contact a message's delivery events are about: its conversation's. An outbound message has no
 * author contact, and without one the events would miss the contact's timeline.
 */
async function recipientOf(deps: CoreDeps, key: MessageKey): Promise<EventSubjects> {
  const { data } = await deps.db.entities.conversation
    .get({ workspaceId: key.workspaceId, conversationId: key.conversationId })
    .go();
  const contactId = (data as { contactId?: string } | null)?.contactId;
  return contactId ? { contactId } : {};
}

/**
 * Reads the message, lets `decide` change its delivery (undefined: nothing to do) and writes it on
 * condition that nobody else did meanwhile; a lost race reads again. Returns the delivery as it ends.
 * `withEvents`: `decide` writes events, so the contact they are about is read too (once, beside the
 * message's first read).
 */
async function changeDelivery(
  deps: CoreDeps,
  key: MessageKey,
  decide: (message: DeliveredMessageItem, about: EventSubjects) => DeliveryChange | undefined,
  withEvents = false,
): Promise<{ message: DeliveredMessageItem | undefined; changed: boolean }> {
  const subjects = withEvents ? recipientOf(deps, key) : Promise.resolve({});
  for (let run = 1; ; run += 1) {
    const [message, about] = await Promise.all([findDeliveredMessage(deps, key), subjects]);
    if (!message) return { message: undefined, changed: false };
    const change = decide(message, about);
    if (!change) return { message, changed: false };
    const version = message.deliveryVersion;
    const at = change.delivery.updatedAt;
    try {
      await writeTransaction(
        deps.db,
        (tx) => [
          tx.message
            .patch(key)
            .set({ delivery: change.delivery, deliveryVersion: version + 1, updatedAt: at } as never)
            .where((attr, { eq }) => eq((attr as unknown as { deliveryVersion: never }).deliveryVersion, version as never))
            .commit(),
          ...(change.events ?? []).map((event) => appendEvent(tx, event)),
          ...(change.extraOps?.(tx) ?? []),
        ],
        () => lostRace('The delivery'),
      );
      return { message: { ...message, delivery: change.delivery, deliveryVersion: version + 1 }, changed: true };
    } catch (error) {
      if (!(error instanceof LostRace) || run >= maxChangeRuns) throw error;
    }
  }
}

const deliveryEvent = (
  deps: CoreDeps,
  message: DeliveredMessageItem,
  before: DeliveryAttempt,
  after: DeliveryAttempt,
  about: EventSubjects,
): EventRecord =>
  newEvent(
    deps,
    systemActor(message.workspaceId),
    'delivery.status_changed',
    { type: 'message', id: message.messageId },
    {
      conversationId: message.conversationId,
      messageId: message.messageId,
      deliveryId: message.delivery.deliveryId,
      channel: message.channel,
      attempt: after.attempt,
      from: before.status,
      to: after.status,
      providerStatus: after.providerStatus,
      errorCode: after.error?.code ?? null,
      errorMessage: after.error?.message ?? null,
    },
    about,
  );

// ---------------------------------------------------------------------------------------------
// The job's side

export type CallStart =
  | { go: true; message: DeliveredMessageItem; attempt: DeliveryAttempt; resumed: boolean }
  /** Nothing to send: the attempt was accepted, failed, or replaced by a newer one. */
  | { go: false; reason: 'not_found' | 'not_queued' | 'superseded'; message: DeliveredMessageItem | undefined };

/**
 * Marks the attempt's provider call as started (`calledAt`), before the call: a run that finds it set
 * already is a repeat of a run that died mid-call (`resumed`: the provider may have the message; the
 * caller decides). A delivery already past `queued`, or on a later attempt, is not sent again.
 */
export async function beginProviderCall(deps: CoreDeps, key: MessageKey, attemptNo: number): Promise<CallStart> {
  let resumed = false;
  const { message } = await changeDelivery(deps, key, (item) => {
    const attempt = item.delivery.attempts.find((each) => each.attempt === attemptNo);
    if (!attempt || item.delivery.attempt !== attemptNo || attempt.status !== 'queued') return undefined;
    resumed = attempt.calledAt !== null;
    const at = deps.clock.nowIso();
    return { delivery: withAttempt(item.delivery, { ...attempt, calledAt: at }, at) };
  });
  if (!message) return { go: false, reason: 'not_found', message };
  const attempt = message.delivery.attempts.find((each) => each.attempt === attemptNo);
  if (!attempt || message.delivery.attempt !== attemptNo) return { go: false, reason: 'superseded', message };
  if (attempt.status !== 'queued') return { go: false, reason: 'not_queued', message };
  return { go: true, message, attempt, resumed };
}

/**
 * The provider accepted the attempt: its id and `sent` on the attempt, the reference from the id back
 * to the message, and every status that arrived before this write (kept pending), applied in order of
 * rank. Idempotent: a second call for the same id changes nothing.
 *
 * `adoptOn` (a connection id): the acceptance comes from a status callback that named the attempt by
 * our send reference, not from the send's answer; it is taken only while the attempt still waits for
 * one (queued, no provider id) and only from the connection the delivery goes through.
 */
export async function recordAccepted(
  deps: CoreDeps,
  key: MessageKey,
  attemptNo: number,
  receipt: SendReceipt,
  adoptOn?: string,
): Promise<DeliveredMessageItem | undefined> {
  const at = deps.clock.nowIso();
  const nowSeconds = Math.floor(deps.clock.nowMs() / 1000);
  const { message } = await changeDelivery(deps, key, (item, about) => {
    const attempt = item.delivery.attempts.find((each) => each.attempt === attemptNo);
    if (!attempt || attempt.providerMessageId !== null) return undefined;
    if (adoptOn !== undefined && (attempt.status !== 'queued' || item.delivery.connectionId !== adoptOn)) return undefined;
    const accepted: DeliveryAttempt = {
      ...attempt,
      providerMessageId: receipt.providerMessageId,
      providerStatus: receipt.providerStatus ?? attempt.providerStatus,
      status: attempt.status === 'queued' ? 'sent' : attempt.status,
      sentAt: attempt.sentAt ?? at,
      error: null,
    };
    return {
      delivery: withAttempt(item.delivery, accepted, at),
      events: attempt.status === 'queued' ? [deliveryEvent(deps, item, attempt, accepted, about)] : [],
      extraOps: (tx) => [
        tx.providerMessageRef
          .create({
            workspaceId: key.workspaceId,
            connectionId: item.delivery.connectionId,
            providerMessageId: receipt.providerMessageId,
            conversationId: key.conversationId,
            messageId: key.messageId,
            attempt: attemptNo,
            createdAt: at,
            expiresAt: nowSeconds + refLifetimeSeconds,
          })
          .commit(),
      ],
    };
  }, true);
  if (!message) return undefined;
  // Another id holds the attempt (a send answered after a callback adopted it): its statuses are not this one's.
  const held = message.delivery.attempts.find((each) => each.attempt === attemptNo)?.providerMessageId;
  if (held !== receipt.providerMessageId) return message;
  // Statuses the provider sent before the reference existed.
  const { data: pending } = await deps.db.entities.pendingProviderStatus
    .query.byProviderMessage({
      workspaceId: key.workspaceId,
      connectionId: message.delivery.connectionId,
      providerMessageId: receipt.providerMessageId,
    })
    .go({ consistent: true, pages: 'all' });
  let latest = message;
  for (const item of pending) {
    latest = (await applyToAttempt(deps, key, attemptNo, item.event as DeliveryStatusEvent)).message ?? latest;
    await deps.db.entities.pendingProviderStatus.delete(item).go();
  }
  return latest;
}

/** The attempt failed without the provider accepting it (a refusal, or automatic retries used up). */
export async function recordAttemptFailed(
  deps: CoreDeps,
  key: MessageKey,
  attemptNo: number,
  error: DeliveryError,
  providerStatus: string | null = null,
): Promise<DeliveredMessageItem | undefined> {
  const at = deps.clock.nowIso();
  return (await applyToAttempt(deps, key, attemptNo, { status: 'failed', providerStatus, at, error })).message;
}

/**
 * Counts an automatic re-send of the current attempt (and records the passing error on it, and the parts
 * of a multi-part message the provider accepted before it, which the re-send does not send again).
 */
export async function recordAutoRetry(
  deps: CoreDeps,
  key: MessageKey,
  attemptNo: number,
  error: DeliveryError,
  partsSent: readonly string[] = [],
) {
  const at = deps.clock.nowIso();
  const { message } = await changeDelivery(deps, key, (item) => {
    const attempt = item.delivery.attempts.find((each) => each.attempt === attemptNo);
    if (!attempt || attempt.status !== 'queued') return undefined;
    const parts = partsSent.length > (attempt.partsSent?.length ?? 0) ? { partsSent: [...partsSent] } : {};
    return {
      delivery: {
        ...withAttempt(item.delivery, { ...attempt, ...parts, error, calledAt: null }, at),
        autoRetries: item.delivery.autoRetries + 1,
      },
    };
  });
  return message;
}

/**
 * A user's retry: only a failed delivery. A new attempt (queued, its own provider call to come) sent by
 * `jobId`; returns undefined when the delivery is not failed (the caller answers 409).
 */
export function retriedDelivery(
  delivery: DeliveryRecord,
  trigger: AttemptTrigger,
  requestedBy: string | null,
  jobId: string,
  at: string,
): DeliveryRecord | undefined {
  if (delivery.status !== 'failed') return undefined;
  const attempt = newAttempt(delivery.attempt + 1, trigger, requestedBy, at);
  return {
    ...delivery,
    attempt: attempt.attempt,
    attempts: [...delivery.attempts, attempt],
    status: 'queued',
    jobId,
    autoRetries: 0,
    updatedAt: at,
  };
}

/**
 * The job that sends an attempt failed by another route than the provider's answer (its dead letter,
 * the sweep, a bug): the attempt fails with the job's reason, if it is still queued and still the job's
 * (`jobId`). A later attempt, or one the provider already accepted, is left alone. Idempotent.
 */
export async function failQueuedAttempt(
  deps: CoreDeps,
  key: MessageKey,
  attemptNo: number,
  jobId: string,
  error: DeliveryError,
): Promise<DeliveredMessageItem | undefined> {
  const at = deps.clock.nowIso();
  const { message } = await changeDelivery(deps, key, (item, about) => {
    const attempt = item.delivery.attempts.find((each) => each.attempt === attemptNo);
    if (!attempt || attempt.status !== 'queued' || item.delivery.jobId !== jobId) return undefined;
    const after = advanceAttempt(attempt, { status: 'failed', providerStatus: null, at, error });
    if (!after) return undefined;
    return { delivery: withAttempt(item.delivery, after, at), events: [deliveryEvent(deps, item, attempt, after, about)] };
  }, true);
  return message;
}

/**
 * A user's retry, written: the failed delivery gets a new queued attempt sent by job `jobId`, in one
 * transaction with `extraOps` (the job) and the `delivery.status_changed` event (failed → queued).
 * Undefined when the message has no delivery; `retried: false` when the delivery is not failed.
 */
export async function beginManualRetry(
  deps: CoreDeps,
  key: MessageKey,
  requestedBy: string,
  jobId: string,
  extraOps: (tx: TxEntities) => unknown[],
): Promise<{ message: DeliveredMessageItem; retried: boolean } | undefined> {
  const at = deps.clock.nowIso();
  const { message, changed } = await changeDelivery(deps, key, (item, about) => {
    const delivery = retriedDelivery(item.delivery, 'manual_retry', requestedBy, jobId, at);
    if (!delivery) return undefined;
    const before = currentAttempt(item.delivery);
    return { delivery, events: [deliveryEvent(deps, item, before, currentAttempt(delivery), about)], extraOps };
  }, true);
  return message ? { message, retried: changed } : undefined;
}

/** Changes one attempt by an update; the events follow (status change, email opens, clicks, bounces). */
async function applyToAttempt(
  deps: CoreDeps,
  key: MessageKey,
  attemptNo: number,
  update: AttemptUpdate | DeliveryStatusEvent,
) {
  const attemptUpdate: AttemptUpdate =
    'type' in update
      ? {
          status: update.status,
          providerStatus: update.providerStatus,
          at: update.at ?? deps.clock.nowIso(),
          error: update.error ? { code: update.error.code ?? 'provider_error', message: update.error.message ?? update.providerStatus } : null,
        }
      : update;
  const email = 'type' in update ? update.email : null;
  return changeDelivery(deps, key, (item, about) => {
    const attempt = item.delivery.attempts.find((each) => each.attempt === attemptNo);
    if (!attempt) return undefined;
    const after = advanceAttempt(attempt, attemptUpdate);
    const events: EventRecord[] = [];
    if (after && after.status !== attempt.status) events.push(deliveryEvent(deps, item, attempt, after, about));
    if (email) events.push(...emailEvents(deps, item, attempt, after ?? attempt, email, 'type' in update ? update : undefined, about));
    if (!after && events.length === 0) return undefined;
    const at = deps.clock.nowIso();
    return { delivery: withAttempt(item.delivery, after ?? attempt, at), events };
  }, true);
}

/** Seed 000's email events: opened (the first open), clicked (each click), bounced (hard or soft). */
function emailEvents(
  deps: CoreDeps,
  message: DeliveredMessageItem,
  before: DeliveryAttempt,
  after: DeliveryAttempt,
  email: NonNullable<DeliveryStatusEvent['email']>,
  event: DeliveryStatusEvent | undefined,
  about: EventSubjects,
): EventRecord[] {
  const actor = systemActor(message.workspaceId);
  const entity = { type: 'message' as const, id: message.messageId };
  const ref = { conversationId: message.conversationId, messageId: message.messageId };
  switch (email.event) {
    case 'open':
      return before.readAt === null && after.readAt !== null ? [newEvent(deps, actor, 'email.opened', entity, ref, about)] : [];
    case 'click':
      return email.click ? [newEvent(deps, actor, 'email.clicked', entity, { ...ref, url: email.click.link }, about)] : [];
    case 'bounce': {
      const permanent = event?.status === 'failed';
      if (!permanent && before.error?.message === after.error?.message && before !== after) return [];
      return [
        newEvent(deps, actor, 'email.bounced', entity, {
          ...ref,
          bounceType: permanent ? 'hard' : 'soft',
          reason: event?.error?.message ?? event?.providerStatus ?? null,
        }, about),
      ];
    }
    default:
      return [];
  }
}

// ---------------------------------------------------------------------------------------------
// Status webhooks

export type StatusOutcome =
  /** The delivery changed (or the event was recorded: an open, a click). */
  | 'applied'
  /** A repeat, or a lower status than the delivery has: nothing changed. */
  | 'unchanged'
  /** No message is known for the id yet: the status is kept and applied when the send records the id. */
  | 'pending';

/**
 * Seed 001 Delivery.updateFromProvider(): a provider's status for a message sent through `connection`.
 * The provider's id leads to the message and attempt; the attempt moves monotonically. An SES complaint
 * (or a permanent "unsubscribe from all") suppresses the contact. A status for an id not recorded yet is
 * kept (7 days) and applied when the send records it.
 */
export async function applyProviderStatus(
  deps: CoreDeps,
  connection: { workspaceId: string; connectionId: string },
  event: DeliveryStatusEvent,
): Promise<StatusOutcome> {
  const base = { workspaceId: connection.workspaceId, connectionId: connection.connectionId, providerMessageId: event.providerMessageId };
  const { data: ref } = await deps.db.entities.providerMessageRef.get(base).go({ consistent: true });
  if (!ref && event.sendReference && (await adoptUnansweredSend(deps, connection, event))) {
    // The adoption moved the attempt to `sent`; the status itself may move it further.
    await applyProviderStatus(deps, connection, event);
    return 'applied';
  }
  if (!ref) {
    const pendingKey = event.dedupeKeys[0] ?? `${event.providerStatus}:${event.at ?? ''}`;
    const nowSeconds = Math.floor(deps.clock.nowMs() / 1000);
    try {
      await deps.db.entities.pendingProviderStatus
        .create({
          ...base,
          dedupeKey: pendingKey,
          event: event as never,
          receivedAt: deps.clock.nowIso(),
          expiresAt: nowSeconds + pendingLifetimeSeconds,
        })
        .go();
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    // The reference may have been written meanwhile, after the send read the pending statuses: look again.
    const { data: late } = await deps.db.entities.providerMessageRef.get(base).go({ consistent: true });
    if (!late) return 'pending';
    // Applied now, so the kept copy goes (the send may have read the pending statuses before it was written).
    await deps.db.entities.pendingProviderStatus.delete({ ...base, dedupeKey: pendingKey }).go();
    return applyProviderStatus(deps, connection, event);
  }
  const key = { workspaceId: ref.workspaceId, conversationId: ref.conversationId, messageId: ref.messageId };
  const { message, changed } = await applyToAttempt(deps, key, ref.attempt, event);
  if (event.email?.suppress && message) await suppressRecipient(deps, message);
  return changed ? 'applied' : 'unchanged';
}

/**
 * A status naming our attempt (its send reference) under a provider id we never recorded: the send's
 * answer was lost (the call timed out, the connection broke) while the provider accepted it. The id
 * becomes the attempt's, as the answer would have made it, so the job's next run finds the attempt sent
 * and does not send it again. True when the attempt now has this id.
 */
async function adoptUnansweredSend(
  deps: CoreDeps,
  connection: { workspaceId: string; connectionId: string },
  event: DeliveryStatusEvent,
): Promise<boolean> {
  const reference = event.sendReference!;
  const key = { workspaceId: connection.workspaceId, conversationId: reference.conversationId, messageId: reference.messageId };
  const receipt = { providerMessageId: event.providerMessageId, providerStatus: null };
  const message = await recordAccepted(deps, key, reference.attempt, receipt, connection.connectionId);
  const attempt = message?.delivery.attempts.find((each) => each.attempt === reference.attempt);
  return attempt?.providerMessageId === event.providerMessageId;
}

/** An SES complaint: the contact the message went to gets no more outbound messages. */
async function suppressRecipient(deps: CoreDeps, message: DeliveredMessageItem) {
  const { data: conversation } = await deps.db.entities.conversation
    .get({ workspaceId: message.workspaceId, conversationId: message.conversationId })
    .go();
  const contactId = (conversation as { contactId?: string } | null)?.contactId;
  if (!contactId) return;
  await suppressContact(deps, systemActor(message.workspaceId), contactId, 'complaint');
}

export { currentAttempt };
