/**
 * Seed 001 MessageAttachment: a file a user uploads (presigned S3 PUT) and then names in a message.
 * Access pattern (see domain/ACCESS_PATTERNS.md): get an attachment, or the ones a message names, by
 * id: pk WS#<ws>#ATT#<attachmentId>, sk ATT (GetItem; BatchGetItem when a message is sent).
 *
 * Its own partition, not the conversation's: it is uploaded before any conversation is named. While
 * `pending` it carries `expiresAt` (24 h): an upload never sent is dropped by TTL. The message's
 * transaction marks it `attached` (conditional on `pending`, so one upload goes to one message),
 * with the message and conversation, and removes the TTL. The object lives at
 * `attachments/<ws>/<attachmentId>`: never the user's file name, which is only metadata.
 * Creating one is not an event: it is a slot for an upload; the message that attaches it is the event.
 */
export const attachmentKinds = ['image', 'video', 'audio', 'document'] as const;
export const attachmentStatuses = ['pending', 'attached'] as const;

/** The objects' key prefix in the bucket; the functions' S3 grants are scoped to it (infra/crm-stack.ts). */
export const attachmentsKeyPrefix = 'attachments/';
export const attachmentObjectKey = (workspaceId: string, attachmentId: string) =>
  `${attachmentsKeyPrefix}${workspaceId}/${attachmentId}`;

export const attachmentSchema = {
  model: { service: 'crm', entity: 'attachment', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    attachmentId: { type: 'string', required: true, readOnly: true },
    fileName: { type: 'string', required: true, readOnly: true },
    contentType: { type: 'string', required: true, readOnly: true },
    sizeBytes: { type: 'number', required: true, readOnly: true },
    kind: { type: attachmentKinds, required: true, readOnly: true },
    status: { type: attachmentStatuses, required: true },
    objectKey: { type: 'string', required: true, readOnly: true },
    uploadedBy: { type: 'string', required: true, readOnly: true },
    /** Set when attached. */
    conversationId: { type: 'string' },
    messageId: { type: 'string' },
    createdAt: { type: 'string', required: true, readOnly: true },
    updatedAt: { type: 'string', required: true },
    /** Epoch seconds (the table's TTL attribute): only while pending. */
    expiresAt: { type: 'number' },
  },
  indexes: {
    byId: {
      pk: {
        field: 'pk',
        composite: ['workspaceId', 'attachmentId'],
        template: 'WS#${workspaceId}#ATT#${attachmentId}',
        casing: 'none',
      },
      sk: { field: 'sk', composite: [], template: 'ATT', casing: 'none' },
    },
  },
} as const;
