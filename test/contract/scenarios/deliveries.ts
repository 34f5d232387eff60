import { recordAttemptFailed } from '../../../domain/channels/deliveries/deliveries.service';
import type { OperationId } from '../../../functions/http/routes';
import type { Ctx, Scenario } from '../scenarios';
import { providerConnected } from './provider-connections';

/* eslint-disable @typescript-eslint/no-explicit-any -- records read back from the API */

/** The workspace's email connection, the providers faked (a retry makes its provider call during the request). */
const emailConnected = (ctx: Ctx) => providerConnected(ctx, 'email');

/** An email sent to a new contact in a new conversation (queued: nothing runs its job here). */
async function sentEmail(ctx: Ctx): Promise<{ conversation: any; message: any }> {
  await emailConnected(ctx);
  const conversation = await ctx.conversation();
  const message = (await ctx.call('POST', `/v1/conversations/${conversation.id}/messages`, { body: 'Your order shipped' })).body;
  return { conversation, message };
}

/** An email whose delivery failed: the provider refused it. */
async function failedEmail(ctx: Ctx) {
  const sent = await sentEmail(ctx);
  const me = (await ctx.call('GET', '/v1/me')).body;
  await recordAttemptFailed(
    ctx.stack.deps,
    { workspaceId: me.workspace.id, conversationId: sent.conversation.id, messageId: sent.message.id },
    1,
    { code: 'MessageRejected', message: 'Email address is not verified' },
  );
  return sent;
}

const retryPath = (sent: { conversation: any; message: any }) =>
  `/v1/conversations/${sent.conversation.id}/messages/${sent.message.id}/retry`;

export const deliveriesScenarios: Partial<Record<OperationId, Scenario>> = {
  retryMessageDelivery: {
    ok: async (ctx) => ({ path: retryPath(await failedEmail(ctx)), body: {} }),
    cases: [
      {
        status: 403,
        why: 'a member retrying in a conversation assigned to another user',
        build: async (ctx) => {
          const sent = await failedEmail(ctx);
          await ctx.call('POST', `/v1/conversations/${sent.conversation.id}/assign`, { assigneeId: ctx.ws.admin.user.id });
          return { path: retryPath(sent), token: ctx.ws.member.token };
        },
      },
      {
        status: 409,
        why: 'a delivery that has not failed',
        build: async (ctx) => ({ path: retryPath(await sentEmail(ctx)) }),
      },
      {
        status: 422,
        why: 'an internal note has no delivery',
        build: async (ctx) => {
          const conversation = await ctx.conversation();
          const note = (await ctx.call('POST', `/v1/conversations/${conversation.id}/messages`, { body: 'VIP', note: true })).body;
          return { path: retryPath({ conversation, message: note }) };
        },
      },
    ],
  },
  sendContactMessage: {
    ok: async (ctx) => {
      await emailConnected(ctx);
      return { path: `/v1/contacts/${(await ctx.contact()).id}/messages`, body: { body: 'Welcome aboard', subject: 'Welcome' } };
    },
    cases: [
      {
        status: 403,
        why: 'a member sending to a contact claimed by another user',
        build: async (ctx) => {
          await emailConnected(ctx);
          return { path: `/v1/contacts/${(await ctx.contact()).id}/messages`, body: { body: 'Me too' }, token: ctx.ws.member.token };
        },
      },
      {
        status: 403,
        why: 'a member sending in the contact’s conversation assigned to another user',
        build: async (ctx) => {
          await emailConnected(ctx);
          const conversation = await ctx.conversation();
          await ctx.call('POST', `/v1/contacts/${conversation.contactId}/release`, undefined, ctx.ws.admin.token);
          await ctx.call('POST', `/v1/conversations/${conversation.id}/assign`, { assigneeId: ctx.ws.admin.user.id });
          return { path: `/v1/contacts/${conversation.contactId}/messages`, body: { body: 'Me too' }, token: ctx.ws.member.token };
        },
      },
      {
        status: 409,
        why: 'a contact merged into another',
        build: async (ctx) => {
          await emailConnected(ctx);
          const source = await ctx.contact();
          await ctx.call('POST', `/v1/contacts/${(await ctx.contact()).id}/merge`, { sourceContactIds: [source.id] });
          return { path: `/v1/contacts/${source.id}/messages`, body: { body: 'Hi' } };
        },
      },
      {
        status: 422,
        why: 'a channel the contact has no value on',
        build: async (ctx) => {
          await emailConnected(ctx);
          return { path: `/v1/contacts/${(await ctx.contact()).id}/messages`, body: { body: 'Hi', channel: 'telegram' } };
        },
      },
    ],
  },
};
