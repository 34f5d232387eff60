import type { OperationId } from '../../../functions/http/routes';
import { unknownIds, type Ctx, type Scenario } from '../scenarios';

/* eslint-disable @typescript-eslint/no-explicit-any -- records read back from the API */

/** A new email conversation (new contact, owned by the admin) assigned to the admin: the member may not qualify it. */
async function adminsConversation(ctx: Ctx): Promise<any> {
  const conversation = await ctx.conversation();
  return (await ctx.call('POST', `/v1/conversations/${conversation.id}/assign`, { assigneeId: ctx.ws.admin.user.id })).body;
}

/** A static segment holding one new contact. */
async function segmentWithMember(ctx: Ctx): Promise<any> {
  const segment = (await ctx.call('POST', '/v1/segments', { name: ctx.unique('To classify'), kind: 'static' })).body;
  const conversation = await ctx.conversation();
  await ctx.call('POST', `/v1/segments/${segment.id}/members`, { contactIds: [conversation.contactId] });
  return segment;
}

export const qualifyScenarios: Partial<Record<OperationId, Scenario>> = {
  classifyConversation: {
    ok: async (ctx) => ({ path: `/v1/conversations/${(await ctx.conversation()).id}/classify`, body: { contact: true } }),
    cases: [
      {
        status: 403,
        why: 'a member classifying a conversation assigned to another user',
        build: async (ctx) => ({ path: `/v1/conversations/${(await adminsConversation(ctx)).id}/classify`, token: ctx.ws.member.token, body: {} }),
      },
      {
        status: 422,
        why: 'a direct conversation has no contact',
        build: async (ctx) => {
          const direct = (await ctx.call('POST', '/v1/conversations', { kind: 'direct', userIds: [ctx.ws.member.user.id] })).body;
          return { path: `/v1/conversations/${direct.id}/classify`, body: {} };
        },
      },
    ],
    invalid: async (ctx) => ({ path: `/v1/conversations/${(await ctx.conversation()).id}/classify`, body: { contact: 'yes' } }),
  },
  classifySegmentConversations: {
    ok: async (ctx) => ({ path: '/v1/conversations/classify', body: { segmentId: (await segmentWithMember(ctx)).id, contact: true } }),
    cases: [
      {
        status: 403,
        why: 'a member classifying a whole segment',
        build: async (ctx) => ({ path: '/v1/conversations/classify', token: ctx.ws.member.token, body: { segmentId: (await segmentWithMember(ctx)).id } }),
      },
      {
        status: 422,
        why: 'an unknown segment',
        build: async () => ({ path: '/v1/conversations/classify', body: { segmentId: unknownIds.segmentId } }),
      },
    ],
    invalid: async () => ({ path: '/v1/conversations/classify', body: { segmentId: 'seg_nope' } }),
  },
};
