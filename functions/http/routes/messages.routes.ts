import { conversationIdParams } from '../../../domain/inbox/conversations.schemas';
import {
  ingestInboundInput,
  ingestResultSchema,
  listMessagesQuery,
  listUnreadQuery,
  markReadInput,
  markReadResultSchema,
  messageIdParams,
  messageSchema,
  receiptSchema,
  sendMessageInput,
  unreadCountsQuery,
  unreadCountsSchema,
} from '../../../domain/inbox/messages.schemas';
import { route, pageOf, type RouteDefinition } from '../route-definition';
import { z } from 'zod';

const inbox = { group: 'inbox', tag: 'Inbox', auth: true } as const;

export const messagesRoutes = {
  listMessages: route({
    ...inbox,
    method: 'GET',
    path: '/v1/conversations/{conversationId}/messages',
    summary: 'A conversation’s messages and internal notes, newest first',
    description: 'One page per request (never the whole conversation): one read of the conversation and one query.',
    params: conversationIdParams,
    query: listMessagesQuery,
    response: { status: 200, description: 'A page of messages', schema: pageOf(messageSchema, 'MessagePage') },
  }),
  sendMessage: route({
    ...inbox,
    method: 'POST',
    path: '/v1/conversations/{conversationId}/messages',
    summary: 'Write in a conversation: a message, or an internal note (`note: true`)',
    description:
      'Owner/admin write in any contact conversation; a member in the ones assigned to them or in the pool (a member’s reply to a pool conversation assigns it to them); a direct conversation’s users in it. The message is unread for the conversation’s other users (and, in the pool, for every user), never for its author. On the internal channel messages go to users; on an external channel only internal notes can be written until the channel is connected (422, `reason: channel_not_connected`). Appends `internal.sent` or `conversation.note_added`.',
    creates: true,
    params: conversationIdParams,
    body: sendMessageInput,
    refusals: {
      403: 'a member writing in a conversation assigned to another user, or an outsider in a direct conversation',
      409: '`attachment_used`: an attachment is on another message already',
      422: '`unprocessable`: the channel is not connected (`reason: channel_not_connected`), or an attachment’s file is not uploaded with its declared size and type; `invalid_reference`: an attachment id names no pending upload of the caller’s',
    },
    response: { status: 201, description: 'The message', schema: messageSchema },
  }),
  getMessage: route({
    ...inbox,
    method: 'GET',
    path: '/v1/conversations/{conversationId}/messages/{messageId}',
    summary: 'One message',
    params: messageIdParams,
    response: { status: 200, description: 'The message', schema: messageSchema },
  }),
  listMessageReceipts: route({
    ...inbox,
    method: 'GET',
    path: '/v1/conversations/{conversationId}/messages/{messageId}/receipts',
    summary: 'Who a message reached and who read it, when',
    params: messageIdParams,
    response: {
      status: 200,
      description: 'The receipts',
      schema: z.object({ items: z.array(receiptSchema) }).meta({ id: 'MessageReceiptList' }),
    },
  }),
  ingestInboundMessage: route({
    ...inbox,
    method: 'POST',
    path: '/v1/inbound-messages',
    summary: 'Bring in a contact’s message from your own channel integration',
    description:
      'Owner/admin tokens. The sender’s address finds the contact (or a new contact is created with that channel); the message goes to the contact’s latest conversation on the channel (a snoozed one wakes, a resolved one reopens) or to a new one, and is unread for its assignee (or, in the pool, for every user). The same `externalId` on the same channel is stored once: a repeat answers 200 with the stored message. Appends `<channel>.replied`.',
    creates: true,
    body: ingestInboundInput,
    refusals: { 403: 'a member' },
    alsoResponds: [{ status: 200, description: 'The message stored earlier under this external id', schema: ingestResultSchema }],
    response: { status: 201, description: 'The stored message, its conversation and contact', schema: ingestResultSchema },
  }),
  listUnreadMessages: route({
    ...inbox,
    method: 'GET',
    path: '/v1/inbox/unread-messages',
    summary: 'The caller’s unread messages across conversations, newest first',
    query: listUnreadQuery,
    response: { status: 200, description: 'A page of messages', schema: pageOf(messageSchema, 'UnreadMessagePage') },
  }),
  getUnreadCounts: route({
    ...inbox,
    method: 'GET',
    path: '/v1/inbox/unread',
    summary: 'The caller’s unread counts: in total, per view and per conversation',
    description:
      'Totals from the caller’s totals item and a page of their conversations with unread messages (latest unread first) from their counters: two reads in parallel, whatever the number of conversations, never by reading messages. The totals are kept from the counters by a stream consumer and trail a change by about a second; the page is current.',
    query: unreadCountsQuery,
    response: { status: 200, description: 'The counts', schema: unreadCountsSchema },
  }),
  markMessagesRead: route({
    ...inbox,
    method: 'POST',
    path: '/v1/inbox/read',
    summary: 'Mark messages read for the caller: up to 500 by id, or everything up to a message in a conversation',
    description:
      'Messages already read, or never unread for the caller (their own), are left alone. `more: true` when a conversation had more than 500 unread: repeat the request.',
    body: markReadInput,
    refusals: { 422: '`invalid_reference`: `conversationId` names no conversation the caller can read' },
    response: { status: 200, description: 'How many became read', schema: markReadResultSchema },
  }),
} as const satisfies Record<string, RouteDefinition>;
