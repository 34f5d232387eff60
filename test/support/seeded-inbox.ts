/**
 * A deterministic inbox at scale for the inbox bench (test/bench/inbox.ts): conversation `i` of a
 * workspace is always the same conversation with the same messages. Every item is built by the
 * domain's own functions (`withKeys` and `conversationWrites` for the conversation and its list
 * entries, `receiptOps` for unread receipts, `claimGuard`, the ElectroDB entities for keys) and taken
 * from ElectroDB's transaction params, so the stored shape is the one the services write; the items
 * are then written with BatchWriteItem instead of one transaction per message.
 *
 * Not written (no measured request reads them): events, contacts' list entries and search tokens,
 * read receipts, and the external-id guards of seeded inbound messages.
 */
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  conversationWrites,
  isCountedList,
  withKeys,
  type ConversationItem,
} from '../../domain/inbox/conversation-record';
import { openConversationGuard } from '../../domain/inbox/conversations.service';
import type { ConversationStatus } from '../../domain/inbox/conversations.schemas';
import {
  assertAuthorInvariant,
  lastMessageOf,
  receiptOps,
  type MessageItem,
} from '../../domain/inbox/messages.service';
import type { Db, TxEntities } from '../../domain/store/db';
import { claimGuard } from '../../domain/store/unique-guard-ops';
import { mulberry32, seededContact, ulidAt } from './seeded-contacts';

type Item = Record<string, unknown>;

export interface InboxSeedOptions {
  workspaceId: string;
  /** Writes `createdBy` and the participants' `addedBy`. */
  ownerUserId: string;
  /** Assignees, in turn (the pool takes 2 conversations in 5). */
  assignees: string[];
  conversations: number;
  /** Messages in all, the long conversations' included. */
  messages: number;
  /** Message counts of conversations 0, 1, ...: the long ones (conversation 0 is in the pool, the others assigned). */
  longConversations: number[];
  /** Per user: how many conversations have unread messages for them. */
  unreadConversations: Record<string, number>;
  /** Users who also hold a counter at 0 for every other conversation (the pool's messages reached them, they read them). */
  historyUsers: string[];
  /** Every seeded message is older than this. */
  endMs: number;
}

/** What conversation `index` is, before its items are built. */
export interface ConversationPlan {
  index: number;
  messages: number;
  channel: 'email' | 'sms';
  status: ConversationStatus;
  assigneeId?: string;
}

const day = 86_400_000;

/** Conversation `i`'s status: 60% open, 10% pending, 5% snoozed, 25% resolved (the long ones open). */
const statusOf = (i: number, long: boolean): ConversationStatus => {
  if (long) return 'open';
  const r = i % 20;
  return r < 12 ? 'open' : r < 14 ? 'pending' : r === 14 ? 'snoozed' : 'resolved';
};

/**
 * Message counts: the long conversations as given, the rest spread unevenly (log-normal weights:
 * most conversations hold a few messages, some dozens, a few hundreds), every one at least 1.
 */
export function planConversations(options: InboxSeedOptions): ConversationPlan[] {
  const { conversations, longConversations } = options;
  const rest = options.messages - longConversations.reduce((sum, n) => sum + n, 0);
  const others = conversations - longConversations.length;
  if (others < 1 || rest < others) throw new Error('Too few messages for the conversations asked');
  const random = mulberry32(0x1b0c5eed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const weights = Array.from({ length: others }, () => Math.exp(1.3 * gauss()));
  const total = weights.reduce((sum, w) => sum + w, 0);
  const spare = rest - others; // above the 1 each conversation has
  const counts = weights.map((w) => 1 + Math.floor((w / total) * spare));
  let missing = rest - counts.reduce((sum, n) => sum + n, 0);
  for (let k = 0; missing > 0; k = (k + 7919) % others, missing--) counts[k]! += 1;
  return Array.from({ length: conversations }, (_, index) => {
    const long = index < longConversations.length;
    const status = statusOf(index, long);
    const pool = long ? index === 0 : index % 5 < 2;
    return {
      index,
      messages: long ? longConversations[index]! : counts[index - longConversations.length]!,
      channel: long || index % 10 < 7 ? 'email' : 'sms',
      status,
      ...(pool ? {} : { assigneeId: options.assignees[Math.floor(index / 5) % options.assignees.length]! }),
    };
  });
}

/** Who wrote message `j`: in the pool, always the contact; assigned, every third one is the assignee's (1 in 3 of those a note). */
const authorOf = (plan: ConversationPlan, j: number): 'contact' | 'reply' | 'note' =>
  !plan.assigneeId || j % 3 !== 2 ? 'contact' : j % 9 === 8 ? 'note' : 'reply';

/** How many of the last messages are the contact's. */
export function trailingContactMessages(plan: ConversationPlan): number {
  let n = 0;
  for (let j = plan.messages - 1; j >= 0 && authorOf(plan, j) === 'contact'; j--) n++;
  return n;
}

/**
 * Per conversation, the users it has unread messages for and how many: each user takes conversations
 * they would be notified of (not resolved, the contact's message last, in the pool or assigned to
 * them) from an offset of their own until their quota is met; 1 to 3 of the trailing messages each.
 */
export function planUnread(
  plans: ConversationPlan[],
  options: InboxSeedOptions,
): Map<number, Map<string, number>> {
  const unread = new Map<number, Map<string, number>>();
  const users = Object.entries(options.unreadConversations);
  users.forEach(([userId, quota], u) => {
    let taken = 0;
    for (let k = 0; k < plans.length && taken < quota; k++) {
      const plan = plans[(Math.floor((u * plans.length) / users.length) + k) % plans.length]!;
      if (plan.status === 'resolved' || (plan.assigneeId && plan.assigneeId !== userId)) continue;
      const trailing = trailingContactMessages(plan);
      if (trailing === 0) continue;
      const count = Math.min(trailing, 1 + (plan.index % 3));
      if (!unread.has(plan.index)) unread.set(plan.index, new Map());
      unread.get(plan.index)!.set(userId, count);
      taken++;
    }
  });
  return unread;
}

const bodies = [
  (i: number, j: number) => `Hi, any news on order #${i}-${j}?`,
  (i: number, j: number) =>
    `Thanks for getting back to me. Could you confirm the delivery date for order #${i}-${j} and whether the invoice can be sent to our accounts team instead?`,
  (i: number, j: number) => `Following up (${j}).`,
  (i: number, j: number) =>
    `Hello again,\n\nwe received the parcel for order #${i}-${j} but two items were damaged in transit. I attached photos on the portal. Can you send replacements, or should we return them first? We need them before the end of the month.\n\nBest regards`,
];

/** Writes DynamoDB items with BatchWriteItem, 25 at a time, `lanes` batches in flight, re-sending unprocessed items. */
export function batchPutter(docClient: DynamoDBDocumentClient, tableName: string, lanes = 8) {
  let buffer: Item[] = [];
  const inFlight = new Set<Promise<void>>();
  const stats = { items: 0, batches: 0, unprocessedRetries: 0, maxInFlight: 0 };
  const send = async (items: Item[]) => {
    let pending = items.map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 10)
        throw new Error(`BatchWriteItem left ${pending.length} items unprocessed after 10 retries`);
      if (attempt > 0) {
        stats.unprocessedRetries++;
        await new Promise((resolve) => setTimeout(resolve, 10 * 2 ** attempt));
      }
      const out = await docClient.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
      pending = (out.UnprocessedItems?.[tableName] ?? []) as typeof pending;
    }
    stats.items += items.length;
    stats.batches++;
  };
  const launch = async (items: Item[]) => {
    // Every waiting writer wakes when a batch ends: each checks again before it sends.
    while (inFlight.size >= lanes) await Promise.race(inFlight);
    const running: Promise<void> = send(items).finally(() => inFlight.delete(running));
    inFlight.add(running);
    stats.maxInFlight = Math.max(stats.maxInFlight, inFlight.size);
  };
  return {
    stats,
    async put(items: Item[]) {
      buffer.push(...items);
      while (buffer.length >= 25) await launch(buffer.splice(0, 25));
    },
    async flush() {
      if (buffer.length > 0) await launch(buffer.splice(0));
      buffer = [];
      await Promise.all(inFlight);
    },
  };
}

/** The items of ElectroDB operations as a transaction would write them: its Puts (conditions left out). */
function putsOf(db: Db, build: (tx: TxEntities) => unknown[]): Item[] {
  const { TransactItems } = db.transactWrite(build as never).params() as {
    TransactItems: { Put?: { Item: Item } }[];
  };
  return TransactItems.flatMap((op) => (op.Put ? [op.Put.Item] : []));
}

export interface SeededConversation {
  plan: ConversationPlan;
  item: ConversationItem;
  contactId: string;
  /** The sender address an inbound message from this contact on this channel carries. */
  from: string;
  firstMessageId: string;
  lastMessageId: string;
}

/**
 * Builds conversation `plan.index` (its contact with channel guards, the conversation with its list
 * entries and open-conversation guard, its messages, the unread receipts and counters) and hands its
 * items to `put`. Returns the conversation and the counted lists it is on.
 */
export async function seedConversation(
  db: Db,
  options: InboxSeedOptions,
  plan: ConversationPlan,
  unread: Map<string, number> | undefined,
  put: (items: Item[]) => Promise<void>,
): Promise<SeededConversation> {
  const { workspaceId, ownerUserId } = options;
  const i = plan.index;
  const { item: contact, guards } = seededContact(workspaceId, ownerUserId, i);
  const address = contact.channels.find(
    (channel) => channel.kind === (plan.channel === 'sms' ? 'phone' : 'email'),
  )!;
  const random = mulberry32(0xc0ffee ^ i);

  // Timing: conversations start over the 60 days before `endMs`, each message a few minutes after the last.
  const startMs = options.endMs - 60 * day + Math.floor((i / options.conversations) * 45 * day);
  const stepMs = Math.max(
    1_000,
    Math.min(20 * 60_000, Math.floor((options.endMs - 3_600_000 - startMs) / plan.messages)),
  );
  const idAt = (prefix: string, ms: number) => `${prefix}_${ulidAt(ms, random)}`;
  const conversationId = idAt('cv', startMs);
  const createdAt = new Date(startMs).toISOString();

  const messages: MessageItem[] = [];
  let waitingSince: string | undefined;
  for (let j = 0; j < plan.messages; j++) {
    const ms = startMs + j * stepMs + Math.floor(random() * Math.min(stepMs / 2, 60_000));
    const at = new Date(ms).toISOString();
    const author = authorOf(plan, j);
    const message: MessageItem = {
      workspaceId,
      conversationId,
      messageId: idAt('msg', ms),
      ...(author === 'contact'
        ? { authorKind: 'contact' as const, authorContactId: contact.contactId, externalId: `seed-${i}-${j}` }
        : { authorKind: 'user' as const, authorUserId: plan.assigneeId! }),
      channel: plan.channel,
      kind: 'text',
      note: author === 'note',
      body:
        author === 'note'
          ? `Internal: checked order #${i}-${j} with the warehouse.`
          : bodies[(i + j) % bodies.length]!(i, j),
      createdAt: at,
      updatedAt: at,
    };
    assertAuthorInvariant(message);
    messages.push(message);
    // As send() and ingestInbound() keep it: a reply answers the wait, a note does not.
    if (author === 'contact') waitingSince ??= at;
    else if (author === 'reply') waitingSince = undefined;
  }
  const last = messages[messages.length - 1]!;
  const participants = [
    { actorKind: 'contact' as const, id: contact.contactId, addedBy: ownerUserId, addedAt: createdAt },
    ...(plan.assigneeId
      ? [{ actorKind: 'user' as const, id: plan.assigneeId, addedBy: ownerUserId, addedAt: createdAt }]
      : []),
  ];
  const conversation = withKeys({
    workspaceId,
    conversationId,
    kind: 'contact',
    channel: plan.channel,
    contactId: contact.contactId,
    status: plan.status,
    ...(plan.status === 'snoozed' ? { snoozedUntil: new Date(options.endMs + 7 * day).toISOString() } : {}),
    ...(plan.assigneeId ? { assigneeId: plan.assigneeId } : {}),
    participants,
    ...(waitingSince ? { waitingSince } : {}),
    lastActivityAt: last.createdAt,
    lastMessage: lastMessageOf(last),
    messageCount: messages.length,
    lists: [],
    createdBy: ownerUserId,
    version: messages.length + 1,
    createdAt,
    updatedAt: last.createdAt,
  });

  await put(
    putsOf(db, (tx) => [
      tx.contact.create(contact).commit(),
      ...guards.map((guard) => tx.uniqueGuard.create(guard).commit()),
      ...conversationWrites(tx, undefined, conversation, []),
      claimGuard(
        tx,
        openConversationGuard(workspaceId, contact.contactId, plan.channel),
        conversationId,
        createdAt,
      ),
    ]),
  );
  for (let start = 0; start < messages.length; start += 100) {
    await put(
      putsOf(db, (tx) =>
        messages.slice(start, start + 100).map((message) => tx.message.create(message).commit()),
      ),
    );
  }

  // Unread receipts (the trailing contact messages) and each user's counter of the conversation.
  const counters: Item[] = [];
  const counter = (userId: string, count: number, lastUnreadAt: string) =>
    db.entities.unreadCounter
      .put({
        workspaceId,
        userId,
        conversationId,
        unread: count,
        kind: 'contact',
        assigneeKey: plan.assigneeId ?? 'none',
        lastUnreadAt,
      })
      .params().Item as Item;
  for (const [userId, count] of unread ?? []) {
    const unreadMessages = messages.slice(-count);
    await put(
      putsOf(db, (tx) => unreadMessages.map((message) => receiptOps(tx, conversation, message, userId)[0]!)),
    );
    counters.push(counter(userId, count, last.createdAt));
  }
  for (const userId of options.historyUsers) {
    // Read. The app deletes a counter once it reaches 0; here it stays, at 0, in the user's counters
    // partition (the history a read must not grow with), off the index of their unread conversations (gsi2).
    if (unread?.has(userId)) continue;
    const { gsi2pk: _pk, gsi2sk: _sk, ...read } = counter(userId, 0, last.createdAt);
    counters.push(read);
  }
  await put(counters);
  return {
    plan,
    item: conversation,
    contactId: contact.contactId,
    from: plan.channel === 'sms' ? address.value : address.normalized,
    firstMessageId: messages[0]!.messageId,
    lastMessageId: last.messageId,
  };
}

/** The view counts (`conversationCount` items) of the seeded conversations, as the ADDs of their creation leave them. */
export function countItems(db: Db, workspaceId: string, conversations: ConversationItem[]): Item[] {
  const counts = new Map<string, number>();
  for (const item of conversations) {
    for (const list of item.lists.filter(isCountedList)) counts.set(list, (counts.get(list) ?? 0) + 1);
  }
  return [...counts].map(
    ([list, count]) => db.entities.conversationCount.put({ workspaceId, list, count }).params().Item as Item,
  );
}
