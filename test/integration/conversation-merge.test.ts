import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channelScope } from '../../domain/contacts/contact-record';
import { conversationMergeSettings } from '../../domain/inbox/conversation-merge';
import { ingestInbound } from '../../domain/inbox/messages.service';
import type { CoreDeps } from '../../domain/shared/deps';
import { retryLostRaces } from '../../domain/shared/retry';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';
import { ok } from '../support/ok';

/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies */

let stack: TestStack;
let acme: Awaited<ReturnType<typeof seedWorkspace>>;
let globex: Awaited<ReturnType<typeof seedWorkspace>>;

beforeAll(async () => {
  stack = await createTestStack();
  acme = await seedWorkspace(stack, 'Acme');
  globex = await seedWorkspace(stack, 'Globex');
});
afterAll(() => stack.destroy());

const post = (token: string, path: string, body?: unknown) => stack.api('POST', path, { token, body });
const get = (token: string, path: string, query: Record<string, string> = {}) =>
  stack.api('GET', path, { token, query });
const owner = () => acme.owner.token;

let serial = 0;
const address = (label: string) => `${label}-${++serial}@merge.example`;
const contact = (name: string, email?: string) =>
  ok(
    post(owner(), '/v1/contacts', {
      name,
      ...(email ? { channels: [{ kind: 'email', value: email }] } : {}),
    }),
    201,
  );
const inbound = (from: string, body = 'Hello?') => {
  stack.clock.advance(1000);
  return ok(
    post(owner(), '/v1/inbound-messages', { channel: 'email', from, body, externalId: `ext-${++serial}` }),
    201,
  );
};
const merge = (targetId: string, sourceContactIds: string[]) => {
  stack.clock.advance(1000);
  return post(owner(), `/v1/contacts/${targetId}/merge`, { sourceContactIds });
};
/** Repeats a merge until it answers 200, as a client does; the statuses it got. */
const mergeToEnd = async (targetId: string, sourceContactIds: string[]) => {
  const statuses: number[] = [];
  for (let run = 0; run < 50; run += 1) {
    const res = await merge(targetId, sourceContactIds);
    statuses.push(res.status);
    if (res.status !== 202) {
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return statuses;
    }
    expect(res.body.status).toBe('in_progress');
  }
  throw new Error('The merge never finished');
};
/** Every message of a conversation, paging through them. */
const messagesOf = async (conversationId: string) => {
  const items: any[] = [];
  let cursor: string | undefined;
  do {
    const page = await ok(
      get(owner(), `/v1/conversations/${conversationId}/messages`, {
        limit: '100',
        ...(cursor ? { cursor } : {}),
      }),
    );
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return items;
};
const conversationsOf = async (contactId: string) =>
  (await ok(get(owner(), '/v1/conversations', { contactId, status: 'open', limit: '100' }))).items.map(
    (c: any) => c.id,
  );
/** Seed 001's author invariant, as the API shows messages. */
const authorInvariantHolds = (message: any) =>
  message.authorKind === 'user'
    ? Boolean(message.authorUserId) && message.authorContactId === null
    : message.authorKind === 'contact'
      ? Boolean(message.authorContactId) && message.authorUserId === null
      : message.authorUserId === null && message.authorContactId === null;

describe('a contact merge moves conversations', () => {
  it('moves the conversation, its contact participant and its messages’ authors to the target, keeping who wrote them', async () => {
    const sourceEmail = address('sam');
    const source = await contact('Sam Source', sourceEmail);
    const target = await contact('Tina Target');
    const first = await inbound(sourceEmail, 'First');
    expect(first).toMatchObject({ contactId: source.id, createdConversation: true });
    const second = await inbound(sourceEmail, 'Second');
    const note = await ok(
      post(owner(), `/v1/conversations/${first.conversationId}/messages`, {
        body: 'Call him back',
        note: true,
      }),
      201,
    );
    const conversationBefore = await ok(get(owner(), `/v1/conversations/${first.conversationId}`));
    const unreadBefore = await ok(get(acme.admin.token, '/v1/inbox/unread'));

    const merged = await ok(merge(target.id, [source.id]));
    expect(merged.mergedFrom.map((entry: any) => entry.contactId)).toEqual([source.id]);

    const conversation = await ok(get(owner(), `/v1/conversations/${first.conversationId}`));
    expect(conversation).toMatchObject({
      contactId: target.id,
      status: 'open',
      messageCount: 3,
      mergedFromContactIds: [source.id],
      version: conversationBefore.version + 1,
    });
    expect(conversationBefore.mergedFromContactIds).toEqual([]);
    const contactParticipants = conversation.participants.filter((p: any) => p.actorKind === 'contact');
    expect(contactParticipants).toEqual([
      { ...conversationBefore.participants.find((p: any) => p.actorKind === 'contact'), id: target.id },
    ]);
    expect(contactParticipants[0].addedBy).toBe(acme.owner.user.id);

    const messages = await messagesOf(first.conversationId);
    expect(
      messages.map((m: any) => [m.id, m.authorKind, m.authorContactId, m.originalAuthorContactId]),
    ).toEqual([
      [note.id, 'user', null, null],
      [second.message.id, 'contact', target.id, source.id],
      [first.message.id, 'contact', target.id, source.id],
    ]);
    expect(messages.every(authorInvariantHolds)).toBe(true);

    // The lists follow: the conversation is the target's, no longer the source's.
    expect(await conversationsOf(target.id)).toEqual([first.conversationId]);
    expect(await conversationsOf(source.id)).toEqual([]);
    const all = await ok(get(owner(), '/v1/conversations', { view: 'all', limit: '100' }));
    expect(all.items.find((c: any) => c.id === first.conversationId)).toMatchObject({ contactId: target.id });

    // One event per moved conversation, about the target (on its timeline).
    const log = await ok(
      get(owner(), '/v1/events', {
        entityType: 'conversation',
        entityId: first.conversationId,
        limit: '100',
      }),
    );
    expect(log.items.filter((event: any) => event.type === 'conversation.moved')).toEqual([
      expect.objectContaining({
        contactId: target.id,
        channel: 'email',
        payload: { channel: 'email', fromContactId: source.id, toContactId: target.id },
      }),
    ]);
    const timeline = await ok(get(owner(), `/v1/contacts/${target.id}/timeline`, { limit: '100' }));
    expect(timeline.items.some((entry: any) => entry.event?.type === 'conversation.moved')).toBe(true);

    // Read state is the users': untouched.
    expect(await ok(get(acme.admin.token, '/v1/inbox/unread'))).toEqual(unreadBefore);

    // A repeat changes nothing.
    expect((await ok(merge(target.id, [source.id]))).version).toBe(merged.version);
    expect((await ok(get(owner(), `/v1/conversations/${first.conversationId}`))).version).toBe(
      conversation.version,
    );
  });

  it('a later inbound message from the source’s address lands in the moved conversation', async () => {
    const sourceEmail = address('ana');
    const source = await contact('Ana Source', sourceEmail);
    const target = await contact('Bea Target');
    const opened = await inbound(sourceEmail);
    await ok(merge(target.id, [source.id]));

    const later = await inbound(sourceEmail, 'Still there?');
    expect(later).toMatchObject({
      conversationId: opened.conversationId,
      contactId: target.id,
      createdContact: false,
      createdConversation: false,
    });
    expect(later.message).toMatchObject({
      authorKind: 'contact',
      authorContactId: target.id,
      originalAuthorContactId: null,
    });
    // Opening the target's email conversation finds it too.
    const open = await ok(
      post(owner(), '/v1/conversations', { kind: 'contact', contactId: target.id, channel: 'email' }),
    );
    expect(open.id).toBe(opened.conversationId);
  });

  it('the target’s latest conversation per channel is the most recent open one among the target’s and the sources’', async () => {
    const targetEmail = address('tom');
    const sourceEmail = address('sue');
    const target = await contact('Tom Target', targetEmail);
    const source = await contact('Sue Source', sourceEmail);
    const older = await inbound(sourceEmail, 'Older, open');
    const resolved = await inbound(targetEmail, 'Newer, then resolved');
    await ok(post(owner(), `/v1/conversations/${resolved.conversationId}/status`, { status: 'resolved' }));
    await ok(merge(target.id, [source.id]));

    // The open one is chosen over the resolved one, from either address.
    expect((await inbound(targetEmail)).conversationId).toBe(older.conversationId);
    expect((await inbound(sourceEmail)).conversationId).toBe(older.conversationId);
    expect((await ok(get(owner(), `/v1/conversations/${resolved.conversationId}`))).status).toBe('resolved');

    // Two open ones: the latest activity wins; the other stays open (a merge does not join conversations).
    const otherTargetEmail = address('tia');
    const otherSourceEmail = address('sid');
    const otherTarget = await contact('Tia Target', otherTargetEmail);
    const otherSource = await contact('Sid Source', otherSourceEmail);
    const targets = await inbound(otherTargetEmail);
    const sources = await inbound(otherSourceEmail);
    await ok(merge(otherTarget.id, [otherSource.id]));
    expect((await inbound(otherTargetEmail)).conversationId).toBe(sources.conversationId);
    expect((await conversationsOf(otherTarget.id)).sort()).toEqual(
      [targets.conversationId, sources.conversationId].sort(),
    );
  });

  it('moves a conversation with more messages than one request handles: 202 until every author is the target, then 200', async () => {
    const sourceEmail = address('long');
    const source = await contact('Long Talker', sourceEmail);
    const target = await contact('Long Target');
    const first = await inbound(sourceEmail, 'message 0');
    for (let n = 1; n < 12; n += 1) await inbound(sourceEmail, `message ${n}`);
    conversationMergeSettings.recordsPerRequest = 5;
    try {
      const res = await merge(target.id, [source.id]);
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({
        status: 'in_progress',
        conversationsMoved: 0,
        messagesRepointed: expect.any(Number),
      });
      // Nothing is archived while work is left; the conversation is still the source's.
      expect((await ok(get(owner(), `/v1/contacts/${source.id}`))).status).toBe('active');
      expect((await ok(get(owner(), `/v1/conversations/${first.conversationId}`))).contactId).toBe(source.id);
      // A message arriving meanwhile is in the conversation when it moves.
      const meanwhile = await inbound(sourceEmail, 'while merging');
      expect(meanwhile.conversationId).toBe(first.conversationId);

      const statuses = await mergeToEnd(target.id, [source.id]);
      // 14 records (13 messages, the conversation) at 5 a request: a few requests, not one per message.
      expect(statuses.length).toBeGreaterThan(1);
      expect(statuses.length).toBeLessThanOrEqual(5);
    } finally {
      conversationMergeSettings.recordsPerRequest = 500;
    }
    const conversation = await ok(get(owner(), `/v1/conversations/${first.conversationId}`));
    expect(conversation).toMatchObject({ contactId: target.id, messageCount: 13 });
    const messages = await messagesOf(first.conversationId);
    expect(messages).toHaveLength(13);
    expect(
      messages.every((m: any) => m.authorContactId === target.id && m.originalAuthorContactId === source.id),
    ).toBe(true);
    expect(messages.every(authorInvariantHolds)).toBe(true);
    // The progress marker is gone with the move.
    const { data: progress } = await stack.deps.db.entities.messageAuthorMove
      .get({ workspaceId: acme.workspace.id, conversationId: first.conversationId, fromContactId: source.id })
      .go({ consistent: true });
    expect(progress).toBeNull();
    expect((await ok(get(owner(), `/v1/contacts/${source.id}`))).mergedInto).toBe(target.id);
  });

  it('while a merge is under way, a message to a conversation already moved is the target’s', async () => {
    const sourceEmail = address('mid');
    const phone = '+44 20 7946 0321';
    const source = await contact('Mid Source', sourceEmail);
    const target = await contact('Mid Target');
    const email = await inbound(sourceEmail);
    stack.clock.advance(1000);
    const sms = (body: string) =>
      ok(
        post(owner(), '/v1/inbound-messages', {
          channel: 'sms',
          from: phone,
          body,
          externalId: `ext-${++serial}`,
        }),
        201,
      );
    const text = await sms('text 0');
    expect(text.contactId).not.toBe(source.id); // a new contact for the number: give it to the source
    await ok(merge(source.id, [text.contactId]));
    for (let n = 1; n < 6; n += 1) await sms(`text ${n}`);
    conversationMergeSettings.recordsPerRequest = 4;
    try {
      // The email conversation (1 message) moves; the SMS one (6) does not fit.
      expect((await merge(target.id, [source.id])).status).toBe(202);
      expect((await ok(get(owner(), `/v1/conversations/${email.conversationId}`))).contactId).toBe(target.id);
      expect((await ok(get(owner(), `/v1/conversations/${text.conversationId}`))).contactId).toBe(source.id);
      // The address still names the source, its guard the moved conversation: the message is the target's.
      const meanwhile = await inbound(sourceEmail, 'mid-merge');
      expect(meanwhile).toMatchObject({ conversationId: email.conversationId, contactId: target.id });
      expect(meanwhile.message.authorContactId).toBe(target.id);
      await mergeToEnd(target.id, [source.id]);
    } finally {
      conversationMergeSettings.recordsPerRequest = 500;
    }
    expect((await messagesOf(text.conversationId)).every((m: any) => m.authorContactId === target.id)).toBe(
      true,
    );
    expect((await inbound(sourceEmail)).conversationId).toBe(email.conversationId);
    expect((await sms('after')).conversationId).toBe(text.conversationId);
  });

  it('an inbound message racing the merge’s last transaction is written for the target, not the source', async () => {
    const sourceEmail = address('racer');
    const source = await contact('Race Source', sourceEmail);
    const target = await contact('Race Target');
    const caller = { workspaceId: acme.workspace.id, userId: acme.owner.user.id, role: 'owner' as const };
    const channelGuard = { workspaceId: acme.workspace.id, scope: channelScope('email'), value: sourceEmail };
    // The merge passes the address to the target between the ingest's reads and its write.
    let raced = false;
    const real = stack.deps.db.transactWrite;
    const racing = {
      ...stack.deps,
      db: {
        ...stack.deps.db,
        transactWrite: (build: never) => ({
          go: async () => {
            if (!raced) {
              raced = true;
              await stack.deps.db.entities.uniqueGuard.patch(channelGuard).set({ ownerId: target.id }).go();
            }
            return real(build).go();
          },
        }),
      },
    } as unknown as CoreDeps;
    const input = {
      channel: 'email' as const,
      from: sourceEmail,
      body: 'Just in time',
      externalId: `ext-${++serial}`,
    };
    const { result } = await retryLostRaces(() => ingestInbound(racing, caller, input));
    expect(raced).toBe(true);
    expect(result).toMatchObject({ contactId: target.id, createdConversation: true });
    expect(result.message.authorContactId).toBe(target.id);
    expect(await conversationsOf(source.id)).toEqual([]);
    await stack.deps.db.entities.uniqueGuard.patch(channelGuard).set({ ownerId: source.id }).go();
  });

  it('keeps the first author over two merges, and re-points a source that is a second participant', async () => {
    const aEmail = address('a');
    const a = await contact('Alpha', aEmail);
    const b = await contact('Bravo', address('b'));
    const c = await contact('Charlie');
    const opened = await inbound(aEmail);
    await ok(
      post(owner(), `/v1/conversations/${opened.conversationId}/participants`, {
        actorKind: 'contact',
        id: b.id,
      }),
    );
    await ok(merge(b.id, [a.id]));
    let conversation = await ok(get(owner(), `/v1/conversations/${opened.conversationId}`));
    // a's participant became b, who was already in it: b appears once.
    expect(
      conversation.participants.filter((p: any) => p.actorKind === 'contact').map((p: any) => p.id),
    ).toEqual([b.id]);
    await ok(merge(c.id, [b.id]));
    conversation = await ok(get(owner(), `/v1/conversations/${opened.conversationId}`));
    expect(conversation).toMatchObject({ contactId: c.id, mergedFromContactIds: [a.id, b.id] });
    const [message] = await messagesOf(opened.conversationId);
    expect(message).toMatchObject({ authorContactId: c.id, originalAuthorContactId: a.id });
    // Both moves are in the conversation's history.
    const log = await ok(
      get(owner(), '/v1/events', {
        entityType: 'conversation',
        entityId: opened.conversationId,
        limit: '100',
      }),
    );
    expect(
      log.items.filter((e: any) => e.type === 'conversation.moved').map((e: any) => e.payload.toContactId),
    ).toEqual([c.id, b.id]);
  });
});

describe('tasks anchored to a conversation', () => {
  it('hang off the conversation, show on its contact’s timeline, and stay with it through a merge', async () => {
    const sourceEmail = address('task');
    const source = await contact('Task Source', sourceEmail);
    const target = await contact('Task Target');
    const opened = await inbound(sourceEmail);
    const anchor = { kind: 'conversation', id: opened.conversationId };
    const task = await ok(post(owner(), '/v1/tasks', { title: 'Answer the question', anchor }), 201);
    expect(task.anchor).toEqual(anchor);
    const listed = await ok(
      get(owner(), '/v1/tasks', { anchorKind: 'conversation', anchorId: opened.conversationId }),
    );
    expect(listed.items.map((t: any) => t.id)).toEqual([task.id]);
    const sourceEvents = await ok(get(owner(), `/v1/contacts/${source.id}/timeline`, { limit: '100' }));
    expect(
      sourceEvents.items.some(
        (entry: any) => entry.event?.type === 'task.created' && entry.event.entityId === task.id,
      ),
    ).toBe(true);

    await ok(merge(target.id, [source.id]));
    // The anchor (the conversation id) stays valid; the task's next events are about the target.
    const after = await ok(
      get(owner(), '/v1/tasks', { anchorKind: 'conversation', anchorId: opened.conversationId }),
    );
    expect(after.items.map((t: any) => t.id)).toEqual([task.id]);
    await ok(post(owner(), `/v1/tasks/${task.id}/complete`));
    const log = await ok(get(owner(), '/v1/events', { entityType: 'task', entityId: task.id, limit: '10' }));
    expect(log.items.find((event: any) => event.type === 'task.completed')).toMatchObject({
      contactId: target.id,
    });
  });

  it('a direct conversation is an anchor for its users only; another workspace’s is unknown', async () => {
    const direct = await ok(
      post(owner(), '/v1/conversations', { kind: 'direct', userIds: [acme.admin.user.id] }),
      201,
    );
    const anchor = { kind: 'conversation', id: direct.id };
    const task = await ok(post(acme.admin.token, '/v1/tasks', { title: 'Prepare the offsite', anchor }), 201);
    expect(task.anchor).toEqual(anchor);
    expect(
      (await ok(get(owner(), '/v1/tasks', { anchorKind: 'conversation', anchorId: direct.id }))).items,
    ).toHaveLength(1);
    const outsider = await post(acme.member.token, '/v1/tasks', { title: 'Peek', anchor });
    expect(outsider.status).toBe(422);
    expect(outsider.body.errors).toEqual([expect.objectContaining({ field: 'body.anchor.id' })]);
    expect(
      (await get(acme.member.token, '/v1/tasks', { anchorKind: 'conversation', anchorId: direct.id })).status,
    ).toBe(404);
    expect((await post(globex.owner.token, '/v1/tasks', { title: 'Foreign', anchor })).status).toBe(422);
    expect(
      (await get(globex.owner.token, '/v1/tasks', { anchorKind: 'conversation', anchorId: direct.id }))
        .status,
    ).toBe(404);
  });

  it('notes do not take a conversation as their anchor (a conversation has internal notes)', async () => {
    const opened = await inbound(address('noted'));
    const res = await post(owner(), '/v1/notes', {
      anchor: { kind: 'conversation', id: opened.conversationId },
      markdown: 'x',
    });
    expect(res.status).toBe(400);
  });
});
