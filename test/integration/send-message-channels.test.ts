/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findJob } from '../../domain/jobs/job-record';
import { setChannelAdapters } from '../../functions/shared/deps';
import { createFakeChannelAdapters } from '../support/fake-channel-adapters';
import { connect, contactWith, inboundFrom, values } from '../support/send-setup';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';

let stack: TestStack;
let acme: Awaited<ReturnType<typeof seedWorkspace>>;
let bare: Awaited<ReturnType<typeof seedWorkspace>>;
let connections: Record<string, string>;
const fake = createFakeChannelAdapters();

beforeAll(async () => {
  stack = await createTestStack();
  setChannelAdapters(fake);
  acme = await seedWorkspace(stack, 'Acme');
  bare = await seedWorkspace(stack, 'Bare');
  connections = await connect(stack, acme, ['email', 'whatsapp', 'telegram', 'sms']);
});
afterAll(async () => {
  setChannelAdapters(undefined);
  await stack?.destroy();
});

const send = (token: string, conversationId: string, body: Record<string, unknown>) =>
  stack.api('POST', `/v1/conversations/${conversationId}/messages`, { token, body });

/** The conversation's messages, newest first. */
const messagesOf = async (conversationId: string) =>
  (await stack.api('GET', `/v1/conversations/${conversationId}/messages`, { token: acme.owner.token })).body.items as any[];

describe('sending on an external channel', () => {
  it('writes the message with its queued delivery, its routing and its deliver_message job, in one transaction', async () => {
    const v = values();
    const inbound = await inboundFrom(stack, acme, 'email', v.email);
    stack.calls.reset();
    const res = await send(acme.owner.token, inbound.conversationId, { body: 'Thanks, on it' });
    expect(res.status).toBe(201);
    expect(stack.calls.counts.TransactWriteItemsCommand).toBe(1);
    expect(res.body.delivery).toMatchObject({
      status: 'queued',
      attempt: 1,
      connectionId: connections.email,
      to: v.email,
      attempts: [{ attempt: 1, trigger: 'send', status: 'queued', providerMessageId: null }],
    });
    expect(res.body.routing).toEqual({
      channel: 'email',
      connectionId: connections.email,
      to: v.email,
      reason: 'primary',
      choices: { channel: 'conversation', connection: 'oldest_active', to: 'primary' },
    });
    const stored = await stack.deps.db.entities.message
      .get({ workspaceId: acme.workspace.id, conversationId: inbound.conversationId, messageId: res.body.id })
      .go();
    const jobId = (stored.data as any).delivery.jobId;
    const job = await findJob(stack.deps, acme.workspace.id, jobId, true);
    expect(job).toMatchObject({
      kind: 'deliver_message',
      status: 'queued',
      input: { conversationId: inbound.conversationId, messageId: res.body.id, attempt: 1 },
    });
    // Our Message-ID is kept for threading: a reply to it finds the conversation.
    const { data: guard } = await stack.deps.db.entities.uniqueGuard
      .get({ workspaceId: acme.workspace.id, scope: 'mail-id', value: `${res.body.id.toLowerCase()}@reply.acme.test` })
      .go();
    expect(guard?.ownerId).toBe(inbound.conversationId);
    // Not sent yet: the job sends it.
    expect(fake.sendsOf(res.body.id)).toEqual([]);
    expect((await messagesOf(inbound.conversationId))[0]).toMatchObject({ id: res.body.id, delivery: { status: 'queued' } });
  });

  it('appends <channel>.sent at send', async () => {
    const v = values();
    const inbound = await inboundFrom(stack, acme, 'telegram', v.chat);
    const res = await send(acme.owner.token, inbound.conversationId, { body: 'Hi on Telegram' });
    expect(res.status).toBe(201);
    const { data: events } = await stack.deps.db.entities.event.query
      .byEntity({ workspaceId: acme.workspace.id, entityType: 'message', entityId: res.body.id })
      .go();
    expect(events.map((event) => event.type)).toContain('telegram.sent');
  });

  it('an internal note on an external channel needs no connection and has no delivery', async () => {
    const v = values();
    const inbound = await inboundFrom(stack, acme, 'sms', v.phone);
    const note = await send(acme.owner.token, inbound.conversationId, { body: 'Call back tomorrow', note: true });
    expect(note.status).toBe(201);
    expect(note.body).toMatchObject({ delivery: null, routing: null });
  });
});

describe('refusals, with nothing written', () => {
  /** Sends and expects a 422 with the reason; the conversation's message count and the job list stay as they were. */
  async function refused(token: string, conversationId: string, body: Record<string, unknown>, reason: string) {
    const before = (await stack.api('GET', `/v1/conversations/${conversationId}`, { token: acme.owner.token })).body;
    const jobsBefore = await stack.deps.db.entities.job.query.byWorkspace({ workspaceId: acme.workspace.id }).go({ pages: 'all' });
    const res = await send(token, conversationId, body);
    expect(res.status).toBe(422);
    expect(res.body.reason).toBe(reason);
    const after = (await stack.api('GET', `/v1/conversations/${conversationId}`, { token: acme.owner.token })).body;
    expect(after.messageCount).toBe(before.messageCount);
    expect(after.version).toBe(before.version);
    const jobsAfter = await stack.deps.db.entities.job.query.byWorkspace({ workspaceId: acme.workspace.id }).go({ pages: 'all' });
    expect(jobsAfter.data.length).toBe(jobsBefore.data.length);
    return res.body;
  }

  it('a suppressed contact', async () => {
    const v = values();
    const inbound = await inboundFrom(stack, acme, 'email', v.email);
    const suppressed = await stack.api('POST', `/v1/contacts/${inbound.contactId}/suppress`, {
      token: acme.owner.token,
      body: { reason: 'asked us to stop' },
    });
    expect(suppressed.status).toBe(200);
    await refused(acme.owner.token, inbound.conversationId, { body: 'One more thing' }, 'contact_suppressed');
  });

  it('a contact without a value on the channel', async () => {
    const contact = await contactWith(stack, acme, [{ kind: 'email', value: values().email }]);
    const opened = await stack.api('POST', '/v1/conversations', {
      token: acme.owner.token,
      body: { kind: 'contact', contactId: contact.id, channel: 'sms' },
    });
    expect(opened.status).toBe(201);
    await refused(acme.owner.token, opened.body.id, { body: 'Text me' }, 'no_channel_value');
  });

  it('no active connection of the kind (the current shape)', async () => {
    const v = values();
    const inbound = await inboundFrom(stack, bare, 'email', v.email);
    const res = await send(bare.owner.token, inbound.conversationId, { body: 'Hi' });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ code: 'unprocessable', reason: 'channel_not_connected', channel: 'email' });
    // A disconnected connection is not active either.
    const sms = await connect(stack, bare, ['sms']);
    const smsInbound = await inboundFrom(stack, bare, 'sms', v.phone);
    const connection = await stack.api('GET', `/v1/channels/${sms.sms}`, { token: bare.owner.token });
    const off = await stack.api('POST', `/v1/channels/${sms.sms}/disconnect`, {
      token: bare.owner.token,
      headers: { 'if-match': `"${connection.body.version}"` },
    });
    expect(off.status).toBe(200);
    const again = await send(bare.owner.token, smsInbound.conversationId, { body: 'Hi' });
    expect(again.body.reason).toBe('channel_not_connected');
  });

  it('a named connection of another kind, or a `to` that is not the contact’s', async () => {
    const v = values();
    const inbound = await inboundFrom(stack, acme, 'email', v.email);
    await refused(acme.owner.token, inbound.conversationId, { body: 'x', connectionId: connections.sms }, 'connection_not_usable');
    await refused(acme.owner.token, inbound.conversationId, { body: 'x', to: 'someone-else@example.com' }, 'not_a_contact_value');
  });

  it('WhatsApp: free-form text more than 24 hours after the contact’s last message, or when they never wrote', async () => {
    const v = values();
    const inbound = await inboundFrom(stack, acme, 'whatsapp', v.phone);
    let conversation = (await stack.api('GET', `/v1/conversations/${inbound.conversationId}`, { token: acme.owner.token })).body;
    const lastInboundAt = conversation.lastInboundAt;
    expect(lastInboundAt).toBe(stack.clock.nowIso());
    const closesAt = new Date(Date.parse(lastInboundAt) + 86_400_000).toISOString();
    expect(conversation.replyWindow).toEqual({ open: true, closesAt, reason: 'contact_wrote_within_24h' });
    // Within the window: it goes out.
    stack.clock.advance(23 * 3_600_000);
    expect((await send(acme.owner.token, inbound.conversationId, { body: 'Within the window' })).status).toBe(201);
    // 24 hours and a minute after their message: refused, and the conversation says so (also in the list).
    stack.clock.advance(3_660_000);
    conversation = (await stack.api('GET', `/v1/conversations/${inbound.conversationId}`, { token: acme.owner.token })).body;
    expect(conversation.replyWindow).toEqual({ open: false, closesAt, reason: 'window_expired' });
    const listed = await stack.api('GET', `/v1/conversations?view=all&channel=whatsapp`, { token: acme.owner.token });
    expect(listed.body.items.find((item: any) => item.id === inbound.conversationId).replyWindow.open).toBe(false);
    const body = await refused(acme.owner.token, inbound.conversationId, { body: 'Too late' }, 'whatsapp_window_closed');
    expect(body.closedAt).toBe(closesAt);
    // The contact writes again: open again.
    await inboundFrom(stack, acme, 'whatsapp', v.phone, 'Still there?');
    expect((await send(acme.owner.token, inbound.conversationId, { body: 'Yes!' })).status).toBe(201);

    const never = await contactWith(stack, acme, [{ kind: 'whatsapp', value: values().phone }]);
    const opened = await stack.api('POST', '/v1/conversations', {
      token: acme.owner.token,
      body: { kind: 'contact', contactId: never.id, channel: 'whatsapp' },
    });
    expect(opened.body.replyWindow).toEqual({ open: false, closesAt: null, reason: 'no_inbound_message' });
    const first = await refused(acme.owner.token, opened.body.id, { body: 'Hello' }, 'whatsapp_window_closed');
    expect(first.closedAt).toBeNull();
  });

  it('a member cannot send in a conversation assigned to another user (403), nor reach another workspace’s (404)', async () => {
    const v = values();
    const inbound = await inboundFrom(stack, acme, 'email', v.email);
    await stack.api('POST', `/v1/conversations/${inbound.conversationId}/assign`, {
      token: acme.owner.token,
      body: { assigneeId: acme.admin.user.id },
    });
    expect((await send(acme.member.token, inbound.conversationId, { body: 'x' })).status).toBe(403);
    expect((await send(bare.owner.token, inbound.conversationId, { body: 'x' })).status).toBe(404);
  });
});

describe('conversations show their reply window', () => {
  it('null on channels without one', async () => {
    const v = values();
    const inbound = await inboundFrom(stack, acme, 'sms', v.phone);
    const conversation = (await stack.api('GET', `/v1/conversations/${inbound.conversationId}`, { token: acme.owner.token })).body;
    expect(conversation.replyWindow).toBeNull();
    expect(conversation.lastInboundAt).toBe(stack.clock.nowIso());
  });
});
