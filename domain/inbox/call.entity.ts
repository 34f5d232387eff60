/**
 * A call (seed 001 Call: the record; the providers that place and report calls come with the channels
 * issue), in its conversation's partition, so it is read and written beside the conversation it
 * belongs to. Seed names map as `channelKey` → channel, `kindKey` → kind, `statusKey` → status,
 * `payloadJson` → payload. Access patterns (see domain/ACCESS_PATTERNS.md):
 * - get a call: pk WS#<ws>#CONV#<conversationId>, sk CALL#<callId> (one GetItem)
 * - a conversation's calls, newest first: the same pk, sk begins_with CALL# (Query, descending; ULID ids)
 */

/** Seed 001 Call channel keys: `phone` is the phone network (a contact's SMS or email thread calls by phone). */
export const callChannels = ['internal', 'whatsapp', 'telegram', 'phone'] as const;
export const callKinds = ['voice', 'video'] as const;
export const callStatuses = ['initiated', 'ringing', 'connected', 'ended', 'missed', 'failed'] as const;

export const callSchema = {
  model: { service: 'crm', entity: 'call', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    conversationId: { type: 'string', required: true, readOnly: true },
    callId: { type: 'string', required: true, readOnly: true },
    /** Who started it: a user (an outbound or internal call) or the conversation's contact (inbound). */
    startedByUserId: { type: 'string', readOnly: true },
    startedByContactId: { type: 'string', readOnly: true },
    channel: { type: callChannels, required: true, readOnly: true },
    kind: { type: callKinds, required: true, readOnly: true },
    status: { type: callStatuses, required: true },
    startedAt: { type: 'string', required: true, readOnly: true },
    /** When it was answered (status `connected`): the duration counts from here. */
    connectedAt: { type: 'string' },
    /** When it reached a final status (`ended`, `missed`, `failed`). */
    endedAt: { type: 'string' },
    durationSeconds: { type: 'number' },
    /** Who brought it to its final status: a user id, or `system`. */
    endedBy: { type: 'string' },
    /** What the provider or the client tells about the call (free JSON object). */
    payload: { type: 'any' },
    version: { type: 'number', required: true },
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
      sk: { field: 'sk', composite: ['callId'], template: 'CALL#${callId}', casing: 'none' },
    },
  },
} as const;
