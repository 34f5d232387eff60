import { appendEvent, type EventRecord } from '../../events/event-log';
import type { TxEntities } from '../store/db';
import type {
  Conversation,
  ConversationKind,
  ConversationStatus,
  InboxChannel,
  LastMessage,
  Participant,
} from './conversations.schemas';

/** The conversation item as stored. */
export interface ConversationItem {
  workspaceId: string;
  conversationId: string;
  kind: ConversationKind;
  channel: InboxChannel;
  contactId?: string;
  subject?: string;
  status: ConversationStatus;
  snoozedUntil?: string;
  assigneeId?: string;
  participants: Participant[];
  score?: { value: number; source: string; at: string };
  qualification?: { kind: string; score: number | null; source: string; confidence?: number | null; at: string };
  waitingSince?: string;
  /** When the contact's latest message arrived (ingest sets it). */
  lastInboundAt?: string;
  /** A classification is queued for this time: inbound messages until then add none (the debounce). */
  classifyPendingUntil?: string;
  lastActivityAt: string;
  lastMessage?: LastMessage;
  messageCount: number;
  lists: string[];
  snoozeScope?: string;
  snoozeKey?: string;
  mergedFrom?: string[];
  createdBy: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** The pool: the assignee list of conversations nobody holds. User ids never take this value. */
export const pool = 'none';
/** Sorts after every ISO time: conversations with nothing waiting come last in the waiting sort. */
const notWaiting = '~';
/** The partition of snoozed conversations with a wake-up time, across workspaces (the schedule reads it). */
export const snoozedPartition = 'SNOOZED';

/** The entry's sort keys in the activity (gsi1) and waiting (gsi2) orders. */
export const activityKeyOf = (item: Pick<ConversationItem, 'lastActivityAt' | 'conversationId'>) =>
  `${item.lastActivityAt}#${item.conversationId}`;
export const waitingKeyOf = (item: Pick<ConversationItem, 'waitingSince' | 'conversationId'>) =>
  `${item.waitingSince ?? notWaiting}#${item.conversationId}`;

export const allList = (status: ConversationStatus) => `all:${status}`;
export const assigneeList = (assigneeId: string | undefined, status: ConversationStatus) =>
  `assignee:${assigneeId ?? pool}:${status}`;
export const contactConversationsList = (contactId: string) => `contact:${contactId}`;
export const directList = (userId: string) => `direct:${userId}`;
export const withChannel = (list: string, channel: InboxChannel) => `${list}:${channel}`;
/** Lists with a count item: a view and a status (the channel lists, contact and direct lists have none). */
export const isCountedList = (list: string) => /^(all|assignee:[^:]+):[a-z]+$/.test(list);

export const userIdsOf = (item: Pick<ConversationItem, 'participants'>) =>
  item.participants.filter((participant) => participant.actorKind === 'user').map((participant) => participant.id);

/** The view lists a conversation is on, from its fields. */
export function listsOf(item: ConversationItem): string[] {
  if (item.kind === 'direct') return userIdsOf(item).map(directList);
  const all = allList(item.status);
  const assignee = assigneeList(item.assigneeId, item.status);
  return [
    all,
    withChannel(all, item.channel),
    assignee,
    withChannel(assignee, item.channel),
    ...(item.contactId ? [contactConversationsList(item.contactId)] : []),
  ];
}

/** Recomputes the lists and the snooze keys from the fields: call before every write. */
export function withKeys(item: ConversationItem): ConversationItem {
  const { snoozeScope: _scope, snoozeKey: _key, ...rest } = item;
  const snoozed = item.status === 'snoozed' && item.snoozedUntil;
  return {
    ...rest,
    lists: listsOf(item),
    ...(snoozed
      ? {
          snoozeScope: snoozedPartition,
          snoozeKey: `${item.snoozedUntil}#${item.workspaceId}#${item.conversationId}`,
        }
      : {}),
  };
}

/**
 * Whether a user may write free-form in the conversation: WhatsApp only within 24 hours of the contact's
 * last message; null on other channels. `open` is as of `nowIso` (default: the item's last write, which
 * is what a list entry's copy holds: the API recomputes it on reading, functions/http/inbox.handler.ts).
 */
export function replyWindowOf(item: Pick<ConversationItem, 'channel' | 'lastInboundAt' | 'lastMessage' | 'updatedAt'>, nowIso = item.updatedAt) {
  if (item.channel !== 'whatsapp') return null;
  const last = item.lastInboundAt ?? (item.lastMessage?.authorKind === 'contact' ? item.lastMessage.createdAt : undefined);
  if (!last) return { open: false, closesAt: null, reason: 'no_inbound_message' as const };
  const closesAt = new Date(Date.parse(last) + 24 * 60 * 60 * 1000).toISOString();
  return closesAt > nowIso
    ? { open: true, closesAt, reason: 'contact_wrote_within_24h' as const }
    : { open: false, closesAt, reason: 'window_expired' as const };
}

/** The conversation as shown, its reply window as of `nowIso` (a list entry's copy holds it as of its write). */
export const withReplyWindow = (conversation: Conversation, nowIso: string): Conversation => ({
  ...conversation,
  // Entries written before these fields existed lack them.
  lastInboundAt: conversation.lastInboundAt ?? null,
  replyWindow: replyWindowOf(
    {
      channel: conversation.channel,
      lastInboundAt: conversation.lastInboundAt ?? undefined,
      lastMessage: conversation.lastMessage ?? undefined,
      updatedAt: conversation.updatedAt,
    },
    nowIso,
  ),
});

export function toConversation(item: ConversationItem, nowIso?: string): Conversation {
  return {
    id: item.conversationId,
    kind: item.kind,
    channel: item.channel,
    contactId: item.contactId ?? null,
    subject: item.subject ?? null,
    status: item.status,
    snoozedUntil: item.snoozedUntil ?? null,
    assigneeId: item.assigneeId ?? null,
    participants: item.participants,
    score: item.score ?? null,
    qualification: item.qualification ?? null,
    waitingSince: item.waitingSince ?? null,
    lastInboundAt: item.lastInboundAt ?? null,
    replyWindow: replyWindowOf(item, nowIso),
    lastActivityAt: item.lastActivityAt,
    lastMessage: item.lastMessage ?? null,
    messageCount: item.messageCount,
    mergedFromContactIds: item.mergedFrom ?? [],
    createdBy: item.createdBy,
    version: item.version,
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
  };
}

const entryOf = (item: ConversationItem, list: string) => ({
  workspaceId: item.workspaceId,
  list,
  conversationId: item.conversationId,
  activityKey: activityKeyOf(item),
  waitingKey: waitingKeyOf(item),
  status: item.status,
  channel: item.channel,
  assigneeKey: item.assigneeId ?? pool,
  conversation: toConversation(item),
});

/**
 * The writes of a conversation change: the item (created, or put on the version read), its list
 * entries (put where it stays or arrives, deleted where it leaves), the view counts (±1) and the
 * events. The caller adds its own items (a message, receipts, guards) to the same transaction.
 */
export function conversationWrites(
  tx: TxEntities,
  before: ConversationItem | undefined,
  after: ConversationItem,
  events: EventRecord[],
  caps: Record<string, number> = {},
) {
  const left = (before?.lists ?? []).filter((list) => !after.lists.includes(list));
  const arrived = after.lists.filter((list) => !(before?.lists ?? []).includes(list));
  const count = (list: string, delta: number) => {
    const update = tx.conversationCount.update({ workspaceId: after.workspaceId, list }).add({ count: delta });
    const cap = delta > 0 ? caps[list] : undefined;
    // A capped list (an assignment rule's per-user cap) takes the conversation only while below the cap.
    return cap === undefined
      ? update.commit()
      : update.where((attr, { notExists, lt }) => `${notExists(attr.count)} OR ${lt(attr.count, cap)}`).commit();
  };
  return [
    before
      ? tx.conversation
          .put(after)
          .where((attr, { eq }) => eq(attr.version, before.version))
          .commit()
      : tx.conversation.create(after).commit(),
    ...after.lists.map((list) => tx.conversationListEntry.put(entryOf(after, list)).commit()),
    ...left.map((list) =>
      tx.conversationListEntry.delete({ workspaceId: after.workspaceId, list, conversationId: after.conversationId }).commit(),
    ),
    ...arrived.filter(isCountedList).map((list) => count(list, 1)),
    ...left.filter(isCountedList).map((list) => count(list, -1)),
    ...events.map((event) => appendEvent(tx, event)),
  ];
}

/** Where the count ADD of `list` (a list the conversation arrives on) sits in `conversationWrites`' items. */
export function arrivalCountIndex(before: ConversationItem | undefined, after: ConversationItem, list: string): number {
  const left = (before?.lists ?? []).filter((entry) => !after.lists.includes(entry));
  const arrived = after.lists.filter((entry) => !(before?.lists ?? []).includes(entry)).filter(isCountedList);
  const position = arrived.indexOf(list);
  return position < 0 ? -1 : 1 + after.lists.length + left.length + position;
}

/** How many items `conversationWrites` returns (the caller's own items follow them in the transaction). */
export function conversationWritesLength(before: ConversationItem | undefined, after: ConversationItem, events: EventRecord[]): number {
  const left = (before?.lists ?? []).filter((list) => !after.lists.includes(list));
  const arrived = after.lists.filter((list) => !(before?.lists ?? []).includes(list));
  return 1 + after.lists.length + left.length + arrived.filter(isCountedList).length + left.filter(isCountedList).length + events.length;
}
