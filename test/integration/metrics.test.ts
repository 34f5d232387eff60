import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendEvent, newEvent, type EventRecord } from '../../events/event-log';
import type { EventPayload, EventType } from '../../events/catalogue';
import { systemActor, type CallerContext } from '../../domain/shared/context';
import { writeTransaction } from '../../domain/store/transaction';
import { handler } from '../../functions/streams/event-fanout.handler';
import { streamConsumers } from '../../functions/streams/stream-consumers';
import { startStreamPoller, type StreamPoller } from '../../local/stream-poller';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';
import { ok } from '../support/ok';

/**
 * A scripted stretch of activity over three UTC days (Saturday 2026-02-28, Sunday 03-01, Monday 03-02:
 * two ISO weeks, two months), counted by the real stream fan-out, read through the metrics API.
 */
const fanout = streamConsumers.find((consumer) => consumer.name === 'event-fanout')!;
const dayA = '2026-02-28';
const dayB = '2026-03-01';
const dayC = '2026-03-02';

let stack: TestStack;
let acme: Awaited<ReturnType<typeof seedWorkspace>>;
let other: Awaited<ReturnType<typeof seedWorkspace>>;
let poller: StreamPoller;
let dir: string;
/** Every record the fan-out handled, for the replay test. */
const handled: DynamoDBRecord[] = [];

const caller = (user: { id: string }, role: CallerContext['role'] = 'member'): CallerContext => ({
  workspaceId: acme.workspace.id,
  userId: user.id,
  role,
});

/** Appends an event as the inbox will (it does not exist yet): through the event log, in a transaction. */
async function logEvent<T extends EventType>(
  by: CallerContext,
  type: T,
  entity: { type: 'message' | 'conversation'; id: string },
  payload: EventPayload<T>,
  about: { contactId: string },
): Promise<EventRecord> {
  const event = newEvent(stack.deps, by, type, entity, payload, about);
  await writeTransaction(stack.deps.db, (tx) => [appendEvent(tx, event)], () => new Error('event not written'));
  return event;
}

/** The events the workspace holds, read straight from the table (a test may Scan its own table). */
async function eventsOf(workspaceId: string) {
  const { data } = await stack.deps.db.entities.event.scan
    .where(({ workspaceId: id }, { eq }) => eq(id, workspaceId))
    .go({ pages: 'all' });
  return data;
}

function recount(events: { type: string; actorUserId: string; createdAt: string }[], filter: (e: { actorUserId: string; createdAt: string }) => boolean) {
  const counts: Record<string, number> = {};
  for (const event of events) if (filter(event)) counts[event.type] = (counts[event.type] ?? 0) + 1;
  return counts;
}

const get = (path: string, token = acme.member.token) => stack.api('GET', path, { token });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'crm-metrics-'));
  stack = await createTestStack({ clockStart: `${dayA}T10:00:00.000Z` });
  acme = await seedWorkspace(stack, 'Acme');
  other = await seedWorkspace(stack, 'Other');
  poller = await startStreamPoller({
    endpoint: process.env.DYNAMODB_ENDPOINT!,
    tableName: stack.tableName,
    consumers: [
      {
        definition: fanout,
        handler: async (event, context) => {
          handled.push(...event.Records);
          return handler(event, context);
        },
      },
    ],
    checkpointFile: join(dir, 'checkpoints.json'),
    failureFile: join(dir, 'failures.jsonl'),
    pollIntervalMs: 20,
    retryBaseDelayMs: 5,
  });

  const { admin, member } = acme;
  const as = (who: { token: string }) => ({ token: who.token });
  // Day A: the member adds two contacts.
  const c1 = await ok(stack.api('POST', '/v1/contacts', { ...as(member), body: { name: 'Carla One' } }), 201);
  const c2 = await ok(stack.api('POST', '/v1/contacts', { ...as(member), body: { name: 'Carl Two' } }), 201);

  // Day B: claims, deals, tasks, messages.
  stack.clock.advance(24 * 3600 * 1000);
  await ok(stack.api('POST', `/v1/contacts/${c1.id}/claim`, as(member)));
  await ok(stack.api('POST', `/v1/contacts/${c2.id}/assign`, { ...as(admin), body: { ownerId: member.user.id } }));
  const deal = (who: { token: string }, body: Record<string, unknown>) =>
    ok(stack.api('POST', '/v1/deals', { ...as(who), body: { contactId: c1.id, ...body } }), 201);
  const d1 = await deal(member, { title: 'Big', value: 10_000, currency: 'EUR', ownerId: member.user.id });
  const d2 = await deal(member, { title: 'Small', value: 5_000, currency: 'EUR', ownerId: member.user.id });
  await deal(member, { title: 'Unpriced', ownerId: member.user.id });
  const d4 = await deal(admin, { title: 'Dollars', value: 2_000, currency: 'USD', ownerId: member.user.id });
  await deal(admin, { title: 'Admin’s own', value: 700, currency: 'USD', ownerId: admin.user.id });
  // The admin marks the member's deal won: the member owned it, the member is credited.
  await ok(stack.api('POST', `/v1/deals/${d1.id}/won`, { ...as(admin), body: {} }));
  await ok(stack.api('POST', `/v1/deals/${d2.id}/lost`, { ...as(member), body: { reason: 'budget' } }));
  await ok(stack.api('POST', `/v1/deals/${d4.id}/won`, { ...as(member), body: {} }));
  // Won today, reopened tomorrow: no longer a win of today (nor a negative one tomorrow).
  const d5 = await deal(member, { title: 'Premature', value: 999, currency: 'EUR', ownerId: member.user.id });
  await ok(stack.api('POST', `/v1/deals/${d5.id}/won`, { ...as(member), body: {} }));
  const t1 = await ok(stack.api('POST', '/v1/tasks', { ...as(admin), body: { title: 'Call back', assigneeId: member.user.id } }), 201);
  await ok(stack.api('POST', `/v1/tasks/${t1.id}/complete`, as(admin)));
  const t2 = await ok(stack.api('POST', '/v1/tasks', { ...as(member), body: { title: 'Pool chore' } }), 201);
  await ok(stack.api('POST', `/v1/tasks/${t2.id}/complete`, as(member)));

  const about = { contactId: c1.id! };
  const sent = { conversationId: 'cnv_1', to: 'carla@example.com' };
  await logEvent(caller(member.user), 'email.sent', { type: 'message', id: 'msg_1' }, { ...sent, messageId: 'msg_1', subject: 'Hi', firstResponseSeconds: 120 }, about);
  await logEvent(caller(member.user), 'telegram.sent', { type: 'message', id: 'msg_2' }, { ...sent, messageId: 'msg_2', to: '@carla', firstResponseSeconds: 600 }, about);
  await logEvent(caller(member.user), 'email.sent', { type: 'message', id: 'msg_3' }, { ...sent, messageId: 'msg_3', subject: 'Follow-up', firstResponseSeconds: null }, about);
  await logEvent(caller(admin.user, 'admin'), 'linkedin.sent', { type: 'message', id: 'msg_4' }, { ...sent, messageId: 'msg_4', firstResponseSeconds: 60 }, about);
  const contactSide = systemActor(acme.workspace.id);
  for (const id of ['msg_5', 'msg_6']) {
    await logEvent(contactSide, 'email.replied', { type: 'message', id }, { conversationId: 'cnv_1', messageId: id, inReplyTo: 'msg_1', assigneeId: member.user.id }, about);
  }
  await logEvent(contactSide, 'telegram.replied', { type: 'message', id: 'msg_7' }, { conversationId: 'cnv_2', messageId: 'msg_7', inReplyTo: null, assigneeId: null }, about);

  // Day C: one more first response, and the premature win taken back.
  stack.clock.advance(24 * 3600 * 1000);
  await ok(stack.api('POST', `/v1/deals/${d5.id}/reopen`, { ...as(member), body: {} }));
  await logEvent(caller(member.user), 'email.sent', { type: 'message', id: 'msg_8' }, { ...sent, messageId: 'msg_8', subject: 'Re', firstResponseSeconds: 300 }, about);
  await poller.drain();
}, 120_000);

afterAll(async () => {
  await poller?.stop();
  await stack?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe('GET /v1/metrics/performance', () => {
  it('gives each user the figures of a scripted stretch of work, credited to whose work it was', async () => {
    const res = await get(`/v1/metrics/performance?from=${dayA}&to=${dayC}`);
    expect(res.status).toBe(200);
    const byId = Object.fromEntries(res.body.users.map((user: { userId: string }) => [user.userId, user]));
    expect(Object.keys(byId).sort()).toEqual([acme.owner.user.id, acme.admin.user.id, acme.member.user.id].sort());
    expect(byId[acme.member.user.id]).toEqual({
      userId: acme.member.user.id,
      name: 'Mia Member',
      messagesSent: 4,
      repliesReceived: 2,
      firstResponses: 3,
      medianFirstResponseSeconds: 300,
      dealsCreated: 4,
      dealsWon: 2,
      dealsLost: 1,
      wonValue: [
        { currency: 'EUR', amount: 10_000 },
        { currency: 'USD', amount: 2_000 },
      ],
      tasksCompleted: 2,
      contactsClaimed: 2,
    });
    expect(byId[acme.admin.user.id]).toMatchObject({
      messagesSent: 1,
      repliesReceived: 0,
      medianFirstResponseSeconds: 60,
      dealsCreated: 2,
      dealsWon: 0,
      wonValue: [],
      tasksCompleted: 0,
      contactsClaimed: 0,
    });
    expect(byId[acme.owner.user.id]).toMatchObject({ messagesSent: 0, firstResponses: 0, medianFirstResponseSeconds: null });
  });

  it('counts only the days of the period, and one user when asked', async () => {
    const res = await get(`/v1/metrics/performance?from=${dayB}&to=${dayB}&userId=${acme.member.user.id}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ from: dayB, to: dayB });
    expect(res.body.users).toHaveLength(1);
    // 120 s and 600 s that day: the median of an even count is the mean of the middle two.
    expect(res.body.users[0]).toMatchObject({ messagesSent: 3, firstResponses: 2, medianFirstResponseSeconds: 360, contactsClaimed: 2 });
    // The deal won that day and reopened the next is not a win of that day; the next day is not negative.
    expect(res.body.users[0]).toMatchObject({ dealsWon: 2, wonValue: [{ currency: 'EUR', amount: 10_000 }, { currency: 'USD', amount: 2_000 }] });
    const dayAfter = await get(`/v1/metrics/performance?from=${dayC}&to=${dayC}&userId=${acme.member.user.id}`);
    expect(dayAfter.body.users[0]).toMatchObject({ dealsWon: 0, wonValue: [], messagesSent: 1 });
    const before = await get(`/v1/metrics/performance?from=2026-01-01&to=${dayA}&userId=${acme.member.user.id}`);
    expect(before.body.users[0]).toMatchObject({ messagesSent: 0, dealsCreated: 0, contactsClaimed: 0 });
  });

  it('defaults to the 30 days up to today', async () => {
    const res = await get('/v1/metrics/performance');
    expect(res.body).toMatchObject({ from: '2026-02-01', to: dayC });
  });
});

describe('GET /v1/metrics/counters', () => {
  it('equals a recount of the events written, in total and per user, per day', async () => {
    const events = await eventsOf(acme.workspace.id);
    const res = await get(`/v1/metrics/counters?from=${dayA}&to=${dayC}`);
    expect(res.status).toBe(200);
    expect(res.body.totals).toEqual(recount(events, () => true));
    expect(res.body.totals).toMatchObject({ 'deal.created': 6, 'deal.won': 3, 'deal.reopened': 1, 'email.sent': 3, 'owner.claimed': 2 });
    expect(res.body.buckets.map((bucket: { start: string }) => bucket.start)).toEqual([dayA, dayB, dayC]);
    for (const bucket of res.body.buckets) {
      expect(bucket.counts).toEqual(recount(events, (event) => event.createdAt.startsWith(bucket.start)));
    }
    const mine = await get(`/v1/metrics/counters?from=${dayA}&to=${dayC}&userId=${acme.admin.user.id}`);
    expect(mine.body.userId).toBe(acme.admin.user.id);
    expect(mine.body.totals).toEqual(recount(events, (event) => event.actorUserId === acme.admin.user.id));
  });

  it('breaks the period down by user on request, each user’s totals equal to a recount of their events', async () => {
    const events = await eventsOf(acme.workspace.id);
    const plain = await get(`/v1/metrics/counters?from=${dayA}&to=${dayC}`);
    expect(plain.body.users).toBeNull();
    const res = await get(`/v1/metrics/counters?from=${dayA}&to=${dayC}&breakdown=user`);
    expect(res.status).toBe(200);
    const ids = [acme.owner.user.id, acme.admin.user.id, acme.member.user.id];
    expect(res.body.users.map((user: { userId: string }) => user.userId).sort()).toEqual([...ids].sort());
    for (const user of res.body.users) {
      expect(user.totals, user.name).toEqual(recount(events, (event) => event.actorUserId === user.userId));
    }
    const typed = await get(`/v1/metrics/counters?from=${dayA}&to=${dayC}&breakdown=user&types=deal.won,segment.left`);
    const member = typed.body.users.find((user: { userId: string }) => user.userId === acme.member.user.id);
    expect(member).toEqual({ userId: acme.member.user.id, name: 'Mia Member', totals: { 'deal.won': 2, 'segment.left': 0 } });
    expect((await get('/v1/metrics/counters?breakdown=actor')).status).toBe(400);
  });

  it('rolls days up into ISO weeks and months, cut to the period, and names the types asked for', async () => {
    const types = 'contact.created,deal.created,email.sent,segment.joined';
    const weeks = await get(`/v1/metrics/counters?from=${dayA}&to=${dayC}&granularity=week&types=${types}`);
    expect(weeks.status).toBe(200);
    expect(weeks.body.buckets).toEqual([
      { start: dayA, end: dayB, counts: { 'contact.created': 2, 'deal.created': 6, 'email.sent': 2, 'segment.joined': 0 } },
      { start: dayC, end: dayC, counts: { 'contact.created': 0, 'deal.created': 0, 'email.sent': 1, 'segment.joined': 0 } },
    ]);
    expect(weeks.body.totals).toEqual({ 'contact.created': 2, 'deal.created': 6, 'email.sent': 3, 'segment.joined': 0 });
    const months = await get(`/v1/metrics/counters?from=2026-02-01&to=2026-03-31&granularity=month&types=contact.created,email.sent`);
    expect(months.body.buckets).toEqual([
      { start: '2026-02-01', end: '2026-02-28', counts: { 'contact.created': 2, 'email.sent': 0 } },
      { start: '2026-03-01', end: '2026-03-31', counts: { 'contact.created': 0, 'email.sent': 3 } },
    ]);
  });

  it('reads 90 days with one Query of counter items, two across a new year', async () => {
    const query = async (from: string, to: string) => {
      stack.calls.reset();
      const res = await get(`/v1/metrics/counters?from=${from}&to=${to}&granularity=week`);
      expect(res.status).toBe(200);
      // The token's GetItem may be served from the authoriser's cache: everything else is counters.
      const { GetItemCommand: _token, ...reads } = stack.calls.counts;
      return reads;
    };
    expect(await query('2026-01-01', '2026-03-31')).toEqual({ QueryCommand: 1 });
    expect(await query('2025-12-03', '2026-03-02')).toEqual({ QueryCommand: 2 });
  });

  it('changes nothing when every record of the stream is handed to the fan-out again, twice', async () => {
    const before = await get(`/v1/metrics/counters?from=${dayA}&to=${dayC}`);
    const beforePerformance = await get(`/v1/metrics/performance?from=${dayA}&to=${dayC}`);
    expect(handled.length).toBeGreaterThan(40);
    for (let round = 0; round < 2; round++) {
      const response = await handler({ Records: handled });
      expect(response.batchItemFailures).toEqual([]);
    }
    expect((await get(`/v1/metrics/counters?from=${dayA}&to=${dayC}`)).body).toEqual(before.body);
    expect((await get(`/v1/metrics/performance?from=${dayA}&to=${dayC}`)).body).toEqual(beforePerformance.body);
  });

  it('keeps workspaces apart', async () => {
    const theirs = await get(`/v1/metrics/counters?from=${dayA}&to=${dayC}&types=deal.created`, other.owner.token);
    expect(theirs.body.totals).toEqual({ 'deal.created': 0 });
    const foreignUser = await get(`/v1/metrics/counters?userId=${acme.member.user.id}`, other.owner.token);
    expect(foreignUser.status).toBe(404);
    const foreignPerformance = await get(`/v1/metrics/performance?userId=${acme.member.user.id}`, other.owner.token);
    expect(foreignPerformance.status).toBe(404);
  });

  it.each([
    ['types=deal.created,nope.never', 'query.types'],
    [`from=${dayC}&to=${dayA}`, 'query.to'],
    ['from=2024-01-01&to=2026-03-01', 'query.from'],
    ['granularity=year', 'query.granularity'],
    ['from=28-02-2026', 'query.from'],
  ])('refuses %s with a 400 naming %s', async (search, field) => {
    const res = await get(`/v1/metrics/counters?${search}`);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.body.errors.map((error: { field: string }) => error.field)).toContain(field);
  });

  it('answers 404 for a user the workspace does not have, and 401 without a token', async () => {
    expect((await get(`/v1/metrics/counters?userId=usr_${randomUUID()}`)).status).toBe(404);
    expect((await stack.api('GET', '/v1/metrics/performance')).status).toBe(401);
  });
});

describe('the workspace’s time zone', () => {
  it('counts days where the workspace is, from when its time zone is set', async () => {
    const patch = (token: string, body: Record<string, unknown>) => stack.api('PATCH', '/v1/workspace', { token, body });
    const bad = await patch(other.owner.token, { timeZone: 'Mars/Olympus_Mons' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].field).toBe('body.timeZone');
    expect((await patch(other.member.token, { timeZone: 'America/Los_Angeles' })).status).toBe(403);
    const set = await patch(other.owner.token, { timeZone: 'America/Los_Angeles' });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ name: 'Other', timeZone: 'America/Los_Angeles' });
    expect((await stack.api('GET', '/v1/workspace', { token: acme.owner.token })).body.timeZone).toBe('UTC');

    // 2026-03-03 03:00 UTC is still the evening of 2026-03-02 in Los Angeles.
    stack.clock.advance(17 * 3600 * 1000);
    expect(stack.clock.nowIso()).toBe('2026-03-03T03:00:00.000Z');
    await ok(stack.api('POST', '/v1/contacts', { token: other.member.token, body: { name: 'Late Lucy' } }), 201);
    await ok(stack.api('POST', '/v1/contacts', { token: acme.member.token, body: { name: 'Early Ed' } }), 201);
    await poller.drain();

    const theirs = await get('/v1/metrics/counters?from=2026-03-02&to=2026-03-03&types=contact.created', other.owner.token);
    expect(theirs.body).toMatchObject({
      timeZone: 'America/Los_Angeles',
      buckets: [
        { start: '2026-03-02', counts: { 'contact.created': 1 } },
        { start: '2026-03-03', counts: { 'contact.created': 0 } },
      ],
    });
    const ours = await get('/v1/metrics/counters?from=2026-03-02&to=2026-03-03&types=contact.created');
    expect(ours.body).toMatchObject({
      timeZone: 'UTC',
      buckets: [
        { start: '2026-03-02', counts: { 'contact.created': 0 } },
        { start: '2026-03-03', counts: { 'contact.created': 1 } },
      ],
    });
    // "Today" is the workspace's today.
    expect((await get('/v1/metrics/performance', other.owner.token)).body.to).toBe('2026-03-02');
    expect((await get('/v1/metrics/performance')).body.to).toBe('2026-03-03');
  });
});
