import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';

/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies */

let stack: TestStack;
let acme: Awaited<ReturnType<typeof seedWorkspace>>;
let globex: Awaited<ReturnType<typeof seedWorkspace>>;
/** A second member of Acme. */
let max: { user: { id: string }; token: string };

beforeAll(async () => {
  stack = await createTestStack();
  acme = await seedWorkspace(stack, 'Acme');
  globex = await seedWorkspace(stack, 'Globex');
  const user = await stack.api('POST', '/v1/users', {
    token: acme.owner.token,
    body: { name: 'Max Member', email: 'max@acme.example', role: 'member' },
  });
  const token = await stack.api('POST', '/v1/tokens', { token: acme.owner.token, body: { userId: user.body.id } });
  max = { user: user.body, token: token.body.token };
});
afterAll(() => stack.destroy());

const ok = async (promise: Promise<{ status: number; body: any }>, status = 200) => {
  const res = await promise;
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  return res.body;
};
const post = (token: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  stack.api('POST', path, { token, body, headers });
const get = (token: string, path: string, query: Record<string, string> = {}) => stack.api('GET', path, { token, query });

let externalIds = 0;
const inbound = (body: Record<string, unknown>, token = acme.owner.token) =>
  post(token, '/v1/inbound-messages', { channel: 'email', body: 'Hello?', externalId: `ext-${++externalIds}`, ...body });

const unread = (token: string) => ok(get(token, '/v1/inbox/unread'));

describe('direct conversations on the internal channel', () => {
  it('a message is unread for the other users only, until they read it', async () => {
    const conversation = await ok(
      post(acme.owner.token, '/v1/conversations', { kind: 'direct', userIds: [acme.admin.user.id, acme.member.user.id] }),
      201,
    );
    const before = await unread(acme.admin.token);
    const message = await ok(post(acme.owner.token, `/v1/conversations/${conversation.id}/messages`, { body: 'Standup at 10' }), 201);
    expect(message).toMatchObject({ authorKind: 'user', authorUserId: acme.owner.user.id, authorContactId: null, channel: 'internal', note: false });

    const adminCounts = await unread(acme.admin.token);
    expect(adminCounts.total).toBe(before.total + 1);
    expect(adminCounts.views.direct).toBe(before.views.direct + 1);
    expect(adminCounts.conversations).toContainEqual(expect.objectContaining({ conversationId: conversation.id, unread: 1 }));
    const ownerCounts = await unread(acme.owner.token);
    expect(ownerCounts.conversations.find((c: any) => c.conversationId === conversation.id)).toBeUndefined();

    const unreadList = await ok(get(acme.admin.token, '/v1/inbox/unread-messages'));
    expect(unreadList.items[0].id).toBe(message.id);

    expect(await ok(post(acme.admin.token, '/v1/inbox/read', { messageIds: [message.id] }))).toEqual({ marked: 1, more: false });
    expect(await ok(post(acme.admin.token, '/v1/inbox/read', { messageIds: [message.id] }))).toEqual({ marked: 0, more: false });
    const after = await unread(acme.admin.token);
    expect(after.total).toBe(before.total);

    const receipts = await ok(get(acme.owner.token, `/v1/conversations/${conversation.id}/messages/${message.id}/receipts`));
    expect(receipts.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ userId: acme.admin.user.id, status: 'read', readAt: expect.any(String) }),
        expect.objectContaining({ userId: acme.member.user.id, status: 'unread', readAt: null }),
      ]),
    );
    expect(receipts.items).toHaveLength(2);
  });

  it('an outsider cannot read or write a direct conversation', async () => {
    const conversation = await ok(post(acme.owner.token, '/v1/conversations', { kind: 'direct', userIds: [acme.admin.user.id] }), 201);
    expect((await get(max.token, `/v1/conversations/${conversation.id}/messages`)).status).toBe(404);
    expect((await post(max.token, `/v1/conversations/${conversation.id}/messages`, { body: 'hi' })).status).toBe(404);
    expect((await get(globex.owner.token, `/v1/conversations/${conversation.id}/messages`)).status).toBe(404);
  });
});

describe('inbound messages', () => {
  it('creates the contact and the conversation, unread for every user while in the pool', async () => {
    const before = await unread(max.token);
    const res = await ok(inbound({ from: 'Nora@Example.com', name: 'Nora North' }), 201);
    expect(res).toMatchObject({ createdContact: true, createdConversation: true });
    expect(res.message).toMatchObject({ authorKind: 'contact', authorContactId: res.contactId, authorUserId: null, channel: 'email' });
    const contact = await ok(get(acme.owner.token, `/v1/contacts/${res.contactId}`));
    expect(contact.name).toBe('Nora North');
    const conversation = await ok(get(acme.owner.token, `/v1/conversations/${res.conversationId}`));
    expect(conversation).toMatchObject({ status: 'open', assigneeId: null, messageCount: 1, waitingSince: res.message.createdAt });
    const after = await unread(max.token);
    expect(after.views.unassigned).toBe(before.views.unassigned + 1);

    // The next message from the same address goes to the same conversation.
    const second = await ok(inbound({ from: 'nora@example.com' }), 201);
    expect(second).toMatchObject({ conversationId: res.conversationId, contactId: res.contactId, createdContact: false, createdConversation: false });
  });

  it('an ingest repeated 3 times stores 1 message', async () => {
    const body = { from: 'repeat@example.com', externalId: 'provider-msg-1', body: 'Once' };
    const first = await ok(inbound(body), 201);
    const second = await ok(inbound(body), 200);
    const third = await ok(inbound(body), 200);
    expect(second.message.id).toBe(first.message.id);
    expect(third.message.id).toBe(first.message.id);
    const messages = await ok(get(acme.owner.token, `/v1/conversations/${first.conversationId}/messages`));
    expect(messages.items).toHaveLength(1);
  });

  it('wakes a snoozed conversation and reopens a resolved one', async () => {
    const first = await ok(inbound({ from: 'sleepy@example.com' }), 201);
    await ok(post(acme.owner.token, `/v1/conversations/${first.conversationId}/status`, { status: 'snoozed' }));
    await ok(inbound({ from: 'sleepy@example.com' }), 201);
    expect((await ok(get(acme.owner.token, `/v1/conversations/${first.conversationId}`))).status).toBe('open');
    await ok(post(acme.owner.token, `/v1/conversations/${first.conversationId}/status`, { status: 'resolved' }));
    const again = await ok(inbound({ from: 'sleepy@example.com' }), 201);
    expect(again.conversationId).toBe(first.conversationId);
    expect((await ok(get(acme.owner.token, `/v1/conversations/${first.conversationId}`))).status).toBe('open');
  });

  it('a member cannot bring in messages', async () => {
    expect((await inbound({ from: 'x@example.com' }, acme.member.token)).status).toBe(403);
  });

  it('costs 4 round trips for a known contact, whatever the conversation holds', async () => {
    await ok(inbound({ from: 'counted@example.com' }), 201);
    for (let n = 0; n < 5; n += 1) await ok(inbound({ from: 'counted@example.com' }), 201);
    stack.calls.reset();
    await ok(inbound({ from: 'counted@example.com' }), 201);
    // BatchGetItem (guards) beside the users' Query, GetItem (the contact's conversation guard), GetItem (conversation), TransactWriteItems.
    expect(stack.calls.counts).toEqual({ BatchGetItemCommand: 1, QueryCommand: 1, GetItemCommand: 2, TransactWriteItemsCommand: 1 });
  });
});

describe('replies and notes', () => {
  it('refuses a reply on an external channel that is not connected, keeps notes', async () => {
    const res = await ok(inbound({ from: 'noted@example.com' }), 201);
    const refused = await post(acme.owner.token, `/v1/conversations/${res.conversationId}/messages`, { body: 'Hi Nora' });
    expect(refused.status).toBe(422);
    expect(refused.body.reason).toBe('channel_not_connected');
    const note = await ok(post(acme.owner.token, `/v1/conversations/${res.conversationId}/messages`, { body: 'VIP, be quick', note: true }), 201);
    expect(note.note).toBe(true);
    const messages = await ok(get(acme.owner.token, `/v1/conversations/${res.conversationId}/messages`));
    expect(messages.items.map((m: any) => m.id)).toEqual([note.id, res.message.id]);
  });

  it('a member writes in pool conversations and their own, not in another’s', async () => {
    const res = await ok(inbound({ from: 'pool@example.com' }), 201);
    await ok(post(acme.member.token, `/v1/conversations/${res.conversationId}/messages`, { body: 'Mine?', note: true }), 201);
    await ok(post(acme.owner.token, `/v1/conversations/${res.conversationId}/assign`, { assigneeId: acme.admin.user.id }));
    const refused = await post(acme.member.token, `/v1/conversations/${res.conversationId}/messages`, { body: 'x', note: true });
    expect(refused.status).toBe(403);
  });
});

describe('replies on a connected channel (domain)', () => {
  const callerOf = (actor: { user: { id: string } }, role: 'owner' | 'admin' | 'member') => ({
    workspaceId: acme.workspace.id,
    userId: actor.user.id,
    role,
  });

  it('a member’s reply to a pool conversation assigns it to them and answers the wait', async () => {
    const { sendMessage } = await import('../../domain/inbox/messages.service');
    const res = await ok(inbound({ from: 'answer-me@example.com' }), 201);
    stack.clock.advance(90_000);
    await sendMessage(stack.deps, callerOf(max, 'member'), res.conversationId, { body: 'On it', note: false, attachmentIds: [] }, {
      connectedChannels: ['email'],
    });
    const conversation = await ok(get(acme.owner.token, `/v1/conversations/${res.conversationId}`));
    expect(conversation).toMatchObject({ assigneeId: max.user.id, waitingSince: null, messageCount: 2 });
    const events = await ok(get(acme.owner.token, `/v1/contacts/${res.contactId}/timeline`));
    const sent = events.items.find((entry: any) => entry.event.type === 'email.sent');
    expect(sent.event.payload).toMatchObject({ firstResponseSeconds: 90, excerpt: 'On it', conversationId: res.conversationId });
    const received = events.items.find((entry: any) => entry.event.type === 'email.replied');
    expect(received.event.payload).toMatchObject({ messageId: res.message.id, excerpt: 'Hello?' });
  });

  it('two members replying to one pool conversation at once: both messages kept, one assignee', async () => {
    const { sendMessage } = await import('../../domain/inbox/messages.service');
    const res = await ok(inbound({ from: 'race@example.com' }), 201);
    const send = (actor: { user: { id: string } }, body: string) =>
      sendMessage(stack.deps, callerOf(actor, 'member'), res.conversationId, { body, note: false, attachmentIds: [] }, {
        connectedChannels: ['email'],
      });
    const [a, b] = await Promise.all([send(acme.member, 'Me first'), send(max, 'No, me')]);
    const messages = await ok(get(acme.owner.token, `/v1/conversations/${res.conversationId}/messages`));
    expect(messages.items.map((m: any) => m.id).sort()).toEqual([a.id, b.id, res.message.id].sort());
    const conversation = await ok(get(acme.owner.token, `/v1/conversations/${res.conversationId}`));
    expect([acme.member.user.id, max.user.id]).toContain(conversation.assigneeId);
    const assignments = (await ok(get(acme.owner.token, `/v1/contacts/${res.contactId}/timeline`))).items.filter(
      (entry: any) => entry.event.type === 'conversation.assigned',
    );
    expect(assignments).toHaveLength(1);
  });
});

describe('read state', () => {
  it('marks everything up to a message in a conversation', async () => {
    const first = await ok(inbound({ from: 'batch@example.com', body: 'one' }), 201);
    const second = await ok(inbound({ from: 'batch@example.com', body: 'two' }), 201);
    await ok(inbound({ from: 'batch@example.com', body: 'three' }), 201);
    const counts = await unread(max.token);
    expect(counts.conversations.find((c: any) => c.conversationId === first.conversationId).unread).toBe(3);
    expect(
      await ok(post(max.token, '/v1/inbox/read', { conversationId: first.conversationId, upToMessageId: second.message.id })),
    ).toEqual({ marked: 2, more: false });
    expect((await unread(max.token)).conversations.find((c: any) => c.conversationId === first.conversationId).unread).toBe(1);
    expect(await ok(post(max.token, '/v1/inbox/read', { conversationId: first.conversationId }))).toEqual({ marked: 1, more: false });
    expect((await unread(max.token)).conversations.find((c: any) => c.conversationId === first.conversationId)).toBeUndefined();
  });

  it('reads cost: messages page = 1 Query + 1 GetItem; unread counts = 1 Query (the token is cached)', async () => {
    const res = await ok(inbound({ from: 'reads@example.com' }), 201);
    stack.calls.reset();
    await ok(get(acme.owner.token, `/v1/conversations/${res.conversationId}/messages`, { limit: '10' }));
    expect(stack.calls.counts).toEqual({ QueryCommand: 1, GetItemCommand: 1 });
    stack.calls.reset();
    await unread(acme.owner.token);
    expect(stack.calls.counts).toEqual({ QueryCommand: 1 });
  });

  it('an assignment moves a user’s unread messages from the unassigned view to mine', async () => {
    const res = await ok(inbound({ from: 'moved@example.com' }), 201);
    const before = await unread(max.token);
    await ok(post(acme.owner.token, `/v1/conversations/${res.conversationId}/assign`, { assigneeId: max.user.id }));
    const after = await unread(max.token);
    expect(after.views).toEqual({ ...before.views, mine: before.views.mine + 1, unassigned: before.views.unassigned - 1 });
    expect(after.total).toBe(before.total);
  });
});
