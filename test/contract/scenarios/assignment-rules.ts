import type { OperationId } from '../../../functions/http/routes';
import { assignmentRuleSettings } from '../../../domain/assignment/assignment-rules.service';
import { unknownIds, type Ctx, type Scenario } from '../scenarios';

/* eslint-disable @typescript-eslint/no-explicit-any -- records read back from the API */

/** A disabled rule: it assigns nothing while the other scenarios run. */
const rule = async (ctx: Ctx, extra: Record<string, unknown> = {}): Promise<any> =>
  (
    await ctx.call('POST', '/v1/assignment-rules', {
      name: ctx.unique('Round robin'),
      appliesTo: 'conversations',
      userIds: [ctx.ws.admin.user.id, ctx.ws.member.user.id],
      enabled: false,
      ...extra,
    })
  ).body;

const memberRefused = (body?: unknown) => ({
  status: 403,
  why: 'a member: owner/admin manage assignment rules',
  build: async (ctx: Ctx) => ({ path: `/v1/assignment-rules/${(await rule(ctx)).id}`, token: ctx.ws.member.token, ...(body ? { body } : {}) }),
});

const savedCap = assignmentRuleSettings.maxAssignmentRules;

export const assignmentRulesScenarios: Partial<Record<OperationId, Scenario>> = {
  listAssignmentRules: {
    ok: async (ctx) => {
      await rule(ctx);
      return { path: '/v1/assignment-rules', query: { limit: '2' } };
    },
    invalid: async () => ({ path: '/v1/assignment-rules', query: { limit: '0' } }),
  },
  createAssignmentRule: {
    ok: async (ctx) => ({
      path: '/v1/assignment-rules',
      body: { name: ctx.unique('Email to sales'), appliesTo: 'conversations', channels: ['email'], userIds: [ctx.ws.admin.user.id], capPerUser: 5, enabled: false },
    }),
    cases: [
      {
        status: 403,
        why: 'a member: owner/admin manage assignment rules',
        build: async (ctx) => ({
          path: '/v1/assignment-rules',
          token: ctx.ws.member.token,
          body: { name: ctx.unique('Mine'), appliesTo: 'contacts', userIds: [ctx.ws.member.user.id] },
        }),
      },
      {
        status: 422,
        why: 'a user id names no active user of the workspace',
        build: async (ctx) => ({
          path: '/v1/assignment-rules',
          body: { name: ctx.unique('Ghosts'), appliesTo: 'contacts', userIds: [unknownIds.userId] },
        }),
      },
      {
        status: 422,
        why: 'the workspace holds its cap of rules',
        build: async (ctx) => {
          await rule(ctx);
          assignmentRuleSettings.maxAssignmentRules = 1;
          return { path: '/v1/assignment-rules', body: { name: ctx.unique('One too many'), appliesTo: 'contacts', userIds: [ctx.ws.admin.user.id], enabled: false } };
        },
        after: () => {
          assignmentRuleSettings.maxAssignmentRules = savedCap;
        },
      },
    ],
    invalid: async (ctx) => ({ path: '/v1/assignment-rules', body: { name: ctx.unique('Bad'), appliesTo: 'contacts', channels: ['email'], userIds: [ctx.ws.admin.user.id] } }),
  },
  getAssignmentRule: { ok: async (ctx) => ({ path: `/v1/assignment-rules/${(await rule(ctx)).id}` }) },
  updateAssignmentRule: {
    ok: async (ctx) => ({ path: `/v1/assignment-rules/${(await rule(ctx)).id}`, body: { capPerUser: 3, channels: null, position: 2 } }),
    cases: [
      memberRefused({ name: 'Mine now' }),
      {
        status: 422,
        why: 'a user id names no active user of the workspace',
        build: async (ctx) => ({ path: `/v1/assignment-rules/${(await rule(ctx)).id}`, body: { userIds: [ctx.other.admin.user.id] } }),
      },
    ],
    invalid: async (ctx) => ({ path: `/v1/assignment-rules/${(await rule(ctx)).id}`, body: {} }),
  },
  deleteAssignmentRule: {
    ok: async (ctx) => ({ path: `/v1/assignment-rules/${(await rule(ctx)).id}` }),
    cases: [memberRefused()],
  },
};
