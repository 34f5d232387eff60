import type { OperationId } from '../../../functions/http/routes';
import type { Scenario } from '../scenarios';

export const jobsScenarios: Partial<Record<OperationId, Scenario>> = {
  listJobs: {
    ok: async (ctx) => {
      await ctx.job();
      return { path: '/v1/jobs', query: { kind: 'export_contacts', limit: '2' } };
    },
    invalid: async () => ({ path: '/v1/jobs', query: { status: 'paused' } }),
  },
  getJob: { ok: async (ctx) => ({ path: `/v1/jobs/${(await ctx.job({ status: 'succeeded', file: true })).id}` }) },
  cancelJob: {
    ok: async (ctx) => ({ path: `/v1/jobs/${(await ctx.job()).id}/cancel` }),
    cases: [
      {
        status: 409,
        why: 'a job that has ended',
        build: async (ctx) => ({ path: `/v1/jobs/${(await ctx.job({ status: 'succeeded' })).id}/cancel` }),
      },
      {
        status: 404,
        why: 'another member’s job, to a member',
        build: async (ctx) => ({ path: `/v1/jobs/${(await ctx.job({ actor: ctx.ws.admin })).id}/cancel`, token: ctx.ws.member.token }),
      },
    ],
  },
  retryJob: {
    ok: async (ctx) => ({ path: `/v1/jobs/${(await ctx.job({ status: 'failed' })).id}/retry` }),
    cases: [
      {
        status: 409,
        why: 'a job that has not failed',
        build: async (ctx) => ({ path: `/v1/jobs/${(await ctx.job()).id}/retry` }),
      },
    ],
  },
  getJobFile: {
    ok: async (ctx) => ({ path: `/v1/jobs/${(await ctx.job({ file: true })).id}/files/contacts.csv` }),
    cases: [
      {
        status: 404,
        why: 'a name the job does not list',
        build: async (ctx) => ({ path: `/v1/jobs/${(await ctx.job({ file: true })).id}/files/other.csv` }),
      },
    ],
  },
};
