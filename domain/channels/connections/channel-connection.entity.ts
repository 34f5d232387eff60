/** The channel kinds a workspace connects an account for. */
export const connectionKinds = ['email', 'whatsapp', 'telegram', 'sms'] as const;
export const connectionStatuses = ['active', 'disconnected'] as const;

/**
 * A channel connection: the account a workspace sends and receives on for one channel kind (an SES
 * identity, a WhatsApp Cloud API number, a Telegram bot, a Twilio number), its public settings and its
 * credentials, each sealed through the `SecretSealer` port (bound to the workspace, the connection and
 * the secret's name) and never shown again.
 * Access patterns:
 * - get a connection: pk WS#<workspaceId>#CHANNELS, sk CHC#<connectionId> (one GetItem)
 * - list a workspace's connections in creation order: pk WS#<workspaceId>#CHANNELS, sk begins_with CHC#
 *   (one Query a page; a workspace has a handful)
 * - find a connection by id alone, for a provider's webhook (`/hooks/<provider>/<connectionId>` names
 *   no workspace; the item yields it): gsi1 pk CHC#<connectionId>, sk CHC (like API tokens, a key that
 *   does not start with the workspace)
 */
export const channelConnectionSchema = {
  model: { service: 'crm', entity: 'channelConnection', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    connectionId: { type: 'string', required: true, readOnly: true },
    kind: { type: connectionKinds, required: true, readOnly: true },
    name: { type: 'string', required: true },
    status: { type: connectionStatuses, required: true },
    /** The kind's public settings (channel-connections.schemas.ts), as given. */
    settings: { type: 'any', required: true },
    /** Secret name -> sealed value (`SecretSealer.seal`, context `{ workspaceId, connectionId, secret }`). */
    secrets: { type: 'any', required: true },
    createdBy: { type: 'string', required: true, readOnly: true },
    disconnectedAt: { type: 'string' },
    version: { type: 'number', required: true },
    createdAt: { type: 'string', required: true, readOnly: true },
    updatedAt: { type: 'string', required: true },
  },
  indexes: {
    byWorkspace: {
      pk: { field: 'pk', composite: ['workspaceId'], template: 'WS#${workspaceId}#CHANNELS', casing: 'none' },
      sk: { field: 'sk', composite: ['connectionId'], template: 'CHC#${connectionId}', casing: 'none' },
    },
    byConnectionId: {
      index: 'gsi1',
      pk: { field: 'gsi1pk', composite: ['connectionId'], template: 'CHC#${connectionId}', casing: 'none' },
      sk: { field: 'gsi1sk', composite: [], template: 'CHC', casing: 'none' },
    },
  },
} as const;
