import { appendEvent, newEvent, type EventRecord } from '../../events/event-log';
import { normaliseChannelValue, type ChannelKind } from '../contacts/channels';
import { channelScope } from '../contacts/contact-record';
import { createContactInput } from '../contacts/contacts.schemas';
import { createContact } from '../contacts/contacts.service';
import { isManager, systemActor, type CallerContext } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import {
  conflict,
  DomainError,
  invalid,
  invalidReference,
  isConflict,
  lostRace,
  LostRace,
  notFound,
  unprocessable,
} from '../shared/errors';
import { newDelivery } from '../channels/deliveries/deliveries.service';
import type { DeliveryRecord } from '../channels/deliveries/delivery-state';
import { ourMessageIdHeader } from '../channels/deliveries/delivery-sender';
import { mailIdGuard } from '../channels/mail-ids';
import {
  chooseChannel,
  routeInConversation,
  withChannelReason,
  type ChosenRoute,
  type MessageRouting,
} from '../channels/routing/channel-routing';
import type { ContactItem } from '../contacts/contact-record';
import { createJobOp, newJobItem } from '../jobs/jobs.service';
import { inboundClassification } from '../qualification/inbound-classification';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { checkCursor, checkIndexCursor, type Page, type PageQuery } from '../shared/pagination';
import { readUnreadTotals, totalsOf, type UnreadTotals } from './unread-totals.service';
import type { TxEntities } from '../store/db';
import { claimGuard } from '../store/unique-guard-ops';
import { isConditionFailure, writeTransaction } from '../store/transaction';
import { userIdsOf, withKeys, type ConversationItem } from './conversation-record';
import {
  aboutOf,
  assertCanReachContact,
  assertCanReply,
  assignmentChange,
  commitConversation,
  currentConversationId,
  findConversation,
  newContactConversation,
  openConversation,
  openConversationGuard,
  readConversation,
  statusChange,
  withUser,
} from './conversations.service';
import type { LastMessage } from './conversations.schemas';
import { isDeliverable, maxReadBatch, type ContactChannel } from './inbox.entity';
import type {
  IngestInboundInput,
  IngestResult,
  MarkReadInput,
  MarkReadResult,
  Message,
  MessageAttachmentRef,
  Receipt,
  MessageDelivery,
  SendMessageInput,
  SendToContactInput,
  UnreadCounts,
} from './messages.schemas';

/** The message item as stored. */
export interface MessageItem {
  workspaceId: string;
  conversationId: string;
  messageId: string;
  authorKind: 'user' | 'contact' | 'system';
  authorUserId?: string;
  authorContactId?: string;
  /** The contact who wrote it, when a contact merge re-pointed `authorContactId` to the target. */
  mergedFromContactId?: string;
  channel: ConversationItem['channel'];
  kind: 'text' | 'media';
  note: boolean;
  body: string;
  payload?: Record<string, unknown>;
  externalId?: string;
  attachments?: MessageAttachmentRef[];
  /** An outbound message on an external channel: its delivery (domain/channels/deliveries) and its guard. */
  delivery?: DeliveryRecord;
  deliveryVersion?: number;
  /** An outbound message on an external channel: the channel choice (domain/channels/routing). */
  routing?: MessageRouting;
  createdAt: string;
  updatedAt: string;
}

interface ReceiptItem {
  workspaceId: string;
  messageId: string;
  userId: string;
  conversationId: string;
  status: 'unread' | 'read';
  readAt?: string;
  unreadScope?: string;
  unreadConversationScope?: string;
  unreadKey?: string;
  createdAt: string;
}

/**
 * Seed 001's author invariant: user ⇒ authorUserId and no authorContactId; contact ⇒ authorContactId
 * and no authorUserId; system ⇒ neither. Every message is checked before it is written.
 */
export function assertAuthorInvariant(
  item: Pick<MessageItem, 'authorKind' | 'authorUserId' | 'authorContactId'>,
): void {
  const ok =
    item.authorKind === 'user'
      ? Boolean(item.authorUserId) && item.authorContactId === undefined
      : item.authorKind === 'contact'
        ? Boolean(item.authorContactId) && item.authorUserId === undefined
        : item.authorUserId === undefined && item.authorContactId === undefined;
  if (!ok) throw new Error(`Message author invariant broken for a ${item.authorKind} message`);
}

export function toMessage(item: MessageItem): Message {
  return {
    id: item.messageId,
    conversationId: item.conversationId,
    authorKind: item.authorKind,
    authorUserId: item.authorUserId ?? null,
    authorContactId: item.authorContactId ?? null,
    originalAuthorContactId: item.mergedFromContactId ?? null,
    channel: item.channel,
    kind: item.kind,
    note: item.note,
    body: item.body,
    payload: item.payload ?? null,
    externalId: item.externalId ?? null,
    attachments: item.attachments ?? [],
    delivery: item.delivery ? toDelivery(item.delivery) : null,
    routing: item.routing ?? null,
    createdAt: item.createdAt,
  };
}

const toDelivery = (delivery: DeliveryRecord): MessageDelivery => ({
  id: delivery.deliveryId,
  status: delivery.status,
  connectionId: delivery.connectionId,
  to: delivery.to,
  attempt: delivery.attempt,
  autoRetries: delivery.autoRetries,
  attempts: delivery.attempts.map((attempt) => ({ ...attempt, partsSent: attempt.partsSent ?? [] })),
  createdAt: delivery.createdAt,
  updatedAt: delivery.updatedAt,
});

const excerptOf = (body: string) => {
  const text = body.replace(/\s+/g, ' ').trim();
  return text.length > 140 ? `${text.slice(0, 139)}…` : text;
};

/** The conversation's summary of its latest message, as the view lists show it. */
export const lastMessageOf = (item: MessageItem): LastMessage => ({
  messageId: item.messageId,
  authorKind: item.authorKind,
  excerpt: excerptOf(item.body),
  note: item.note,
  createdAt: item.createdAt,
});

/** The guard that stores an external message id once per workspace and channel: its owner is `<conversationId>/<messageId>`. */
export const externalIdGuard = (workspaceId: string, channel: string, externalId: string) => ({
  workspaceId,
  scope: 'message-external',
  value: `${channel}:${externalId}`,
});

/** The contact channel kind an inbox channel reaches (an SMS goes to a phone number). */
const contactChannelKind = (channel: ContactChannel): ChannelKind => (channel === 'sms' ? 'phone' : channel);

// ---------------------------------------------------------------------------------------------
// Receipts: who a message makes something unread for

/** The workspace's active users (one Query of the users' partition): a pool message reaches them all. */
async function activeUserIds(deps: CoreDeps, workspaceId: string): Promise<string[]> {
  const { data } = await deps.db.entities.user.query.byId({ workspaceId }).go({ pages: 'all' });
  return data.filter((user) => user.status === 'active').map((user) => user.userId);
}

/**
 * Who gets an unread receipt: the conversation's users and its assignee; for a contact conversation
 * in the pool, every active user (anyone may pick it up). Never the author: a user's own messages
 * make nothing unread for them.
 */
export function recipientsOf(
  conversation: ConversationItem,
  poolUsers: string[],
  authorUserId?: string,
): string[] {
  const ids = new Set(userIdsOf(conversation));
  if (conversation.assigneeId) ids.add(conversation.assigneeId);
  if (conversation.kind === 'contact' && !conversation.assigneeId) poolUsers.forEach((id) => ids.add(id));
  if (authorUserId) ids.delete(authorUserId);
  ids.delete('system');
  return [...ids].sort();
}

/** Recipients whose receipts go in the message's own transaction; the rest follow in chunks. */
const inlineRecipients = 30;
const recipientsPerChunk = 45;

/** One recipient's unread receipt and the ADD to their counter of the conversation (2 items). */
export function receiptOps(
  tx: TxEntities,
  conversation: ConversationItem,
  message: MessageItem,
  userId: string,
) {
  const { workspaceId, conversationId } = conversation;
  return [
    tx.messageReceipt
      .create({
        workspaceId,
        messageId: message.messageId,
        userId,
        conversationId,
        status: 'unread',
        unreadScope: `${workspaceId}#UNREAD#${userId}`,
        unreadConversationScope: `${workspaceId}#UNREAD#${userId}#${conversationId}`,
        unreadKey: message.messageId,
        createdAt: message.createdAt,
      })
      .commit(),
    // An upsert writes the counter's gsi1 keys (an update would not): assignments find the counters there.
    tx.unreadCounter
      .upsert({
        workspaceId,
        userId,
        conversationId,
        kind: conversation.kind,
        assigneeKey: conversation.assigneeId ?? 'none',
        lastUnreadAt: message.createdAt,
      })
      .add({ unread: 1 })
      .commit(),
  ];
}

/**
 * The receipts that did not fit the message's transaction, in chunks: each chunk creates its receipts
 * (attribute_not_exists) with their counters atomically, so a chunk written twice counts once.
 */
async function writeRemainingReceipts(
  deps: CoreDeps,
  conversation: ConversationItem,
  message: MessageItem,
  userIds: string[],
) {
  for (let start = 0; start < userIds.length; start += recipientsPerChunk) {
    const chunk = userIds.slice(start, start + recipientsPerChunk);
    await deps.db
      .transactWrite((tx) => chunk.flatMap((userId) => receiptOps(tx, conversation, message, userId)))
      .go();
  }
}

// ---------------------------------------------------------------------------------------------
// Sending

/** Attachments named by a message are prepared by the attachments module (S3 checks); none: nothing. */
export interface PreparedAttachments {
  attachments: MessageAttachmentRef[];
  ops: (tx: TxEntities, ref: { conversationId: string; messageId: string }) => unknown[];
}
export type AttachmentPreparer = (ids: string[]) => Promise<PreparedAttachments>;
const noAttachments: AttachmentPreparer = async (ids) => {
  if (ids.length > 0) throw unprocessable('Attachments are not available here');
  return { attachments: [], ops: () => [] };
};

export interface SendOptions {
  prepareAttachments?: AttachmentPreparer;
  /** The route a contact send chose already (`sendToContact`); otherwise chosen here from the conversation. */
  route?: ChosenRoute;
  /**
   * More for the message's transaction (the autoreply bot's state, receipt and `bot.replied`): given
   * the message's ids, its events and items, written with it or not at all.
   */
  withMessage?: {
    events?: (ref: { conversationId: string; messageId: string }) => EventRecord[];
    ops?: (tx: TxEntities, ref: { conversationId: string; messageId: string }) => unknown[];
  };
}

/** A send that keeps losing races gives up after this many runs (each run reads the conversation again). */
const maxSendAttempts = 10;

/**
 * The route of a user's message on an external channel: the conversation's contact, reachable, with a
 * value on the channel, an active connection, and for WhatsApp the 24-hour window (422s otherwise).
 */
async function routeOf(
  deps: CoreDeps,
  conversation: ConversationItem,
  input: SendMessageInput,
): Promise<ChosenRoute> {
  const contact = conversation.contactId
    ? await findContact(deps, conversation.workspaceId, conversation.contactId)
    : undefined;
  if (!contact)
    throw unprocessable('The conversation has no contact to send to', {
      reason: 'no_channel_value',
      channel: conversation.channel,
    });
  return routeInConversation(deps, contact, conversation, { connectionId: input.connectionId, to: input.to });
}

async function findContact(
  deps: CoreDeps,
  workspaceId: string,
  contactId: string,
): Promise<ContactItem | undefined> {
  const { data } = await deps.db.entities.contact.get({ workspaceId, contactId }).go();
  return (data as ContactItem | null) ?? undefined;
}

/**
 * Seed 001 Message.send(): a user's message in a conversation, or an internal note. A member writes
 * in conversations assigned to them or in the pool; a member's reply (not a note) to a pool
 * conversation assigns it to them. A user's reply answers what the contact was waiting for
 * (`waitingSince` cleared; the wait is the first-response time).
 * On an external channel the message goes out: the route is chosen (domain/channels/routing: the
 * connection, the contact's value, and why) and refused up front with a 422 and nothing written (a
 * suppressed contact, no value on the channel, no active connection, WhatsApp's closed window); then ONE
 * transaction writes the message with its Delivery (`queued`) and routing, the conversation, and the
 * `deliver_message` job that makes the provider call (and, for email, our Message-ID's `mail-id` guard).
 * Two users replying to one pool conversation at once both keep their message: the first takes the
 * conversation, the second's message is stored without taking it.
 */
export async function sendMessage(
  deps: CoreDeps,
  caller: CallerContext,
  conversationId: string,
  input: SendMessageInput,
  options: SendOptions = {},
): Promise<Message> {
  const { prepareAttachments = noAttachments } = options;
  let poolAtStart: boolean | undefined;
  let route = options.route;
  const prepared = input.attachmentIds.length > 0 ? await prepareAttachments(input.attachmentIds) : undefined;
  for (let attempt = 1; ; attempt += 1) {
    const before = await readConversation(deps, caller, conversationId, true);
    poolAtStart ??= before.kind === 'contact' && !before.assigneeId;
    if (!poolAtStart) assertCanReply(caller, before);
    if (before.kind === 'direct' && !userIdsOf(before).includes(caller.userId))
      assertCanReply(caller, before);
    // LinkedIn has no messaging API: a user's LinkedIn message is logged as sent (no delivery).
    const outbound = isDeliverable(before.channel) && !input.note;
    // A connection or recipient names how a message goes out: on one that does not, it would be ignored.
    if (!outbound && (input.connectionId !== undefined || input.to !== undefined)) {
      throw invalid(
        input.connectionId !== undefined ? 'body.connectionId' : 'body.to',
        'Only a message sent out on an external channel takes a connection or a recipient: not a note, nor one in an internal or LinkedIn conversation',
      );
    }
    if (outbound) route ??= await routeOf(deps, before, input);
    const at = deps.clock.nowIso();
    const messageId = deps.newId('msg');
    // The system's own messages (the autoreply bot) are authored by no user (seed 001's `system`).
    const bySystem = caller.userId === systemActor(caller.workspaceId).userId;
    const job =
      outbound && route
        ? newJobItem(deps, caller, {
            kind: 'deliver_message',
            input: { conversationId, messageId, attempt: 1 },
          })
        : undefined;
    const message: MessageItem = {
      workspaceId: caller.workspaceId,
      conversationId,
      messageId,
      ...(bySystem
        ? { authorKind: 'system' as const }
        : { authorKind: 'user' as const, authorUserId: caller.userId }),
      channel: before.channel,
      kind: prepared && prepared.attachments.length > 0 ? 'media' : 'text',
      note: input.note,
      body: input.body,
      ...(input.payload ? { payload: input.payload } : {}),
      ...(prepared && prepared.attachments.length > 0 ? { attachments: prepared.attachments } : {}),
      ...(job && route
        ? {
            delivery: newDelivery(
              deps,
              { connectionId: route.routing.connectionId, to: route.routing.to, jobId: job.jobId },
              at,
            ),
            deliveryVersion: 0,
            routing: route.routing,
          }
        : {}),
      createdAt: at,
      updatedAt: at,
    };
    assertAuthorInvariant(message);
    let after: ConversationItem = {
      ...before,
      messageCount: before.messageCount + 1,
      lastActivityAt: at,
      lastMessage: lastMessageOf(message),
      participants: withUser(before.participants, caller.userId, caller.userId, at),
      version: before.version + 1,
      updatedAt: at,
    };
    const events: EventRecord[] = [];
    let extraOps: ((tx: TxEntities) => unknown[]) | undefined;
    let afterCommit: (() => Promise<void>) | undefined;
    const reply = !input.note && before.kind === 'contact';
    if (reply && !before.assigneeId && !isManager(caller)) {
      const change = await assignmentChange(deps, caller, after, caller.userId, 'reply', at);
      after = change.after;
      events.push(...change.events);
      extraOps = change.extraOps;
      afterCommit = change.afterCommit;
    }
    let firstResponseSeconds: number | null = null;
    // A person's first answer ends the wait (first-response time); the bot's does not: the contact still waits for people.
    if (reply && before.waitingSince && !bySystem) {
      firstResponseSeconds = Math.max(
        0,
        Math.round((Date.parse(at) - Date.parse(before.waitingSince)) / 1000),
      );
      delete after.waitingSince;
    }
    const messageRef = { conversationId, messageId: message.messageId };
    events.push(...(options.withMessage?.events?.(messageRef) ?? []));
    if (input.note) {
      events.push(
        newEvent(
          deps,
          caller,
          'conversation.note_added',
          { type: 'message', id: message.messageId },
          {
            ...messageRef,
            channel: before.channel,
            excerpt: excerptOf(message.body),
          },
          aboutOf(before),
        ),
      );
    } else {
      const others = userIdsOf(after).filter((id) => id !== caller.userId);
      const type = `${before.channel}.sent` as 'internal.sent';
      events.push(
        newEvent(
          deps,
          caller,
          type,
          { type: 'message', id: message.messageId },
          {
            ...messageRef,
            to: before.kind === 'contact' ? (before.contactId ?? '') : others.join(','),
            firstResponseSeconds,
            // A direct conversation's words are its users' alone; its events reach the workspace's feed and webhooks.
            ...(before.kind === 'direct' ? {} : { excerpt: excerptOf(message.body) }),
            ...(before.channel === 'email' ? { subject: before.subject ?? null } : {}),
          },
          aboutOf(before),
        ),
      );
    }
    // Our Message-ID, so a reply to it finds the conversation (the inbound side matches by it).
    const replyDomain =
      route?.connection.kind === 'email' ? route.connection.settings.replyDomain : undefined;
    const sendOps = (tx: TxEntities) =>
      job
        ? [
            createJobOp(tx, job),
            ...(typeof replyDomain === 'string'
              ? [
                  claimGuard(
                    tx,
                    mailIdGuard(caller.workspaceId, ourMessageIdHeader(message.messageId, replyDomain)),
                    conversationId,
                    at,
                  ),
                ]
              : []),
          ]
        : [];
    // The system's own replies (the autoreply bot) make nothing unread: the contact's message they answer already is.
    const poolUsers =
      !bySystem && after.kind === 'contact' && !after.assigneeId
        ? await activeUserIds(deps, caller.workspaceId)
        : [];
    const recipients = bySystem ? [] : recipientsOf(after, poolUsers, caller.userId);
    // The job and the guard take one recipient's two items of the transaction; the caller's own items another's.
    const inline = recipients.slice(0, inlineRecipients - (job ? 1 : 0) - (options.withMessage ? 1 : 0));
    try {
      const written = await commitConversation(deps, before, {
        after,
        events,
        extraOps: (tx) => [
          tx.message.create(message).commit(),
          ...inline.flatMap((userId) => receiptOps(tx, after, message, userId)),
          ...(extraOps?.(tx) ?? []),
          ...(prepared?.ops(tx, messageRef) ?? []),
          ...sendOps(tx),
          ...(options.withMessage?.ops?.(tx, messageRef) ?? []),
        ],
        ...(afterCommit ? { afterCommit } : {}),
      });
      await writeRemainingReceipts(deps, written, message, recipients.slice(inline.length));
      return toMessage(message);
    } catch (error) {
      if (!(error instanceof LostRace) || attempt >= maxSendAttempts) throw error;
      // An attachment taken by another message meanwhile: preparing again answers 409 attachment_used.
      if (prepared) return sendMessage(deps, caller, conversationId, input, options);
    }
  }
}

/**
 * Sends to a contact without naming the conversation (issue 14's channel choice): the channel, the
 * connection and the value are chosen (domain/channels/routing), refused up front with a 422 (nothing
 * written); the message goes to the contact's current conversation on that channel, else a new one (the
 * inbox's rule: a resolved conversation is not reopened by a send), then as `sendMessage`. A member
 * sends only to their own or unclaimed contacts (403).
 */
export async function sendToContact(
  deps: CoreDeps,
  caller: CallerContext,
  contactId: string,
  input: SendToContactInput,
  options: Omit<SendOptions, 'route'> = {},
): Promise<Message> {
  const { workspaceId } = caller;
  const contact = await findContact(deps, workspaceId, contactId);
  if (!contact) throw notFound('Contact');
  if (contact.mergedInto) {
    throw conflict('record_merged', 'This contact was merged into another: send to that one', {
      mergedInto: contact.mergedInto,
    });
  }
  // Whichever conversation the send picks (a pool one included): a send to the contact is outreach.
  assertCanReachContact(caller, contact);
  const { channel, reason } = await chooseChannel(deps, contact, input);
  // The attachments are checked before a conversation may be opened for the send: a refused one
  // (unknown, another workspace's, used) leaves nothing written. The send itself takes this first check.
  const { prepareAttachments = noAttachments } = options;
  let checked = input.attachmentIds.length > 0 ? await prepareAttachments(input.attachmentIds) : undefined;
  const preparedOnce: AttachmentPreparer = async (ids) => {
    const first = checked;
    checked = undefined;
    return first ?? prepareAttachments(ids);
  };
  const currentId = await currentConversationId(deps, openConversationGuard(workspaceId, contactId, channel));
  const current = currentId ? await findConversation(deps, workspaceId, currentId, true) : undefined;
  // The contact's latest conversation on the channel says where and when they last wrote, resolved or not.
  const probe = current ?? newContactConversation(deps, caller, contactId, channel, deps.clock.nowIso()).item;
  const route = withChannelReason(
    await routeInConversation(deps, contact, probe, { connectionId: input.connectionId, to: input.to }),
    reason,
  );
  const target =
    current && current.status !== 'resolved'
      ? current.conversationId
      : (
          await openConversation(deps, caller, {
            kind: 'contact',
            contactId,
            channel,
            new: false,
            ...(input.subject ? { subject: input.subject } : {}),
          })
        ).conversation.id;
  return sendMessage(
    deps,
    caller,
    target,
    { body: input.body, note: false, attachmentIds: input.attachmentIds },
    { ...options, route, prepareAttachments: preparedOnce },
  );
}

// ---------------------------------------------------------------------------------------------
// Ingesting

/**
 * Seed 001 Message.ingestInbound(): a contact's message arriving on a channel. The sender's address
 * finds the contact through its channel guard (or a new contact is created with that channel); the
 * message goes to the contact's latest conversation on the channel (a snoozed one wakes, a resolved
 * one reopens) or to a new one. The external id is stored once: a repeat returns the stored message
 * (`replayed`). At most 4 DynamoDB round trips for a known contact, whatever the conversation's length:
 * the guards and the users (in parallel), the conversation's guard, the conversation, the write.
 */
export async function ingestInbound(
  deps: CoreDeps,
  caller: CallerContext,
  input: IngestInboundInput,
): Promise<{ result: IngestResult; replayed: boolean }> {
  const kind = contactChannelKind(input.channel);
  const { normalized } = normaliseChannelValue(kind, input.from, {
    defaultCountry: input.defaultCountry as never,
    field: 'body.from',
  });
  return ingestMessage(deps, caller, {
    channel: input.channel,
    sender: { kind, value: normalized, raw: input.from, alternateValues: [], name: input.name ?? null },
    ...(input.defaultCountry ? { defaultCountry: input.defaultCountry } : {}),
    externalId: input.externalId,
    body: input.body,
    ...(input.payload ? { payload: input.payload } : {}),
    ...(input.receivedAt ? { receivedAt: input.receivedAt } : {}),
  });
}

/** Which conversation an inbound message goes to. */
export type InboundThread =
  /** The contact's latest conversation on the channel (reopened when resolved), or a new one. */
  | { thread: 'latest' }
  /** This conversation, when it is the sender's on the channel (an email reply); otherwise a new one. */
  | { thread: 'existing'; conversationId: string; subject?: string; keepLatest?: boolean }
  /**
   * A new conversation (an email that starts a new thread); it becomes the contact's latest, unless
   * `keepLatest` (a Telegram group's thread: the contact's private conversation stays their latest).
   */
  | { thread: 'new'; subject?: string; keepLatest?: boolean };

/** An inbound message as any source hands it to the inbox (the API's ingest, a channel webhook). */
export interface InboundMessageSpec {
  channel: ContactChannel;
  /** The sender as a contact channel: `value` canonical; `alternateValues` find the contact too (a Telegram @username). */
  sender: { kind: ChannelKind; value: string; raw: string; alternateValues: string[]; name: string | null };
  defaultCountry?: string;
  /** The provider's message id (unique per workspace and channel; a channel webhook prefixes its connection). */
  externalId: string;
  body: string;
  messageKind?: MessageItem['kind'];
  payload?: Record<string, unknown>;
  receivedAt?: string;
  target?: InboundThread;
  /** More items for the message's transaction (an email's Message-ID guard). */
  extraOps?: (tx: TxEntities, ref: { conversationId: string; messageId: string }) => unknown[];
}

/**
 * `ingestInbound` for any source: the sender's canonical value (and alternates) find the contact, the
 * target picks the conversation. A repeat of the external id returns the stored message (`replayed`).
 */
export async function ingestMessage(
  deps: CoreDeps,
  caller: CallerContext,
  input: InboundMessageSpec,
): Promise<{ result: IngestResult; replayed: boolean }> {
  const { workspaceId } = caller;
  const { kind, value: normalized } = input.sender;
  const target = input.target ?? { thread: 'latest' };
  const externalGuard = externalIdGuard(workspaceId, input.channel, input.externalId);
  const senderGuards = [
    normalized,
    ...input.sender.alternateValues.filter((value) => value !== normalized),
  ].map((value) => ({ workspaceId, scope: channelScope(kind), value }));
  const [{ data: guards }, users] = await Promise.all([
    deps.db.entities.uniqueGuard.get([externalGuard, ...senderGuards]).go({ consistent: true }),
    activeUserIds(deps, workspaceId),
  ]);
  const stored = guards.find((guard) => guard.scope === externalGuard.scope);
  if (stored) return { result: await storedIngest(deps, workspaceId, stored.ownerId), replayed: true };

  // The canonical value first, then the alternates, in the order given.
  const found = senderGuards
    .map((key) => guards.find((guard) => guard.scope === key.scope && guard.value === key.value))
    .find((guard) => guard !== undefined);
  let contactId = found?.ownerId;
  const channelGuard = found ? { workspaceId, scope: found.scope, value: found.value } : senderGuards[0]!;
  let createdContact = false;
  if (!contactId) {
    try {
      const contact = await createContact(
        deps,
        caller,
        createContactInput.parse({
          name: input.sender.name ?? input.sender.raw.trim(),
          channels: [
            { kind, value: input.sender.raw },
            ...input.sender.alternateValues.map((value) => ({ kind, value })),
          ],
          ...(input.defaultCountry ? { defaultCountry: input.defaultCountry } : {}),
        }),
      );
      contactId = contact.id;
      createdContact = true;
    } catch (error) {
      // Another message from the same sender created the contact first: run again, it is found.
      if (isConflict(error)) throw lostRace('The sender’s contact');
      throw error;
    }
  }

  const at = deps.clock.nowIso();
  const sender = contactId;
  const guard = openConversationGuard(workspaceId, contactId, input.channel);
  const currentId = await currentConversationId(deps, guard);
  const before = await targetConversation(deps, workspaceId, target, currentId, contactId, input.channel);
  // A contact merge under way moved the conversation to the contact merged into (the address still
  // names the source until the merge ends): the message is that contact's.
  if (before?.contactId) contactId = before.contactId;
  const subject = target.thread === 'latest' ? undefined : target.subject;
  const opened = before
    ? undefined
    : newContactConversation(deps, caller, contactId, input.channel, at, subject);
  const base = before ?? opened!.item;
  const conversationId = base.conversationId;
  const message: MessageItem = {
    workspaceId,
    conversationId,
    messageId: deps.newId('msg'),
    authorKind: 'contact',
    authorContactId: contactId,
    channel: input.channel,
    kind: input.messageKind ?? 'text',
    note: false,
    body: input.body,
    ...(input.payload ? { payload: input.payload } : {}),
    externalId: input.externalId,
    createdAt: input.receivedAt && input.receivedAt < at ? input.receivedAt : at,
    updatedAt: at,
  };
  assertAuthorInvariant(message);
  let after: ConversationItem = {
    ...base,
    messageCount: base.messageCount + 1,
    lastActivityAt: at,
    lastMessage: lastMessageOf(message),
    waitingSince: base.waitingSince ?? message.createdAt,
    lastInboundAt:
      base.lastInboundAt && base.lastInboundAt > message.createdAt ? base.lastInboundAt : message.createdAt,
    ...(before ? { version: before.version + 1, updatedAt: at } : {}),
  };
  const classification = inboundClassification(deps, after, at);
  if (classification) after = { ...after, classifyPendingUntil: classification.pendingUntil };
  const events: EventRecord[] = opened ? [opened.event] : [];
  if (after.status === 'snoozed' || after.status === 'resolved') {
    const woken = statusChange(deps, caller, after, 'open', undefined, 'message');
    after = woken.after;
    events.push(...woken.events);
  }
  events.push(
    newEvent(
      deps,
      caller,
      `${input.channel}.replied` as 'email.replied',
      { type: 'message', id: message.messageId },
      {
        conversationId,
        messageId: message.messageId,
        inReplyTo:
          base.lastMessage && base.lastMessage.authorKind !== 'contact' ? base.lastMessage.messageId : null,
        assigneeId: after.assigneeId ?? null,
        excerpt: excerptOf(message.body),
      },
      { contactId },
    ),
  );
  const recipients = recipientsOf(after, users);
  // The classification job takes one recipient's room in the transaction, as a delivery job does.
  const inline = recipients.slice(0, classification ? inlineRecipients - 1 : inlineRecipients);
  const written = await commitConversation(deps, before, {
    after,
    events,
    extraOps: (tx) => [
      tx.message.create(message).commit(),
      claimGuard(tx, externalGuard, `${conversationId}/${message.messageId}`, at),
      // The address still names the sender read: a contact merge that passed it on meanwhile makes the
      // ingest run again (so nothing is written for a contact once it is merged away).
      tx.uniqueGuard
        .check(channelGuard)
        .where((attr, { eq }) => eq(attr.ownerId, sender))
        .commit(),
      ...(opened && !(target.thread !== 'latest' && target.keepLatest)
        ? [
            currentId
              ? tx.uniqueGuard
                  .patch(guard)
                  .set({ ownerId: conversationId })
                  .where((attr, { eq }) => eq(attr.ownerId, currentId))
                  .commit()
              : claimGuard(tx, guard, conversationId, at),
          ]
        : []),
      ...(input.extraOps?.(tx, { conversationId, messageId: message.messageId }) ?? []),
      ...(classification ? [createJobOp(tx, classification.job)] : []),
      ...inline.flatMap((userId) => receiptOps(tx, withKeys(after), message, userId)),
    ],
  });
  await writeRemainingReceipts(deps, written, message, recipients.slice(inline.length));
  return {
    result: {
      message: toMessage(message),
      conversationId,
      contactId,
      createdContact,
      createdConversation: Boolean(opened),
    },
    replayed: false,
  };
}

/** The conversation an inbound message goes to, or undefined for a new one. */
async function targetConversation(
  deps: CoreDeps,
  workspaceId: string,
  target: InboundThread,
  currentId: string | undefined,
  contactId: string,
  channel: ContactChannel,
): Promise<ConversationItem | undefined> {
  if (target.thread === 'new') return undefined;
  if (target.thread === 'latest')
    return currentId ? findConversation(deps, workspaceId, currentId, true) : undefined;
  const item = await findConversation(deps, workspaceId, target.conversationId, true);
  // Only the sender's own thread on this channel: a reply that names another contact's opens its own.
  return item && item.kind === 'contact' && item.channel === channel && item.contactId === contactId
    ? item
    : undefined;
}

/** The message an earlier ingest stored under the same external id. */
async function storedIngest(deps: CoreDeps, workspaceId: string, owner: string): Promise<IngestResult> {
  const [conversationId = '', messageId = ''] = owner.split('/');
  const { data } = await deps.db.entities.message
    .get({ workspaceId, conversationId, messageId })
    .go({ consistent: true });
  if (!data) throw lostRace('The stored message');
  const item = data as MessageItem;
  return {
    message: toMessage(item),
    conversationId,
    contactId: item.authorContactId ?? '',
    createdContact: false,
    createdConversation: false,
  };
}

/** A message a contact edited: its earlier texts, newest last. */
export interface MessageEdit {
  body: string;
  editedAt: string;
}

export type EditOutcome = 'applied' | 'unchanged' | 'not_found';

const isLater = (a: string, b: string) => Date.parse(a) > Date.parse(b);

/**
 * Where an edit made at `editedAt` goes in a message's history (`edits[i].body` was its text until
 * `edits[i].editedAt`): after the edits made before it. The newest replaces the text; an older one,
 * delivered late, only takes its place in the history (the text it set was replaced by the next edit
 * already). Undefined when it changes nothing: the text it replaced is the one it sets (a repeat).
 */
function placeEdit(
  current: string,
  edits: MessageEdit[],
  body: string,
  editedAt: string,
): { body: string; edits: MessageEdit[] } | undefined {
  const next = edits.findIndex((edit) => isLater(edit.editedAt, editedAt));
  if (next === -1) return current === body ? undefined : { body, edits: [...edits, { body: current, editedAt }] };
  const replaced = edits[next]!;
  if (replaced.body === body) return undefined;
  return {
    body: current,
    edits: [...edits.slice(0, next), { body: replaced.body, editedAt }, { body, editedAt: replaced.editedAt }, ...edits.slice(next + 1)],
  };
}

/**
 * A contact edited a message they sent (Telegram `edited_message`): the message stored under the
 * external id gets the new text, and its earlier text is kept in `edits`. Edits may arrive out of
 * order: one older than the latest applied only takes its place in `edits` (placeEdit); an edit seen
 * before changes nothing (a repeated webhook). `not_found` when no message has the id (the caller
 * stores the edit as a new message). Appends `message.edited` when the text changes.
 */
export async function editInboundMessage(
  deps: CoreDeps,
  caller: CallerContext,
  input: { channel: ContactChannel; externalId: string; body: string; editedAt: string | null },
): Promise<{ outcome: EditOutcome; message?: Message }> {
  const { workspaceId } = caller;
  const { data: guard } = await deps.db.entities.uniqueGuard
    .get(externalIdGuard(workspaceId, input.channel, input.externalId))
    .go({ consistent: true });
  if (!guard) return { outcome: 'not_found' };
  const [conversationId = '', messageId = ''] = guard.ownerId.split('/');
  const [{ data }, conversation] = await Promise.all([
    deps.db.entities.message.get({ workspaceId, conversationId, messageId }).go({ consistent: true }),
    findConversation(deps, workspaceId, conversationId, true),
  ]);
  if (!data) return { outcome: 'not_found' };
  const item = data as MessageItem & { edits?: MessageEdit[] };
  const at = deps.clock.nowIso();
  const placed = placeEdit(item.body, item.edits ?? [], input.body, input.editedAt ?? at);
  if (!placed) return { outcome: 'unchanged', message: toMessage(item) };
  const { edits } = placed;
  const patchMessage = (tx: TxEntities) =>
    tx.message
      .patch({ workspaceId, conversationId, messageId })
      .set({ body: placed.body, edits, updatedAt: at } as never)
      // Two edits at once: the one that read the older text or history runs again.
      .where((attr, { eq, notExists }) =>
        [eq(attr.body, item.body), item.edits ? eq(attr.edits, item.edits) : notExists(attr.edits)].join(' AND '),
      )
      .commit();
  if (placed.body === item.body) {
    // A late, older edit: the text stays the newest one, the history gains it, nobody sees a change.
    await writeTransaction(deps.db, (tx) => [patchMessage(tx)], () => lostRace('The message'));
    return { outcome: 'applied', message: toMessage(item) };
  }
  const event = newEvent(
    deps,
    caller,
    'message.edited',
    { type: 'message', id: messageId },
    {
      conversationId,
      messageId,
      channel: input.channel,
      excerpt: excerptOf(input.body),
      edits: edits.length,
    },
    item.authorContactId ? { contactId: item.authorContactId } : {},
  );
  const edited = { ...item, body: input.body };
  if (conversation && conversation.lastMessage?.messageId === messageId) {
    // The conversation lists show the latest message's excerpt: it follows the edit.
    await commitConversation(
      deps,
      conversation,
      {
        after: {
          ...conversation,
          lastMessage: lastMessageOf(edited),
          version: conversation.version + 1,
          updatedAt: at,
        },
        events: [event],
        extraOps: (tx) => [patchMessage(tx)],
      },
      () => lostRace('The message or its conversation'),
    );
  } else {
    await writeTransaction(
      deps.db,
      (tx) => [patchMessage(tx), appendEvent(tx, event)],
      () => lostRace('The message'),
    );
  }
  return { outcome: 'applied', message: toMessage(edited) };
}

// ---------------------------------------------------------------------------------------------
// Reading

/** A conversation's messages, newest first: one GetItem (access) and one Query, in parallel. */
export async function listMessages(
  deps: CoreDeps,
  caller: CallerContext,
  conversationId: string,
  query: PageQuery,
): Promise<Page<Message>> {
  const [, result] = await Promise.all([
    readConversation(deps, caller, conversationId),
    deps.db.entities.message.query
      .byConversation({ workspaceId: caller.workspaceId, conversationId })
      .go({
        order: 'desc',
        limit: query.limit,
        pages: 1,
        cursor: checkCursor(caller.workspaceId, query.cursor) ?? null,
      }),
  ]);
  return { items: (result.data as MessageItem[]).map(toMessage), nextCursor: result.cursor ?? null };
}

export async function getMessage(
  deps: CoreDeps,
  caller: CallerContext,
  conversationId: string,
  messageId: string,
): Promise<Message> {
  const [, { data }] = await Promise.all([
    readConversation(deps, caller, conversationId),
    deps.db.entities.message.get({ workspaceId: caller.workspaceId, conversationId, messageId }).go(),
  ]);
  if (!data) throw notFound('Message');
  return toMessage(data as MessageItem);
}

/** Who a message reached and who read it, when: one Query of its receipts. */
export async function listReceipts(
  deps: CoreDeps,
  caller: CallerContext,
  conversationId: string,
  messageId: string,
): Promise<{ items: Receipt[] }> {
  await getMessage(deps, caller, conversationId, messageId);
  const { data } = await deps.db.entities.messageReceipt.query
    .byMessage({ workspaceId: caller.workspaceId, messageId })
    .go({ pages: 'all' });
  return {
    items: data.map((item) => ({
      userId: item.userId,
      status: item.status,
      readAt: item.readAt ?? null,
      createdAt: item.createdAt,
    })),
  };
}

/**
 * Seed 001 Message.listUnread(): the caller's unread messages across conversations, newest first:
 * one Query of their unread receipts and one BatchGetItem of the messages.
 */
export async function listUnread(
  deps: CoreDeps,
  caller: CallerContext,
  query: PageQuery,
): Promise<Page<Message>> {
  const { workspaceId, userId } = caller;
  const unreadScope = `${workspaceId}#UNREAD#${userId}`;
  const result = await deps.db.entities.messageReceipt.query
    .unreadByUser({ unreadScope })
    .go({
      order: 'desc',
      limit: query.limit,
      pages: 1,
      // The caller's own partition: another user's cursor (sealed for the same route) is a 400, not DynamoDB's refusal.
      cursor: checkCursor(workspaceId, checkIndexCursor(query.cursor, { name: 'gsi1', partition: `WS#${unreadScope}` })) ?? null,
    });
  const receipts = result.data as ReceiptItem[];
  if (receipts.length === 0) return { items: [], nextCursor: null };
  const keys = receipts.map((receipt) => ({
    workspaceId,
    conversationId: receipt.conversationId,
    messageId: receipt.messageId,
  }));
  const { data } = await deps.db.entities.message.get(keys as never).go();
  const byId = new Map((data as unknown as MessageItem[]).map((item) => [item.messageId, item]));
  return {
    items: receipts.flatMap((receipt) => {
      const item = byId.get(receipt.messageId);
      return item ? [toMessage(item)] : [];
    }),
    nextCursor: result.cursor ?? null,
  };
}

/**
 * The caller's unread counts: totals per view, and a page of their conversations with unread
 * messages, latest unread first. The first page is one Query: the totals item sits in the same gsi2
 * partition as the caller's counters, sorted before them when read newest first. A later page reads
 * the totals (GetItem) beside its Query. Either way the cost does not grow with how many
 * conversations are unread. The totals are kept by a stream consumer, so they trail a change by
 * about a second; the page is read at once.
 */
export async function unreadCounts(
  deps: CoreDeps,
  caller: CallerContext,
  query: PageQuery,
): Promise<UnreadCounts> {
  const { workspaceId, userId } = caller;
  let totals: UnreadTotals;
  let counters: UnreadCounterRow[];
  let nextCursor: string | null;
  if (query.cursor === undefined) {
    ({ totals, counters, nextCursor } = await firstUnreadPage(deps, caller, query.limit));
  } else {
    const [read, page] = await Promise.all([
      readUnreadTotals(deps, caller),
      deps.db.entities.unreadCounter.query
        .byLatestUnread({ workspaceId, userId })
        .where((attr, { gt }) => gt(attr.unread, 0))
        .go({
          order: 'desc',
          limit: query.limit,
          pages: 1,
          cursor:
            checkCursor(workspaceId, checkIndexCursor(query.cursor, { name: 'gsi2', partition: `WS#${workspaceId}#UNREADBY#${userId}` })) ??
            null,
        }),
    ]);
    totals = read;
    counters = page.data;
    nextCursor = page.cursor ?? null;
  }
  return {
    total: totals.total,
    views: { mine: totals.mine, unassigned: totals.unassigned, all: totals.all, direct: totals.direct },
    conversationsWithUnread: totals.conversations,
    conversations: counters.map((counter) => ({
      conversationId: counter.conversationId,
      unread: counter.unread,
      lastUnreadAt: counter.lastUnreadAt ?? null,
    })),
    nextCursor,
  };
}

interface UnreadCounterRow {
  conversationId: string;
  unread: number;
  lastUnreadAt?: string;
}

/** The totals and the first page of counters in one Query of the caller's gsi2 partition (the totals item sorts first). */
async function firstUnreadPage(deps: CoreDeps, caller: CallerContext, limit: number) {
  const { entities } = deps.db;
  // The counters' own key condition (gsi2, the caller's partition), with the totals item let through.
  const params = entities.unreadCounter.query
    .byLatestUnread({ workspaceId: caller.workspaceId, userId: caller.userId })
    .params<{
      TableName: string;
      IndexName: string;
      KeyConditionExpression: string;
      ExpressionAttributeNames: Record<string, string>;
      ExpressionAttributeValues: Record<string, unknown>;
    }>();
  const page = await deps.db.client.send(
    new QueryCommand({
      ...params,
      ExpressionAttributeNames: {
        ...params.ExpressionAttributeNames,
        '#entity': '__edb_e__',
        '#unread': 'unread',
      },
      ExpressionAttributeValues: {
        ...params.ExpressionAttributeValues,
        ':totals': 'unreadTotals',
        ':counter': 'unreadCounter',
        ':none': 0,
      },
      FilterExpression: '#entity = :totals OR (#entity = :counter AND #unread > :none)',
      ScanIndexForward: false,
      // The totals item takes the first place of the page.
      Limit: limit + 1,
    }),
  );
  const items = page.Items ?? [];
  const totalsItem = items.find((item) => item.__edb_e__ === 'unreadTotals');
  const counterItems = items.filter((item) => item.__edb_e__ === 'unreadCounter');
  // Without a totals item yet (the consumer trails the first counter by a moment), the page may hold one counter too many.
  const counters = entities.unreadCounter.parse({ Items: counterItems.slice(0, limit) })
    .data as UnreadCounterRow[];
  let lastKey = page.LastEvaluatedKey;
  if (counterItems.length > limit) {
    const last = counterItems[limit - 1]!;
    lastKey = { pk: last.pk, sk: last.sk, gsi2pk: last.gsi2pk, gsi2sk: last.gsi2sk };
  }
  return {
    totals: totalsOf(totalsItem),
    counters,
    nextCursor: lastKey ? Buffer.from(JSON.stringify(lastKey)).toString('base64url') : null,
  };
}

// ---------------------------------------------------------------------------------------------
// Marking read

/** Receipts and their counters per transaction (each chunk: its receipts plus one counter per conversation). */
const receiptsPerTransaction = 80;

/**
 * Seed 001 markRead / markReadBatch: the caller's receipts of the given messages (up to 500), or of
 * everything up to a message in a conversation, become `read`, and their conversations' counters go
 * down by as many, in the same transactions. Messages already read (or never unread for the caller)
 * are left alone; `more` says a conversation had more than 500 unread.
 */
export async function markRead(
  deps: CoreDeps,
  caller: CallerContext,
  input: MarkReadInput,
): Promise<MarkReadResult> {
  const { workspaceId, userId } = caller;
  let receipts: ReceiptItem[];
  let more = false;
  if ('messageIds' in input) {
    const ids = [...new Set(input.messageIds)];
    const { data } = await deps.db.entities.messageReceipt
      .get(ids.map((messageId) => ({ workspaceId, messageId, userId })))
      .go({ consistent: true });
    receipts = (data as ReceiptItem[]).filter((receipt) => receipt.status === 'unread');
  } else {
    const { conversationId, upToMessageId } = input;
    const [, upTo] = await Promise.all([
      readConversation(deps, caller, conversationId).catch((error: unknown) => {
        if (error instanceof DomainError && error.code === 'not_found') {
          throw invalidReference('body.conversationId', 'No conversation with this id that you can read');
        }
        throw error;
      }),
      // The position is read under the conversation's own key: a message of another conversation (or
      // workspace) is not found there, and would otherwise mark nothing while answering success.
      // Consistent: a client marks read the message it was just told of.
      upToMessageId
        ? deps.db.entities.message.get({ workspaceId, conversationId, messageId: upToMessageId }).go({ consistent: true })
        : undefined,
    ]);
    if (upTo && !upTo.data) throw invalidReference('body.upToMessageId', 'No message with this id in this conversation');
    const unreadConversationScope = `${workspaceId}#UNREAD#${userId}#${conversationId}`;
    const query = deps.db.entities.messageReceipt.query.unreadByConversation({ unreadConversationScope });
    const result = await (upToMessageId ? query.lte({ unreadKey: upToMessageId }) : query).go({
      limit: maxReadBatch,
      pages: 1,
    });
    receipts = (result.data as ReceiptItem[]).filter((receipt) => receipt.status === 'unread');
    more = result.cursor !== null;
  }
  const at = deps.clock.nowIso();
  for (let start = 0; start < receipts.length; start += receiptsPerTransaction) {
    const chunk = receipts.slice(start, start + receiptsPerTransaction);
    const perConversation = new Map<string, number>();
    for (const receipt of chunk)
      perConversation.set(receipt.conversationId, (perConversation.get(receipt.conversationId) ?? 0) + 1);
    await writeReadChunk(deps, chunk, perConversation, at);
  }
  await dropEmptyCounters(deps, workspaceId, userId, [
    ...new Set(receipts.map((receipt) => receipt.conversationId)),
  ]);
  return { marked: receipts.length, more };
}

/**
 * Deletes the caller's counters that reached 0, so their counts stay one small Query however many
 * conversations they ever read. Conditional on the count: a message that arrived meanwhile keeps it.
 */
async function dropEmptyCounters(
  deps: CoreDeps,
  workspaceId: string,
  userId: string,
  conversationIds: string[],
) {
  await Promise.all(
    conversationIds.map((conversationId) =>
      deps.db.entities.unreadCounter
        .delete({ workspaceId, userId, conversationId })
        .where((attr, { lte }) => lte(attr.unread, 0))
        .go()
        .catch((error: unknown) => {
          if (!isConditionFailure(error)) throw error;
        }),
    ),
  );
}

async function writeReadChunk(
  deps: CoreDeps,
  chunk: ReceiptItem[],
  perConversation: Map<string, number>,
  at: string,
) {
  const { workspaceId, userId } = chunk[0]!;
  const result = await deps.db
    .transactWrite((tx) => [
      ...chunk.map((receipt) =>
        tx.messageReceipt
          .put({
            workspaceId: receipt.workspaceId,
            messageId: receipt.messageId,
            userId: receipt.userId,
            conversationId: receipt.conversationId,
            status: 'read',
            readAt: at,
            createdAt: receipt.createdAt,
          })
          .where((attr, { eq }) => eq(attr.status, 'unread'))
          .commit(),
      ),
      ...[...perConversation].map(([conversationId, count]) =>
        tx.unreadCounter.patch({ workspaceId, userId, conversationId }).add({ unread: -count }).commit(),
      ),
    ])
    .go();
  // A receipt read meanwhile (another tab): run again from the read, which leaves it out.
  if (result.canceled) throw lostRace('The read state');
}
