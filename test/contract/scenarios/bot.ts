import type { OperationId } from '../../../functions/http/routes';
import type { Ctx, Scenario } from '../scenarios';

/* eslint-disable @typescript-eslint/no-explicit-any -- records read back from the API */

const settings = {
  enabled: true,
  timeZone: 'Europe/Berlin',
  replyWhen: 'outside_business_hours',
  rules: [{ name: 'Pricing', keywords: ['price'], template: 'Hi {{contact.firstName | "there"}}, plans start at 10 EUR.' }],
};

/** A new email conversation (new contact, in the pool) assigned to the admin: the member may not change it. */
async function adminsConversation(ctx: Ctx): Promise<any> {
  const conversation = await ctx.conversation();
  return (await ctx.call('POST', `/v1/conversations/${conversation.id}/assign`, { assigneeId: ctx.ws.admin.user.id })).body;
}

export const botScenarios: Partial<Record<OperationId, Scenario>> = {
  getBotSettings: {
    ok: async () => ({ path: '/v1/bot' }),
  },
  putBotSettings: {
    ok: async () => ({ path: '/v1/bot', body: settings }),
    cases: [{ status: 403, why: 'a member', build: async (ctx) => ({ path: '/v1/bot', body: settings, token: ctx.ws.member.token }) }],
    invalid: async () => ({ path: '/v1/bot', body: { rules: [{ name: 'Bad', keywords: ['x'], template: 'Hi {{contact.password}}' }] } }),
  },
  getConversationBot: {
    ok: async (ctx) => ({ path: `/v1/conversations/${(await ctx.conversation()).id}/bot` }),
  },
  handOverConversation: {
    ok: async (ctx) => ({ path: `/v1/conversations/${(await ctx.conversation()).id}/bot`, body: { active: false } }),
    cases: [
      {
        status: 403,
        why: 'a member, in a conversation assigned to another user',
        build: async (ctx) => ({ path: `/v1/conversations/${(await adminsConversation(ctx)).id}/bot`, body: { active: false }, token: ctx.ws.member.token }),
      },
      {
        status: 422,
        why: 'a direct conversation has no bot',
        build: async (ctx) => {
          const direct = (await ctx.call('POST', '/v1/conversations', { kind: 'direct', userIds: [ctx.ws.member.user.id] })).body;
          return { path: `/v1/conversations/${direct.id}/bot`, body: { active: true } };
        },
      },
    ],
    invalid: async (ctx) => ({ path: `/v1/conversations/${(await ctx.conversation()).id}/bot`, body: { active: 'yes' } }),
  },
};
