/**
 * The inbox's items (seed 001 Conversation, ConversationParticipant, ConversationScore,
 * ConversationQualification, Message, MessageReceipt). Access patterns (see domain/ACCESS_PATTERNS.md):
 * - get a conversation (participants inline): pk WS#<ws>#CONV#<conversationId>, sk CONV (one GetItem)
 * - a conversation's messages, newest first: the same pk, sk begins_with MSG# (Query, descending; ULIDs);
 *   a contact merge pages them oldest first (consistent) to re-point their authors, its progress at sk
 *   AUTHORS#<fromContactId> (messageAuthorMove)
 * - its score / qualification history, newest first: the same pk, sk begins_with SCORE# / QUAL#
 * - snoozed conversations due to wake, every workspace: gsi3 pk SNOOZED, sk <until>#<ws>#<id>
 *   (sparse: only snoozed conversations with a time; read by the wake-up schedule)
 * - a view page (see conversationListEntry), its count (conversationCount)
 * - who read a message: pk WS#<ws>#MSG#<messageId>, sk READ#<userId> (messageReceipt, one Query)
 * - a user's unread messages, newest first: gsi1 pk WS#<ws>#UNREAD#<userId>, sk <messageId>; in one
 *   conversation: gsi2 pk WS#<ws>#UNREAD#<userId>#<conversationId> (both sparse: only unread receipts)
 * - a user's unread counters: pk WS#<ws>#UNREAD#<userId>, sk CONV#<conversationId> (unreadCounter);
 *   latest unread first: gsi2 pk WS#<ws>#UNREADBY#<userId>, sk <lastUnreadAt>#<conversationId> (a page
 *   is one Query); the counters of one conversation: gsi1 pk WS#<ws>#UNREADCONV#<conversationId>
 * - a user's unread totals per view: pk WS#<ws>#UNREAD#<userId>, sk #TOTALS (unreadTotals, one GetItem;
 *   also on gsi2 at sk ~TOTALS, first in the descending Query of the user's unread conversations;
 *   kept from the counters' stream records by the unread-totals consumer)
 */
export const conversationKinds = ['contact', 'direct'] as const;
export const conversationStatuses = ['open', 'pending', 'snoozed', 'resolved'] as const;
/** The channels a conversation runs on (seed 001 Message channel keys). */
export const inboxChannels = ['internal', 'email', 'sms', 'whatsapp', 'telegram', 'linkedin'] as const;
export const authorKinds = ['user', 'contact', 'system'] as const;
export const messageKinds = ['text', 'media'] as const;

// Limits and channel sets the services check, here rather than in the schema modules: a module that
// imports a constant from a `.schemas.ts` builds every schema of it at import (cold start).
/** A conversation holds at most this many participants (users and contacts). */
export const maxParticipants = 50;
/** A message body holds at most this many characters (a long email fits; a file goes as an attachment). */
export const maxBodyLength = 65_536;
/** One markRead request marks at most this many messages. */
export const maxReadBatch = 500;
/**
 * The channels a contact is reached on (the internal channel is between users). LinkedIn has no
 * messaging API: its messages are logged, the contact's through the inbound API and a user's as sent.
 */
export const contactChannels = ['email', 'sms', 'whatsapp', 'telegram', 'linkedin'] as const;
export type ContactChannel = (typeof contactChannels)[number];
/** The channels a message is sent out on through a provider (a channel connection). */
export const deliverableChannels = ['email', 'sms', 'whatsapp', 'telegram'] as const;
export type DeliverableChannel = (typeof deliverableChannels)[number];
export const isDeliverable = (channel: string): channel is DeliverableChannel => (deliverableChannels as readonly string[]).includes(channel);

export const conversationSchema = {
  model: { service: 'crm', entity: 'conversation', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    conversationId: { type: 'string', required: true, readOnly: true },
    kind: { type: conversationKinds, required: true, readOnly: true },
    channel: { type: inboxChannels, required: true, readOnly: true },
    /** The contact of a `contact` conversation (moves to the target when contacts merge). */
    contactId: { type: 'string' },
    subject: { type: 'string' },
    status: { type: conversationStatuses, required: true },
    /** Snoozed until this time (or the contact's next message, whichever comes first). */
    snoozedUntil: { type: 'string' },
    assigneeId: { type: 'string' },
    /** Users and contacts in the conversation: `{ actorKind, id, addedBy, addedAt }[]` (at most 50). */
    participants: { type: 'any', required: true },
    /** The latest score and qualification (their histories are items of this partition). */
    score: { type: 'any' },
    qualification: { type: 'any' },
    /** The contact's oldest unanswered message: when it arrived. */
    waitingSince: { type: 'string' },
    /** When the contact's latest message arrived (WhatsApp's 24-hour window runs from it). */
    lastInboundAt: { type: 'string' },
    /** Inbound messages before this time add no classification: one is queued (domain/qualification/inbound-classification.ts). */
    classifyPendingUntil: { type: 'string' },
    lastActivityAt: { type: 'string', required: true },
    /** The latest message, for lists: `{ messageId, authorKind, excerpt, note, createdAt }`. */
    lastMessage: { type: 'any' },
    messageCount: { type: 'number', required: true },
    /** The lists (views) the conversation is on: kept to delete the old entries when they change. */
    lists: { type: 'list', required: true, items: { type: 'string' } },
    snoozeScope: { type: 'string' },
    snoozeKey: { type: 'string' },
    /** The contacts it belonged to before contact merges moved it, oldest first. */
    mergedFrom: { type: 'list', items: { type: 'string' } },
    createdBy: { type: 'string', required: true, readOnly: true },
    version: { type: 'number', required: true },
    createdAt: { type: 'string', required: true, readOnly: true },
    updatedAt: { type: 'string', required: true },
  },
  indexes: {
    byId: {
      pk: {
        field: 'pk',
        composite: ['workspaceId', 'conversationId'],
        template: 'WS#${workspaceId}#CONV#${conversationId}',
        casing: 'none',
      },
      sk: { field: 'sk', composite: [], template: 'CONV', casing: 'none' },
    },
    bySnoozeTime: {
      index: 'gsi3',
      pk: { field: 'gsi3pk', composite: ['snoozeScope'], template: '${snoozeScope}', casing: 'none' },
      sk: { field: 'gsi3sk', composite: ['snoozeKey'], template: '${snoozeKey}', casing: 'none' },
    },
  },
} as const;

/**
 * A conversation's entry on one view list: `all:<status>`, `assignee:<userId or none>:<status>` (each
 * also per channel, `…:<channel>`), `contact:<contactId>`, `direct:<userId>`. The entry carries the
 * conversation's summary, so a page is one Query: by last activity (gsi1, newest first) or by waiting
 * time (gsi2, oldest first; conversations not waiting last). Its table key never changes while the
 * conversation stays on the list, so a new message rewrites the entry in place.
 * - pk WS#<ws>#CV#<list>, sk <conversationId>
 * - gsi1 pk the same, sk <lastActivityAt>#<conversationId>
 * - gsi2 pk the same, sk <waitingSince or ~>#<conversationId>
 */
export const conversationListEntrySchema = {
  model: { service: 'crm', entity: 'conversationListEntry', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    list: { type: 'string', required: true, readOnly: true },
    conversationId: { type: 'string', required: true, readOnly: true },
    activityKey: { type: 'string', required: true },
    waitingKey: { type: 'string', required: true },
    /** Copies of the conversation's fields that a list filters on (contact and direct lists hold every status). */
    status: { type: conversationStatuses, required: true },
    channel: { type: inboxChannels, required: true },
    assigneeKey: { type: 'string', required: true },
    conversation: { type: 'any', required: true },
  },
  indexes: {
    byList: {
      pk: {
        field: 'pk',
        composite: ['workspaceId', 'list'],
        template: 'WS#${workspaceId}#CV#${list}',
        casing: 'none',
      },
      sk: { field: 'sk', composite: ['conversationId'], template: '${conversationId}', casing: 'none' },
    },
    byActivity: {
      index: 'gsi1',
      pk: {
        field: 'gsi1pk',
        composite: ['workspaceId', 'list'],
        template: 'WS#${workspaceId}#CV#${list}',
        casing: 'none',
      },
      sk: { field: 'gsi1sk', composite: ['activityKey'], template: '${activityKey}', casing: 'none' },
    },
    byWaiting: {
      index: 'gsi2',
      pk: {
        field: 'gsi2pk',
        composite: ['workspaceId', 'list'],
        template: 'WS#${workspaceId}#CV#${list}',
        casing: 'none',
      },
      sk: { field: 'gsi2sk', composite: ['waitingKey'], template: '${waitingKey}', casing: 'none' },
    },
  },
} as const;

/** How many conversations a list holds: ADD ±1 in the transaction that adds or removes an entry. */
export const conversationCountSchema = {
  model: { service: 'crm', entity: 'conversationCount', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    list: { type: 'string', required: true, readOnly: true },
    count: { type: 'number', required: true },
  },
  indexes: {
    byList: {
      pk: {
        field: 'pk',
        composite: ['workspaceId', 'list'],
        template: 'WS#${workspaceId}#CV#${list}',
        casing: 'none',
      },
      sk: { field: 'sk', composite: [], template: '#COUNT', casing: 'none' },
    },
  },
} as const;

export const conversationScoreSchema = {
  model: { service: 'crm', entity: 'conversationScore', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    conversationId: { type: 'string', required: true, readOnly: true },
    scoreId: { type: 'string', required: true, readOnly: true },
    value: { type: 'number', required: true, readOnly: true },
    source: { type: 'string', required: true, readOnly: true },
    userId: { type: 'string', required: true, readOnly: true },
    createdAt: { type: 'string', required: true, readOnly: true },
  },
  indexes: {
    byConversation: {
      pk: {
        field: 'pk',
        composite: ['workspaceId', 'conversationId'],
        template: 'WS#${workspaceId}#CONV#${conversationId}',
        casing: 'none',
      },
      sk: { field: 'sk', composite: ['scoreId'], template: 'SCORE#${scoreId}', casing: 'none' },
    },
  },
} as const;

export const conversationQualificationSchema = {
  model: { service: 'crm', entity: 'conversationQualification', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    conversationId: { type: 'string', required: true, readOnly: true },
    qualificationId: { type: 'string', required: true, readOnly: true },
    kind: { type: 'string', required: true, readOnly: true },
    score: { type: 'number', readOnly: true },
    source: { type: ['manual', 'ai'] as const, required: true, readOnly: true },
    /** A classifier's confidence (0 to 1) and the evidence it gave. */
    confidence: { type: 'number', readOnly: true },
    reasons: { type: 'list', items: { type: 'string' }, readOnly: true },
    userId: { type: 'string', required: true, readOnly: true },
    createdAt: { type: 'string', required: true, readOnly: true },
  },
  indexes: {
    byConversation: {
      pk: {
        field: 'pk',
        composite: ['workspaceId', 'conversationId'],
        template: 'WS#${workspaceId}#CONV#${conversationId}',
        casing: 'none',
      },
      sk: { field: 'sk', composite: ['qualificationId'], template: 'QUAL#${qualificationId}', casing: 'none' },
    },
  },
} as const;

/**
 * A message, in its conversation's partition (pk WS#<ws>#CONV#<conversationId>, sk MSG#<messageId>).
 * Author invariant (seed 001): user ⇒ authorUserId and no authorContactId; contact ⇒ authorContactId
 * and no authorUserId; system ⇒ neither.
 */
export const messageSchema = {
  model: { service: 'crm', entity: 'message', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    conversationId: { type: 'string', required: true, readOnly: true },
    messageId: { type: 'string', required: true, readOnly: true },
    authorKind: { type: authorKinds, required: true, readOnly: true },
    authorUserId: { type: 'string' },
    /** A contact merge re-points it to the target (the conversation moves with it). */
    authorContactId: { type: 'string' },
    /** The contact who wrote it, kept when a contact merge re-pointed `authorContactId` (the first one, over several merges). */
    mergedFromContactId: { type: 'string' },
    channel: { type: inboxChannels, required: true, readOnly: true },
    kind: { type: messageKinds, required: true, readOnly: true },
    /** An internal note: only users see it; never sent out. */
    note: { type: 'boolean', required: true, readOnly: true },
    /** The text; a contact's edit (Telegram) replaces it and keeps the earlier one in `edits`. */
    body: { type: 'string', required: true },
    payload: { type: 'any' },
    externalId: { type: 'string', readOnly: true },
    /** The earlier texts of a message its contact edited, oldest first: `{ body, editedAt }[]`. */
    edits: { type: 'any' },
    /** `{ attachmentId, kind, fileName, contentType, sizeBytes }[]` */
    attachments: { type: 'any' },
    /**
     * An outbound message's delivery on an external channel (seed 001 Delivery; domain/channels/deliveries):
     * its status, connection, recipient and attempts. Written with `deliveryVersion` as its guard.
     */
    delivery: { type: 'any' },
    deliveryVersion: { type: 'number' },
    /** An outbound message's channel choice: `{ channel, connectionId, to, reason, choices }` (domain/channels/routing). */
    routing: { type: 'any' },
    createdAt: { type: 'string', required: true, readOnly: true },
    updatedAt: { type: 'string', required: true },
  },
  indexes: {
    byConversation: {
      pk: {
        field: 'pk',
        composite: ['workspaceId', 'conversationId'],
        template: 'WS#${workspaceId}#CONV#${conversationId}',
        casing: 'none',
      },
      sk: { field: 'sk', composite: ['messageId'], template: 'MSG#${messageId}', casing: 'none' },
    },
  },
} as const;

/**
 * How far a contact merge has re-pointed the authors of one conversation's messages (from a source to
 * the target), so the next request of a merge that stopped part-way goes on after the last message it
 * looked at instead of reading the conversation again from its start. Deleted in the transaction that
 * moves the conversation to the target.
 * - pk WS#<ws>#CONV#<conversationId>, sk AUTHORS#<fromContactId> (one GetItem, consistent)
 */
export const messageAuthorMoveSchema = {
  model: { service: 'crm', entity: 'messageAuthorMove', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    conversationId: { type: 'string', required: true, readOnly: true },
    fromContactId: { type: 'string', required: true, readOnly: true },
    toContactId: { type: 'string', required: true },
    /** The last message looked at (ULIDs: the next page starts after it). */
    afterMessageId: { type: 'string', required: true },
    updatedAt: { type: 'string', required: true },
  },
  indexes: {
    byConversation: {
      pk: {
        field: 'pk',
        composite: ['workspaceId', 'conversationId'],
        template: 'WS#${workspaceId}#CONV#${conversationId}',
        casing: 'none',
      },
      sk: { field: 'sk', composite: ['fromContactId'], template: 'AUTHORS#${fromContactId}', casing: 'none' },
    },
  },
} as const;

/**
 * Seed 001 MessageReceipt: one user's read state of one message (`unread` / `read`), created when the
 * message reaches them. While unread it is on the user's unread lists (gsi1, gsi2).
 */
export const messageReceiptSchema = {
  model: { service: 'crm', entity: 'messageReceipt', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    messageId: { type: 'string', required: true, readOnly: true },
    userId: { type: 'string', required: true, readOnly: true },
    conversationId: { type: 'string', required: true, readOnly: true },
    status: { type: ['unread', 'read'] as const, required: true },
    readAt: { type: 'string' },
    /** Set while unread: `<ws>#UNREAD#<userId>` and `<ws>#UNREAD#<userId>#<conversationId>`. */
    unreadScope: { type: 'string' },
    unreadConversationScope: { type: 'string' },
    unreadKey: { type: 'string' },
    createdAt: { type: 'string', required: true, readOnly: true },
  },
  indexes: {
    byMessage: {
      pk: {
        field: 'pk',
        composite: ['workspaceId', 'messageId'],
        template: 'WS#${workspaceId}#MSG#${messageId}',
        casing: 'none',
      },
      sk: { field: 'sk', composite: ['userId'], template: 'READ#${userId}', casing: 'none' },
    },
    unreadByUser: {
      index: 'gsi1',
      pk: { field: 'gsi1pk', composite: ['unreadScope'], template: 'WS#${unreadScope}', casing: 'none' },
      sk: { field: 'gsi1sk', composite: ['unreadKey'], template: '${unreadKey}', casing: 'none' },
    },
    unreadByConversation: {
      index: 'gsi2',
      pk: {
        field: 'gsi2pk',
        composite: ['unreadConversationScope'],
        template: 'WS#${unreadConversationScope}',
        casing: 'none',
      },
      sk: { field: 'gsi2sk', composite: ['unreadKey'], template: '${unreadKey}', casing: 'none' },
    },
  },
} as const;

/**
 * One user's unread count in one conversation (ADD +1 with each receipt created, −1 with each read),
 * with the conversation's view (kind, assignee) so the caller's counts per view are one Query.
 */
export const unreadCounterSchema = {
  model: { service: 'crm', entity: 'unreadCounter', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    userId: { type: 'string', required: true, readOnly: true },
    conversationId: { type: 'string', required: true, readOnly: true },
    unread: { type: 'number', required: true },
    kind: { type: conversationKinds, required: true },
    /** The conversation's assignee, or `none`. */
    assigneeKey: { type: 'string', required: true },
    lastUnreadAt: { type: 'string' },
  },
  indexes: {
    byUser: {
      pk: {
        field: 'pk',
        composite: ['workspaceId', 'userId'],
        template: 'WS#${workspaceId}#UNREAD#${userId}',
        casing: 'none',
      },
      sk: { field: 'sk', composite: ['conversationId'], template: 'CONV#${conversationId}', casing: 'none' },
    },
    byConversation: {
      index: 'gsi1',
      pk: {
        field: 'gsi1pk',
        composite: ['workspaceId', 'conversationId'],
        template: 'WS#${workspaceId}#UNREADCONV#${conversationId}',
        casing: 'none',
      },
      sk: { field: 'gsi1sk', composite: ['userId'], template: '${userId}', casing: 'none' },
    },
    byLatestUnread: {
      index: 'gsi2',
      pk: {
        field: 'gsi2pk',
        composite: ['workspaceId', 'userId'],
        template: 'WS#${workspaceId}#UNREADBY#${userId}',
        casing: 'none',
      },
      sk: {
        field: 'gsi2sk',
        composite: ['lastUnreadAt', 'conversationId'],
        template: '${lastUnreadAt}#${conversationId}',
        casing: 'none',
      },
    },
  },
} as const;

/**
 * A user's unread messages in total and per view (`all`: contact conversations; `mine`: assigned to
 * them; `unassigned`: in the pool; `direct`), and how many conversations hold them. Not written by the
 * requests that change counters: a message in a pool conversation changes every user's counter, and
 * one shared totals item per user in those transactions would make concurrent messages conflict. The
 * unread-totals stream consumer adds each counter change's difference instead, exactly once.
 */
export const unreadTotalsSchema = {
  model: { service: 'crm', entity: 'unreadTotals', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    userId: { type: 'string', required: true, readOnly: true },
    total: { type: 'number' },
    mine: { type: 'number' },
    unassigned: { type: 'number' },
    all: { type: 'number' },
    direct: { type: 'number' },
    conversations: { type: 'number' },
  },
  indexes: {
    byUser: {
      pk: {
        field: 'pk',
        composite: ['workspaceId', 'userId'],
        template: 'WS#${workspaceId}#UNREAD#${userId}',
        casing: 'none',
      },
      sk: { field: 'sk', composite: [], template: '#TOTALS', casing: 'none' },
    },
    /**
     * Beside the user's counters on gsi2 (unreadCounter.byLatestUnread), sorted after every
     * `<lastUnreadAt>#…` key: read newest first, the first page's one Query returns the totals first.
     * Written by `upsert` (an update leaves an index's keys alone when none of its attributes change).
     */
    besideUnreadConversations: {
      index: 'gsi2',
      pk: {
        field: 'gsi2pk',
        composite: ['workspaceId', 'userId'],
        template: 'WS#${workspaceId}#UNREADBY#${userId}',
        casing: 'none',
      },
      sk: { field: 'gsi2sk', composite: [], template: '~TOTALS', casing: 'none' },
    },
  },
} as const;
