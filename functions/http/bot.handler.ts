import { getConversationBot, handOverConversation } from '../../domain/bot/autoreply.service';
import { getBotSettings, putBotSettings } from '../../domain/bot/bot-settings.service';
import { createHttpHandler } from './http-handler';
import { botRoutes } from './routes/bot.routes';

export const handler = createHttpHandler('bot', botRoutes, {
  getBotSettings: ({ caller }, deps) => getBotSettings(deps, caller),
  putBotSettings: ({ caller, body, expectedVersion }, deps) => putBotSettings(deps, caller, body, expectedVersion),
  getConversationBot: ({ caller, params }, deps) => getConversationBot(deps, caller, params.conversationId),
  handOverConversation: ({ caller, params, body }, deps) => handOverConversation(deps, caller, params.conversationId, body.active),
});
