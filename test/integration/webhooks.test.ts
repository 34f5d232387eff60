import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { sweepOverdueDeliveries } from '../../domain/webhooks/webhook-delivery.service';
import { webhookSettings } from '../../domain/webhooks/webhooks.schemas';
import { createWebhookTransport } from '../../functions/shared/adapters/webhook-transport';
import { getJobQueue, setWebhookPolicy, setWebhookTransport } from '../../functions/shared/deps';
import { startTestJobs, type TestJobs } from '../support/test-jobs';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';
import { startTestStreams, type TestStreams } from '../support/test-streams';

/* eslint-disable @typescript-eslint/no-explicit-any -- records read back from the API */

let stack: TestStack;
let acme: Awaited<ReturnType<typeof seedWorkspace>>;
let globex: Awaited<ReturnType<typeof seedWorkspace>>;
let jobs: TestJobs;
let streams: TestStreams;

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/**
 * A receiver on loopback: records every request; `answer` decides each response by path (status, or
 * `hang` to never answer).
 */
const received: Received[] = [];
let answer: (path: string, count: number) => number | 'hang' = () => 200;
let receiver: Server;
let base = '';

beforeAll(async () => {
  stack = await createTestStack();
  acme = await seedWorkspace(stack, 'Acme');
  globex = await seedWorkspace(stack, 'Globex');
  jobs = await startTestJobs(stack, ['deliver_webhook']);
  streams = await startTestStreams(stack, ['event-fanout']);
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = req.url ?? '/';
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
      const count = received.filter((request) => request.path === path).length;
      const status = answer(path, count);
      if (status === 'hang') return; // never answers: the sender's timeout ends it
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : `nope ${'x'.repeat(3000)}`);
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
}, 60_000);
afterAll(async () => {
  receiver?.closeAllConnections();
  await new Promise((resolve) => receiver?.close(resolve));
  await streams?.stop();
  await jobs?.stop();
  await stack?.destroy();
});
afterEach(() => {
  answer = () => 200;
  setWebhookPolicy(undefined);
  setWebhookTransport(undefined);
});

const owner = () => acme.owner.token;
let serial = 0;
const hookPath = () => `/hook-${++serial}`;

const createWebhook = async (body: Record<string, unknown>, token = owner()) => {
  const res = await stack.api('POST', '/v1/webhooks', { token, body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; secret: string; version: number };
};
const createContact = async (name: string, fields: Record<string, unknown> = {}) => {
  stack.clock.advance(1000);
  const res = await stack.api('POST', '/v1/contacts', { token: owner(), body: { name, ...fields } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; version: number };
};
const deliveries = async (webhookId: string): Promise<any[]> => {
  const res = await stack.api('GET', `/v1/webhooks/${webhookId}/deliveries?limit=100`, { token: owner() });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.items;
};
const at = (path: string) => received.filter((request) => request.path === path);

/** Polls until `check` passes (the stream, the queue and the receiver take their moments). */
async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** Verifies one request with the Standard Webhooks library, at the stack's clock (its timestamps are the clock's). */
function verify(secret: string, request: Received): any {
  const now = vi.spyOn(Date, 'now').mockReturnValue(stack.clock.nowMs());
  try {
    return new StandardWebhook(secret).verify(request.body, {
      'webhook-id': String(request.headers['webhook-id']),
      'webhook-timestamp': String(request.headers['webhook-timestamp']),
      'webhook-signature': String(request.headers['webhook-signature']),
    });
  } finally {
    now.mockRestore();
  }
}

/** Moves the clock past the delivery's next attempt and the sweep's grace, and sweeps: the attempt runs now. */
async function runNextAttempt(webhookId: string, eventId: string) {
  const before = (await deliveries(webhookId)).find((delivery) => delivery.id === eventId);
  expect(before.status).toBe('pending');
  stack.clock.advance(Math.max(0, Date.parse(before.nextAttemptAt) + webhookSettings.sweepGraceMs + 1000 - stack.clock.nowMs()));
  await sweepOverdueDeliveries({ ...stack.deps, queue: getJobQueue() });
  return eventually(async () => {
    const after = (await deliveries(webhookId)).find((delivery) => delivery.id === eventId);
    expect(after.attemptCount).toBe(before.attemptCount + 1);
    return after;
  });
}

describe('webhook subscriptions', () => {
  it('the cap holds under concurrent creates: 8 at once under a cap of 3 give three 201s and five 422s; a delete frees a place', async () => {
    const initech = await seedWorkspace(stack, 'Initech');
    const savedCap = webhookSettings.maxSubscriptions;
    webhookSettings.maxSubscriptions = 3;
    try {
      const answers = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          stack.api('POST', '/v1/webhooks', { token: initech.owner.token, body: { url: `${base}/cap-${i}`, eventTypes: ['contact.created'] } }),
        ),
      );
      expect(answers.map((answer) => answer.status).sort()).toEqual([201, 201, 201, 422, 422, 422, 422, 422]);
      expect(answers.find((answer) => answer.status === 422)!.body.code).toBe('limit_exceeded');
      const listed = await stack.api('GET', '/v1/webhooks', { token: initech.owner.token });
      expect(listed.body.items).toHaveLength(3);
      const first = answers.find((answer) => answer.status === 201)!.body;
      const removed = await stack.api('DELETE', `/v1/webhooks/${first.id}`, { token: initech.owner.token });
      expect(removed.status).toBe(204);
      const again = await stack.api('POST', '/v1/webhooks', { token: initech.owner.token, body: { url: `${base}/cap-again`, eventTypes: ['*'] } });
      expect(again.status).toBe(201);
      const full = await stack.api('POST', '/v1/webhooks', { token: initech.owner.token, body: { url: `${base}/cap-full`, eventTypes: ['*'] } });
      expect(full.status).toBe(422);
    } finally {
      webhookSettings.maxSubscriptions = savedCap;
    }
  });

  it('owner and admin manage them; a member gets 403; another workspace sees 404', async () => {
    const url = `${base}${hookPath()}`;
    const byAdmin = await createWebhook({ url, eventTypes: ['contact.*'] }, acme.admin.token);
    expect(byAdmin.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    for (const [method, path, body] of [
      ['GET', '/v1/webhooks', undefined],
      ['POST', '/v1/webhooks', { url, eventTypes: ['*'] }],
      ['GET', `/v1/webhooks/${byAdmin.id}`, undefined],
      ['PATCH', `/v1/webhooks/${byAdmin.id}`, { description: 'mine' }],
      ['DELETE', `/v1/webhooks/${byAdmin.id}`, undefined],
      ['GET', `/v1/webhooks/${byAdmin.id}/deliveries`, undefined],
      ['POST', `/v1/webhooks/${byAdmin.id}/rotate-secret`, undefined],
    ] as const) {
      const res = await stack.api(method, path, { token: acme.member.token, ...(body ? { body } : {}) });
      expect(res.status, `${method} ${path}`).toBe(403);
    }
    const read = await stack.api('GET', `/v1/webhooks/${byAdmin.id}`, { token: owner() });
    expect(read.status).toBe(200);
    expect(read.body).not.toHaveProperty('secret');
    expect(JSON.stringify(read.body)).not.toContain(byAdmin.secret);
    for (const [method, path] of [
      ['GET', `/v1/webhooks/${byAdmin.id}`],
      ['PATCH', `/v1/webhooks/${byAdmin.id}`],
      ['DELETE', `/v1/webhooks/${byAdmin.id}`],
      ['GET', `/v1/webhooks/${byAdmin.id}/deliveries`],
      ['POST', `/v1/webhooks/${byAdmin.id}/rotate-secret`],
      ['POST', `/v1/webhooks/${byAdmin.id}/replay`],
    ] as const) {
      const body = method === 'PATCH' ? { description: 'x' } : path.endsWith('replay') ? { from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z' } : undefined;
      const res = await stack.api(method, path, { token: globex.owner.token, ...(body ? { body } : {}) });
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    expect((await stack.api('GET', '/v1/webhooks', { token: globex.owner.token })).body.items).toEqual([]);
    const deleted = await stack.api('DELETE', `/v1/webhooks/${byAdmin.id}`, { token: owner() });
    expect(deleted.status).toBe(204);
  });

  it('refuses unknown event types (naming each), bad filters and bad URLs with 400, writing nothing', async () => {
    const before = (await stack.api('GET', '/v1/webhooks?limit=100', { token: owner() })).body.items.length;
    const types = await stack.api('POST', '/v1/webhooks', { token: owner(), body: { url: `${base}/x`, eventTypes: ['contact.created', 'contact.exploded', 'nothing.*'] } });
    expect(types.status).toBe(400);
    expect(types.body.errors.map((error: any) => error.field)).toEqual(['body.eventTypes.1', 'body.eventTypes.2']);
    const filter = await stack.api('POST', '/v1/webhooks', {
      token: owner(),
      body: { url: `${base}/x`, eventTypes: ['*'], filter: { field: 'colour', op: 'eq', value: 'red' } },
    });
    expect(filter.status).toBe(400);
    expect(filter.body.errors[0].field).toBe('body.filter.field');
    for (const url of ['ftp://example.com/x', 'not a url', 'https://user:pw@example.com/x']) {
      const res = await stack.api('POST', '/v1/webhooks', { token: owner(), body: { url, eventTypes: ['*'] } });
      expect(res.status, url).toBe(400);
      expect(res.body.errors[0].field).toBe('body.url');
    }
    expect((await stack.api('GET', '/v1/webhooks?limit=100', { token: owner() })).body.items.length).toBe(before);
  });
});

describe('deliveries', () => {
  it('POSTs each matching event once, signed: the Standard Webhooks library verifies it; the log shows the attempt', async () => {
    const path = hookPath();
    const hook = await createWebhook({ url: `${base}${path}`, eventTypes: ['contact.created'] });
    const contact = await createContact('Signed Sam');
    const [request] = await eventually(() => {
      expect(at(path)).toHaveLength(1);
      return at(path);
    });
    const payload = verify(hook.secret, request!);
    expect(payload).toMatchObject({ type: 'contact.created', data: { type: 'contact.created', entityType: 'contact', entityId: contact.id, contactId: contact.id } });
    expect(payload.timestamp).toBe(payload.data.createdAt);
    expect(request!.headers['webhook-id']).toBe(`msg_${payload.data.id}_${hook.id}`);
    expect(request!.headers['content-type']).toBe('application/json');
    expect(() => verify(`whsec_${Buffer.alloc(32, 7).toString('base64')}`, request!)).toThrow();
    const [delivery] = await eventually(async () => {
      const items = await deliveries(hook.id);
      expect(items[0]?.status).toBe('delivered');
      return items;
    });
    expect(delivery).toMatchObject({ id: payload.data.id, webhookId: request!.headers['webhook-id'], eventType: 'contact.created', attemptCount: 1 });
    expect(delivery.attempts).toEqual([expect.objectContaining({ attempt: 1, statusCode: 200, responseExcerpt: 'ok', error: null })]);
    expect(delivery.attempts[0].latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('type patterns: exact, a group (tag.*) and * each get what they name', async () => {
    const [exact, group, all] = [hookPath(), hookPath(), hookPath()];
    await createWebhook({ url: `${base}${exact}`, eventTypes: ['contact.created'] });
    await createWebhook({ url: `${base}${group}`, eventTypes: ['tag.*'] });
    await createWebhook({ url: `${base}${all}`, eventTypes: ['*'] });
    const contact = await createContact('Patterned Pat');
    const tagged = await stack.api('POST', `/v1/contacts/${contact.id}/tags`, { token: owner(), body: { tags: ['vip'] } });
    expect(tagged.status, JSON.stringify(tagged.body)).toBeLessThan(300);
    const typesAt = (path: string) => at(path).map((request) => JSON.parse(request.body).type as string).sort();
    await eventually(() => {
      expect(typesAt(exact)).toEqual(['contact.created']);
      expect(typesAt(group).every((type) => type.startsWith('tag.'))).toBe(true);
      expect(typesAt(group)).toContain('tag.added');
      expect(typesAt(all)).toEqual(expect.arrayContaining(['contact.created', 'tag.added']));
    });
  });

  it('a filter sends only the events about contacts that match it', async () => {
    const path = hookPath();
    await createWebhook({ url: `${base}${path}`, eventTypes: ['contact.created'], filter: { field: 'city', op: 'eq', value: 'Berlin' } });
    const berliner = await createContact('Berta Berlin', { city: 'Berlin' });
    await createContact('Paul Paris', { city: 'Paris' });
    await eventually(() => expect(at(path)).toHaveLength(1));
    await streams.drain();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(at(path).map((request) => JSON.parse(request.body).data.entityId)).toEqual([berliner.id]);
  });

  it('retries a failing receiver with backoff: fails 3 times, then 200 — delivered once, 4 attempts logged, one webhook-id', async () => {
    const path = hookPath();
    answer = (requestPath, count) => (requestPath === path && count <= 3 ? 500 : 200);
    const hook = await createWebhook({ url: `${base}${path}`, eventTypes: ['contact.created'] });
    await createContact('Retry Rita');
    const first = await eventually(async () => {
      const [item] = await deliveries(hook.id);
      expect(item?.attemptCount).toBe(1);
      return item;
    });
    expect(first.status).toBe('pending');
    expect(Date.parse(first.nextAttemptAt) - Date.parse(first.attempts[0].at)).toBe(5_000);
    const second = await runNextAttempt(hook.id, first.id);
    expect(Date.parse(second.nextAttemptAt) - Date.parse(second.attempts[1].at)).toBe(20_000);
    await runNextAttempt(hook.id, first.id);
    const done = await runNextAttempt(hook.id, first.id);
    expect(done.status).toBe('delivered');
    expect(done.attemptCount).toBe(4);
    expect(done.attempts.map((attempt: any) => attempt.statusCode)).toEqual([500, 500, 500, 200]);
    expect(done.attempts[0].responseExcerpt.length).toBeLessThanOrEqual(webhookSettings.maxResponseBytes);
    expect(at(path)).toHaveLength(4);
    expect(new Set(at(path).map((request) => request.headers['webhook-id'])).size).toBe(1);
    // The subscription's health is written just after the delivery's log line.
    await eventually(async () =>
      expect((await stack.api('GET', `/v1/webhooks/${hook.id}`, { token: owner() })).body.failingSince).toBeNull(),
    );
  });

  it('a receiver that never answers does not delay another subscription’s delivery', async () => {
    const [dead, live] = [hookPath(), hookPath()];
    answer = (requestPath) => (requestPath === dead ? 'hang' : 200);
    const deadHook = await createWebhook({ url: `${base}${dead}`, eventTypes: ['contact.created'] });
    await createWebhook({ url: `${base}${live}`, eventTypes: ['contact.created'] });
    const started = Date.now();
    await createContact('Timely Tim');
    await eventually(() => expect(at(live)).toHaveLength(1));
    await eventually(() => expect(at(dead)).toHaveLength(1));
    // The live one got its POST long before the dead one's 10 s timeout ran out.
    expect(at(live)[0]!.at - started).toBeLessThan(webhookSettings.attemptTimeoutMs - 2000);
    const [timedOut] = await eventually(async () => {
      const items = await deliveries(deadHook.id);
      expect(items[0]?.attemptCount).toBe(1);
      return items;
    }, 30_000);
    expect(timedOut.attempts[0]).toMatchObject({ statusCode: null, error: expect.stringContaining('No answer within') });
    expect(timedOut.status).toBe('pending');
    await stack.api('DELETE', `/v1/webhooks/${deadHook.id}`, { token: owner() });
  }, 60_000);

  it('event-to-delivery delay on one machine (stream poll 250 ms, queue long poll): p50 and p99 of 30 events', async () => {
    const path = hookPath();
    // In the other workspace: its only subscription, so no other test's deliveries queue beside these.
    const hook = await createWebhook({ url: `${base}${path}`, eventTypes: ['contact.created'] }, globex.owner.token);
    const written = new Map<string, number>();
    for (let index = 0; index < 30; index++) {
      const res = await stack.api('POST', '/v1/contacts', { token: globex.owner.token, body: { name: `Timed ${index}` } });
      written.set(res.body.id, Date.now());
    }
    await eventually(() => expect(at(path)).toHaveLength(30));
    const delays = at(path)
      .map((request) => request.at - written.get(JSON.parse(request.body).data.entityId)!)
      .sort((a, b) => a - b);
    const p50 = delays[Math.floor(delays.length * 0.5)]!;
    const p99 = delays[Math.ceil(delays.length * 0.99) - 1]!;
    console.info(`webhook event-to-delivery delay: p50 ${p50} ms, p99 ${p99} ms (30 events)`);
    expect(p99).toBeLessThan(10_000);
    await stack.api('DELETE', `/v1/webhooks/${hook.id}`, { token: globex.owner.token });
  }, 120_000);

  it('redelivers one delivery on request, with the same webhook-id', async () => {
    const path = hookPath();
    const hook = await createWebhook({ url: `${base}${path}`, eventTypes: ['contact.created'] });
    await createContact('Again Anna');
    const [delivered] = await eventually(async () => {
      const items = await deliveries(hook.id);
      expect(items[0]?.status).toBe('delivered');
      return items;
    });
    const res = await stack.api('POST', `/v1/webhooks/${hook.id}/deliveries/${delivered.id}/redeliver`, { token: owner() });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.status).toBe('pending');
    await eventually(() => expect(at(path)).toHaveLength(2));
    expect(at(path)[1]!.headers['webhook-id']).toBe(at(path)[0]!.headers['webhook-id']);
    const again = await eventually(async () => {
      const [item] = await deliveries(hook.id);
      expect(item.status).toBe('delivered');
      return item;
    });
    expect(again.attemptCount).toBe(2);
    const missing = await stack.api('POST', `/v1/webhooks/${hook.id}/deliveries/evt_01JF3Q5Z8V2N6M4K7T9R1X3C5B/redeliver`, { token: owner() });
    expect(missing.status).toBe(404);
    const foreign = await stack.api('POST', `/v1/webhooks/${hook.id}/deliveries/${delivered.id}/redeliver`, { token: globex.owner.token });
    expect(foreign.status).toBe(404);
  });

  it('replays a time range as a job: each delivery of the range sent again, nothing outside it', async () => {
    const path = hookPath();
    const hook = await createWebhook({ url: `${base}${path}`, eventTypes: ['contact.created'] });
    await createContact('Before Ben');
    stack.clock.advance(3_600_000);
    const from = stack.clock.nowIso();
    const inRange = [await createContact('Replay One'), await createContact('Replay Two'), await createContact('Replay Three')];
    const to = new Date(stack.clock.nowMs() + 1).toISOString();
    stack.clock.advance(3_600_000);
    await createContact('After Alice');
    await eventually(async () => {
      const items = await deliveries(hook.id);
      expect(items.filter((item) => item.status === 'delivered')).toHaveLength(5);
    });
    const res = await stack.api('POST', `/v1/webhooks/${hook.id}/replay`, { token: owner(), body: { from, to } });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body).toMatchObject({ kind: 'replay_webhook', status: 'queued' });
    // Polled, not `jobs.finished`: that waits for every queue to empty, delayed retries of other tests' deliveries too.
    const job = await eventually(async () => {
      const read = (await stack.api('GET', `/v1/jobs/${res.body.id}`, { token: owner() })).body;
      expect(read.status).toBe('succeeded');
      return read;
    });
    expect(job.result).toMatchObject({ sent: 3, skipped: 0, truncated: false });
    await eventually(() => expect(at(path)).toHaveLength(8));
    const replayed = at(path).slice(5).map((request) => JSON.parse(request.body).data.entityId);
    // Enqueued oldest first, sent side by side: like any deliveries, they may arrive in another order.
    expect(replayed.sort()).toEqual(inRange.map((contact) => contact.id).sort());
    const bad = await stack.api('POST', `/v1/webhooks/${hook.id}/replay`, { token: owner(), body: { from: to, to: from } });
    expect(bad.status).toBe(400);
  });

  it('rotation: both signatures during the overlap (old and new secret verify), only the new one after it', async () => {
    const path = hookPath();
    const hook = await createWebhook({ url: `${base}${path}`, eventTypes: ['contact.created'] });
    const rotated = await stack.api('POST', `/v1/webhooks/${hook.id}/rotate-secret`, { token: owner() });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(hook.secret);
    expect(Date.parse(rotated.body.previousSecretExpiresAt) - stack.clock.nowMs()).toBe(webhookSettings.rotationOverlapMs);
    await createContact('Overlap Olga');
    const [during] = await eventually(() => {
      expect(at(path)).toHaveLength(1);
      return at(path);
    });
    expect(String(during!.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verify(rotated.body.secret, during!)).toMatchObject({ type: 'contact.created' });
    expect(verify(hook.secret, during!)).toMatchObject({ type: 'contact.created' });
    stack.clock.advance(webhookSettings.rotationOverlapMs + 1000);
    await createContact('After Arthur');
    const after = await eventually(() => {
      expect(at(path)).toHaveLength(2);
      return at(path)[1]!;
    });
    expect(String(after.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(verify(rotated.body.secret, after)).toMatchObject({ type: 'contact.created' });
    expect(() => verify(hook.secret, after)).toThrow();
  });

  it('a receiver failing for 3 days: the delivery gives up and the subscription is disabled with webhook.disabled', async () => {
    const path = hookPath();
    answer = (requestPath) => (requestPath === path ? 503 : 200);
    const hook = await createWebhook({ url: `${base}${path}`, eventTypes: ['contact.created'] });
    await createContact('Down Dora');
    let item = await eventually(async () => {
      const [found] = await deliveries(hook.id);
      expect(found?.attemptCount).toBe(1);
      return found;
    });
    const firstAt = Date.parse(item.attempts[0].at);
    while (item.status === 'pending') item = await runNextAttempt(hook.id, item.id);
    expect(item.status).toBe('failed');
    expect(Date.parse(item.attempts.at(-1).at) - firstAt).toBeGreaterThanOrEqual(webhookSettings.retryWindowMs);
    expect(item.attemptCount).toBeGreaterThanOrEqual(10);
    // The subscription's health is written just after the delivery's log line.
    await eventually(async () =>
      expect((await stack.api('GET', `/v1/webhooks/${hook.id}`, { token: owner() })).body).toMatchObject({
        status: 'disabled',
        disabledReason: 'failing',
      }),
    );
    const events = (await stack.api('GET', `/v1/events?entityType=webhook&entityId=${hook.id}`, { token: owner() })).body.items;
    expect(events.map((event: any) => event.type)).toContain('webhook.disabled');
    expect(events.find((event: any) => event.type === 'webhook.disabled').payload).toMatchObject({ reason: 'failing', url: `${base}${path}` });
    // Disabled: new events are logged as skipped, not sent; replay refuses until it is enabled again.
    const sentBefore = at(path).length;
    await createContact('Skipped Sid');
    await eventually(async () => expect((await deliveries(hook.id)).some((delivery) => delivery.status === 'skipped')).toBe(true));
    expect(at(path)).toHaveLength(sentBefore);
    const refused = await stack.api('POST', `/v1/webhooks/${hook.id}/replay`, { token: owner(), body: { from: '2026-01-01T00:00:00Z', to: stack.clock.nowIso() } });
    expect(refused.status).toBe(422);
    const enabled = await stack.api('PATCH', `/v1/webhooks/${hook.id}`, { token: owner(), body: { enabled: true } });
    expect(enabled.body).toMatchObject({ status: 'enabled', failingSince: null, disabledReason: null });
  }, 120_000);
});

describe('SSRF', () => {
  const refused = async (url: string) => {
    const res = await stack.api('POST', '/v1/webhooks', { token: owner(), body: { url, eventTypes: ['*'] } });
    expect(res.status, `${url}: ${JSON.stringify(res.body)}`).toBe(422);
    expect(res.body.reason).toBe('unsafe_url');
    return res.body;
  };

  it('refuses private, metadata, link-local, CGNAT, multicast and unspecified addresses even where loopback is allowed', async () => {
    for (const url of [
      'https://10.0.0.1/hook',
      'https://169.254.169.254/latest/meta-data',
      'https://192.168.1.10/',
      'https://172.16.0.1/',
      'https://100.64.0.1/',
      'https://224.0.0.1/',
      'https://0.0.0.0/',
      'https://[fd00::1]/',
      'https://[fe80::1]/',
      'https://[::ffff:10.0.0.1]/',
      'https://[::ffff:169.254.169.254]/',
      'https://[::]/',
    ]) {
      await refused(url);
    }
  });

  it('without the loopback setting (as on AWS): [::1], 127.0.0.1 and a name resolving to 127.0.0.1 are refused', async () => {
    setWebhookPolicy({ allowLoopback: false });
    const real = createWebhookTransport();
    setWebhookTransport({ resolve: async () => [{ address: '127.0.0.1', family: 4 }], post: real.post });
    await refused('https://[::1]/hook');
    await refused(`${base}/hook`);
    const named = await refused('https://sneaky.example/hook');
    expect(named.detail).toContain('127.0.0.1');
  });

  it('checks again at send time: a name that now resolves to a private address is not POSTed to (DNS rebinding)', async () => {
    setWebhookPolicy({ allowLoopback: false });
    const real = createWebhookTransport();
    let answerWith = '93.184.215.14';
    const posted: string[] = [];
    setWebhookTransport({
      resolve: async () => [{ address: answerWith, family: 4 }],
      post: async (request) => {
        posted.push(request.address.address);
        return real.post(request);
      },
    });
    const hook = await createWebhook({ url: 'https://rebinding.example/hook', eventTypes: ['contact.created'] });
    answerWith = '10.1.2.3';
    await createContact('Rebound Rob');
    const [item] = await eventually(async () => {
      const items = await deliveries(hook.id);
      expect(items[0]?.attemptCount).toBe(1);
      return items;
    });
    expect(item.attempts[0].error).toContain('10.1.2.3');
    expect(posted).toEqual([]);
    await stack.api('DELETE', `/v1/webhooks/${hook.id}`, { token: owner() });
  });
});
