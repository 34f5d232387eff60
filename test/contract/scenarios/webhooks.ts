import type { OperationId } from '../../../functions/http/routes';
import { newDeliveryItem } from '../../../domain/webhooks/webhook-delivery-record';
import { webhookSettings } from '../../../domain/webhooks/webhooks.schemas';
import type { Ctx, Scenario } from '../scenarios';

/* eslint-disable @typescript-eslint/no-explicit-any -- records read back from the API */

/** Loopback is allowed in tests; nothing listens there, and no delivery runs in the contract suite. */
const url = 'http://127.0.0.1:9/hook';

/** A fresh webhook. The suite makes many in one workspace: the earlier ones (each case's own, used) go first, under the cap. */
const webhook = async (ctx: Ctx, extra: Record<string, unknown> = {}): Promise<any> => {
  const existing = (await ctx.call('GET', '/v1/webhooks?limit=100')).body.items as { id: string }[];
  if (existing.length >= webhookSettings.maxSubscriptions - 2) {
    for (const old of existing) await ctx.call('DELETE', `/v1/webhooks/${old.id}`);
  }
  return (await ctx.call('POST', '/v1/webhooks', { url, eventTypes: ['contact.*'], ...extra })).body;
};

/** A webhook with one delivery in its log (written as the fan-out writes it: no stream runs here). */
async function withDelivery(ctx: Ctx, status: 'delivered' | 'pending' = 'delivered') {
  const hook = await webhook(ctx);
  const contact = await ctx.contact();
  const events = (await ctx.call('GET', `/v1/events?entityType=contact&entityId=${contact.id}`)).body.items;
  const event = events[0];
  const me = (await ctx.call('GET', '/v1/me')).body;
  const at = ctx.stack.deps.clock.nowIso();
  const item = newDeliveryItem(
    { ...event, eventId: event.id, workspaceId: me.workspace.id, contactId: contact.id, companyId: undefined, dealId: undefined, channel: undefined },
    hook.id,
    true,
    at,
  );
  const stored =
    status === 'delivered'
      ? { ...item, status: 'delivered' as const, deliveredAt: at, dueShard: undefined, dueKey: undefined, attemptCount: 1 }
      : { ...item, leaseUntil: new Date(ctx.stack.deps.clock.nowMs() + 60_000).toISOString() };
  const { dueShard, dueKey, ...rest } = stored;
  await ctx.stack.deps.db.entities.webhookDelivery.create(dueShard && dueKey ? { ...rest, dueShard, dueKey } : rest).go();
  return { hook, eventId: event.id as string };
}

const memberRefused = (build: (ctx: Ctx) => Promise<{ path: string; body?: unknown }>) => ({
  status: 403,
  why: 'a member: webhooks are managed by owners and admins',
  build: async (ctx: Ctx) => ({ ...(await build(ctx)), token: ctx.ws.member.token }),
});

const savedCap = webhookSettings.maxSubscriptions;

export const webhooksScenarios: Partial<Record<OperationId, Scenario>> = {
  listWebhooks: {
    ok: async (ctx) => {
      await webhook(ctx);
      return { path: '/v1/webhooks', query: { limit: '2' } };
    },
    cases: [memberRefused(async () => ({ path: '/v1/webhooks' }))],
  },
  createWebhook: {
    ok: async () => ({ path: '/v1/webhooks', body: { url, eventTypes: ['contact.*', 'deal.won'], filter: { field: 'city', op: 'eq', value: 'Berlin' } } }),
    cases: [
      memberRefused(async () => ({ path: '/v1/webhooks', body: { url, eventTypes: ['*'] } })),
      { status: 422, why: 'a private address', build: async () => ({ path: '/v1/webhooks', body: { url: 'https://10.0.0.1/hook', eventTypes: ['*'] } }) },
      {
        status: 422,
        why: 'the workspace holds its cap of webhooks',
        build: async (ctx) => {
          await webhook(ctx);
          webhookSettings.maxSubscriptions = 1;
          return { path: '/v1/webhooks', body: { url, eventTypes: ['*'] } };
        },
        after: () => {
          webhookSettings.maxSubscriptions = savedCap;
        },
      },
    ],
    invalid: async () => ({ path: '/v1/webhooks', body: { url, eventTypes: ['contact.exploded'] } }),
  },
  getWebhook: {
    ok: async (ctx) => ({ path: `/v1/webhooks/${(await webhook(ctx)).id}` }),
    cases: [memberRefused(async (ctx) => ({ path: `/v1/webhooks/${(await webhook(ctx)).id}` }))],
  },
  updateWebhook: {
    ok: async (ctx) => ({ path: `/v1/webhooks/${(await webhook(ctx)).id}`, body: { eventTypes: ['*'], filter: null, description: 'All of it' } }),
    cases: [
      memberRefused(async (ctx) => ({ path: `/v1/webhooks/${(await webhook(ctx)).id}`, body: { enabled: false } })),
      { status: 422, why: 'the metadata address', build: async (ctx) => ({ path: `/v1/webhooks/${(await webhook(ctx)).id}`, body: { url: 'https://169.254.169.254/latest' } }) },
    ],
    invalid: async (ctx) => ({ path: `/v1/webhooks/${(await webhook(ctx)).id}`, body: {} }),
  },
  deleteWebhook: {
    ok: async (ctx) => ({ path: `/v1/webhooks/${(await webhook(ctx)).id}` }),
    cases: [memberRefused(async (ctx) => ({ path: `/v1/webhooks/${(await webhook(ctx)).id}` }))],
  },
  rotateWebhookSecret: {
    ok: async (ctx) => ({ path: `/v1/webhooks/${(await webhook(ctx)).id}/rotate-secret` }),
    cases: [memberRefused(async (ctx) => ({ path: `/v1/webhooks/${(await webhook(ctx)).id}/rotate-secret` }))],
  },
  listWebhookDeliveries: {
    ok: async (ctx) => ({ path: `/v1/webhooks/${(await withDelivery(ctx)).hook.id}/deliveries`, query: { limit: '2' } }),
    cases: [memberRefused(async (ctx) => ({ path: `/v1/webhooks/${(await webhook(ctx)).id}/deliveries` }))],
  },
  redeliverWebhookDelivery: {
    ok: async (ctx) => {
      const { hook, eventId } = await withDelivery(ctx);
      return { path: `/v1/webhooks/${hook.id}/deliveries/${eventId}/redeliver` };
    },
    cases: [
      memberRefused(async (ctx) => {
        const { hook, eventId } = await withDelivery(ctx);
        return { path: `/v1/webhooks/${hook.id}/deliveries/${eventId}/redeliver` };
      }),
      {
        status: 409,
        why: 'an attempt of the delivery is under way',
        build: async (ctx) => {
          const { hook, eventId } = await withDelivery(ctx, 'pending');
          return { path: `/v1/webhooks/${hook.id}/deliveries/${eventId}/redeliver` };
        },
      },
    ],
  },
  replayWebhook: {
    ok: async (ctx) => ({ path: `/v1/webhooks/${(await webhook(ctx)).id}/replay`, body: { from: '2026-01-01T00:00:00Z', to: '2026-01-20T00:00:00Z' } }),
    cases: [
      memberRefused(async (ctx) => ({ path: `/v1/webhooks/${(await webhook(ctx)).id}/replay`, body: { from: '2026-01-01T00:00:00Z', to: '2026-01-20T00:00:00Z' } })),
      {
        status: 422,
        why: 'a disabled webhook',
        build: async (ctx) => ({
          path: `/v1/webhooks/${(await webhook(ctx, { enabled: false })).id}/replay`,
          body: { from: '2026-01-01T00:00:00Z', to: '2026-01-20T00:00:00Z' },
        }),
      },
    ],
    invalid: async (ctx) => ({ path: `/v1/webhooks/${(await webhook(ctx)).id}/replay`, body: { from: '2026-01-20T00:00:00Z', to: '2026-01-01T00:00:00Z' } }),
  },
};
