import * as z from 'zod';
import { countryCode } from '../contacts/contacts.schemas';
import { recordId } from '../shared/ids';
import { attachmentId, maxAttachmentsPerMessage, messageAttachmentSchema } from './attachments.schemas';
import { pageQuerySchema } from '../shared/pagination';
import { isoTime } from '../shared/iso-time';
import { conversationId } from './conversations.schemas';
import { responseSchema, type ResponseOf } from '../shared/response-schema';
import {
  authorKinds,
  contactChannels,
  deliverableChannels,
  inboxChannels,
  maxBodyLength,
  maxReadBatch,
  messageKinds,
} from './inbox.entity';

export { maxBodyLength, maxReadBatch };

export const messageId = recordId('msg', 'a message');
const connectionIdField = recordId('chc', 'a channel connection');
export const messageIdParams = z.object({ conversationId, messageId });

/** Provider or integration data carried with a message, as given (at most 16 KB as JSON). */
const payload = z
  .record(z.string(), z.unknown())
  .refine((value) => JSON.stringify(value).length <= 16_384, 'At most 16 KB of JSON')
  .meta({
    description:
      'Structured data carried with the message (provider fields, buttons…), at most 16 KB as JSON',
  });

export const messageAttachmentRefSchema = messageAttachmentSchema;
export type MessageAttachmentRef = ResponseOf<typeof messageAttachmentRefSchema>;

export const sendMessageInput = z
  .object({
    body: z
      .string()
      .max(maxBodyLength)
      .meta({ description: 'The text (may be empty when files are attached)' }),
    note: z
      .boolean()
      .default(false)
      .meta({
        description: 'An internal note: seen by users only, never sent out; it does not answer the contact',
      }),
    payload: payload.optional(),
    attachmentIds: z
      .array(attachmentId)
      .max(maxAttachmentsPerMessage)
      .default([])
      .meta({ description: 'Files uploaded with `POST /v1/attachments`, at most 10' }),
    connectionId: connectionIdField
      .optional()
      .meta({
        description:
          'External channels: the connection to send through (default: the workspace’s oldest active one of the channel)',
      }),
    to: z
      .string()
      .min(1)
      .max(512)
      .optional()
      .meta({
        description:
          'External channels: which of the contact’s values to send to (default: the one they last wrote from, else their primary)',
      }),
  })
  .refine((input) => input.body.trim() !== '' || input.attachmentIds.length > 0, {
    path: ['body'],
    message: 'A message needs a body or an attachment',
  })
  .meta({ id: 'SendMessageInput' });
export type SendMessageInput = z.infer<typeof sendMessageInput>;

/** A retry takes nothing: no body, or `{}` (a schema still, so an Idempotency-Key is bound to the request). */
export const retryDeliveryInput = z
  .strictObject({})
  .meta({ id: 'RetryDeliveryInput', description: 'No fields: send no body, or `{}`' });

export const sendToContactInput = z
  .object({
    body: z
      .string()
      .max(maxBodyLength)
      .meta({ description: 'The text (may be empty when files are attached)' }),
    channel: z
      .enum(deliverableChannels)
      .optional()
      .meta({
        description:
          'Default: the channel the contact last wrote on, else the first of `email, whatsapp, telegram, sms` they have a value on and the workspace has connected',
      }),
    connectionId: connectionIdField
      .optional()
      .meta({
        description:
          'The connection to send through (default: the workspace’s oldest active one of the channel)',
      }),
    to: z
      .string()
      .min(1)
      .max(512)
      .optional()
      .meta({
        description:
          'Which of the contact’s values on the channel (default: the one they last wrote from, else their primary)',
      }),
    subject: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .optional()
      .meta({ description: 'Email: the subject of a new conversation' }),
    attachmentIds: z
      .array(attachmentId)
      .max(maxAttachmentsPerMessage)
      .default([])
      .meta({ description: 'Files uploaded with `POST /v1/attachments`, at most 10' }),
  })
  .refine((input) => input.body.trim() !== '' || input.attachmentIds.length > 0, {
    path: ['body'],
    message: 'A message needs a body or an attachment',
  })
  .meta({ id: 'SendToContactInput' });
export type SendToContactInput = z.infer<typeof sendToContactInput>;

export const ingestInboundInput = z
  .object({
    channel: z.enum(contactChannels).meta({ description: 'The channel it came in on' }),
    from: z
      .string()
      .min(1)
      .max(512)
      .meta({
        description:
          'The sender’s address on the channel: an email address, a phone number (sms, whatsapp; or a WhatsApp business-scoped user id such as `US.13491208655302741918`), a Telegram chat id or @username',
      }),
    name: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .optional()
      .meta({ description: 'The sender’s name, for a contact created by this message' }),
    defaultCountry: countryCode.optional(),
    externalId: z
      .string()
      .min(1)
      .max(200)
      .meta({
        description:
          'The message’s id at the provider: the same id is stored once (a repeat returns the stored message)',
      }),
    body: z.string().max(maxBodyLength),
    payload: payload.optional(),
    receivedAt: isoTime.optional().meta({ description: 'When the provider received it (default: now)' }),
  })
  .meta({ id: 'IngestInboundInput' });
export type IngestInboundInput = z.infer<typeof ingestInboundInput>;

const deliveryStatus = responseSchema(() => z.enum(['queued', 'sent', 'delivered', 'read', 'failed']));

export const deliveryAttemptSchema = responseSchema(() =>
  z
    .object({
      attempt: z.number().int().meta({ description: '1 for the first send; each retry is a new attempt' }),
      trigger: z.enum(['send', 'auto_retry', 'manual_retry']),
      requestedBy: z.string().nullable().meta({ description: 'The user who asked for a manual retry' }),
      status: deliveryStatus(),
      providerMessageId: z
        .string()
        .nullable()
        .meta({
          description: 'The provider’s id, set once the provider accepted the message (never before)',
        }),
      providerStatus: z.string().nullable().meta({ description: 'The provider’s own latest word for it' }),
      error: z
        .object({ code: z.string(), message: z.string() })
        .nullable()
        .meta({
          description:
            'The provider’s latest error (also on a delivery that stays `sent` after a transient bounce)',
        }),
      queuedAt: z.string(),
      calledAt: z.string().nullable().meta({ description: 'When the latest provider call for it started' }),
      sentAt: z.string().nullable(),
      deliveredAt: z.string().nullable(),
      readAt: z.string().nullable(),
      failedAt: z.string().nullable(),
      partsSent: z.array(z.string()).meta({
        description:
          'A message sent as several provider messages (WhatsApp and Telegram take one file each): the ids of the parts the provider accepted so far. An automatic re-send goes on after them.',
      }),
    })
    .meta({ id: 'DeliveryAttempt' }),
);

export const messageDeliverySchema = responseSchema(() =>
  z
    .object({
      id: z.string(),
      status: deliveryStatus().meta({
        description:
          '`queued` → `sent` (the provider accepted it) → `delivered` → `read`; `failed` from any state before `read`. Never moves back.',
      }),
      connectionId: z.string(),
      to: z.string().meta({ description: 'The contact’s channel value it goes to (canonical)' }),
      attempt: z.number().int().meta({ description: 'The current attempt' }),
      autoRetries: z
        .number()
        .int()
        .meta({ description: 'Automatic re-sends of the current attempt so far (429, 5xx, timeouts)' }),
      attempts: z.array(deliveryAttemptSchema()),
      createdAt: z.string(),
      updatedAt: z.string(),
    })
    .meta({ id: 'MessageDelivery' }),
);
export type MessageDelivery = ResponseOf<typeof messageDeliverySchema>;

const routingReason = responseSchema(() =>
  z.enum(['explicit', 'last_inbound', 'primary', 'preference_order']),
);
export const messageRoutingSchema = responseSchema(() =>
  z
    .object({
      channel: z.enum(['email', 'sms', 'whatsapp', 'telegram']),
      connectionId: z
        .string()
        .meta({ description: 'The channel connection (credential) it goes out through' }),
      to: z.string().meta({ description: 'The contact’s value it goes to (canonical)' }),
      reason: routingReason().meta({
        description:
          'Why this destination: `explicit` (named by the sender), `last_inbound` (where the contact last wrote), `primary` (the contact’s primary value on the conversation’s channel), `preference_order` (the workspace’s channel order: the contact never wrote)',
      }),
      choices: z
        .object({
          channel: z.union([routingReason(), z.literal('conversation')]),
          connection: z.enum(['explicit', 'oldest_active']),
          to: z.enum(['explicit', 'last_inbound', 'primary']),
        })
        .meta({ description: 'Each part’s own reason (`conversation`: the conversation’s channel)' }),
    })
    .meta({ id: 'MessageRouting' }),
);
export type MessageRoutingOut = ResponseOf<typeof messageRoutingSchema>;

export const messageSchema = responseSchema(() =>
  z
    .object({
      id: z.string(),
      conversationId: z.string(),
      authorKind: z.enum(authorKinds),
      authorUserId: z.string().nullable().meta({ description: 'Set exactly when `authorKind` is `user`' }),
      authorContactId: z
        .string()
        .nullable()
        .meta({
          description:
            'Set exactly when `authorKind` is `contact`: the contact now (after a contact merge, the contact merged into)',
        }),
      originalAuthorContactId: z
        .string()
        .nullable()
        .meta({
          description:
            'The contact who wrote it, when a contact merge re-pointed `authorContactId`; otherwise null',
        }),
      channel: z.enum(inboxChannels),
      kind: z.enum(messageKinds),
      note: z.boolean().meta({ description: 'An internal note: seen by users only' }),
      body: z.string(),
      payload: z.record(z.string(), z.unknown()).nullable(),
      externalId: z.string().nullable(),
      attachments: z.array(messageAttachmentRefSchema()),
      delivery: messageDeliverySchema()
        .nullable()
        .meta({
          description:
            'An outbound message on an external channel: its delivery and each provider call; otherwise null',
        }),
      routing: messageRoutingSchema()
        .nullable()
        .meta({
          description:
            'An outbound message on an external channel: the channel, connection and value chosen, and why; otherwise null',
        }),
      createdAt: z.string(),
    })
    .meta({ id: 'Message' }),
);
export type Message = ResponseOf<typeof messageSchema>;

export const listMessagesQuery = pageQuerySchema;

export const ingestResultSchema = responseSchema(() =>
  z
    .object({
      message: messageSchema(),
      conversationId: z.string(),
      contactId: z.string(),
      createdContact: z.boolean().meta({ description: 'A new contact was created for the sender' }),
      createdConversation: z.boolean(),
    })
    .meta({ id: 'IngestResult' }),
);
export type IngestResult = ResponseOf<typeof ingestResultSchema>;

export const markReadInput = z
  .union([
    z
      .object({
        messageIds: z
          .array(messageId)
          .min(1)
          .max(maxReadBatch)
          .meta({ description: `Up to ${maxReadBatch} messages` }),
      })
      .strict(),
    z
      .object({
        conversationId,
        upToMessageId: messageId
          .optional()
          .meta({
            description:
              'Everything up to and including this message; absent: everything in the conversation',
          }),
      })
      .strict(),
  ])
  .meta({ id: 'MarkReadInput' });
export type MarkReadInput = z.infer<typeof markReadInput>;

export const markReadResultSchema = responseSchema(() =>
  z
    .object({
      marked: z
        .number()
        .int()
        .meta({ description: 'Messages that were unread for the caller and now are read' }),
      more: z
        .boolean()
        .meta({ description: `More than ${maxReadBatch} were unread: repeat the request for the rest` }),
    })
    .meta({ id: 'MarkReadResult' }),
);
export type MarkReadResult = ResponseOf<typeof markReadResultSchema>;

export const receiptSchema = responseSchema(() =>
  z
    .object({
      userId: z.string(),
      status: z.enum(['unread', 'read']),
      readAt: z.string().nullable(),
      createdAt: z.string().meta({ description: 'When the message reached the user' }),
    })
    .meta({ id: 'MessageReceipt' }),
);
export type Receipt = ResponseOf<typeof receiptSchema>;

export const listUnreadQuery = pageQuerySchema;

export const unreadCountsQuery = pageQuerySchema;

export const unreadCountsSchema = responseSchema(() =>
  z
    .object({
      total: z.number().int().meta({ description: 'Unread messages for the caller, all conversations' }),
      views: z
        .object({
          mine: z.number().int(),
          unassigned: z.number().int(),
          all: z.number().int(),
          direct: z.number().int(),
        })
        .meta({ description: 'Unread messages for the caller per view (`all`: every contact conversation)' }),
      conversationsWithUnread: z.number().int().meta({ description: 'How many conversations hold them' }),
      conversations: z
        .array(
          z.object({
            conversationId: z.string(),
            unread: z.number().int(),
            lastUnreadAt: z.string().nullable(),
          }),
        )
        .meta({
          description: 'A page of the conversations with unread messages for the caller, latest unread first',
        }),
      nextCursor: z
        .string()
        .nullable()
        .meta({ description: 'Pass back as `cursor` for the next page of conversations; null on the last' }),
    })
    .meta({ id: 'UnreadCounts' }),
);
export type UnreadCounts = ResponseOf<typeof unreadCountsSchema>;
