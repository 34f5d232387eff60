import type { OperationId } from '../../../functions/http/routes';
import { unknownIds, type Ctx, type Scenario } from '../scenarios';

/* eslint-disable @typescript-eslint/no-explicit-any -- records read back from the API */

/** A new email conversation (new contact, in the pool) assigned to the admin: the member may not change it. */
async function adminsConversation(ctx: Ctx): Promise<any> {
  const conversation = await ctx.conversation();
  return (await ctx.call('POST', `/v1/conversations/${conversation.id}/assign`, { assigneeId: ctx.ws.admin.user.id })).body;
}

/** A direct conversation between the owner and the member. */
async function direct(ctx: Ctx): Promise<any> {
  return (await ctx.call('POST', '/v1/conversations', { kind: 'direct', userIds: [ctx.ws.member.user.id] })).body;
}

const path = (conversation: { id: string }, rest = '') => `/v1/conversations/${conversation.id}${rest}`;

export const conversationsScenarios: Partial<Record<OperationId, Scenario>> = {
  listConversations: {
    ok: async (ctx) => {
      await ctx.conversation();
      return { path: '/v1/conversations', query: { view: 'unassigned', channel: 'email', sort: 'waiting', limit: '2' } };
    },
  },
  openConversation: {
    ok: async (ctx) => ({
      path: '/v1/conversations',
      body: { kind: 'contact', contactId: (await ctx.contact()).id, channel: 'email', subject: 'Your order' },
    }),
    cases: [
      {
        status: 200,
        why: 'the contact has one on the channel that is not resolved',
        build: async (ctx) => {
          const conversation = await ctx.conversation();
          return { path: '/v1/conversations', body: { kind: 'contact', contactId: conversation.contactId, channel: 'email' } };
        },
      },
      {
        status: 200,
        why: 'the direct conversation of these users exists',
        build: async (ctx) => {
          await direct(ctx);
          return {
            path: '/v1/conversations',
            body: { kind: 'direct', userIds: [ctx.ws.owner.user.id] },
            token: ctx.ws.member.token,
          };
        },
      },
      {
        status: 403,
        why: 'a member opening a new conversation with a contact claimed by another user',
        build: async (ctx) => ({
          path: '/v1/conversations',
          body: { kind: 'contact', contactId: (await ctx.contact()).id, channel: 'email', new: true },
          token: ctx.ws.member.token,
        }),
      },
      {
        status: 409,
        why: 'a merged contact',
        build: async (ctx) => {
          const source = await ctx.contact();
          await ctx.call('POST', `/v1/contacts/${(await ctx.contact()).id}/merge`, { sourceContactIds: [source.id] });
          return { path: '/v1/conversations', body: { kind: 'contact', contactId: source.id, channel: 'email' } };
        },
      },
      {
        status: 422,
        why: 'an unknown contact',
        build: async () => ({
          path: '/v1/conversations',
          body: { kind: 'contact', contactId: unknownIds.contactId, channel: 'email' },
        }),
      },
      {
        status: 422,
        why: 'an unknown user',
        build: async () => ({ path: '/v1/conversations', body: { kind: 'direct', userIds: [unknownIds.userId] } }),
      },
    ],
  },
  getInboxCounts: { ok: async () => ({ path: '/v1/inbox/counts' }) },
  getConversation: {
    ok: async (ctx) => ({ path: path(await ctx.conversation()), token: ctx.ws.member.token }),
    cases: [
      {
        status: 404,
        why: 'a direct conversation the caller (an owner) is not in',
        build: async (ctx) => ({
          path: path((await ctx.call('POST', '/v1/conversations', { kind: 'direct', userIds: [ctx.ws.member.user.id] }, ctx.ws.admin.token)).body),
        }),
      },
    ],
  },
  setConversationStatus: {
    ok: async (ctx) => ({ path: path(await ctx.conversation(), '/status'), body: { status: 'snoozed', snoozedUntil: '2030-01-01T09:00:00+01:00' } }),
    cases: [
      {
        status: 403,
        why: 'a member on the admin’s conversation',
        build: async (ctx) => ({
          path: path(await adminsConversation(ctx), '/status'),
          body: { status: 'resolved' },
          token: ctx.ws.member.token,
        }),
      },
      {
        status: 422,
        why: 'a snooze that ends in the past',
        build: async (ctx) => ({
          path: path(await ctx.conversation(), '/status'),
          body: { status: 'snoozed', snoozedUntil: '2020-01-01T00:00:00Z' },
        }),
      },
    ],
  },
  claimConversation: {
    ok: async (ctx) => ({ path: path(await ctx.conversation(), '/claim'), token: ctx.ws.member.token }),
    cases: [
      {
        status: 409,
        why: 'the admin holds it',
        build: async (ctx) => ({ path: path(await adminsConversation(ctx), '/claim'), token: ctx.ws.member.token }),
      },
      {
        status: 422,
        why: 'a direct conversation',
        build: async (ctx) => ({ path: path(await direct(ctx), '/claim') }),
      },
    ],
  },
  releaseConversation: {
    ok: async (ctx) => ({ path: path(await adminsConversation(ctx), '/release') }),
    cases: [
      {
        status: 403,
        why: 'a member releases the admin’s',
        build: async (ctx) => ({ path: path(await adminsConversation(ctx), '/release'), token: ctx.ws.member.token }),
      },
      {
        status: 422,
        why: 'a direct conversation',
        build: async (ctx) => ({ path: path(await direct(ctx), '/release') }),
      },
    ],
  },
  assignConversation: {
    ok: async (ctx) => ({ path: path(await ctx.conversation(), '/assign'), body: { assigneeId: ctx.ws.member.user.id } }),
    foreign: async (ctx) => ({
      path: path(await ctx.conversation(), '/assign'),
      body: { assigneeId: ctx.other.owner.user.id },
      token: ctx.other.owner.token,
    }),
    cases: [
      {
        status: 403,
        why: 'a member gives it to another',
        build: async (ctx) => ({
          path: path(await ctx.conversation(), '/assign'),
          body: { assigneeId: ctx.ws.admin.user.id },
          token: ctx.ws.member.token,
        }),
      },
      {
        status: 409,
        why: 'a member takes the admin’s',
        build: async (ctx) => ({
          path: path(await adminsConversation(ctx), '/assign'),
          body: { assigneeId: ctx.ws.member.user.id },
          token: ctx.ws.member.token,
        }),
      },
      {
        status: 422,
        why: 'an unknown user',
        build: async (ctx) => ({ path: path(await ctx.conversation(), '/assign'), body: { assigneeId: unknownIds.userId } }),
      },
      {
        status: 422,
        why: 'a direct conversation',
        build: async (ctx) => ({ path: path(await direct(ctx), '/assign'), body: { assigneeId: null } }),
      },
    ],
  },
  addConversationParticipant: {
    ok: async (ctx) => ({
      path: path(await ctx.conversation(), '/participants'),
      body: { actorKind: 'user', id: ctx.ws.admin.user.id },
    }),
    foreign: async (ctx) => ({
      path: path(await ctx.conversation(), '/participants'),
      body: { actorKind: 'user', id: ctx.other.owner.user.id },
      token: ctx.other.owner.token,
    }),
    cases: [
      {
        status: 403,
        why: 'a member on the admin’s conversation',
        build: async (ctx) => ({
          path: path(await adminsConversation(ctx), '/participants'),
          body: { actorKind: 'user', id: ctx.ws.member.user.id },
          token: ctx.ws.member.token,
        }),
      },
      {
        status: 422,
        why: 'an unknown contact',
        build: async (ctx) => ({
          path: path(await ctx.conversation(), '/participants'),
          body: { actorKind: 'contact', id: unknownIds.contactId },
        }),
      },
    ],
  },
  removeConversationParticipant: {
    ok: async (ctx) => {
      const conversation = await ctx.conversation();
      await ctx.call('POST', path(conversation, '/participants'), { actorKind: 'user', id: ctx.ws.member.user.id });
      return { path: path(conversation, `/participants/${ctx.ws.member.user.id}`) };
    },
    cases: [
      {
        status: 403,
        why: 'a member on the admin’s conversation',
        build: async (ctx) => ({
          path: path(await adminsConversation(ctx), `/participants/${ctx.ws.admin.user.id}`),
          token: ctx.ws.member.token,
        }),
      },
      {
        status: 404,
        why: 'not a participant',
        build: async (ctx) => ({ path: path(await ctx.conversation(), `/participants/${ctx.ws.member.user.id}`) }),
      },
      {
        status: 422,
        why: 'the contact of the conversation',
        build: async (ctx) => {
          const conversation = await ctx.conversation();
          return { path: path(conversation, `/participants/${conversation.contactId}`) };
        },
      },
      {
        status: 422,
        why: 'the assignee',
        build: async (ctx) => ({ path: path(await adminsConversation(ctx), `/participants/${ctx.ws.admin.user.id}`) }),
      },
    ],
  },
  addConversationScore: {
    ok: async (ctx) => ({ path: path(await ctx.conversation(), '/scores'), body: { value: 4 } }),
    cases: [
      {
        status: 403,
        why: 'a member rates the admin’s',
        build: async (ctx) => ({ path: path(await adminsConversation(ctx), '/scores'), body: { value: 2 }, token: ctx.ws.member.token }),
      },
    ],
  },
  listConversationScores: {
    ok: async (ctx) => {
      const conversation = await ctx.conversation();
      await ctx.call('POST', path(conversation, '/scores'), { value: 5, source: 'ai' });
      return { path: path(conversation, '/scores'), query: { limit: '5' } };
    },
  },
  setConversationQualification: {
    ok: async (ctx) => ({ path: path(await ctx.conversation(), '/qualifications'), body: { kind: 'lead', score: 4 } }),
    cases: [
      {
        status: 403,
        why: 'a member qualifies the admin’s',
        build: async (ctx) => ({
          path: path(await adminsConversation(ctx), '/qualifications'),
          body: { kind: 'customer' },
          token: ctx.ws.member.token,
        }),
      },
    ],
  },
  listConversationQualifications: {
    ok: async (ctx) => {
      const conversation = await ctx.conversation();
      await ctx.call('POST', path(conversation, '/qualifications'), { kind: 'prospect', source: 'ai' });
      return { path: path(conversation, '/qualifications'), query: { limit: '5' } };
    },
  },
};
