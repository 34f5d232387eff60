/**
 * The first response to a creating POST, kept for 24 hours under the caller's Idempotency-Key.
 * Access pattern: pk WS#<workspaceId>#IDEMPOTENCY#<userId>#<key>, sk IDEMPOTENCY. Expires by TTL.
 */
export const idempotencyRecordSchema = {
  model: { service: 'crm', entity: 'idempotencyRecord', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    userId: { type: 'string', required: true, readOnly: true },
    key: { type: 'string', required: true, readOnly: true },
    /** SHA-256 of method, path and body bytes: how a record written before `requestMeaningHash` tells its request. */
    requestHash: { type: 'string', required: true, readOnly: true },
    /**
     * SHA-256 of method, path and the body's canonical JSON (`requestFingerprint`): the same key with
     * another request is refused. Absent on records written before it (compared by `requestHash`).
     */
    requestMeaningHash: { type: 'string', readOnly: true },
    state: { type: ['in_progress', 'completed'] as const, required: true },
    statusCode: { type: 'number' },
    responseBody: { type: 'string' },
    responseHeaders: { type: 'any' },
    createdAt: { type: 'string', required: true, readOnly: true },
    expiresAt: { type: 'number', required: true },
  },
  indexes: {
    byKey: {
      pk: {
        field: 'pk',
        composite: ['workspaceId', 'userId', 'key'],
        template: 'WS#${workspaceId}#IDEMPOTENCY#${userId}#${key}',
        casing: 'none',
      },
      sk: { field: 'sk', composite: [], template: 'IDEMPOTENCY', casing: 'none' },
    },
  },
} as const;
