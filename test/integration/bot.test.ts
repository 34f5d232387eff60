import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyBotEvent } from '../../domain/bot/autoreply.service';
import { localResponder } from '../../domain/bot/local-responder';
import type { EventRecord } from '../../events/event-log';
import { QualifierError } from '../../domain/qualification/qualifier-error';
import type { BotAnswer } from '../../domain/shared/ports';
import { setResponder } from '../../functions/shared/deps';
import { connect, values } from '../support/send-setup';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';
import { startTestStreams, type TestStreams } from '../support/test-streams';

/* eslint-disable @typescript-eslint/no-explicit-any -- records read back from the API */

/*
 * The autoreply bot through the real handlers and the real `event-fanout` stream consumer on DynamoDB
 * Local: a contact writes in (`POST /v1/inbound-messages`), the stream hands `<channel>.replied` to the
 * bot, which answers through the inbox's send path as `system`, hands the conversation to people, or
 * stays quiet. The clock is the stack's fixed one (Thursday 2026-01-15 09:00 UTC) unless a test moves it.
 */

let stack: TestStack;
let acme: Awaited<ReturnType<typeof seedWorkspace>>;
let other: Awaited<ReturnType<typeof seedWorkspace>>;
let streams: TestStreams;

beforeAll(async () => {
  stack = await createTestStack();
  acme = await seedWorkspace(stack, 'Acme');
  other = await seedWorkspace(stack, 'Other');
  await connect(stack, acme, ['sms', 'whatsapp']);
  streams = await startTestStreams(stack, ['event-fanout']);
});
let streamsStopped = false;
afterAll(async () => {
  if (!streamsStopped) await streams.stop();
  await stack.destroy();
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
  return res.body as { conversationId: string; message: { id: string } };
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

  it('the same event handed to the bot again (a replayed stream record): answered once', async () => {
    const replayed = await contact();
    const { conversationId, message } = await writeIn(replayed.phone, 'price?');
    const [event] = ((await owner().get(`/v1/events?entityType=message&entityId=${message.id}`)).body.items as any[]).filter(
      (item) => item.type === 'sms.replied',
    );
    const record: EventRecord = {
      workspaceId: acme.workspace.id,
      eventId: event.id,
      type: event.type,
      entityType: event.entityType,
      entityId: event.entityId,
      actorUserId: event.actorUserId,
      payload: event.payload,
      createdAt: event.createdAt,
    };
    const outcomes = await Promise.all([1, 2, 3].map(() => applyBotEvent({ ...stack.deps, responder: localResponder }, record)));
    expect(outcomes.map((outcome) => outcome.outcome)).toEqual(['silent', 'silent', 'silent']);
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

  it('another workspace’s bot settings never answer this one’s contacts', async () => {
    await setSettings({ ...baseSettings, enabled: false });
    await as(other.owner.token).put('/v1/bot', { ...baseSettings });
    const untouched = await contact();
    const { conversationId } = await writeIn(untouched.phone, 'price?');
    expect(await botMessages(conversationId)).toEqual([]);
    await setSettings({ ...baseSettings });
  });
});

// Last: it stops the stream, so the bot runs only where the test calls it.
describe('one event run several times at once', () => {
  it('answers once: the reply’s transaction holds the event’s receipt', async () => {
    await setSettings({ ...baseSettings, maxRepliesPerConversation: 10 });
    await streams.stop();
    streamsStopped = true;
    const racing = await contact();
    const res = await stack.api('POST', '/v1/inbound-messages', {
      token: acme.owner.token,
      body: { channel: 'sms', from: racing.phone, externalId: `ext-${randomUUID()}`, body: 'price?' },
    });
    const { conversationId, message } = res.body;
    const [event] = ((await owner().get(`/v1/events?entityType=message&entityId=${message.id}`)).body.items as any[]).filter((item) => item.type === 'sms.replied');
    const record: EventRecord = { ...event, workspaceId: acme.workspace.id, eventId: event.id, contactId: event.contactId };
    const outcomes = await Promise.all([1, 2, 3].map(() => applyBotEvent({ ...stack.deps, responder: localResponder }, record)));
    expect(outcomes.filter((outcome) => outcome.outcome === 'replied')).toHaveLength(1);
    expect(await botMessages(conversationId)).toHaveLength(1);
    expect((await owner().get(`/v1/conversations/${conversationId}/bot`)).body.replies).toBe(1);
  });
});
