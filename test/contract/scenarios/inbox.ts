import { randomUUID } from 'node:crypto';
import type { OperationId } from '../../../functions/http/routes';
import type { Ctx, Scenario } from '../scenarios';
import { uploaded } from './attachments';

/* eslint-disable @typescript-eslint/no-explicit-any -- records read back from the API */

/** A direct conversation of the owner with the admin, holding one message from the owner. */
async function directWithMessage(ctx: Ctx): Promise<{ conversation: any; message: any }> {
  const conversation = (await ctx.call('POST', '/v1/conversations', { kind: 'direct', userIds: [ctx.ws.admin.user.id] })).body;
  const message = (await ctx.call('POST', `/v1/conversations/${conversation.id}/messages`, { body: 'Ping' })).body;
  return { conversation, message };
}

const inbound = (ctx: Ctx, extra: Record<string, unknown> = {}) => ({
  channel: 'email',
  from: `${ctx.unique('in')}@example.com`,
  name: 'Ivy Inbound',
  externalId: `ext-${randomUUID()}`,
  body: 'Hello, is this still available?',
  ...extra,
});

export const inboxScenarios: Partial<Record<OperationId, Scenario>> = {
  listMessages: {
    ok: async (ctx) => ({ path: `/v1/conversations/${(await directWithMessage(ctx)).conversation.id}/messages`, query: { limit: '10' } }),
  },
  sendMessage: {
    ok: async (ctx) => {
      const conversation = (await ctx.call('POST', '/v1/conversations', { kind: 'direct', userIds: [ctx.ws.admin.user.id] })).body;
      return { path: `/v1/conversations/${conversation.id}/messages`, body: { body: 'Can you take the Acme call?' } };
    },
    cases: [
      {
        status: 403,
        why: 'a member writing in a conversation assigned to another user',
        build: async (ctx) => {
          const conversation = await ctx.conversation();
          await ctx.call('POST', `/v1/conversations/${conversation.id}/assign`, { assigneeId: ctx.ws.admin.user.id });
          return {
            path: `/v1/conversations/${conversation.id}/messages`,
            body: { body: 'Let me', note: true },
            token: ctx.ws.member.token,
          };
        },
      },
      {
        status: 409,
        why: 'an attachment already on another message',
        build: async (ctx) => {
          const file = await uploaded(ctx);
          const { conversation } = await directWithMessage(ctx);
          await ctx.call('POST', `/v1/conversations/${conversation.id}/messages`, { body: 'The quote', attachmentIds: [file.id] });
          return { path: `/v1/conversations/${conversation.id}/messages`, body: { body: 'Again', attachmentIds: [file.id] } };
        },
      },
      {
        status: 422,
        why: 'a reply on an external channel that is not connected',
        build: async (ctx) => ({ path: `/v1/conversations/${(await ctx.conversation()).id}/messages`, body: { body: 'Hi!' } }),
      },
    ],
  },
  getMessage: {
    ok: async (ctx) => {
      const { conversation, message } = await directWithMessage(ctx);
      return { path: `/v1/conversations/${conversation.id}/messages/${message.id}` };
    },
    foreign: async (ctx) => {
      const { conversation, message } = await directWithMessage(ctx);
      return { path: `/v1/conversations/${conversation.id}/messages/${message.id}`, token: ctx.other.owner.token };
    },
  },
  listMessageReceipts: {
    ok: async (ctx) => {
      const { conversation, message } = await directWithMessage(ctx);
      return { path: `/v1/conversations/${conversation.id}/messages/${message.id}/receipts` };
    },
  },
  ingestInboundMessage: {
    ok: async (ctx) => ({ path: '/v1/inbound-messages', body: inbound(ctx) }),
    cases: [
      {
        status: 200,
        why: 'the same external id again',
        build: async (ctx) => {
          const body = inbound(ctx);
          await ctx.call('POST', '/v1/inbound-messages', body);
          return { path: '/v1/inbound-messages', body };
        },
      },
      {
        status: 403,
        why: 'a member',
        build: async (ctx) => ({ path: '/v1/inbound-messages', body: inbound(ctx), token: ctx.ws.member.token }),
      },
    ],
  },
  listUnreadMessages: { ok: async () => ({ path: '/v1/inbox/unread-messages', query: { limit: '5' } }) },
  getUnreadCounts: {
    ok: async (ctx) => {
      // The totals are the stream consumer's: let it catch up, as a client would a second later.
      await ctx.settled();
      return { path: '/v1/inbox/unread', query: { limit: '5' } };
    },
  },
  markMessagesRead: {
    ok: async (ctx) => {
      const { message } = await directWithMessage(ctx);
      return { path: '/v1/inbox/read', body: { messageIds: [message.id] }, token: ctx.ws.admin.token };
    },
    cases: [
      {
        status: 422,
        why: 'another workspace’s conversation',
        build: async (ctx) => {
          const theirs = (
            await ctx.call('POST', '/v1/conversations', { kind: 'direct', userIds: [ctx.other.admin.user.id] }, ctx.other.owner.token)
          ).body;
          return { path: '/v1/inbox/read', body: { conversationId: theirs.id } };
        },
      },
      {
        status: 422,
        why: '`upToMessageId` of another conversation',
        build: async (ctx) => {
          const { conversation } = await directWithMessage(ctx);
          // A direct conversation is one per set of users: another set makes another conversation.
          const group = (await ctx.call('POST', '/v1/conversations', { kind: 'direct', userIds: [ctx.ws.admin.user.id, ctx.ws.member.user.id] })).body;
          const message = (await ctx.call('POST', `/v1/conversations/${group.id}/messages`, { body: 'Elsewhere' })).body;
          return { path: '/v1/inbox/read', body: { conversationId: conversation.id, upToMessageId: message.id }, token: ctx.ws.admin.token };
        },
      },
    ],
  },
};
