/**
 * The autoreply bot's records.
 * Access patterns:
 * - a workspace's bot settings: pk WS#<workspaceId>#BOT, sk SETTINGS (one GetItem; absent: the
 *   defaults, bot off); written with a condition on the version read (If-Match)
 * - the bot's state in one conversation: pk WS#<workspaceId>#CONV#<conversationId> (the
 *   conversation's own partition), sk BOT (one GetItem; absent: the bot has not acted there yet);
 *   written in the transaction of the bot's reply or escalation, conditional on its version
 */
export const botSettingsSchema = {
  model: { service: 'crm', entity: 'botSettings', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    /** The settings as `botSettingsInput` parsed them. `any`: a map with declared properties drops keys it does not know. */
    settings: { type: 'any', required: true },
    updatedBy: { type: 'string', required: true },
    version: { type: 'number', required: true },
    createdAt: { type: 'string', required: true, readOnly: true },
    updatedAt: { type: 'string', required: true },
  },
  indexes: {
    byWorkspace: {
      pk: { field: 'pk', composite: ['workspaceId'], template: 'WS#${workspaceId}#BOT', casing: 'none' },
      sk: { field: 'sk', composite: [], template: 'SETTINGS', casing: 'none' },
    },
  },
} as const;

export const botConversationSchema = {
  model: { service: 'crm', entity: 'botConversation', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    conversationId: { type: 'string', required: true, readOnly: true },
    /** `bot`: the bot answers; `people`: escalated or taken over, silent until a user hands it back. */
    mode: { type: ['bot', 'people'] as const, required: true },
    /** Why it is with people (an escalation reason, or `user`). */
    reason: { type: 'string' },
    /** Bot replies since the bot took the conversation or it was last resolved. */
    replies: { type: 'number', required: true },
    /** The times of the latest bot replies (the rate limit's window), newest last. */
    recentReplies: { type: 'list', items: { type: 'string' } },
    /** Since when the bot holds the conversation: users' messages before it do not silence it. */
    since: { type: 'string', required: true },
    changedBy: { type: 'string', required: true },
    version: { type: 'number', required: true },
    createdAt: { type: 'string', required: true, readOnly: true },
    updatedAt: { type: 'string', required: true },
  },
  indexes: {
    byConversation: {
      pk: { field: 'pk', composite: ['workspaceId', 'conversationId'], template: 'WS#${workspaceId}#CONV#${conversationId}', casing: 'none' },
      sk: { field: 'sk', composite: [], template: 'BOT', casing: 'none' },
    },
  },
} as const;
