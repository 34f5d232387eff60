/**
 * A webhook event already applied: one item per (connection, dedupe key) the parsers give (WhatsApp
 * status id + status, Telegram update id, Twilio MessageSid + status, CallSid + status, SES message id +
 * event + recipient (+ a click's time and link), SNS MessageId). Written AFTER the event is applied, so a crash mid-apply leaves no
 * receipt and the provider's retry applies it again (every apply is idempotent anyway); read before.
 * New messages are not recorded here: their external id guard keeps them once, forever.
 * Access pattern:
 * - has this connection seen this key: pk WS#<ws>#HOOKRCPT#<connectionId>#<dedupeKey>, sk RCPT (GetItem;
 *   a payload's keys in one BatchGetItem)
 * Expires (`expiresAt`, the table's TTL attribute) after 8 days: Meta retries for up to 7.
 */
export const webhookReceiptSchema = {
  model: { service: 'crm', entity: 'webhookReceipt', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    connectionId: { type: 'string', required: true, readOnly: true },
    dedupeKey: { type: 'string', required: true, readOnly: true },
    /** The event type it recorded (`delivery_status`, `call`, ...). */
    eventType: { type: 'string', required: true, readOnly: true },
    receivedAt: { type: 'string', required: true, readOnly: true },
    expiresAt: { type: 'number', required: true },
  },
  indexes: {
    byKey: {
      pk: {
        field: 'pk',
        composite: ['workspaceId', 'connectionId', 'dedupeKey'],
        template: 'WS#${workspaceId}#HOOKRCPT#${connectionId}#${dedupeKey}',
        casing: 'none',
      },
      sk: { field: 'sk', composite: [], template: 'RCPT', casing: 'none' },
    },
  },
} as const;
