/**
 * Marks that a stream consumer has applied one event. Written in the same transaction as the
 * consumer's effect with attribute_not_exists, so a replayed stream record changes nothing twice.
 * Access pattern: pk WS#<workspaceId>#RECEIPT#<consumer>#<eventId>, sk RECEIPT. Expires by TTL after
 * the stream's 24-hour retention has long passed.
 */
export const streamReceiptSchema = {
  model: { service: 'crm', entity: 'streamReceipt', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    consumer: { type: 'string', required: true, readOnly: true },
    eventId: { type: 'string', required: true, readOnly: true },
    expiresAt: { type: 'number', required: true },
  },
  indexes: {
    byEvent: {
      pk: {
        field: 'pk',
        composite: ['workspaceId', 'consumer', 'eventId'],
        template: 'WS#${workspaceId}#RECEIPT#${consumer}#${eventId}',
        casing: 'none',
      },
      sk: { field: 'sk', composite: [], template: 'RECEIPT', casing: 'none' },
    },
  },
} as const;
