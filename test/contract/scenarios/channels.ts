import { randomUUID } from 'node:crypto';
import type { OperationId } from '../../../functions/http/routes';
import { resetConfig } from '../../../functions/shared/config';
import { setChannelAdapters } from '../../../functions/shared/deps';
import { createFakeChannelAdapters } from '../../support/fake-channel-adapters';
import type { Ctx, Scenario } from '../scenarios';

/* eslint-disable @typescript-eslint/no-explicit-any -- records read back from the API */

/** A WhatsApp connection's create body (placeholder credentials: write-only, never answered back). */
const whatsappInput = (ctx: Ctx) => ({
  kind: 'whatsapp',
  name: ctx.unique('WhatsApp'),
  settings: { phoneNumberId: '106540352242922' },
  secrets: { accessToken: 'EAAGexampleAccessToken0123456789', appSecret: '0123456789abcdef0123456789abcdef', verifyToken: 'verify-me' },
});

/** Telegram (faked in-process: a token holding `Refused` is one it does not know) and a public webhook address. */
function telegramReachable() {
  process.env.HOOKS_BASE_URL ??= 'https://hooks.example.test';
  resetConfig();
  setChannelAdapters(createFakeChannelAdapters());
}
const telegramInput = (ctx: Ctx, botToken: string) => ({ kind: 'telegram', name: ctx.unique('Bot'), secrets: { botToken } });
const refusedBotToken = '555000111:AAHRefusedBotTokenZyXwVuTsRqPoNmLkJi';

/** An email connection's create body for a new domain. */
const emailInput = (domain: string) => ({
  kind: 'email',
  name: 'Mail',
  settings: { sesIdentity: domain, fromAddress: `hello@${domain}`, replyDomain: `reply.${domain}` },
});
const newDomain = () => `d${randomUUID().slice(0, 8)}.example`;

const connection = async (ctx: Ctx): Promise<any> => (await ctx.call('POST', '/v1/channels', whatsappInput(ctx))).body;

const memberRefused = (path: (ctx: Ctx) => Promise<string>, body?: unknown) => ({
  status: 403,
  why: 'a member: owner/admin only',
  build: async (ctx: Ctx) => ({ path: await path(ctx), token: ctx.ws.member.token, ...(body === undefined ? {} : { body }) }),
});

export const channelsScenarios: Partial<Record<OperationId, Scenario>> = {
  listChannelConnections: {
    ok: async (ctx) => {
      await connection(ctx);
      return { path: '/v1/channels', query: { limit: '2' } };
    },
    cases: [memberRefused(async () => '/v1/channels')],
  },
  createChannelConnection: {
    ok: async (ctx) => ({ path: '/v1/channels', body: whatsappInput(ctx) }),
    cases: [
      {
        status: 403,
        why: 'a member: owner/admin only',
        build: async (ctx) => ({ path: '/v1/channels', body: whatsappInput(ctx), token: ctx.ws.member.token }),
      },
      {
        status: 409,
        why: 'a domain another workspace’s email connection holds',
        build: async (ctx) => {
          const domain = newDomain();
          await ctx.call('POST', '/v1/channels', emailInput(domain), ctx.other.owner.token);
          return { path: '/v1/channels', body: emailInput(domain) };
        },
      },
      {
        status: 422,
        why: 'Telegram refuses the bot token',
        build: async (ctx) => {
          telegramReachable();
          return { path: '/v1/channels', body: telegramInput(ctx, refusedBotToken) };
        },
      },
    ],
    invalid: async (ctx) => ({ path: '/v1/channels', body: { ...whatsappInput(ctx), kind: 'email' } }),
  },
  getChannelConnection: {
    ok: async (ctx) => ({ path: `/v1/channels/${(await connection(ctx)).id}` }),
    cases: [memberRefused(async (ctx) => `/v1/channels/${(await connection(ctx)).id}`)],
  },
  updateChannelConnection: {
    ok: async (ctx) => ({
      path: `/v1/channels/${(await connection(ctx)).id}`,
      body: { kind: 'whatsapp', name: ctx.unique('Renamed'), secrets: { accessToken: 'EAAGreplacedAccessToken987654321' } },
    }),
    cases: [
      memberRefused(async (ctx) => `/v1/channels/${(await connection(ctx)).id}`, { kind: 'whatsapp', name: 'Mine' }),
      {
        status: 409,
        why: 'a reply domain another workspace’s email connection holds',
        build: async (ctx) => {
          const [theirs, ours] = [newDomain(), newDomain()];
          await ctx.call('POST', '/v1/channels', emailInput(theirs), ctx.other.owner.token);
          const mine = (await ctx.call('POST', '/v1/channels', emailInput(ours))).body;
          return { path: `/v1/channels/${mine.id}`, body: { kind: 'email', settings: { replyDomain: theirs } } };
        },
      },
      {
        status: 422,
        why: 'a kind that is not the connection’s own',
        build: async (ctx) => ({ path: `/v1/channels/${(await connection(ctx)).id}`, body: { kind: 'sms', name: 'Other' } }),
      },
    ],
  },
  disconnectChannelConnection: {
    ok: async (ctx) => ({ path: `/v1/channels/${(await connection(ctx)).id}/disconnect` }),
    cases: [memberRefused(async (ctx) => `/v1/channels/${(await connection(ctx)).id}/disconnect`)],
  },
  reconnectChannelConnection: {
    ok: async (ctx) => {
      const { id } = await connection(ctx);
      await ctx.call('POST', `/v1/channels/${id}/disconnect`);
      return { path: `/v1/channels/${id}/reconnect` };
    },
    cases: [
      memberRefused(async (ctx) => `/v1/channels/${(await connection(ctx)).id}/reconnect`),
      {
        status: 422,
        why: 'Telegram no longer knows the bot token (replaced while disconnected)',
        build: async (ctx) => {
          telegramReachable();
          const bot = (await ctx.call('POST', '/v1/channels', telegramInput(ctx, '555000222:AAHknownBotTokenZyXwVuTsRqPoNmLkJi0'))).body;
          await ctx.call('POST', `/v1/channels/${bot.id}/disconnect`);
          await ctx.call('PATCH', `/v1/channels/${bot.id}`, { kind: 'telegram', secrets: { botToken: refusedBotToken } });
          return { path: `/v1/channels/${bot.id}/reconnect` };
        },
      },
    ],
  },
};
