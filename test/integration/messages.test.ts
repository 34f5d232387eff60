import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../../domain/store/db';
import { createDocumentClient, createDynamoClient } from '../../domain/store/dynamo-client';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';
import { startTestStreams, type TestStreams } from '../support/test-streams';
import { ok } from '../support/ok';

/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies */

let stack: TestStack;
let acme: Awaited<ReturnType<typeof seedWorkspace>>;
let globex: Awaited<ReturnType<typeof seedWorkspace>>;
/** A second member of Acme. */
let max: { user: { id: string }; token: string };
/** The unread totals are kept by their stream consumer. */
let streams: TestStreams;

beforeAll(async () => {
  stack = await createTestStack();
  streams = await startTestStreams(stack, ['unread-totals']);
  acme = await seedWorkspace(stack, 'Acme');
  globex = await seedWorkspace(stack, 'Globex');
  const user = await stack.api('POST', '/v1/users', {
    token: acme.owner.token,
    body: { name: 'Max Member', email: 'max@acme.example', role: 'member' },
  });
  const token = await stack.api('POST', '/v1/tokens', { token: acme.owner.token, body: { userId: user.body.id } });
  max = { user: user.body, token: token.body.token };
});
afterAll(async () => {
  await streams?.stop();
  await stack?.destroy();
});

const post = (token: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  stack.api('POST', path, { token, body, headers });
const get = (token: string, path: string, query: Record<string, string> = {}) => stack.api('GET', path, { token, query });

let externalIds = 0;
const inbound = (body: Record<string, unknown>, token = acme.owner.token) =>
  post(token, '/v1/inbound-messages', { channel: 'email', body: 'Hello?', externalId: `ext-${++externalIds}`, ...body });

/** The caller's unread counts once the totals have caught up (every conversation: one page of 100). */
const unread = async (token: string) => {
  await streams.drain();
  return ok(get(token, '/v1/inbox/unread', { limit: '100' }));
};

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
    // Nor its event log, nor its messages' events.
    const message = await ok(post(acme.owner.token, `/v1/conversations/${conversation.id}/messages`, { body: 'Salary talk' }), 201);
    const events = (token: string, entityType: string, entityId: string) => get(token, '/v1/events', { entityType, entityId });
    expect((await events(max.token, 'conversation', conversation.id)).status).toBe(404);
    expect((await events(max.token, 'message', message.id)).status).toBe(404);
    const contact = await ok(post(acme.owner.token, '/v1/contacts', { name: 'Outside Olga' }), 201);
    const refused = await post(acme.owner.token, `/v1/conversations/${conversation.id}/participants`, { actorKind: 'contact', id: contact.id });
    expect(refused.status).toBe(422);
    const own = await ok(events(acme.admin.token, 'message', message.id));
    expect(own.items.map((event: any) => event.type)).toEqual(['internal.sent']);
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

  it('refuses a connection or recipient on a message that is not sent out, writing nothing', async () => {
    const res = await ok(inbound({ from: 'routed@example.com' }), 201);
    const note = await post(acme.owner.token, `/v1/conversations/${res.conversationId}/messages`, { body: 'Call them', note: true, connectionId: 'chc_01KF0E44M0AAAAAAAAAAAAAAAA' });
    expect(note.status).toBe(400);
    expect(note.body.errors).toEqual([{ field: 'body.connectionId', message: expect.stringMatching(/not a note/) }]);
    const direct = await ok(post(acme.owner.token, '/v1/conversations', { kind: 'direct', userIds: [acme.admin.user.id, max.user.id] }), 201);
    const internal = await post(acme.owner.token, `/v1/conversations/${direct.id}/messages`, { body: 'Lunch?', to: 'someone@example.com' });
    expect(internal.status).toBe(400);
    expect(internal.body.errors).toEqual([{ field: 'body.to', message: expect.stringMatching(/internal/) }]);
    expect((await ok(get(acme.owner.token, `/v1/conversations/${res.conversationId}/messages`))).items.map((m: any) => m.id)).toEqual([res.message.id]);
    expect((await ok(get(acme.owner.token, `/v1/conversations/${direct.id}/messages`))).items).toEqual([]);
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
  // The workspace's email connection: a reply goes out through it (its delivery job is not run here).
  beforeAll(async () => {
    const settings = { sesIdentity: 'acme.test', fromAddress: 'hello@acme.test', replyDomain: 'reply.acme.test' };
    await ok(post(acme.owner.token, '/v1/channels', { kind: 'email', name: 'Mail', settings }), 201);
  });
  const callerOf = (actor: { user: { id: string } }, role: 'owner' | 'admin' | 'member') => ({
    workspaceId: acme.workspace.id,
    userId: actor.user.id,
    role,
  });

  it('a member’s reply to a pool conversation assigns it to them and answers the wait', async () => {
    const { sendMessage } = await import('../../domain/inbox/messages.service');
    const res = await ok(inbound({ from: 'answer-me@example.com' }), 201);
    stack.clock.advance(90_000);
    await sendMessage(stack.deps, callerOf(max, 'member'), res.conversationId, { body: 'On it', note: false, attachmentIds: [] });
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
    // Both sends read the conversation (in the pool) before either writes: their first reads wait for each other.
    const raw = createDynamoClient({ endpoint: process.env.DYNAMODB_ENDPOINT });
    const held: (() => void)[] = [];
    raw.middlewareStack.add(
      (next, context) => async (args) => {
        const conversationRead =
          context.commandName === 'GetItemCommand' && JSON.stringify(args.input).includes(`CONV#${res.conversationId}`);
        if (conversationRead && held.length < 2) {
          await new Promise<void>((release) => {
            held.push(release);
            if (held.length === 2) held.forEach((go) => go());
          });
        }
        return next(args);
      },
      { step: 'initialize', name: 'holdFirstReads' },
    );
    const deps = { ...stack.deps, db: createDb(createDocumentClient(raw), stack.tableName) };
    const send = (actor: { user: { id: string } }, body: string) =>
      sendMessage(deps, callerOf(actor, 'member'), res.conversationId, { body, note: false, attachmentIds: [] });
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
    // The emptied counter is gone: the counts stay one small Query however many conversations were read.
    const { data } = await stack.deps.db.entities.unreadCounter
      .get({ workspaceId: acme.workspace.id, userId: max.user.id, conversationId: first.conversationId })
      .go();
    expect(data).toBeNull();
  });

  it('refuses `upToMessageId` of another conversation or workspace, as one that exists nowhere, and marks nothing', async () => {
    const mine = await ok(inbound({ from: 'upto-mine@example.com', body: 'one' }), 201);
    const other = await ok(inbound({ from: 'upto-other@example.com', body: 'two' }), 201);
    const theirs = await ok(inbound({ from: 'upto-theirs@example.com', body: 'three' }, globex.owner.token), 201);
    const before = (await unread(max.token)).conversations.find((c: any) => c.conversationId === mine.conversationId).unread;
    const answers = [];
    for (const upToMessageId of [other.message.id, theirs.message.id, 'msg_00000000000000000000000000']) {
      const res = await post(max.token, '/v1/inbox/read', { conversationId: mine.conversationId, upToMessageId });
      expect(res.status).toBe(422);
      expect(res.headers['content-type']).toBe('application/problem+json');
      answers.push({ ...res.body, requestId: undefined });
    }
    expect(answers[0]).toMatchObject({ code: 'invalid_reference', errors: [{ field: 'body.upToMessageId' }] });
    // No existence oracle: another workspace's message is answered as an id that exists nowhere.
    expect(answers[1]).toEqual(answers[2]);
    expect(answers[0]).toEqual(answers[2]);
    expect((await unread(max.token)).conversations.find((c: any) => c.conversationId === mine.conversationId).unread).toBe(before);
  });

  it('reads cost: messages page = 1 Query + 1 GetItem; unread counts = 1 Query (the token is cached)', async () => {
    const res = await ok(inbound({ from: 'reads@example.com' }), 201);
    await streams.drain();
    stack.calls.reset();
    await ok(get(acme.owner.token, `/v1/conversations/${res.conversationId}/messages`, { limit: '10' }));
    expect(stack.calls.counts).toEqual({ QueryCommand: 1, GetItemCommand: 1 });
    stack.calls.reset();
    await ok(get(acme.owner.token, '/v1/inbox/unread'));
    expect(stack.calls.counts).toEqual({ QueryCommand: 1 });
  });

  it('unread totals do not grow with the conversations, and the conversations page', async () => {
    const conversations: string[] = [];
    for (let i = 0; i < 7; i++) conversations.push((await ok(inbound({ from: `paged-${i}@example.com` }), 201)).conversationId);
    const all = await unread(max.token);
    expect(all.conversationsWithUnread).toBe(all.conversations.length);
    expect(all.total).toBe(all.conversations.reduce((sum: number, c: any) => sum + c.unread, 0));
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await ok(get(max.token, '/v1/inbox/unread', { limit: '3', ...(cursor ? { cursor } : {}) }));
      expect(page.conversations.length).toBeLessThanOrEqual(3);
      expect(page.total).toBe(all.total);
      seen.push(...page.conversations.map((c: any) => c.conversationId));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(all.conversations.map((c: any) => c.conversationId));
    // Latest unread first: the newest conversation leads.
    expect(seen.indexOf(conversations[6]!)).toBeLessThan(seen.indexOf(conversations[0]!));
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

describe('unread counts equal a recount', () => {
  /** Every user's unread count per conversation, recounted from each message's receipts. */
  async function recount(conversationIds: string[], token = acme.admin.token) {
    const counts = new Map<string, Map<string, number>>();
    for (const conversationId of conversationIds) {
      let cursor: string | undefined;
      do {
        const page = await ok(get(token, `/v1/conversations/${conversationId}/messages`, cursor ? { cursor } : {}));
        for (const message of page.items) {
          const receipts = await ok(get(token, `/v1/conversations/${conversationId}/messages/${message.id}/receipts`));
          for (const receipt of receipts.items) {
            if (receipt.status !== 'unread') continue;
            const perUser = counts.get(receipt.userId) ?? new Map<string, number>();
            perUser.set(conversationId, (perUser.get(conversationId) ?? 0) + 1);
            counts.set(receipt.userId, perUser);
          }
        }
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
    }
    return counts;
  }

  it('after a scripted day of messages, notes, assignments and reads by several users', async () => {
    const users = [acme.owner, acme.admin, acme.member, max];
    const day = `day-${Date.now()}`;
    const a = await ok(inbound({ from: `${day}-a@example.com`, body: 'Quote please' }), 201);
    const b = await ok(inbound({ from: `${day}-b@example.com`, body: 'Where is my order?' }), 201);
    await ok(inbound({ from: `${day}-a@example.com`, body: 'Any news?' }), 201);
    // Assigning, labelling and changing status make nothing unread for anyone.
    await ok(post(acme.owner.token, `/v1/conversations/${a.conversationId}/assign`, { assigneeId: acme.member.user.id }));
    await ok(post(acme.owner.token, `/v1/contacts/${a.contactId}/tags`, { tags: ['vip'] }));
    await ok(post(acme.member.token, `/v1/conversations/${a.conversationId}/messages`, { body: 'Calling them at 3', note: true }), 201);
    await ok(post(max.token, `/v1/conversations/${b.conversationId}/claim`));
    await ok(post(max.token, `/v1/conversations/${b.conversationId}/status`, { status: 'pending' }));
    await ok(inbound({ from: `${day}-b@example.com`, body: 'Hello??' }), 201);
    const direct = await ok(
      post(acme.admin.token, '/v1/conversations', { kind: 'direct', userIds: [acme.member.user.id, max.user.id] }),
      201,
    );
    await ok(post(acme.admin.token, `/v1/conversations/${direct.id}/messages`, { body: 'Lunch?' }), 201);
    await ok(post(max.token, `/v1/conversations/${direct.id}/messages`, { body: 'Yes' }), 201);
    await ok(post(acme.member.token, '/v1/inbox/read', { conversationId: direct.id }));
    await ok(post(max.token, '/v1/inbox/read', { conversationId: b.conversationId }));
    await ok(post(acme.owner.token, `/v1/conversations/${b.conversationId}/assign`, { assigneeId: acme.admin.user.id }));
    await ok(inbound({ from: `${day}-b@example.com`, body: 'Still there?' }), 201);

    const conversationIds = [a.conversationId, b.conversationId, direct.id];
    const truth = await recount(conversationIds);
    for (const user of users) {
      const counts = await unread(user.token);
      const mine = new Map<string, number>(
        counts.conversations
          .filter((c: any) => conversationIds.includes(c.conversationId))
          .map((c: any) => [c.conversationId, c.unread]),
      );
      expect(mine, user.user.id).toEqual(truth.get(user.user.id) ?? new Map());
      // The unread list holds the same messages.
      const listed = new Map<string, number>();
      let cursor: string | undefined;
      do {
        const page = await ok(get(user.token, '/v1/inbox/unread-messages', cursor ? { cursor } : {}));
        for (const message of page.items) {
          if (conversationIds.includes(message.conversationId)) {
            listed.set(message.conversationId, (listed.get(message.conversationId) ?? 0) + 1);
          }
        }
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(listed, user.user.id).toEqual(truth.get(user.user.id) ?? new Map());
    }
    // Each user's totals equal their counters summed per view (kept by the stream consumer).
    for (const user of users) {
      const { data: counters } = await stack.deps.db.entities.unreadCounter.query
        .byUser({ workspaceId: acme.workspace.id, userId: user.user.id })
        .go({ pages: 'all' });
      const live = counters.filter((counter) => counter.unread > 0);
      const sumOf = (keep: (counter: (typeof live)[number]) => boolean) =>
        live.filter(keep).reduce((sum, counter) => sum + counter.unread, 0);
      const counts = await unread(user.token);
      expect({ total: counts.total, views: counts.views, conversations: counts.conversationsWithUnread }, user.user.id).toEqual({
        total: sumOf(() => true),
        views: {
          mine: sumOf((c) => c.kind === 'contact' && c.assigneeKey === user.user.id),
          unassigned: sumOf((c) => c.kind === 'contact' && c.assigneeKey === 'none'),
          all: sumOf((c) => c.kind === 'contact'),
          direct: sumOf((c) => c.kind === 'direct'),
        },
        conversations: live.length,
      });
    }
    // Nothing a user did themselves is unread for them: the member's note, Max's reply.
    expect(truth.get(acme.member.user.id)?.get(a.conversationId)).toBe(2);
    expect(truth.get(max.user.id)?.get(direct.id)).toBe(1);
    // The views follow the assignee: b is the admin's now.
    const adminCounts = await unread(acme.admin.token);
    const adminB = truth.get(acme.admin.user.id)?.get(b.conversationId) ?? 0;
    expect(adminB).toBe(2);
    expect(adminCounts.views.mine).toBeGreaterThanOrEqual(adminB);
  });

  it('each of 8 ingests sent twice at once (new senders) stores 8 messages, counted once', { timeout: 60_000 }, async () => {
    const day = `dup-${Date.now()}`;
    const bodies = Array.from({ length: 8 }, (_, n) => ({
      from: `${day}-${n % 8}@example.com`,
      externalId: `${day}-${n}`,
      body: `message ${n}`,
    }));
    const results = await Promise.all(bodies.flatMap((body) => [inbound(body), inbound(body)]));
    expect(results.every((res) => res.status === 201 || res.status === 200)).toBe(true);
    const conversationIds = [...new Set(results.map((res) => res.body.conversationId as string))];
    expect(conversationIds).toHaveLength(8);
    let stored = 0;
    for (const conversationId of conversationIds) {
      stored += (await ok(get(acme.owner.token, `/v1/conversations/${conversationId}/messages`, { limit: '100' }))).items.length;
    }
    expect(stored).toBe(8);
    const truth = await recount(conversationIds);
    const counts = await unread(max.token);
    for (const conversationId of conversationIds) {
      expect(counts.conversations.find((c: any) => c.conversationId === conversationId)?.unread).toBe(
        truth.get(max.user.id)?.get(conversationId),
      );
    }
  });
});

describe('attachments on messages', () => {
  it('a sent file shows on the message as media, and downloads for whoever reads the conversation', async () => {
    const bytes = new TextEncoder().encode('fake png bytes');
    const created = await ok(
      post(acme.admin.token, '/v1/attachments', { fileName: 'floor plan.png', contentType: 'image/png', sizeBytes: bytes.length }),
      201,
    );
    const put = await fetch(created.uploadUrl, { method: 'PUT', headers: created.uploadHeaders, body: bytes });
    expect(put.status).toBe(200);
    const conversation = await ok(post(acme.admin.token, '/v1/conversations', { kind: 'direct', userIds: [acme.member.user.id] }), 201);
    const message = await ok(
      post(acme.admin.token, `/v1/conversations/${conversation.id}/messages`, { body: '', attachmentIds: [created.id] }),
      201,
    );
    expect(message).toMatchObject({
      kind: 'media',
      attachments: [{ id: created.id, kind: 'image', fileName: 'floor plan.png', contentType: 'image/png', sizeBytes: bytes.length }],
    });
    const download = await ok(get(acme.member.token, `/v1/attachments/${created.id}`));
    expect(new Uint8Array(await (await fetch(download.downloadUrl)).arrayBuffer())).toEqual(bytes);
    expect((await get(max.token, `/v1/attachments/${created.id}`)).status).toBe(404);
  });
});

describe('assignments in a large team', () => {
  it('move every user’s unread to the new assignee’s views, beyond what one transaction holds', async () => {
    const { assignmentSettings } = await import('../../domain/inbox/conversations.service');
    const res = await ok(inbound({ from: `big-team-${Date.now()}@example.com` }), 201);
    const before = await unread(max.token);
    expect(before.conversations.find((c: any) => c.conversationId === res.conversationId)?.unread).toBe(1);
    const saved = assignmentSettings.countersInTransaction;
    assignmentSettings.countersInTransaction = 1;
    try {
      await ok(post(acme.owner.token, `/v1/conversations/${res.conversationId}/assign`, { assigneeId: max.user.id }));
    } finally {
      assignmentSettings.countersInTransaction = saved;
    }
    const after = await unread(max.token);
    expect(after.views.mine).toBe(before.views.mine + 1);
    expect(after.views.unassigned).toBe(before.views.unassigned - 1);
    for (const user of [acme.owner, acme.admin, acme.member]) {
      const counts = await unread(user.token);
      expect(counts.conversations.find((c: any) => c.conversationId === res.conversationId)?.unread, user.user.id).toBe(1);
    }
    const { data } = await stack.deps.db.entities.unreadCounter.query
      .byConversation({ workspaceId: acme.workspace.id, conversationId: res.conversationId })
      .go();
    expect(data.map((counter) => counter.assigneeKey)).toEqual(data.map(() => max.user.id));
    expect(data.length).toBeGreaterThanOrEqual(4);
  });
});
