import type { OperationId } from '../../../functions/http/routes';
import { unknownIds, type Ctx, type Scenario } from '../scenarios';

/* eslint-disable @typescript-eslint/no-explicit-any -- records read back from the API */

const criteria = [
  { id: 'budget', name: 'Budget', weight: 3, kind: 'manual' },
  { id: 'size', name: 'Company size', weight: 1, kind: 'manual' },
];
const product = async (ctx: Ctx): Promise<any> => (await ctx.call('POST', '/v1/products', { name: ctx.unique('Product'), criteria })).body;
/** A product, and a contact assessed for it (so it is a lead). */
const lead = async (ctx: Ctx): Promise<{ product: any; contact: any }> => {
  const p = await product(ctx);
  const contact = await ctx.contact();
  await ctx.call('POST', `/v1/contacts/${contact.id}/fit/${p.id}/assessments`, { criterionId: 'budget', value: 4, evidence: 'Budget approved' });
  return { product: p, contact };
};

export const leadsScenarios: Partial<Record<OperationId, Scenario>> = {
  listProducts: {
    ok: async (ctx) => {
      await product(ctx);
      return { path: '/v1/products' };
    },
  },
  createProduct: {
    ok: async (ctx) => ({
      path: '/v1/products',
      body: {
        name: ctx.unique('CRM Pro'),
        description: 'Our flagship plan',
        criteria: [...criteria, { id: 'region', name: 'Region', weight: 1, kind: 'rule', rules: [{ when: { field: 'country', op: 'in', value: ['DE', 'AT'] }, value: 5 }], otherwise: 2 }],
      },
    }),
    cases: [{ status: 403, why: 'a member', build: async (ctx) => ({ path: '/v1/products', body: { name: ctx.unique('Mine') }, token: ctx.ws.member.token }) }],
    invalid: async (ctx) => ({ path: '/v1/products', body: { name: ctx.unique('Bad'), criteria: [{ id: 'Bad Id', name: 'x', weight: 1, kind: 'manual' }] } }),
  },
  getProduct: { ok: async (ctx) => ({ path: `/v1/products/${(await product(ctx)).id}` }) },
  updateProduct: {
    ok: async (ctx) => ({ path: `/v1/products/${(await product(ctx)).id}`, body: { name: ctx.unique('Renamed'), description: null } }),
    cases: [{ status: 403, why: 'a member', build: async (ctx) => ({ path: `/v1/products/${(await product(ctx)).id}`, body: { name: 'x' }, token: ctx.ws.member.token }) }],
    invalid: async (ctx) => ({ path: `/v1/products/${(await product(ctx)).id}`, body: {} }),
  },
  listLeads: {
    ok: async (ctx) => ({ path: `/v1/products/${(await lead(ctx)).product.id}/leads`, query: { reviewStatus: 'pending', limit: '2' } }),
    invalid: async (ctx) => ({ path: `/v1/products/${(await product(ctx)).id}/leads`, query: { reviewStatus: 'maybe' } }),
  },
  reviewLead: {
    ok: async (ctx) => {
      const { product: p, contact } = await lead(ctx);
      return {
        path: `/v1/products/${p.id}/leads/${contact.id}/review`,
        body: { status: 'accepted', reason: 'Budget confirmed', ownerId: ctx.ws.admin.user.id, deal: { title: 'Pilot', value: 100_000, currency: 'EUR' } },
      };
    },
    cases: [
      {
        status: 403,
        why: 'a member',
        build: async (ctx) => {
          const { product: p, contact } = await lead(ctx);
          return { path: `/v1/products/${p.id}/leads/${contact.id}/review`, body: { status: 'rejected' }, token: ctx.ws.member.token };
        },
      },
      {
        status: 422,
        why: 'an owner who is no user of the workspace',
        build: async (ctx) => {
          const { product: p, contact } = await lead(ctx);
          return { path: `/v1/products/${p.id}/leads/${contact.id}/review`, body: { status: 'accepted', ownerId: unknownIds.userId } };
        },
      },
    ],
    invalid: async (ctx) => {
      const { product: p, contact } = await lead(ctx);
      return { path: `/v1/products/${p.id}/leads/${contact.id}/review`, body: { status: 'rejected', ownerId: ctx.ws.admin.user.id } };
    },
  },
  listLeadReviews: {
    ok: async (ctx) => {
      const { product: p, contact } = await lead(ctx);
      await ctx.call('POST', `/v1/products/${p.id}/leads/${contact.id}/review`, { status: 'rejected', reason: 'Too small' });
      return { path: `/v1/products/${p.id}/leads/${contact.id}/reviews` };
    },
  },
  getContactFit: {
    ok: async (ctx) => {
      const { product: p, contact } = await lead(ctx);
      return { path: `/v1/contacts/${contact.id}/fit/${p.id}` };
    },
  },
  assessContact: {
    ok: async (ctx) => ({
      path: `/v1/contacts/${(await ctx.contact()).id}/fit/${(await product(ctx)).id}/assessments`,
      body: { criterionId: 'size', value: 3, evidence: '40 seats' },
    }),
    cases: [
      {
        status: 403,
        why: 'a member assessing a contact the admin owns',
        build: async (ctx) => ({
          path: `/v1/contacts/${(await ctx.contact()).id}/fit/${(await product(ctx)).id}/assessments`,
          body: { criterionId: 'size', value: 3 },
          token: ctx.ws.member.token,
        }),
      },
    ],
    invalid: async (ctx) => ({
      path: `/v1/contacts/${(await ctx.contact()).id}/fit/${(await product(ctx)).id}/assessments`,
      body: { criterionId: 'size', value: 6 },
    }),
  },
  listContactAssessments: {
    ok: async (ctx) => {
      const { product: p, contact } = await lead(ctx);
      return { path: `/v1/contacts/${contact.id}/fit/${p.id}/assessments`, query: { limit: '2' } };
    },
  },
};
