import { contactIdParams } from '../../../domain/contacts/contacts.schemas';
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
  retryDeliveryInput,
  sendToContactInput,
  unreadCountsQuery,
  unreadCountsSchema,
} from '../../../domain/inbox/messages.schemas';
import { responseSchema } from '../../../domain/shared/response-schema';
import { conversationItemLocation, pageOf, route, type RouteDefinition } from '../route-definition';
import * as z from 'zod';

const inbox = { group: 'inbox', tag: 'Inbox', auth: true } as const;

export const messagesRoutes = {
  listMessages: route({
    ...inbox,
    method: 'GET',
    path: '/v1/conversations/{conversationId}/messages',
    summary: 'A conversation’s messages and internal notes, newest first',
    description:
      'One page per request (never the whole conversation): one read of the conversation and one query.',
    params: conversationIdParams,
    query: listMessagesQuery,
    response: {
      status: 200,
      description: 'A page of messages',
      schema: pageOf(messageSchema, 'MessagePage'),
    },
  }),
  sendMessage: route({
    ...inbox,
    method: 'POST',
    path: '/v1/conversations/{conversationId}/messages',
    summary: 'Write in a conversation: a message, or an internal note (`note: true`)',
    description:
      'Owner/admin write in any contact conversation; a member in the ones assigned to them or in the pool (a member’s reply to a pool conversation assigns it to them); a direct conversation’s users in it. The message is unread for the conversation’s other users (and, in the pool, for every user), never for its author. On the internal channel messages go to users. On an external channel (email, sms, whatsapp, telegram) a message goes out: the connection and the contact’s value are chosen (`connectionId` and `to` name them; `routing` on the message says what was chosen and why), and the message is written with its `delivery` (`queued`) and a `deliver_message` job in one transaction; the job makes the provider call (`sent` once the provider accepted it). Refused up front, nothing written (422 with `reason`): `contact_suppressed`, `no_channel_value`, `channel_not_connected`, `connection_not_usable`, `not_a_contact_value`, `whatsapp_window_closed` (with `closedAt`; see the conversation’s `replyWindow`). Appends `<channel>.sent` or `conversation.note_added`.',
    creates: true,
    params: conversationIdParams,
    body: sendMessageInput,
    refusals: {
      403: 'a member writing in a conversation assigned to another user, or an outsider in a direct conversation',
      409: '`attachment_used`: an attachment is on another message already',
      422: '`unprocessable` with `reason`: `contact_suppressed`, `no_channel_value`, `channel_not_connected`, `connection_not_usable`, `not_a_contact_value`, `whatsapp_window_closed` (`closedAt`); or an attachment’s file is not uploaded with its declared size and type; `invalid_reference`: an attachment id names no pending upload of the caller’s',
    },
    response: { status: 201, description: 'The message', schema: messageSchema },
  }),
  retryMessageDelivery: route({
    ...inbox,
    method: 'POST',
    path: '/v1/conversations/{conversationId}/messages/{messageId}/retry',
    summary: 'Send a failed message again: a new provider call, answered with its real outcome',
    description:
      'Only a message whose delivery `failed`. A new attempt is written with a `deliver_message` job (delayed 60 s: the safety net), then the provider is called at once and the answer shows the new attempt’s outcome: `sent` with its provider id, `failed` with the provider’s error, or `queued` when the provider answered with a passing error (the job retries it). Never `sent` before the provider accepted the message. The caller must be allowed to reply in the conversation. Appends `delivery.status_changed`.',
    creates: true,
    params: messageIdParams,
    body: retryDeliveryInput,
    refusals: {
      403: 'a member retrying in a conversation assigned to another user',
      409: '`delivery_not_failed`: the delivery is queued, sent, delivered or read',
      422: '`unprocessable` (`reason: not_deliverable`): an internal note, or a message on the internal channel',
    },
    response: { status: 200, description: 'The message with its new attempt', schema: messageSchema },
  }),
  sendContactMessage: route({
    location: conversationItemLocation('messages'),
    ...inbox,
    method: 'POST',
    path: '/v1/contacts/{contactId}/messages',
    summary: 'Send a message to a contact: the channel, connection and value chosen for you',
    description:
      'Channel: `channel`, else the one the contact last wrote on, else the first of `email, whatsapp, telegram, sms` they have a value on and the workspace has connected. Connection: `connectionId` (of that channel, active), else the workspace’s oldest active one of the channel. Value: `to` (one of the contact’s values on the channel), else the one they last wrote from, else their primary. The message goes to the contact’s current conversation on the channel, else a new one, and out as in `sendMessage`; a member sends only to their own or unclaimed contacts; `routing` records the choice and its `reason` (`explicit`, `last_inbound`, `preference_order`). An impossible choice is a 422 with a `reason`, nothing written.',
    creates: true,
    params: contactIdParams,
    body: sendToContactInput,
    refusals: {
      403: 'a member sending to a contact claimed by another user, or in the contact’s conversation assigned to another user',
      409: '`record_merged`: the contact was merged into another (`mergedInto`); `attachment_used`: an attachment is on another message already',
      422: '`unprocessable` with `reason`: `contact_suppressed`, `no_channel_value`, `channel_not_connected`, `connection_not_usable`, `not_a_contact_value`, `whatsapp_window_closed` (`closedAt`); `invalid_reference`: an attachment id names no pending upload of the caller’s',
    },
    response: {
      status: 201,
      description: 'The message (its `conversationId` says where it went)',
      schema: messageSchema,
    },
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
      schema: responseSchema(() =>
        z.object({ items: z.array(receiptSchema()) }).meta({ id: 'MessageReceiptList' }),
      ),
    },
  }),
  ingestInboundMessage: route({
    location: false,
    ...inbox,
    method: 'POST',
    path: '/v1/inbound-messages',
    summary: 'Bring in a contact’s message from your own channel integration',
    description:
      'Owner/admin tokens. The sender’s address finds the contact (or a new contact is created with that channel); the message goes to the contact’s latest conversation on the channel (a snoozed one wakes, a resolved one reopens) or to a new one, and is unread for its assignee (or, in the pool, for every user). The same `externalId` on the same channel is stored once: a repeat answers 200 with the stored message. Appends `<channel>.replied`.',
    creates: true,
    body: ingestInboundInput,
    refusals: { 403: 'a member' },
    alsoResponds: [
      {
        status: 200,
        description: 'The message stored earlier under this external id',
        schema: ingestResultSchema,
      },
    ],
    response: {
      status: 201,
      description: 'The stored message, its conversation and contact',
      schema: ingestResultSchema,
    },
  }),
  listUnreadMessages: route({
    ...inbox,
    method: 'GET',
    path: '/v1/inbox/unread-messages',
    summary: 'The caller’s unread messages across conversations, newest first',
    query: listUnreadQuery,
    response: {
      status: 200,
      description: 'A page of messages',
      schema: pageOf(messageSchema, 'UnreadMessagePage'),
    },
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
    summary:
      'Mark messages read for the caller: up to 500 by id, or everything up to a message in a conversation',
    description:
      'Messages already read, or never unread for the caller (their own), are left alone. `more: true` when a conversation had more than 500 unread: repeat the request.',
    body: markReadInput,
    refusals: {
      422: '`invalid_reference`: `conversationId` names no conversation the caller can read, or `upToMessageId` no message of that conversation',
    },
    response: { status: 200, description: 'How many became read', schema: markReadResultSchema },
  }),
} as const satisfies Record<string, RouteDefinition>;
