import * as z from 'zod';
import { addScoreInput, qualificationSources, setQualificationInput } from '../contacts/scoring.schemas';
import { recordId } from '../shared/ids';
import { isoTime } from '../shared/iso-time';
import { pageQuerySchema } from '../shared/pagination';
import { responseSchema, type ResponseOf } from '../shared/response-schema';
import {
  contactChannels,
  conversationKinds,
  conversationStatuses,
  deliverableChannels,
  inboxChannels,
  isDeliverable,
  maxParticipants,
  type ContactChannel,
  type DeliverableChannel,
} from './inbox.entity';

export {
  contactChannels,
  deliverableChannels,
  isDeliverable,
  maxParticipants,
  type ContactChannel,
  type DeliverableChannel,
};

export type ConversationKind = (typeof conversationKinds)[number];
export type ConversationStatus = (typeof conversationStatuses)[number];
export type InboxChannel = (typeof inboxChannels)[number];

export const conversationId = recordId('cv', 'a conversation');
export const conversationIdParams = z.object({ conversationId });
const userId = recordId('usr', 'a user');
const contactId = recordId('ct', 'a contact');

export const openConversationInput = z
  .discriminatedUnion('kind', [
    z
      .object({
        kind: z.literal('contact'),
        contactId: contactId.meta({ description: 'The contact the thread is with' }),
        channel: z
          .enum(contactChannels)
          .meta({ description: 'The channel the thread runs on (contacts are not on the internal channel)' }),
        subject: z.string().trim().min(1).max(300).optional(),
        new: z
          .boolean()
          .default(false)
          .meta({
            description:
              'Open a new conversation even when the contact has one on this channel that is not resolved',
          }),
      })
      .strict()
      .meta({ id: 'OpenContactConversationInput' }),
    z
      .object({
        kind: z.literal('direct'),
        userIds: z
          .array(userId)
          .min(1)
          .max(maxParticipants - 1)
          .meta({
            description:
              'The other users (the caller is always in it); the same set of users always gets the same conversation',
          }),
        subject: z.string().trim().min(1).max(300).optional(),
      })
      .strict()
      .meta({ id: 'OpenDirectConversationInput' }),
  ])
  .meta({ id: 'OpenConversationInput' });
export type OpenConversationInput = z.infer<typeof openConversationInput>;

export const setStatusInput = z
  .object({
    status: z.enum(conversationStatuses),
    snoozedUntil: isoTime
      .optional()
      .meta({
        description:
          'With `snoozed`: wake at this time (or at the contact’s next message, whichever comes first). Without it, only a message wakes it',
      }),
  })
  .refine((input) => input.status === 'snoozed' || input.snoozedUntil === undefined, {
    path: ['snoozedUntil'],
    message: '`snoozedUntil` goes with the status `snoozed` only',
  })
  .meta({ id: 'SetConversationStatusInput' });
export type SetStatusInput = z.infer<typeof setStatusInput>;

export const assignConversationInput = z
  .object({
    assigneeId: userId
      .nullable()
      .meta({ description: 'The user to give it to, or null to put it back in the pool' }),
  })
  .meta({ id: 'AssignConversationInput' });
export type AssignConversationInput = z.infer<typeof assignConversationInput>;

export const addParticipantInput = z
  .object({
    actorKind: z.enum(['user', 'contact']),
    id: z.string().min(1).max(64).meta({ description: 'The user’s or contact’s id' }),
  })
  .meta({ id: 'AddParticipantInput' });
export type AddParticipantInput = z.infer<typeof addParticipantInput>;

export const participantParams = z.object({
  conversationId,
  participantId: z
    .string()
    .regex(
      /^(usr|ct)_[0-9A-HJKMNP-TV-Z]{26}$/,
      'Not a participant id: a user (`usr_…`) or a contact (`ct_…`)',
    )
    .meta({ description: 'The user’s or contact’s id', example: 'usr_01JF3Q5Z8V2N6M4K7T9R1X3C5B' }),
});

export const addConversationScoreInput = addScoreInput.meta({ id: 'AddConversationScoreInput' });
export const setConversationQualificationInput = setQualificationInput.meta({
  id: 'SetConversationQualificationInput',
});

export const participantSchema = responseSchema(() =>
  z
    .object({
      actorKind: z.enum(['user', 'contact']),
      id: z.string(),
      addedBy: z.string().meta({ description: 'Who added it: a user id, or `system`' }),
      addedAt: z.string(),
    })
    .meta({ id: 'ConversationParticipant' }),
);
export type Participant = ResponseOf<typeof participantSchema>;

export const lastMessageSchema = responseSchema(() =>
  z
    .object({
      messageId: z.string(),
      authorKind: z.enum(['user', 'contact', 'system']),
      excerpt: z.string(),
      note: z.boolean(),
      createdAt: z.string(),
    })
    .meta({ id: 'ConversationLastMessage' }),
);
export type LastMessage = ResponseOf<typeof lastMessageSchema>;

export const conversationScoreSchema = responseSchema(() =>
  z
    .object({
      id: z.string(),
      conversationId: z.string(),
      value: z.number().int(),
      source: z.string(),
      userId: z.string(),
      createdAt: z.string(),
    })
    .meta({ id: 'ConversationScore' }),
);
export type ConversationScore = ResponseOf<typeof conversationScoreSchema>;

export const conversationQualificationSchema = responseSchema(() =>
  z
    .object({
      id: z.string(),
      conversationId: z.string(),
      kind: z.string(),
      score: z.number().int().nullable(),
      source: z.enum(qualificationSources),
      confidence: z
        .number()
        .nullable()
        .meta({ description: 'How sure the classifier was, 0 to 1; null for a user’s' }),
      reasons: z
        .array(z.string())
        .meta({ description: 'The evidence the classifier went by; empty for a user’s' }),
      userId: z.string(),
      createdAt: z.string(),
    })
    .meta({ id: 'ConversationQualification' }),
);
export type ConversationQualification = ResponseOf<typeof conversationQualificationSchema>;

export const conversationSchema = responseSchema(() =>
  z
    .object({
      id: z.string(),
      kind: z.enum(conversationKinds),
      channel: z.enum(inboxChannels),
      contactId: z.string().nullable(),
      subject: z.string().nullable(),
      status: z.enum(conversationStatuses),
      snoozedUntil: z.string().nullable(),
      assigneeId: z
        .string()
        .nullable()
        .meta({ description: 'The user it is assigned to; null: in the pool' }),
      participants: z.array(participantSchema()),
      score: z.object({ value: z.number().int(), source: z.string(), at: z.string() }).nullable(),
      qualification: z
        .object({
          kind: z.string(),
          score: z.number().int().nullable(),
          source: z.string(),
          confidence: z
            .number()
            .nullable()
            .optional()
            .meta({ description: 'How sure the classifier was, 0 to 1 (absent or null: a user’s)' }),
          at: z.string(),
        })
        .nullable(),
      waitingSince: z
        .string()
        .nullable()
        .meta({
          description:
            'When the contact’s oldest unanswered message arrived; null when nothing waits for an answer',
        }),
      lastInboundAt: z
        .string()
        .nullable()
        .meta({ description: 'When the contact’s latest message arrived; null when they never wrote here' }),
      replyWindow: z
        .object({
          open: z.boolean().meta({ description: 'A free-form message can be sent now' }),
          closesAt: z
            .string()
            .nullable()
            .meta({
              description: 'When it closes (closed: when it closed); null when the contact never wrote',
            }),
          reason: z.enum(['contact_wrote_within_24h', 'window_expired', 'no_inbound_message']),
        })
        .nullable()
        .meta({
          id: 'ReplyWindow',
          description:
            'WhatsApp: free-form messages only within 24 hours of the contact’s last message (else 422 `whatsapp_window_closed`); null on other channels',
        }),
      lastActivityAt: z.string(),
      lastMessage: lastMessageSchema().nullable(),
      messageCount: z.number().int(),
      mergedFromContactIds: z
        .array(z.string())
        .meta({
          description: 'The contacts it belonged to before contact merges moved it here, oldest first',
        }),
      createdBy: z.string(),
      version: z.number().int(),
      createdAt: z.string(),
      updatedAt: z.string(),
    })
    .meta({ id: 'Conversation' }),
);
export type Conversation = ResponseOf<typeof conversationSchema>;

export const conversationViews = ['mine', 'unassigned', 'all', 'direct'] as const;
export type ConversationView = (typeof conversationViews)[number];

export const listConversationsQuery = pageQuerySchema.extend({
  view: z
    .enum(conversationViews)
    .default('all')
    .meta({
      description:
        '`mine` (assigned to the caller), `unassigned` (the pool), `all` (every contact conversation), `direct` (the caller’s conversations with other users)',
    }),
  status: z.enum(conversationStatuses).default('open'),
  channel: z.enum(inboxChannels).optional(),
  assigneeId: userId
    .optional()
    .meta({ description: 'Only the conversations assigned to this user (view `all`)' }),
  contactId: contactId.optional().meta({ description: 'Only this contact’s conversations' }),
  sort: z
    .enum(['activity', 'waiting'])
    .default('activity')
    .meta({
      description:
        '`activity`: latest activity first; `waiting`: the longest-waiting first (nothing waiting last)',
    }),
});
export type ListConversationsQuery = z.infer<typeof listConversationsQuery>;

const statusCounts = responseSchema(() =>
  z
    .object(
      Object.fromEntries(conversationStatuses.map((status) => [status, z.number().int()])) as Record<
        ConversationStatus,
        z.ZodNumber
      >,
    )
    .meta({ id: 'ConversationStatusCounts' }),
);

export const inboxCountsSchema = responseSchema(() =>
  z
    .object({
      conversations: z
        .object({ mine: statusCounts(), unassigned: statusCounts(), all: statusCounts() })
        .meta({ description: 'How many conversations each view holds, per status' }),
    })
    .meta({ id: 'InboxCounts' }),
);
export type InboxCounts = ResponseOf<typeof inboxCountsSchema>;
