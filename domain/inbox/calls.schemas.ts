import * as z from 'zod';
import { recordId } from '../shared/ids';
import { pageQuerySchema } from '../shared/pagination';
import { responseSchema, type ResponseOf } from '../shared/response-schema';
import { callChannels, callKinds, callStatuses } from './call.entity';
import { conversationId } from './conversations.schemas';

export type CallChannel = (typeof callChannels)[number];
export type CallKind = (typeof callKinds)[number];
export type CallStatus = (typeof callStatuses)[number];

/** A call's payload, serialized, holds at most this many characters (it lives in the call item). */
export const maxCallPayloadChars = 16_000;
/** A duration a client may give: at most a week, in seconds (and never more than the call has run). */
const maxDurationSeconds = 7 * 24 * 3600;

export const callIdParams = z.object({ conversationId, callId: recordId('call', 'a call') });

const payload = z
  .record(z.string(), z.unknown())
  .refine((value) => JSON.stringify(value).length <= maxCallPayloadChars, {
    message: `At most ${maxCallPayloadChars} characters as JSON`,
  })
  .meta({
    description: 'What the provider or the client tells about the call (a JSON object, kept as given)',
  });

export const startCallInput = z
  .object({
    channel: z.enum(callChannels).optional().meta({
      description:
        'Default: the conversation’s channel (`internal`, `whatsapp`, `telegram`; `sms` and `email` threads call by `phone`). A direct conversation calls on `internal` only',
    }),
    kind: z.enum(callKinds).default('voice'),
    payload: payload.optional(),
  })
  .meta({ id: 'StartCallInput' });
export type StartCallInput = z.infer<typeof startCallInput>;

export const updateCallStatusInput = z
  .object({
    status: z.enum(callStatuses).meta({
      description:
        'initiated → ringing, connected, missed, failed or ended; ringing → connected, missed, failed or ended; connected → ended or failed; ended, missed and failed are final. The status the call has already changes nothing',
    }),
  })
  .meta({ id: 'UpdateCallStatusInput' });
export type UpdateCallStatusInput = z.infer<typeof updateCallStatusInput>;

export const endCallInput = z
  .object({
    durationSeconds: z.number().int().min(0).max(maxDurationSeconds).optional().meta({
      description:
        'How long the call was connected, when the client knows better (at most the time since it started). Default: from `connectedAt` to now, or 0 when it never connected',
    }),
  })
  .meta({ id: 'EndCallInput' });
export type EndCallInput = z.infer<typeof endCallInput>;

export const listCallsQuery = pageQuerySchema;

export const callSchema = responseSchema(() =>
  z
    .object({
      id: z.string(),
      conversationId: z.string(),
      channel: z.enum(callChannels),
      kind: z.enum(callKinds),
      status: z.enum(callStatuses),
      startedByUserId: z
        .string()
        .nullable()
        .meta({ description: 'The user who started it; null for an inbound call' }),
      startedByContactId: z
        .string()
        .nullable()
        .meta({ description: 'The contact who called (an inbound call); null when a user started it' }),
      startedAt: z.string(),
      connectedAt: z.string().nullable().meta({ description: 'When it was answered; null until then' }),
      endedAt: z.string().nullable().meta({ description: 'When it reached `ended`, `missed` or `failed`' }),
      durationSeconds: z
        .number()
        .int()
        .nullable()
        .meta({ description: 'How long it was connected, once final (0 when it never connected)' }),
      endedBy: z
        .string()
        .nullable()
        .meta({ description: 'Who brought it to its final status: a user id, or `system`' }),
      payload: z.record(z.string(), z.unknown()).nullable(),
      version: z.number().int(),
      createdAt: z.string(),
      updatedAt: z.string(),
    })
    .meta({ id: 'Call' }),
);
export type Call = ResponseOf<typeof callSchema>;
