import {
  botSettingsInput,
  botSettingsSchema,
  conversationBotParams,
  conversationBotSchema,
  handOverInput,
  maxBotRules,
} from '../../../domain/bot/bot.schemas';
import { route, type RouteDefinition } from '../route-definition';

const bot = { group: 'bot', tag: 'Autoreply bot', auth: true } as const;

export const botRoutes = {
  getBotSettings: route({
    ...bot,
    method: 'GET',
    path: '/v1/bot',
    summary: 'The workspace’s autoreply bot settings (every role reads them)',
    description: 'Until an owner or admin saves them, the defaults (the bot off, Monday to Friday 09:00–17:00 UTC, no rules) with `version` 0.',
    versioned: true,
    response: { status: 200, description: 'The settings', schema: botSettingsSchema },
  }),
  putBotSettings: route({
    ...bot,
    method: 'PUT',
    path: '/v1/bot',
    summary: 'Replace the autoreply bot settings (owner/admin)',
    description: `The whole settings: a field left out takes its default. At most ${maxBotRules} rules; a template naming an unknown field is a 400 on its path (\`body.rules.0.template\`). Appends \`bot.settings_updated\` with the fields that changed.`,
    versioned: true,
    body: botSettingsInput,
    refusals: { 403: 'a member' },
    response: { status: 200, description: 'The settings saved', schema: botSettingsSchema },
  }),
  getConversationBot: route({
    ...bot,
    method: 'GET',
    path: '/v1/conversations/{conversationId}/bot',
    summary: 'Whether the bot answers in this conversation, and why not',
    params: conversationBotParams,
    response: { status: 200, description: 'The conversation’s bot', schema: conversationBotSchema },
  }),
  handOverConversation: route({
    ...bot,
    method: 'POST',
    path: '/v1/conversations/{conversationId}/bot',
    summary: 'Hand the conversation back to the bot, or keep the bot out of it',
    description:
      'Whoever may reply in the conversation. `active: true` (after an escalation, say) lets the bot answer again from now: its reply count starts over, and people’s earlier replies no longer keep it quiet; `active: false` keeps it out until someone hands it back (changing nothing when it is out already). Appends `bot.handed_over`.',
    params: conversationBotParams,
    body: handOverInput,
    refusals: {
      403: 'a member, in a conversation assigned to another user',
      422: '`unprocessable`: a direct conversation (between users) has no bot',
    },
    response: { status: 200, description: 'The conversation’s bot', schema: conversationBotSchema },
  }),
} as const satisfies Record<string, RouteDefinition>;
