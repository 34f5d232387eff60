import { randomUUID } from 'node:crypto';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerMessage, applyBotEvent } from '../../domain/bot/autoreply.service';
import { botJobId } from '../../domain/bot/bot-turn';
import { localResponder } from '../../domain/bot/local-responder';
import { findJob, type JobItem } from '../../domain/jobs/job-record';
import { failDeadLetteredJob } from '../../domain/jobs/job-run.service';
import { inboundClassificationSettings } from '../../domain/qualification/inbound-classification';
import type { EventRecord } from '../../events/event-log';
import { fanOutEvent } from '../../events/fanout';
import { QualifierError } from '../../domain/qualification/qualifier-error';
import type { BotAnswer, Responder } from '../../domain/shared/ports';
import { handler as modelQueueHandler } from '../../functions/jobs/classify-conversation.handler';
import { setResponder } from '../../functions/shared/deps';
import { connect, values } from '../support/send-setup';
import { startTestJobs, type TestJobs } from '../support/test-jobs';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';
import { startTestStreams, type TestStreams } from '../support/test-streams';

/* eslint-disable @typescript-eslint/no-explicit-any -- records read back from the API */

/*
 * The autoreply bot through the real handlers on DynamoDB Local, as deployed: a contact writes in
 * (`POST /v1/inbound-messages`), the `event-fanout` stream consumer hands `<channel>.replied` to the
 * bot's consumer, which queues a `bot_reply` job; the job runs from the `classify_conversation` queue
 * (the local queue runner, as `npm start` runs it) and answers through the inbox's send path as
 * `system`, hands the conversation to people, or stays quiet. The clock is the stack's fixed one
 * (Thursday 2026-01-15 09:00 UTC) unless a test moves it.
 */

let stack: TestStack;
let acme: Awaited<ReturnType<typeof seedWorkspace>>;
let other: Awaited<ReturnType<typeof seedWorkspace>>;
let streams: TestStreams;
let jobs: TestJobs;

beforeAll(async () => {
  // Inbound messages' own classification jobs (delayed a minute) are another file's subject.
  inboundClassificationSettings.enabled = false;
  stack = await createTestStack();
  acme = await seedWorkspace(stack, 'Acme');
  other = await seedWorkspace(stack, 'Other');
  await connect(stack, acme, ['sms', 'whatsapp']);
  streams = await startTestStreams(stack, ['event-fanout']);
  jobs = await startTestJobs(stack, ['classify_conversation']);
});
let backgroundStopped = false;
afterAll(async () => {
  if (!backgroundStopped) {
    await jobs.stop();
    await streams.stop();
  }
  await stack.destroy();
  inboundClassificationSettings.enabled = true;
});

const as = (token: string) => ({
  get: (path: string) => stack.api('GET', path, { token }),
  put: (path: string, body: unknown, headers?: Record<string, string>) => stack.api('PUT', path, { token, body, ...(headers ? { headers } : {}) }),
  post: (path: string, body?: unknown) => stack.api('POST', path, { token, ...(body !== undefined ? { body } : {}) }),
});
const owner = () => as(acme.owner.token);

/** Everyday settings for a test: on, always answering, a pricing rule and an order-status intent. */
const baseSettings = {
  enabled: true,
  replyWhen: 'always',
  rules: [
    { name: 'Pricing', keywords: ['price', 'how much'], template: 'Hi {{contact.firstName}}, plans start at 10 EUR a month for {{contact.company | "your team"}}.' },
    { name: 'Orders', intents: ['order_status'], template: 'Hello {{contact.firstName | "there"}}! Track your order at example.com/track.' },
  ],
};

async function setSettings(settings: Record<string, unknown>) {
  const current = await owner().get('/v1/bot');
  const res = await owner().put('/v1/bot', settings, { 'if-match': `"${current.body.version}"` });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

/** A contact with a phone number (and optional owner, tags, company). */
async function contact(options: { name?: string; ownerId?: string; tags?: string[]; companyName?: string } = {}) {
  const { phone } = values();
  const res = await owner().post('/v1/contacts', {
    name: options.name ?? 'Ana López',
    channels: [{ kind: 'phone', value: phone }],
    ...(options.ownerId ? { ownerId: options.ownerId } : {}),
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  if (options.tags?.length) {
    const tagged = await owner().post(`/v1/contacts/${res.body.id}/tags`, { tags: options.tags });
    expect(tagged.status, JSON.stringify(tagged.body)).toBe(200);
  }
  return { id: res.body.id as string, phone };
}

/** The contact writes on a channel; the stream runs the bot; resolves with the conversation id. */
async function writeIn(phone: string, body: string, options: { channel?: 'sms' | 'whatsapp'; externalId?: string; payload?: Record<string, unknown>; receivedAt?: string } = {}) {
  const res = await stack.api('POST', '/v1/inbound-messages', {
    token: acme.owner.token,
    body: {
      channel: options.channel ?? 'sms',
      from: phone,
      externalId: options.externalId ?? `ext-${randomUUID()}`,
      body,
      ...(options.payload ? { payload: options.payload } : {}),
      ...(options.receivedAt ? { receivedAt: options.receivedAt } : {}),
    },
  });
  expect([200, 201], JSON.stringify(res.body)).toContain(res.status);
  await streams.drain();
  await botJobDone(res.body.message.id);
  return res.body as { conversationId: string; message: { id: string } };
}

/** The contact's message's `<channel>.replied` event, as the stream hands it to the bot's consumer. */
async function repliedEventOf(messageId: string): Promise<EventRecord> {
  const [event] = ((await owner().get(`/v1/events?entityType=message&entityId=${messageId}`)).body.items as any[]).filter((item) =>
    /\.replied$/.test(item.type),
  );
  expect(event, `no .replied event for ${messageId}`).toBeDefined();
  return { ...event, workspaceId: acme.workspace.id, eventId: event.id };
}

/** The message's `bot_reply` job run to its end, if the bot's consumer queued one (none: the bot was off for the contact). */
async function botJobDone(messageId: string): Promise<JobItem | undefined> {
  const jobId = botJobId((await repliedEventOf(messageId)).eventId);
  if (!(await findJob(stack.deps, acme.workspace.id, jobId, true))) return undefined;
  return jobs.finished(acme.workspace.id, jobId);
}

const messagesOf = async (conversationId: string) =>
  ((await owner().get(`/v1/conversations/${conversationId}/messages?limit=100`)).body.items as any[]).reverse();
const botMessages = async (conversationId: string) => (await messagesOf(conversationId)).filter((message) => message.authorKind === 'system');
const conversationEvents = async (conversationId: string) =>
  ((await owner().get(`/v1/events?entityType=conversation&entityId=${conversationId}&limit=100`)).body.items as any[]);
const escalations = async (conversationId: string) => (await conversationEvents(conversationId)).filter((event) => event.type === 'bot.escalated');

describe('settings', () => {
  it('every role reads them (the defaults, version 0, until saved); only owner/admin write them (member: 403)', async () => {
    const read = await as(acme.member.token).get('/v1/bot');
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ enabled: false, version: 0, replyWhen: 'outside_business_hours', escalationKeywords: ['human', 'agent', 'person', 'representative'] });
    expect(read.body.businessHours.mon).toEqual([{ from: '09:00', to: '17:00' }]);
    expect(read.headers.etag).toBe('"0"');
    const refused = await as(acme.member.token).put('/v1/bot', { enabled: true });
    expect(refused.status).toBe(403);
    const saved = await as(acme.admin.token).put('/v1/bot', { enabled: false, timeZone: 'Europe/Berlin' });
    expect(saved.status).toBe(200);
    expect(saved.body).toMatchObject({ version: 1, timeZone: 'Europe/Berlin', updatedBy: acme.admin.user.id });
    const events = (await owner().get(`/v1/events?entityType=workspace&entityId=${acme.workspace.id}&limit=20`)).body.items as any[];
    expect(events.find((event) => event.type === 'bot.settings_updated')?.payload.changes.timeZone).toEqual({ from: 'UTC', to: 'Europe/Berlin' });
  });

  it('refuses bad settings with field paths, writing nothing', async () => {
    const before = await owner().get('/v1/bot');
    const bad = await owner().put('/v1/bot', {
      timeZone: 'Mars/Olympus',
      businessHours: { mon: [{ from: '18:00', to: '09:00' }] },
      rules: [{ name: 'Broken', keywords: ['x'], template: 'Hi {{contact.password}}' }, { name: 'Empty', template: 'x' }],
      confidenceThreshold: 2,
    });
    expect(bad.status).toBe(400);
    const fields = (bad.body.errors as { field: string }[]).map((issue) => issue.field);
    expect(fields).toEqual(
      expect.arrayContaining(['body.timeZone', 'body.businessHours.mon.0.to', 'body.rules.0.template', 'body.rules.1.keywords', 'body.confidenceThreshold']),
    );
    expect((await owner().get('/v1/bot')).body).toEqual(before.body);
  });

  it('another workspace has its own settings', async () => {
    await setSettings({ ...baseSettings });
    const theirs = await as(other.owner.token).get('/v1/bot');
    expect(theirs.body).toMatchObject({ enabled: false, version: 0, rules: [] });
  });
});

describe('replies', () => {
  beforeAll(async () => {
    await setSettings({ ...baseSettings });
  });

  it('a keyword rule answers as `system` through the send path, with the contact’s fields and fallbacks', async () => {
    const ana = await contact({ name: 'Ana López' });
    const { conversationId, message } = await writeIn(ana.phone, 'Hi! What is the PRICE of the pro plan?');
    const [reply] = await botMessages(conversationId);
    expect(reply).toMatchObject({
      authorKind: 'system',
      authorUserId: null,
      authorContactId: null,
      body: 'Hi Ana, plans start at 10 EUR a month for your team.',
      delivery: { status: 'queued' },
    });
    expect(reply.routing.to).toBe(ana.phone);
    const events = (await owner().get(`/v1/events?entityType=message&entityId=${reply.id}`)).body.items as any[];
    expect(events.map((event) => event.type).sort()).toEqual(['bot.replied', 'sms.sent']);
    expect(events.find((event) => event.type === 'bot.replied')).toMatchObject({
      actorUserId: 'system',
      payload: { conversationId, messageId: reply.id, channel: 'sms', inReplyTo: message.id, source: 'rule', rule: 'Pricing', confidence: 1 },
    });
    // It makes nothing unread (the contact's message it answers is), and is no person's reply: the contact still waits for one.
    const unread = (await as(acme.admin.token).get('/v1/inbox/unread-messages?limit=100')).body.items as any[];
    expect(unread.map((item) => item.id)).toContain(message.id);
    expect(unread.map((item) => item.id)).not.toContain(reply.id);
    const conversation = (await owner().get(`/v1/conversations/${conversationId}`)).body;
    expect(conversation.waitingSince).not.toBeNull();
    expect((await owner().get(`/v1/conversations/${conversationId}/bot`)).body).toMatchObject({ active: true, replies: 1 });
  });

  it('an intent the responder recognises picks its rule', async () => {
    const ben = await contact({ name: 'Ben' });
    const { conversationId } = await writeIn(ben.phone, 'Where is my package?');
    const [reply] = await botMessages(conversationId);
    expect(reply.body).toBe('Hello Ben! Track your order at example.com/track.');
    const [event] = ((await owner().get(`/v1/events?entityType=message&entityId=${reply.id}`)).body.items as any[]).filter((item) => item.type === 'bot.replied');
    expect(event.payload).toMatchObject({ source: 'rule', rule: 'Orders', intent: 'order_status', confidence: 0.8 });
  });

  it('a template renders values as text: braces in a contact’s name are not read as placeholders', async () => {
    const tricky = await contact({ name: '{{contact.email}} Smith' });
    const { conversationId } = await writeIn(tricky.phone, 'how much is it');
    const [reply] = await botMessages(conversationId);
    expect(reply.body).toBe('Hi {{contact.email}}, plans start at 10 EUR a month for your team.');
  });
});

describe('the Responder port (a model’s own replies with `aiReplies`)', () => {
  const answering = (answer: BotAnswer | Error) =>
    setResponder({
      respond: async () => {
        if (answer instanceof Error) throw answer;
        return answer;
      },
    });
  afterAll(() => setResponder(undefined));

  it('a sure answer is sent as it is; an unsure one, or a model that refuses, goes to people', async () => {
    await setSettings({ ...baseSettings, aiReplies: true });
    answering({ intent: null, reply: 'We ship worldwide within 3 days.', confidence: 0.92 });
    const sure = await contact();
    const first = await writeIn(sure.phone, 'Do you ship to Chile?');
    const [reply] = await botMessages(first.conversationId);
    expect(reply.body).toBe('We ship worldwide within 3 days.');
    const [event] = ((await owner().get(`/v1/events?entityType=message&entityId=${reply.id}`)).body.items as any[]).filter((item) => item.type === 'bot.replied');
    expect(event.payload).toMatchObject({ source: 'responder', rule: null, confidence: 0.92 });

    answering({ intent: null, reply: 'Maybe?', confidence: 0.4 });
    const unsure = await contact();
    const second = await writeIn(unsure.phone, 'Do you ship to Mars?');
    expect((await escalations(second.conversationId))[0].payload.reason).toBe('low_confidence');

    answering(new QualifierError('qualifier_refused', 'AccessDeniedException', false));
    const refused = await contact();
    const third = await writeIn(refused.phone, 'Do you ship to the Moon?');
    expect((await escalations(third.conversationId))[0].payload.reason).toBe('low_confidence');
    expect(await botMessages(third.conversationId)).toEqual([]);
    setResponder(undefined);
    await setSettings({ ...baseSettings });
  });
});

describe('the model off the stream (the `bot_reply` job on the `classify_conversation` queue)', () => {
  const throttling = () => new QualifierError('qualifier_unavailable', 'ThrottlingException: Rate exceeded', true);
  // Two waits of a second each while the model is throttled (deployed: 3, 10, 30 and 60 s), then people.
  beforeAll(() => {
    process.env.BOT_MODEL_RETRY_SECONDS = '1,1';
  });
  afterAll(() => {
    delete process.env.BOT_MODEL_RETRY_SECONDS;
    setResponder(undefined);
  });

  /** Every event of the feed with the given type, read to its end. */
  async function feedEventIds(type: string): Promise<string[]> {
    const ids: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await owner().get(`/v1/events/feed?types=${type}&limit=100${after ? `&after=${after}` : ''}`);
      expect(page.status, JSON.stringify(page.body)).toBe(200);
      ids.push(...(page.body.items as any[]).map((item) => item.id as string));
      if (!page.body.hasMore) return ids;
      after = page.body.nextAfter;
    }
  }

  it('a throttled model holds up no other consumer of the event (the change feed has it at once), and the reply comes once it recovers', async () => {
    await setSettings({ ...baseSettings });
    let throttled = true;
    let calls = 0;
    const recovering: Responder = {
      respond: async (input) => {
        calls += 1;
        if (throttled) throw throttling();
        return localResponder.respond(input);
      },
    };
    setResponder(recovering);
    // Waits enough that a slow machine sees the job waiting before the model recovers.
    process.env.BOT_MODEL_RETRY_SECONDS = '1,1,1,1,1,1';
    const dana = await contact({ name: 'Dana' });
    const res = await stack.api('POST', '/v1/inbound-messages', {
      token: acme.owner.token,
      body: { channel: 'sms', from: dana.phone, externalId: `ext-${randomUUID()}`, body: 'Where is my package?' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const { conversationId, message } = res.body as { conversationId: string; message: { id: string } };
    await streams.drain();
    // The fan-out went through: the feed consumer gave the event its position, the bot's consumer queued its job.
    const record = await repliedEventOf(message.id);
    expect(await feedEventIds('sms.replied')).toContain(record.eventId);
    // The whole fan-out of the event with the model still throttled: nothing throws, so the stream moves on.
    await expect(fanOutEvent({ ...stack.deps, queue: { send: async () => ({ messageId: 'unused' }) } }, record)).resolves.toBeUndefined();
    const jobId = botJobId(record.eventId);
    // The job's run met the throttled model: the job waits (its next run a second later), it did not fail.
    const deadline = Date.now() + 30_000;
    let job = await findJob(stack.deps, acme.workspace.id, jobId, true);
    while (job?.cursor === undefined && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      job = await findJob(stack.deps, acme.workspace.id, jobId, true);
    }
    expect(job).toMatchObject({ kind: 'bot_reply', status: 'running', attempts: 0 });
    expect(job!.cursor).toEqual({ modelFaults: expect.any(Number) });
    expect(await botMessages(conversationId)).toEqual([]);

    throttled = false;
    const done = await jobs.finished(acme.workspace.id, jobId);
    expect(done).toMatchObject({ status: 'succeeded', result: { outcome: 'replied', source: 'rule' } });
    expect(calls).toBeGreaterThanOrEqual(2);
    const replies = await botMessages(conversationId);
    expect(replies.map((reply) => reply.body)).toEqual(['Hello Dana! Track your order at example.com/track.']);
    expect(await escalations(conversationId)).toEqual([]);
    process.env.BOT_MODEL_RETRY_SECONDS = '1,1';
    setResponder(undefined);
  });

  it('a model that stays throttled: after the waits people take the conversation, within seconds, not silence', async () => {
    await setSettings({ ...baseSettings });
    let calls = 0;
    setResponder({
      respond: async () => {
        calls += 1;
        throw throttling();
      },
    });
    const owned = await contact({ ownerId: acme.member.user.id });
    const { conversationId, message } = await writeIn(owned.phone, 'Where is my package?');
    const job = await botJobDone(message.id);
    // One run, then one after each wait (BOT_MODEL_RETRY_SECONDS=1,1), then the escalation.
    expect(job).toMatchObject({ status: 'succeeded', attempts: 0, result: { outcome: 'escalated', reason: 'model_unavailable', assigneeId: acme.member.user.id } });
    expect(calls).toBe(3);
    expect(await botMessages(conversationId)).toEqual([]);
    const [escalated] = await escalations(conversationId);
    expect(escalated).toMatchObject({ actorUserId: 'system', payload: { reason: 'model_unavailable', assigneeId: acme.member.user.id, messageId: message.id } });
    expect((await owner().get(`/v1/conversations/${conversationId}`)).body).toMatchObject({ status: 'open', assigneeId: acme.member.user.id });
    setResponder(undefined);
  });

  it('a responder that keeps failing otherwise: after the queue’s last receive the job fails and people take the conversation, not silence', async () => {
    await setSettings({ ...baseSettings });
    setResponder({
      respond: async () => {
        throw new Error('ECONNRESET: socket hang up (the model call)');
      },
    });
    const owned = await contact({ ownerId: acme.member.user.id });
    const { conversationId, message } = await writeIn(owned.phone, 'Where is my package?');
    const job = await botJobDone(message.id);
    expect(job).toMatchObject({ status: 'failed', error: { code: 'retries_exhausted', message: expect.stringContaining('ECONNRESET') } });
    expect(await botMessages(conversationId)).toEqual([]);
    const [escalated] = await escalations(conversationId);
    expect(escalated).toMatchObject({
      actorUserId: 'system',
      payload: { reason: 'model_unavailable', assigneeId: acme.member.user.id, messageId: message.id, channel: 'sms' },
    });
    expect((await owner().get(`/v1/conversations/${conversationId}`)).body).toMatchObject({ status: 'open', assigneeId: acme.member.user.id });
    const unread = (await as(acme.member.token).get('/v1/inbox/unread-messages?limit=50')).body.items as any[];
    expect(unread.map((item) => item.id)).toContain(message.id);
    expect((await owner().get(`/v1/conversations/${conversationId}/bot`)).body).toMatchObject({ active: false, reason: 'model_unavailable' });
    // The dead letter delivered again changes nothing: one escalation.
    expect(await failDeadLetteredJob(stack.deps, { workspaceId: acme.workspace.id, jobId: job!.jobId, seq: job!.dispatchSeq })).toBe('ended');
    expect(await escalations(conversationId)).toHaveLength(1);
    setResponder(undefined);
  });
});

describe('the contact’s bot: tags', () => {
  it('`bot:off`: never, even with the bot on', async () => {
    await setSettings({ ...baseSettings });
    const quiet = await contact({ tags: ['bot:off'] });
    const { conversationId } = await writeIn(quiet.phone, 'price?');
    expect(await botMessages(conversationId)).toEqual([]);
    expect(await escalations(conversationId)).toEqual([]);
  });

  it('`bot:on`: answered even when the workspace default is off; others are not', async () => {
    await setSettings({ ...baseSettings, enabled: false });
    const keen = await contact({ tags: ['BOT:ON'] });
    const plain = await contact();
    const first = await writeIn(keen.phone, 'price?');
    const second = await writeIn(plain.phone, 'price?');
    expect(await botMessages(first.conversationId)).toHaveLength(1);
    expect(await botMessages(second.conversationId)).toEqual([]);
    await setSettings({ ...baseSettings });
  });

  it('other `bot:` tags are the system’s: 422 `reserved_tag` for anyone; a member may not set `bot:on` (403)', async () => {
    const someone = await contact();
    const reserved = await owner().post(`/v1/contacts/${someone.id}/tags`, { tags: ['vip', 'bot:escalated'] });
    expect(reserved.status).toBe(422);
    expect(reserved.body).toMatchObject({ reason: 'reserved_tag', errors: [{ field: 'body.tags', code: 'reserved_tag' }] });
    expect(reserved.body.detail).toContain('bot:on');
    expect((await owner().get(`/v1/contacts/${someone.id}`)).body.tags).toEqual([]);
    const library = await owner().post('/v1/tags', { name: 'bot:paused' });
    expect(library.status).toBe(422);
    expect(library.body.errors[0].field).toBe('body.name');
    const bulk = await owner().post('/v1/contacts/bulk', { action: 'tag', contactIds: [someone.id], tags: ['bot:x'] });
    expect(bulk.status).toBe(422);
    expect((await as(acme.member.token).post(`/v1/contacts/${someone.id}/tags`, { tags: ['bot:on'] })).status).toBe(403);
    expect((await as(acme.admin.token).post(`/v1/contacts/${someone.id}/tags`, { tags: ['bot:on'] })).status).toBe(200);
  });
});

describe('business hours', () => {
  it('answers only outside the hours, in the settings’ time zone (the fixed clock moved across them)', async () => {
    // Thursday 2026-01-15: 09:00 UTC is 10:00 in Berlin, inside 09:00–17:00.
    await setSettings({ ...baseSettings, replyWhen: 'outside_business_hours', timeZone: 'Europe/Berlin', businessHours: { thu: [{ from: '09:00', to: '17:00' }] } });
    const during = await contact();
    const inHours = await writeIn(during.phone, 'price?');
    expect(await botMessages(inHours.conversationId)).toEqual([]);
    stack.clock.advance(7 * 60 * 60 * 1000); // 16:00 UTC = 17:00 Berlin: closed (the end is excluded)
    const after = await contact();
    const outOfHours = await writeIn(after.phone, 'price?');
    expect(await botMessages(outOfHours.conversationId)).toHaveLength(1);
    await setSettings({ ...baseSettings, replyWhen: 'during_business_hours', timeZone: 'Europe/Berlin', businessHours: { thu: [{ from: '09:00', to: '17:00' }] } });
    const later = await contact();
    expect(await botMessages((await writeIn(later.phone, 'price?')).conversationId)).toEqual([]);
    stack.clock.advance(17 * 60 * 60 * 1000); // back to 09:00 UTC, a day on (Friday: no hours → closed)
    await setSettings({ ...baseSettings });
  });
});

describe('escalation', () => {
  beforeAll(async () => {
    await setSettings({ ...baseSettings });
  });

  it('a keyword: to the contact’s owner, open, unread for them; the bot silent until handed back; then it answers again', async () => {
    const owned = await contact({ ownerId: acme.member.user.id });
    const { conversationId, message } = await writeIn(owned.phone, 'Can I talk to a HUMAN please?');
    expect(await botMessages(conversationId)).toEqual([]);
    const [escalated] = await escalations(conversationId);
    expect(escalated).toMatchObject({
      actorUserId: 'system',
      payload: { reason: 'keyword', assigneeId: acme.member.user.id, messageId: message.id, channel: 'sms' },
    });
    const conversation = (await owner().get(`/v1/conversations/${conversationId}`)).body;
    expect(conversation).toMatchObject({ status: 'open', assigneeId: acme.member.user.id });
    const unread = (await as(acme.member.token).get('/v1/inbox/unread-messages?limit=50')).body.items as any[];
    expect(unread.map((item) => item.id)).toContain(message.id);
    expect((await owner().get(`/v1/conversations/${conversationId}/bot`)).body).toMatchObject({ active: false, reason: 'keyword' });

    await writeIn(owned.phone, 'price?');
    expect(await botMessages(conversationId)).toEqual([]);

    // The admin may not be the one holding it, but owner/admin may reply anywhere; a member only in their own or the pool.
    const handedBack = await as(acme.member.token).post(`/v1/conversations/${conversationId}/bot`, { active: true });
    expect(handedBack.status).toBe(200);
    expect(handedBack.body).toMatchObject({ active: true, reason: null, replies: 0 });
    expect((await conversationEvents(conversationId)).some((event) => event.type === 'bot.handed_over' && event.payload.active === true)).toBe(true);
    await writeIn(owned.phone, 'and the price for two?');
    expect(await botMessages(conversationId)).toHaveLength(1);
  });

  it('no owner: stays in the pool (unread for every user)', async () => {
    const pooled = await contact();
    const { conversationId, message } = await writeIn(pooled.phone, 'I want an agent');
    expect((await escalations(conversationId))[0].payload).toMatchObject({ reason: 'keyword', assigneeId: null });
    const unread = (await as(acme.admin.token).get('/v1/inbox/unread-messages?limit=50')).body.items as any[];
    expect(unread.map((item) => item.id)).toContain(message.id);
  });

  it('no rule matched', async () => {
    const puzzled = await contact();
    const { conversationId } = await writeIn(puzzled.phone, 'My cat ate the invoice');
    expect((await escalations(conversationId))[0].payload.reason).toBe('no_match');
    expect(await botMessages(conversationId)).toEqual([]);
  });

  it('low confidence: an intent recognised below the threshold', async () => {
    await setSettings({ ...baseSettings, confidenceThreshold: 0.9 }); // the local responder is 0.8 sure
    const unsure = await contact();
    const { conversationId } = await writeIn(unsure.phone, 'where is my order');
    expect((await escalations(conversationId))[0].payload.reason).toBe('low_confidence');
    await setSettings({ ...baseSettings });
  });

  it('too many bot replies without resolution; a resolution starts the count again', async () => {
    await setSettings({ ...baseSettings, maxRepliesPerConversation: 2 });
    const chatty = await contact();
    const { conversationId } = await writeIn(chatty.phone, 'price?');
    await writeIn(chatty.phone, 'how much for ten?');
    expect(await botMessages(conversationId)).toHaveLength(2);
    const resolved = await owner().post(`/v1/conversations/${conversationId}/status`, { status: 'resolved' });
    expect(resolved.status).toBe(200);
    await streams.drain();
    expect((await owner().get(`/v1/conversations/${conversationId}/bot`)).body.replies).toBe(0);
    await writeIn(chatty.phone, 'price again?');
    await writeIn(chatty.phone, 'and the price in USD?');
    expect(await botMessages(conversationId)).toHaveLength(4);
    await writeIn(chatty.phone, 'price??');
    expect((await escalations(conversationId)).map((event) => event.payload.reason)).toEqual(['reply_limit']);
    expect(await botMessages(conversationId)).toHaveLength(4);
    await setSettings({ ...baseSettings });
  });

  it('a channel that cannot take the reply (WhatsApp’s 24-hour window closed): people take it', async () => {
    const late = await contact();
    // The provider hands over a message the contact sent 25 hours ago: the window it opened is closed.
    const receivedAt = new Date(stack.clock.nowMs() - 25 * 60 * 60 * 1000).toISOString();
    const { conversationId } = await writeIn(late.phone, 'price?', { channel: 'whatsapp', receivedAt });
    expect(await botMessages(conversationId)).toEqual([]);
    expect((await escalations(conversationId))[0].payload.reason).toBe('undeliverable');
  });

  it('a WhatsApp message inside its window is answered', async () => {
    const fresh = await contact();
    const { conversationId } = await writeIn(fresh.phone, 'price?', { channel: 'whatsapp' });
    expect(await botMessages(conversationId)).toHaveLength(1);
  });
});

describe('never twice, never a suppressed contact, never another bot', () => {
  beforeAll(async () => {
    await setSettings({ ...baseSettings, maxRepliesPerConversation: 10 });
  });

  it('the provider repeating a message (same external id): one reply', async () => {
    const repeated = await contact();
    const externalId = `ext-${randomUUID()}`;
    const first = await writeIn(repeated.phone, 'price?', { externalId });
    const second = await writeIn(repeated.phone, 'price?', { externalId });
    expect(second.message.id).toBe(first.message.id);
    expect(await botMessages(first.conversationId)).toHaveLength(1);
  });

  it('the same event handed to the bot’s consumer again (a replayed stream record): one job, answered once', async () => {
    const replayed = await contact();
    const { conversationId, message } = await writeIn(replayed.phone, 'price?');
    const record = await repliedEventOf(message.id);
    const outcomes = await Promise.all([1, 2, 3].map(() => applyBotEvent(stack.deps, record)));
    expect(outcomes).toEqual([1, 2, 3].map(() => ({ outcome: 'silent', why: 'already_queued' })));
    // The whole fan-out again, as a stream replay would run it: every consumer skips it.
    await fanOutEvent({ ...stack.deps, queue: { send: async () => ({ messageId: 'unused' }) } }, record);
    await streams.drain();
    const botJobs = (await owner().get('/v1/jobs?kind=bot_reply&limit=100')).body.items as any[];
    expect(botJobs.filter((job) => job.input.messageId === message.id)).toHaveLength(1);
    expect(await botMessages(conversationId)).toHaveLength(1);
  });

  it('a suppressed contact: nothing', async () => {
    const suppressed = await contact();
    expect((await owner().post(`/v1/contacts/${suppressed.id}/suppress`, { reason: 'asked us to stop' })).status).toBe(200);
    const { conversationId } = await writeIn(suppressed.phone, 'price?');
    expect(await botMessages(conversationId)).toEqual([]);
    expect(await escalations(conversationId)).toEqual([]);
  });

  it('loop guard: messages marked automated, auto-submitted mail, an echo of the bot’s words; and the rate limit', async () => {
    const robot = await contact();
    const marked = await writeIn(robot.phone, 'price?', { payload: { automated: true } });
    await writeIn(robot.phone, 'price?', { payload: { email: { autoSubmitted: 'auto-replied' } } });
    expect(await botMessages(marked.conversationId)).toEqual([]);
    await writeIn(robot.phone, 'price?');
    const [reply] = await botMessages(marked.conversationId);
    await writeIn(robot.phone, reply.body); // another bot echoing ours
    expect(await botMessages(marked.conversationId)).toHaveLength(1);

    await setSettings({ ...baseSettings, maxRepliesPerConversation: 10, rateLimit: { replies: 2, windowMinutes: 10 } });
    const fast = await contact();
    const { conversationId } = await writeIn(fast.phone, 'price 1?');
    await writeIn(fast.phone, 'price 2?');
    await writeIn(fast.phone, 'price 3?');
    expect(await botMessages(conversationId)).toHaveLength(2);
    expect((await escalations(conversationId))[0].payload.reason).toBe('rate_limited');
    await setSettings({ ...baseSettings, maxRepliesPerConversation: 10 });
  });

  it('people replied in the conversation: the bot keeps out', async () => {
    const talking = await contact();
    const { conversationId } = await writeIn(talking.phone, 'what is the price?');
    expect(await botMessages(conversationId)).toHaveLength(1);
    stack.clock.advance(60_000);
    const sent = await owner().post(`/v1/conversations/${conversationId}/messages`, { body: 'Hi, Olivia here: which plan do you mean?' });
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    await writeIn(talking.phone, 'the price of the big one?');
    expect(await botMessages(conversationId)).toHaveLength(1);
    expect(await escalations(conversationId)).toEqual([]);
  });
});

describe('roles and tenants', () => {
  it('a member hands over only conversations they may reply in (403); another workspace gets 404', async () => {
    await setSettings({ ...baseSettings });
    const admins = await contact({ ownerId: acme.admin.user.id });
    const { conversationId } = await writeIn(admins.phone, 'talk to a person');
    expect((await owner().get(`/v1/conversations/${conversationId}`)).body.assigneeId).toBe(acme.admin.user.id);
    expect((await as(acme.member.token).post(`/v1/conversations/${conversationId}/bot`, { active: true })).status).toBe(403);
    expect((await as(acme.member.token).get(`/v1/conversations/${conversationId}/bot`)).status).toBe(200);
    expect((await as(other.owner.token).get(`/v1/conversations/${conversationId}/bot`)).status).toBe(404);
    expect((await as(other.owner.token).post(`/v1/conversations/${conversationId}/bot`, { active: true })).status).toBe(404);
    const kept = await as(acme.admin.token).post(`/v1/conversations/${conversationId}/bot`, { active: false });
    expect(kept.body).toMatchObject({ active: false, reason: 'keyword' });
  });

  it('the bot’s job is the workspace’s: owner/admin see it, a member (not theirs) and another workspace get 404', async () => {
    await setSettings({ ...baseSettings });
    const asking = await contact();
    const { message } = await writeIn(asking.phone, 'price?');
    const job = (await botJobDone(message.id))!;
    expect(job).toMatchObject({ kind: 'bot_reply', status: 'succeeded', createdBy: 'system' });
    const path = `/v1/jobs/${job.jobId}`;
    expect((await as(acme.admin.token).get(path)).body).toMatchObject({ id: job.jobId, kind: 'bot_reply', input: { messageId: message.id } });
    expect((await as(acme.member.token).get(path)).status).toBe(404);
    expect((await as(other.owner.token).get(path)).status).toBe(404);
  });

  it('another workspace’s bot settings never answer this one’s contacts', async () => {
    await setSettings({ ...baseSettings, enabled: false });
    await as(other.owner.token).put('/v1/bot', { ...baseSettings });
    const untouched = await contact();
    const { conversationId } = await writeIn(untouched.phone, 'price?');
    expect(await botMessages(conversationId)).toEqual([]);
    await setSettings({ ...baseSettings });
  });
});

// Last: it stops the stream and the queue runner, so the bot runs only where the test calls it.
describe('one event, one answer, however often it is delivered', () => {
  /** The job message `job-dispatch` sends, as Lambda's SQS event source hands it to the queue's function. */
  const sqsEventOf = (jobId: string, seq: number): SQSEvent => ({
    Records: [
      {
        messageId: randomUUID(),
        receiptHandle: randomUUID(),
        body: JSON.stringify({ workspaceId: acme.workspace.id, jobId, seq }),
        attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()), SenderId: 'local', ApproximateFirstReceiveTimestamp: String(Date.now()) },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:classify_conversation',
        awsRegion: 'us-east-1',
      },
    ],
  });

  /** A contact's message whose event no background consumer runs: the test hands it on itself. */
  async function writeInQuietly(phone: string, body: string) {
    const res = await stack.api('POST', '/v1/inbound-messages', {
      token: acme.owner.token,
      body: { channel: 'sms', from: phone, externalId: `ext-${randomUUID()}`, body },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const { conversationId, message } = res.body as { conversationId: string; message: { id: string } };
    return { conversationId, message, record: await repliedEventOf(message.id) };
  }

  beforeAll(async () => {
    await setSettings({ ...baseSettings, maxRepliesPerConversation: 10 });
    await jobs.stop();
    await streams.stop();
    backgroundStopped = true;
  });

  it('the consumer handed the event twice queues one job; the job’s message delivered twice, even at once, answers once', async () => {
    const racing = await contact();
    const { conversationId, record } = await writeInQuietly(racing.phone, 'price?');
    const [first, second] = await Promise.all([applyBotEvent(stack.deps, record), applyBotEvent(stack.deps, record)]);
    const jobId = botJobId(record.eventId);
    expect([first, second]).toEqual(expect.arrayContaining([{ outcome: 'queued', jobId }, { outcome: 'silent', why: 'already_queued' }]));
    const responses = await Promise.all([modelQueueHandler(sqsEventOf(jobId, 1)), modelQueueHandler(sqsEventOf(jobId, 1))]);
    expect(responses.flatMap((response) => response.batchItemFailures)).toEqual([]);
    // And once more after it ended (SQS's at-least-once delivery): acked, nothing sent.
    expect((await modelQueueHandler(sqsEventOf(jobId, 1))).batchItemFailures).toEqual([]);
    expect(await findJob(stack.deps, acme.workspace.id, jobId, true)).toMatchObject({ status: 'succeeded', result: { outcome: 'replied' } });
    expect(await botMessages(conversationId)).toHaveLength(1);
    expect((await owner().get(`/v1/conversations/${conversationId}/bot`)).body.replies).toBe(1);
  });

  it('a run that answered but died before the job was written: the message again finds the event’s receipt and sends nothing', async () => {
    const crashed = await contact();
    const { conversationId, message, record } = await writeInQuietly(crashed.phone, 'how much?');
    expect(await applyBotEvent(stack.deps, record)).toMatchObject({ outcome: 'queued' });
    const turn = { workspaceId: acme.workspace.id, eventId: record.eventId, contactId: crashed.id, conversationId, messageId: message.id };
    // The earlier delivery's run: its reply (and the receipt, in the reply's transaction) committed, the job never marked.
    expect(await answerMessage({ ...stack.deps, responder: localResponder }, turn)).toMatchObject({ outcome: 'replied' });
    const jobId = botJobId(record.eventId);
    expect((await modelQueueHandler(sqsEventOf(jobId, 1))).batchItemFailures).toEqual([]);
    expect(await findJob(stack.deps, acme.workspace.id, jobId, true)).toMatchObject({
      status: 'succeeded',
      result: { outcome: 'silent', why: 'already_handled' },
    });
    expect(await botMessages(conversationId)).toHaveLength(1);
  });

  it('the bot’s answer run several times at once answers once: the reply’s transaction holds the event’s receipt', async () => {
    const racing = await contact();
    const { conversationId, message, record } = await writeInQuietly(racing.phone, 'price?');
    const turn = { workspaceId: acme.workspace.id, eventId: record.eventId, contactId: racing.id, conversationId, messageId: message.id };
    const outcomes = await Promise.all([1, 2, 3].map(() => answerMessage({ ...stack.deps, responder: localResponder }, turn)));
    expect(outcomes.filter((outcome) => outcome.outcome === 'replied')).toHaveLength(1);
    expect(await botMessages(conversationId)).toHaveLength(1);
    expect((await owner().get(`/v1/conversations/${conversationId}/bot`)).body.replies).toBe(1);
  });
});
