import type { OperationId } from '../../../functions/http/routes';
import type { Ctx, Scenario } from '../scenarios';
import { providerConnected } from './provider-connections';

/** An SMS thread with a new contact who has a phone number, in a workspace with a Twilio connection. */
async function phoneThread(ctx: Ctx): Promise<{ id: string }> {
  await providerConnected(ctx, 'sms');
  const contact = await ctx.contact({ channels: [{ kind: 'phone', value: ctx.phone() }] });
  return (await ctx.call('POST', '/v1/conversations', { kind: 'contact', contactId: contact.id, channel: 'sms' })).body;
}

/* eslint-disable @typescript-eslint/no-explicit-any -- records read back from the API */

/** A new email conversation (in the pool) with a call the owner started. */
async function withCall(ctx: Ctx): Promise<{ conversation: any; call: any; path: string }> {
  const conversation = await ctx.conversation();
  const call = (await ctx.call('POST', `/v1/conversations/${conversation.id}/calls`, { kind: 'voice' })).body;
  return { conversation, call, path: `/v1/conversations/${conversation.id}/calls/${call.id}` };
}

/** A call on a conversation assigned to the admin: the member may not change it. */
async function othersCall(ctx: Ctx) {
  const found = await withCall(ctx);
  await ctx.call('POST', `/v1/conversations/${found.conversation.id}/assign`, { assigneeId: ctx.ws.admin.user.id });
  return found;
}

export const callsScenarios: Partial<Record<OperationId, Scenario>> = {
  listCalls: {
    ok: async (ctx) => ({ path: `/v1/conversations/${(await withCall(ctx)).conversation.id}/calls` }),
  },
  startCall: {
    ok: async (ctx) => ({
      path: `/v1/conversations/${(await ctx.conversation()).id}/calls`,
      body: { kind: 'video', payload: { provider: 'test' } },
    }),
    cases: [
      {
        status: 403,
        why: 'a member calling from a conversation assigned to another user',
        build: async (ctx) => {
          const conversation = await ctx.conversation();
          await ctx.call('POST', `/v1/conversations/${conversation.id}/assign`, { assigneeId: ctx.ws.admin.user.id });
          return { path: `/v1/conversations/${conversation.id}/calls`, body: {}, token: ctx.ws.member.token };
        },
      },
      {
        status: 422,
        why: 'a phone call in a direct conversation',
        build: async (ctx) => {
          const direct = (await ctx.call('POST', '/v1/conversations', { kind: 'direct', userIds: [ctx.ws.admin.user.id] })).body;
          return { path: `/v1/conversations/${direct.id}/calls`, body: { channel: 'phone' } };
        },
      },
    ],
  },
  placePhoneCall: {
    ok: async (ctx) => ({ path: `/v1/conversations/${(await phoneThread(ctx)).id}/phone-calls`, body: { agentPhone: '+14155550123' } }),
    cases: [
      {
        status: 403,
        why: 'a member calling from a conversation assigned to another user',
        build: async (ctx) => {
          const conversation = await phoneThread(ctx);
          await ctx.call('POST', `/v1/conversations/${conversation.id}/assign`, { assigneeId: ctx.ws.admin.user.id });
          return { path: `/v1/conversations/${conversation.id}/phone-calls`, body: { agentPhone: '+14155550123' }, token: ctx.ws.member.token };
        },
      },
      {
        status: 422,
        why: 'an agent phone that cannot be dialled',
        build: async (ctx) => ({ path: `/v1/conversations/${(await phoneThread(ctx)).id}/phone-calls`, body: { agentPhone: 'my desk' } }),
      },
    ],
  },
  getCall: {
    ok: async (ctx) => ({ path: (await withCall(ctx)).path }),
    cases: [
      {
        status: 404,
        why: 'a call id the conversation does not hold',
        build: async (ctx) => ({
          path: `/v1/conversations/${(await ctx.conversation()).id}/calls/call_00000000000000000000000000`,
        }),
      },
    ],
  },
  updateCallStatus: {
    ok: async (ctx) => ({ path: `${(await withCall(ctx)).path}/status`, body: { status: 'ringing' } }),
    cases: [
      {
        status: 403,
        why: 'a member changing a call on a conversation assigned to another user',
        build: async (ctx) => ({
          path: `${(await othersCall(ctx)).path}/status`,
          body: { status: 'ringing' },
          token: ctx.ws.member.token,
        }),
      },
      {
        status: 409,
        why: 'a missed call cannot connect',
        build: async (ctx) => {
          const { path } = await withCall(ctx);
          await ctx.call('POST', `${path}/status`, { status: 'missed' });
          return { path: `${path}/status`, body: { status: 'connected' } };
        },
      },
    ],
  },
  endCall: {
    ok: async (ctx) => {
      const { path } = await withCall(ctx);
      await ctx.call('POST', `${path}/status`, { status: 'connected' });
      return { path: `${path}/end`, body: {} };
    },
    cases: [
      {
        status: 403,
        why: 'a member ending a call on a conversation assigned to another user',
        build: async (ctx) => ({ path: `${(await othersCall(ctx)).path}/end`, body: {}, token: ctx.ws.member.token }),
      },
      {
        status: 409,
        why: 'a failed call cannot end',
        build: async (ctx) => {
          const { path } = await withCall(ctx);
          await ctx.call('POST', `${path}/status`, { status: 'failed' });
          return { path: `${path}/end`, body: {} };
        },
      },
      {
        status: 422,
        why: 'a duration longer than the time since the call started',
        build: async (ctx) => ({ path: `${(await withCall(ctx)).path}/end`, body: { durationSeconds: 3600 } }),
      },
    ],
  },
};
