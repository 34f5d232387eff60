/**
 * Where a provider's message id leads back to: a status callback names only the provider's id (and the
 * webhook path names the connection), so each accepted attempt writes a reference in the same
 * transaction that stores the id on the delivery. A status that arrives before that write (providers
 * call back within milliseconds of accepting) is kept beside it as pending, and applied by the write.
 * Access patterns:
 * - the reference and any pending statuses of one provider message: pk
 *   WS#<ws>#PMSG#<connectionId>#<providerMessageId>, sk REF | PENDING#<dedupeKey> (one Query)
 * Both expire (`expiresAt`): references after 35 days (providers report within days: Meta retries for 7),
 * pending statuses after 7 days.
 */
export const providerMessageRefSchema = {
  model: { service: 'crm', entity: 'providerMessageRef', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    connectionId: { type: 'string', required: true, readOnly: true },
    providerMessageId: { type: 'string', required: true, readOnly: true },
    conversationId: { type: 'string', required: true, readOnly: true },
    messageId: { type: 'string', required: true, readOnly: true },
    attempt: { type: 'number', required: true, readOnly: true },
    createdAt: { type: 'string', required: true, readOnly: true },
    expiresAt: { type: 'number', required: true },
  },
  indexes: {
    byProviderMessage: {
      pk: {
        field: 'pk',
        composite: ['workspaceId', 'connectionId', 'providerMessageId'],
        template: 'WS#${workspaceId}#PMSG#${connectionId}#${providerMessageId}',
        casing: 'none',
      },
      sk: { field: 'sk', composite: [], template: 'REF', casing: 'none' },
    },
  },
} as const;

/** A status for a provider message whose reference is not written yet. */
export const pendingProviderStatusSchema = {
  model: { service: 'crm', entity: 'pendingProviderStatus', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    connectionId: { type: 'string', required: true, readOnly: true },
    providerMessageId: { type: 'string', required: true, readOnly: true },
    /** The status event's first dedupe key: the same callback twice is one item. */
    dedupeKey: { type: 'string', required: true, readOnly: true },
    /** The `DeliveryStatusEvent`, as parsed. */
    event: { type: 'any', required: true },
    receivedAt: { type: 'string', required: true, readOnly: true },
    expiresAt: { type: 'number', required: true },
  },
  indexes: {
    byProviderMessage: {
      pk: {
        field: 'pk',
        composite: ['workspaceId', 'connectionId', 'providerMessageId'],
        template: 'WS#${workspaceId}#PMSG#${connectionId}#${providerMessageId}',
        casing: 'none',
      },
      sk: { field: 'sk', composite: ['dedupeKey'], template: 'PENDING#${dedupeKey}', casing: 'none' },
    },
  },
} as const;
