import type { OperationId } from '../../../functions/http/routes';
import { segmentSettings } from '../../../domain/segments/segments.service';
import { unknownIds, type Ctx, type Scenario } from '../scenarios';

/* eslint-disable @typescript-eslint/no-explicit-any -- records read back from the API */

const staticSegment = async (ctx: Ctx, token = ctx.ws.owner.token): Promise<any> =>
  (await ctx.call('POST', '/v1/segments', { name: ctx.unique('Picked'), kind: 'static' }, token)).body;
const dynamicSegment = async (ctx: Ctx): Promise<any> =>
  (await ctx.call('POST', '/v1/segments', { name: ctx.unique('Berliners'), kind: 'dynamic', rule: { field: 'city', op: 'eq', value: 'Berlin' } })).body;

/** Another user’s segment, changed by a member. */
const memberRefused = (body?: unknown) => ({
  status: 403,
  why: 'a member changing a segment another user created',
  build: async (ctx: Ctx) => ({ path: `/v1/segments/${(await staticSegment(ctx)).id}`, token: ctx.ws.member.token, ...(body ? { body } : {}) }),
});

const dynamicRefused = (path: (segmentId: string) => string) => ({
  status: 422,
  why: 'a dynamic segment: its rule decides its members',
  build: async (ctx: Ctx) => ({ path: path((await dynamicSegment(ctx)).id), body: { contactIds: [(await ctx.contact()).id] } }),
});

const savedCap = segmentSettings.maxDynamicSegments;

export const segmentsScenarios: Partial<Record<OperationId, Scenario>> = {
  listSegments: {
    ok: async (ctx) => {
      await staticSegment(ctx);
      return { path: '/v1/segments', query: { kind: 'static', limit: '2' } };
    },
    invalid: async () => ({ path: '/v1/segments', query: { kind: 'smart' } }),
  },
  createSegment: {
    ok: async (ctx) => ({
      path: '/v1/segments',
      body: { name: ctx.unique('VIPs in Berlin'), kind: 'dynamic', rule: { all: [{ field: 'tags', op: 'has', value: 'vip' }, { field: 'city', op: 'eq', value: 'Berlin' }] } },
    }),
    cases: [
      {
        status: 422,
        why: 'the workspace holds its cap of dynamic segments',
        build: async (ctx) => {
          await dynamicSegment(ctx);
          segmentSettings.maxDynamicSegments = 1;
          return { path: '/v1/segments', body: { name: ctx.unique('One too many'), kind: 'dynamic', rule: { field: 'city', op: 'is_set' } } };
        },
        after: () => {
          segmentSettings.maxDynamicSegments = savedCap;
        },
      },
    ],
    invalid: async (ctx) => ({ path: '/v1/segments', body: { name: ctx.unique('Bad'), kind: 'dynamic', rule: { field: 'colour', op: 'eq', value: 'red' } } }),
  },
  previewSegment: {
    ok: async (ctx) => {
      await ctx.contact({ city: 'Berlin' });
      return { path: '/v1/segments/preview', body: { rule: { field: 'city', op: 'eq', value: 'Berlin' } } };
    },
    invalid: async () => ({ path: '/v1/segments/preview', body: { rule: { field: 'score', op: 'gt', value: 'high' } } }),
  },
  getSegment: { ok: async (ctx) => ({ path: `/v1/segments/${(await staticSegment(ctx)).id}` }) },
  updateSegment: {
    ok: async (ctx) => ({ path: `/v1/segments/${(await dynamicSegment(ctx)).id}`, body: { name: ctx.unique('Renamed'), rule: { field: 'city', op: 'in', value: ['Berlin', 'Hamburg'] } } }),
    cases: [memberRefused({ name: 'Mine now' })],
    invalid: async (ctx) => ({ path: `/v1/segments/${(await staticSegment(ctx)).id}`, body: {} }),
  },
  deleteSegment: {
    ok: async (ctx) => ({ path: `/v1/segments/${(await staticSegment(ctx)).id}` }),
    cases: [memberRefused()],
  },
  listSegmentMembers: {
    ok: async (ctx) => {
      const segment = await staticSegment(ctx);
      await ctx.call('POST', `/v1/segments/${segment.id}/members`, { contactIds: [(await ctx.contact()).id] });
      return { path: `/v1/segments/${segment.id}/members`, query: { sort: 'name', limit: '2' } };
    },
    invalid: async (ctx) => ({ path: `/v1/segments/${(await staticSegment(ctx)).id}/members`, query: { sort: 'size' } }),
  },
  addSegmentMembers: {
    ok: async (ctx) => ({
      path: `/v1/segments/${(await staticSegment(ctx)).id}/members`,
      body: { contactIds: [(await ctx.contact()).id, unknownIds.contactId] },
    }),
    cases: [dynamicRefused((id) => `/v1/segments/${id}/members`)],
    foreign: async (ctx) => ({
      path: `/v1/segments/${(await staticSegment(ctx)).id}/members`,
      token: ctx.other.owner.token,
      body: { contactIds: [unknownIds.contactId] },
    }),
  },
  removeSegmentMembers: {
    ok: async (ctx) => {
      const segment = await staticSegment(ctx);
      const contact = await ctx.contact();
      await ctx.call('POST', `/v1/segments/${segment.id}/members`, { contactIds: [contact.id] });
      return { path: `/v1/segments/${segment.id}/members/remove`, body: { contactIds: [contact.id] } };
    },
    cases: [dynamicRefused((id) => `/v1/segments/${id}/members/remove`)],
  },
  listContactSegments: {
    ok: async (ctx) => {
      const segment = await staticSegment(ctx);
      const contact = await ctx.contact();
      await ctx.call('POST', `/v1/segments/${segment.id}/members`, { contactIds: [contact.id] });
      return { path: `/v1/contacts/${contact.id}/segments` };
    },
  },
};
