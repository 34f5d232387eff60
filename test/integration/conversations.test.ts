import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commitConversation, findConversation } from '../../domain/inbox/conversations.service';
import { handler as wakeSnoozed, wakeSnoozedSettings } from '../../functions/schedules/wake-snoozed.handler';
import { scheduledEvent } from '../../local/scheduler';
import { createTestStack, seedWorkspace, type ApiResponse, type TestStack } from '../support/test-stack';

/* eslint-disable @typescript-eslint/no-explicit-any -- records read back from the API */

type Seeded = Awaited<ReturnType<typeof seedWorkspace>>;
interface Actor {
  user: { id: string };
  token: string;
}
interface Conversation {
  id: string;
  kind: 'contact' | 'direct';
  channel: string;
  contactId: string | null;
  status: string;
  snoozedUntil: string | null;
  assigneeId: string | null;
  participants: { actorKind: string; id: string; addedBy: string; addedAt: string }[];
  waitingSince: string | null;
  lastActivityAt: string;
  version: number;
}
interface Page {
  items: Conversation[];
  nextCursor: string | null;
}


let stack: TestStack;
let acme: Seeded;
let globex: Seeded;
/** A second member of Acme. */
let max: Actor;

// The stack's clock starts at 2026-01-15T09:00:00Z and only moves when a test moves it.
beforeAll(async () => {
  stack = await createTestStack();
  acme = await seedWorkspace(stack, 'Acme');
  globex = await seedWorkspace(stack, 'Globex');
  max = await addUser(acme, 'member', 'Max Member');
});
afterAll(() => stack.destroy());

async function addUser(ws: Seeded, role: 'admin' | 'member', name: string): Promise<Actor> {
  const user = await stack.api('POST', '/v1/users', {
    token: ws.owner.token,
    body: { name, email: `${randomUUID().slice(0, 8)}@example.com`, role },
  });
  const token = await stack.api('POST', '/v1/tokens', { token: ws.owner.token, body: { userId: user.body.id } });
  return { user: user.body, token: token.body.token };
}

const newContact = async (ws: Seeded, name = 'Cora Contact') => {
  const res = await stack.api('POST', '/v1/contacts', { token: ws.owner.token, body: { name } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string };
};
const open = (token: string, body: Record<string, unknown>) => stack.api('POST', '/v1/conversations', { token, body });
/** A new contact conversation (new contact unless given), opened by the workspace's owner. */
const opened = async (ws: Seeded, extra: { contactId?: string; channel?: string; token?: string } = {}) => {
  const res = await open(extra.token ?? ws.owner.token, {
    kind: 'contact',
    contactId: extra.contactId ?? (await newContact(ws)).id,
    channel: extra.channel ?? 'email',
    new: true,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as Conversation;
};
const act = (token: string, id: string, action: string, body?: unknown, headers: Record<string, string> = {}) =>
  stack.api('POST', `/v1/conversations/${id}/${action}`, { token, body, headers });
const ok = (res: ApiResponse) => {
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as Conversation;
};
const get = (token: string, id: string) => stack.api('GET', `/v1/conversations/${id}`, { token });
const list = async (token: string, query: Record<string, string | number> = {}) => {
  const res = await stack.api('GET', '/v1/conversations', { token, query });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as Page;
};
/** Every page of a view, following the cursor. */
const listAll = async (token: string, query: Record<string, string | number> = {}) => {
  const items: Conversation[] = [];
  let pages = 0;
  let cursor: string | null = null;
  do {
    const page: Page = await list(token, { ...query, ...(cursor ? { cursor } : {}) });
    items.push(...page.items);
    cursor = page.nextCursor;
    pages += 1;
  } while (cursor && pages < 100);
  return { items, pages };
};
const ids = (items: { id: string }[]) => items.map((item) => item.id);
const fields = (res: ApiResponse) => ((res.body.errors ?? []) as { field: string }[]).map((error) => error.field);
const eventsOf = async (conversationId: string, token = acme.owner.token) => {
  const res = await stack.api('GET', '/v1/events', {
    token,
    query: { entityType: 'conversation', entityId: conversationId, limit: 100 },
  });
  expect(res.status).toBe(200);
  return res.body.items as { type: string; actorUserId: string; contactId: string | null; payload: any }[];
};
const typesOf = async (conversationId: string) => (await eventsOf(conversationId)).map((event) => event.type);
const later = (minutes: number) => new Date(stack.clock.nowMs() + minutes * 60_000).toISOString();

describe('opening conversations', () => {
  it('keeps one conversation per contact and channel until it is resolved; `new: true` opens another', async () => {
    const contact = await newContact(acme, 'Olga Open');
    const body = { kind: 'contact', contactId: contact.id, channel: 'email' };
    const first = await open(acme.member.token, body);
    expect(first.status).toBe(201);
    expect(first.headers.location).toBe(`/v1/conversations/${first.body.id}`);
    expect(first.headers.etag).toBe('"1"');
    expect(first.body).toMatchObject({
      id: expect.stringMatching(/^cv_[0-9A-Z]{26}$/),
      kind: 'contact',
      channel: 'email',
      contactId: contact.id,
      subject: null,
      status: 'open',
      snoozedUntil: null,
      assigneeId: null,
      waitingSince: null,
      messageCount: 0,
      createdBy: acme.member.user.id,
      version: 1,
      participants: [{ actorKind: 'contact', id: contact.id, addedBy: acme.member.user.id }],
    });

    const again = await open(acme.owner.token, { ...body, subject: 'Ignored: it exists' });
    expect(again.status).toBe(200);
    expect(again.headers.etag).toBe('"1"');
    expect(again.body).toEqual(first.body);

    const sms = await open(acme.owner.token, { ...body, channel: 'sms' });
    expect(sms.status).toBe(201);
    const second = await open(acme.owner.token, { ...body, new: true, subject: 'Renewal' });
    expect(second.status).toBe(201);
    expect(second.body.subject).toBe('Renewal');
    expect(new Set([first.body.id, sms.body.id, second.body.id]).size).toBe(3);
    // Without `new`, the latest one of the channel.
    expect((await open(acme.owner.token, body)).body.id).toBe(second.body.id);

    ok(await act(acme.owner.token, second.body.id, 'status', { status: 'resolved' }));
    ok(await act(acme.owner.token, first.body.id, 'status', { status: 'resolved' }));
    const third = await open(acme.owner.token, body);
    expect(third.status).toBe(201);
    expect([first.body.id, second.body.id]).not.toContain(third.body.id);
    expect((await open(acme.owner.token, body)).body.id).toBe(third.body.id);

    const openedEvent = (await eventsOf(first.body.id)).at(-1);
    expect(openedEvent).toMatchObject({
      type: 'conversation.opened',
      actorUserId: acme.member.user.id,
      contactId: contact.id,
      payload: { kind: 'contact', channel: 'email', contactId: contact.id, userIds: [] },
    });
    // Every event of a contact conversation is on the contact's timeline too.
    const timeline = await stack.api('GET', `/v1/contacts/${contact.id}/timeline`, { token: acme.member.token });
    const onTimeline = (timeline.body.items as { event: { type: string; entityId: string } }[]).map(
      ({ event }) => `${event.type} ${event.entityId}`,
    );
    expect(onTimeline).toEqual(
      expect.arrayContaining([
        `conversation.opened ${first.body.id}`,
        `conversation.opened ${sms.body.id}`,
        `conversation.opened ${second.body.id}`,
        `conversation.opened ${third.body.id}`,
        `conversation.status_changed ${second.body.id}`,
      ]),
    );
  });

  it('refuses a contact that is not the workspace’s (422), a merged one (409) and bad input (400)', async () => {
    const unknown = await open(acme.owner.token, { kind: 'contact', contactId: 'ct_00000000000000000000000000', channel: 'email' });
    expect(unknown.status).toBe(422);
    expect(unknown.body.code).toBe('invalid_reference');
    expect(fields(unknown)).toEqual(['body.contactId']);
    const foreign = await newContact(globex);
    expect((await open(acme.owner.token, { kind: 'contact', contactId: foreign.id, channel: 'email' })).status).toBe(422);

    const target = await newContact(acme, 'Merge Target');
    const source = await newContact(acme, 'Merge Source');
    const merge = await stack.api('POST', `/v1/contacts/${target.id}/merge`, {
      token: acme.owner.token,
      body: { sourceContactIds: [source.id] },
    });
    expect(merge.status, JSON.stringify(merge.body)).toBe(200);
    const merged = await open(acme.owner.token, { kind: 'contact', contactId: source.id, channel: 'email' });
    expect(merged.status).toBe(409);
    expect(merged.body).toMatchObject({ code: 'record_merged', mergedInto: target.id });

    const badChannel = await open(acme.owner.token, { kind: 'contact', contactId: target.id, channel: 'pigeon' });
    expect(badChannel.status).toBe(400);
    expect(fields(badChannel)).toEqual(['body.channel']);
    expect((await open(acme.owner.token, { kind: 'group', userIds: [] })).status).toBe(400);
  });
});

describe('direct conversations', () => {
  it('gives one set of users one conversation, with the caller always in it, readable only by its users', async () => {
    const created = await open(acme.owner.token, { kind: 'direct', userIds: [acme.member.user.id] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ kind: 'direct', channel: 'internal', contactId: null, assigneeId: null, status: 'open' });
    expect(created.body.participants.map((p: any) => [p.actorKind, p.id]).sort()).toEqual(
      [
        ['user', acme.owner.user.id],
        ['user', acme.member.user.id],
      ].sort(),
    );
    // The same set, however it is written, from either side.
    const fromMember = await open(acme.member.token, { kind: 'direct', userIds: [acme.owner.user.id] });
    expect(fromMember.status).toBe(200);
    expect(fromMember.body.id).toBe(created.body.id);
    const withSelf = await open(acme.member.token, {
      kind: 'direct',
      userIds: [acme.owner.user.id, acme.member.user.id, acme.owner.user.id],
    });
    expect(withSelf.body.id).toBe(created.body.id);
    // Another set: another conversation.
    const three = await open(acme.owner.token, { kind: 'direct', userIds: [acme.member.user.id, max.user.id] });
    expect(three.status).toBe(201);
    expect(three.body.id).not.toBe(created.body.id);

    expect((await get(acme.member.token, created.body.id)).status).toBe(200);
    // Outsiders, even an admin, and an owner not in it, get a 404: on reads and on writes.
    expect((await get(max.token, created.body.id)).status).toBe(404);
    expect((await get(acme.admin.token, created.body.id)).status).toBe(404);
    const between = await open(acme.admin.token, { kind: 'direct', userIds: [max.user.id] });
    expect((await get(acme.owner.token, between.body.id)).status).toBe(404);
    expect((await act(acme.owner.token, between.body.id, 'status', { status: 'resolved' })).status).toBe(404);
    expect((await act(acme.owner.token, between.body.id, 'participants', { actorKind: 'user', id: acme.owner.user.id })).status).toBe(404);
    expect((await stack.api('GET', `/v1/conversations/${between.body.id}/scores`, { token: acme.owner.token })).status).toBe(404);

    // A direct conversation has no assignee.
    for (const action of ['claim', 'release']) {
      const res = await act(acme.member.token, created.body.id, action);
      expect(res.status).toBe(422);
      expect(res.body.code).toBe('unprocessable');
    }
    expect((await act(acme.owner.token, created.body.id, 'assign', { assigneeId: acme.owner.user.id })).status).toBe(422);

    // The `direct` view: the caller's own.
    expect(ids((await listAll(acme.member.token, { view: 'direct' })).items)).toEqual(
      expect.arrayContaining([created.body.id, three.body.id]),
    );
    expect(ids((await listAll(acme.owner.token, { view: 'direct' })).items)).not.toContain(between.body.id);
    expect(ids((await listAll(acme.admin.token, { view: 'direct' })).items)).toEqual([between.body.id]);
    // Direct conversations are on no contact view.
    expect(ids((await listAll(acme.owner.token, { view: 'all' })).items)).not.toContain(created.body.id);

    const unknownUser = await open(acme.owner.token, { kind: 'direct', userIds: ['usr_00000000000000000000000000'] });
    expect(unknownUser.status).toBe(422);
    expect(fields(unknownUser)).toEqual(['body.userIds.0']);
    const foreignUser = await open(acme.owner.token, { kind: 'direct', userIds: [max.user.id, globex.member.user.id] });
    expect(foreignUser.status).toBe(422);
    expect(fields(foreignUser)).toEqual(['body.userIds.1']);

    const [event] = await eventsOf(created.body.id);
    expect(event).toMatchObject({ type: 'conversation.opened', contactId: null, payload: { kind: 'direct', channel: 'internal' } });
    expect([...event!.payload.userIds].sort()).toEqual([acme.owner.user.id, acme.member.user.id].sort());
  });

  it('finds a direct conversation by the users it has now: one who was removed from it opens a new one', async () => {
    const admin2 = await addUser(acme, 'admin', 'Ada Admin');
    const pair = await open(admin2.token, { kind: 'direct', userIds: [max.user.id] });
    expect(pair.status).toBe(201);
    const removed = await stack.api('DELETE', `/v1/conversations/${pair.body.id}/participants/${admin2.user.id}`, {
      token: max.token,
    });
    ok(removed);
    expect((await get(admin2.token, pair.body.id)).status).toBe(404);

    const reopened = await open(admin2.token, { kind: 'direct', userIds: [max.user.id] });
    expect(reopened.status).toBe(201);
    expect(reopened.body.id).not.toBe(pair.body.id);
    expect(reopened.body.participants.map((p: any) => p.id).sort()).toEqual([admin2.user.id, max.user.id].sort());
    // From then on that set finds the new one; the old one is max's alone.
    expect((await open(max.token, { kind: 'direct', userIds: [admin2.user.id] })).body.id).toBe(reopened.body.id);
    expect((await get(max.token, pair.body.id)).status).toBe(200);
  });
});

describe('status', () => {
  it('sets open, pending, snoozed (in the future, or until a message) and resolved, with If-Match and the reply rule', async () => {
    const conversation = await opened(acme);
    const pending = await act(acme.member.token, conversation.id, 'status', { status: 'pending' });
    expect(ok(pending)).toMatchObject({ status: 'pending', version: 2 });
    expect(pending.headers.etag).toBe('"2"');

    const until = new Date(stack.clock.nowMs() + 2 * 3600_000);
    const offset = `${until.toISOString().slice(0, 19)}+00:00`;
    const snoozed = ok(await act(acme.member.token, conversation.id, 'status', { status: 'snoozed', snoozedUntil: offset }));
    expect(snoozed).toMatchObject({ status: 'snoozed', snoozedUntil: `${until.toISOString().slice(0, 19)}.000Z`, version: 3 });
    // The same again changes nothing.
    expect(ok(await act(acme.member.token, conversation.id, 'status', { status: 'snoozed', snoozedUntil: offset })).version).toBe(3);

    const past = await act(acme.member.token, conversation.id, 'status', { status: 'snoozed', snoozedUntil: later(-1) });
    expect(past.status).toBe(422);
    expect(past.body.code).toBe('invalid_reference');
    expect(fields(past)).toEqual(['body.snoozedUntil']);
    const now = await act(acme.member.token, conversation.id, 'status', { status: 'snoozed', snoozedUntil: later(0) });
    expect(now.status).toBe(422);
    const withOpen = await act(acme.member.token, conversation.id, 'status', { status: 'open', snoozedUntil: later(60) });
    expect(withOpen.status).toBe(400);
    expect(fields(withOpen)).toEqual(['body.snoozedUntil']);
    expect((await act(acme.member.token, conversation.id, 'status', { status: 'closed' })).status).toBe(400);

    // Until the contact's next message: no time.
    const untilMessage = ok(await act(acme.member.token, conversation.id, 'status', { status: 'snoozed' }));
    expect(untilMessage).toMatchObject({ status: 'snoozed', snoozedUntil: null, version: 4 });

    const stale = await act(acme.member.token, conversation.id, 'status', { status: 'open' }, { 'if-match': '"3"' });
    expect(stale.status).toBe(412);
    const current = await act(acme.member.token, conversation.id, 'status', { status: 'open' }, { 'if-match': '"4"' });
    expect(ok(current)).toMatchObject({ status: 'open', version: 5, snoozedUntil: null });

    // A member changes only their own and pool conversations.
    ok(await act(acme.owner.token, conversation.id, 'assign', { assigneeId: max.user.id }));
    const refused = await act(acme.member.token, conversation.id, 'status', { status: 'resolved' });
    expect(refused.status).toBe(403);
    expect(ok(await act(max.token, conversation.id, 'status', { status: 'resolved' })).status).toBe('resolved');
    expect(ok(await act(acme.admin.token, conversation.id, 'status', { status: 'open' })).status).toBe('open');

    const changes = (await eventsOf(conversation.id)).filter((event) => event.type === 'conversation.status_changed');
    expect(changes.map((event) => [event.payload.from, event.payload.to, event.payload.snoozedUntil, event.payload.cause])).toEqual([
      ['resolved', 'open', null, 'user'],
      ['open', 'resolved', null, 'user'],
      ['snoozed', 'open', null, 'user'],
      ['snoozed', 'snoozed', null, 'user'],
      ['pending', 'snoozed', snoozed.snoozedUntil, 'user'],
      ['open', 'pending', null, 'user'],
    ]);
    expect(changes[0]).toMatchObject({ actorUserId: acme.admin.user.id, contactId: conversation.contactId, payload: { channel: 'email' } });
  });
});

describe('assignment', () => {
  it('claims, releases and assigns with the rules; the assignee joins the participants', async () => {
    const conversation = await opened(acme);
    const claimed = ok(await act(acme.member.token, conversation.id, 'claim'));
    expect(claimed.assigneeId).toBe(acme.member.user.id);
    expect(claimed.participants).toContainEqual(expect.objectContaining({ actorKind: 'user', id: acme.member.user.id, addedBy: acme.member.user.id }));
    // Claiming one you hold changes nothing.
    expect(ok(await act(acme.member.token, conversation.id, 'claim')).version).toBe(claimed.version);

    const taken = await act(max.token, conversation.id, 'claim');
    expect(taken.status).toBe(409);
    expect(taken.body).toMatchObject({ code: 'already_claimed', assigneeId: acme.member.user.id });
    const takenByAssign = await act(max.token, conversation.id, 'assign', { assigneeId: max.user.id });
    expect(takenByAssign.status).toBe(409);
    expect(takenByAssign.body.code).toBe('already_claimed');
    expect((await act(max.token, conversation.id, 'release')).status).toBe(403);
    expect((await act(max.token, conversation.id, 'assign', { assigneeId: null })).status).toBe(403);
    // A member gives nothing to someone else, not even their own.
    expect((await act(acme.member.token, conversation.id, 'assign', { assigneeId: max.user.id })).status).toBe(403);

    const stale = await act(acme.admin.token, conversation.id, 'assign', { assigneeId: max.user.id }, { 'if-match': '"1"' });
    expect(stale.status).toBe(412);
    const given = ok(await act(acme.admin.token, conversation.id, 'assign', { assigneeId: max.user.id }, { 'if-match': `"${claimed.version}"` }));
    expect(given.assigneeId).toBe(max.user.id);
    expect(given.participants.filter((p) => p.actorKind === 'user').map((p) => p.id)).toEqual([acme.member.user.id, max.user.id]);

    const unknown = await act(acme.admin.token, conversation.id, 'assign', { assigneeId: 'usr_00000000000000000000000000' });
    expect(unknown.status).toBe(422);
    expect(unknown.body.code).toBe('invalid_reference');
    expect(fields(unknown)).toEqual(['body.assigneeId']);
    expect((await act(acme.admin.token, conversation.id, 'assign', { assigneeId: globex.member.user.id })).status).toBe(422);
    const gone = await addUser(acme, 'member', 'Gone Soon');
    ok(await stack.api('PATCH', `/v1/users/${gone.user.id}`, { token: acme.owner.token, body: { status: 'deactivated' } }));
    expect((await act(acme.admin.token, conversation.id, 'assign', { assigneeId: gone.user.id })).status).toBe(422);

    // The assignee hands it back; anyone may then claim it; an owner/admin releases anyone's.
    expect(ok(await act(max.token, conversation.id, 'assign', { assigneeId: null })).assigneeId).toBeNull();
    expect(ok(await act(acme.member.token, conversation.id, 'assign', { assigneeId: acme.member.user.id })).assigneeId).toBe(acme.member.user.id);
    expect(ok(await act(acme.owner.token, conversation.id, 'release')).assigneeId).toBeNull();
    // Releasing a pool conversation changes nothing.
    const released = ok(await act(acme.member.token, conversation.id, 'release'));
    expect(ok(await act(acme.member.token, conversation.id, 'release')).version).toBe(released.version);
    expect(ok(await act(acme.admin.token, conversation.id, 'claim')).assigneeId).toBe(acme.admin.user.id);

    const assigned = (await eventsOf(conversation.id)).filter((event) => event.type === 'conversation.assigned');
    expect(assigned.map((event) => [event.actorUserId, event.payload.from, event.payload.to, event.payload.how])).toEqual([
      [acme.admin.user.id, null, acme.admin.user.id, 'claim'],
      [acme.owner.user.id, acme.member.user.id, null, 'release'],
      [acme.member.user.id, null, acme.member.user.id, 'claim'],
      [max.user.id, max.user.id, null, 'release'],
      [acme.admin.user.id, acme.member.user.id, max.user.id, 'assign'],
      [acme.member.user.id, null, acme.member.user.id, 'claim'],
    ]);
    expect(assigned[0]).toMatchObject({ contactId: conversation.contactId, payload: { channel: 'email' } });
  });
});

describe('at the same time', () => {
  it('gives a pool conversation to one of two claims, and one conversation to four opens', async () => {
    const conversation = await opened(acme);
    const claims = await Promise.all([act(acme.member.token, conversation.id, 'claim'), act(max.token, conversation.id, 'claim')]);
    expect(claims.map((res) => res.status).sort()).toEqual([200, 409]);
    const winner = claims.find((res) => res.status === 200)!.body as Conversation;
    expect((await get(acme.owner.token, conversation.id)).body).toMatchObject({ assigneeId: winner.assigneeId, version: 2 });
    expect((await typesOf(conversation.id)).filter((type) => type === 'conversation.assigned')).toHaveLength(1);

    const contact = await newContact(acme, 'Twice Opened');
    const body = { kind: 'contact', contactId: contact.id, channel: 'whatsapp' };
    const opens = await Promise.all([acme.member, max, acme.admin, acme.owner].map((actor) => open(actor.token, body)));
    expect(opens.map((res) => res.status).sort()).toEqual([200, 200, 200, 201]);
    expect(new Set(opens.map((res) => res.body.id)).size).toBe(1);
    const { items } = await listAll(acme.owner.token, { contactId: contact.id, limit: 100 });
    expect(ids(items)).toEqual([opens[0]!.body.id]);
  });
});

describe('participants', () => {
  it('adds and removes users and contacts; the contact, the assignee and the last user of a direct conversation stay', async () => {
    const conversation = await opened(acme);
    ok(await act(acme.owner.token, conversation.id, 'assign', { assigneeId: acme.member.user.id }));
    const added = ok(await act(acme.owner.token, conversation.id, 'participants', { actorKind: 'user', id: acme.admin.user.id }));
    expect(added.participants).toContainEqual(expect.objectContaining({ actorKind: 'user', id: acme.admin.user.id, addedBy: acme.owner.user.id }));
    expect(ok(await act(acme.owner.token, conversation.id, 'participants', { actorKind: 'user', id: acme.admin.user.id })).version).toBe(added.version);
    const other = await newContact(acme, 'Cc Contact');
    const withContact = ok(await act(acme.member.token, conversation.id, 'participants', { actorKind: 'contact', id: other.id }));
    expect(withContact.participants.map((p) => `${p.actorKind}:${p.id}`)).toEqual([
      `contact:${conversation.contactId}`,
      `user:${acme.member.user.id}`,
      `user:${acme.admin.user.id}`,
      `contact:${other.id}`,
    ]);

    for (const [body, field] of [
      [{ actorKind: 'user', id: 'usr_00000000000000000000000000' }, 'body.id'],
      [{ actorKind: 'user', id: globex.owner.user.id }, 'body.id'],
      [{ actorKind: 'contact', id: (await newContact(globex)).id }, 'body.id'],
      [{ actorKind: 'contact', id: 'not-a-contact' }, 'body.id'],
    ] as const) {
      const res = await act(acme.owner.token, conversation.id, 'participants', body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(fields(res)).toEqual([field]);
    }
    // Max neither holds it nor manages: 403 on both.
    expect((await act(max.token, conversation.id, 'participants', { actorKind: 'user', id: max.user.id })).status).toBe(403);
    const remove = (token: string, id: string, headers: Record<string, string> = {}) =>
      stack.api('DELETE', `/v1/conversations/${conversation.id}/participants/${id}`, { token, headers });
    expect((await remove(max.token, acme.admin.user.id)).status).toBe(403);

    const contactStays = await remove(acme.owner.token, conversation.contactId!);
    expect(contactStays.status).toBe(422);
    expect(contactStays.body.code).toBe('unprocessable');
    expect((await remove(acme.owner.token, acme.member.user.id)).status).toBe(422);
    expect((await remove(acme.owner.token, acme.admin.user.id, { 'if-match': '"1"' })).status).toBe(412);
    const removed = ok(await remove(acme.owner.token, acme.admin.user.id));
    expect(removed.participants.map((p) => p.id)).not.toContain(acme.admin.user.id);
    expect(ok(await remove(acme.member.token, other.id)).participants).toHaveLength(2);
    expect((await remove(acme.owner.token, acme.admin.user.id)).status).toBe(404);
    expect((await remove(acme.owner.token, 'usr_00000000000000000000000000')).status).toBe(404);

    const events = (await eventsOf(conversation.id)).filter((event) => event.type.startsWith('conversation.participant_'));
    expect(events.map((event) => [event.type, event.payload.actorKind, event.payload.id])).toEqual([
      ['conversation.participant_removed', 'contact', other.id],
      ['conversation.participant_removed', 'user', acme.admin.user.id],
      ['conversation.participant_added', 'contact', other.id],
      ['conversation.participant_added', 'user', acme.admin.user.id],
    ]);

    const direct = await open(acme.admin.token, { kind: 'direct', userIds: [acme.member.user.id] });
    const leave = ok(
      await stack.api('DELETE', `/v1/conversations/${direct.body.id}/participants/${acme.member.user.id}`, { token: acme.member.token }),
    );
    expect(leave.participants.map((p) => p.id)).toEqual([acme.admin.user.id]);
    const last = await stack.api('DELETE', `/v1/conversations/${direct.body.id}/participants/${acme.admin.user.id}`, {
      token: acme.admin.token,
    });
    expect(last.status).toBe(422);
    // Gone from it: a 404 to the member now.
    expect((await get(acme.member.token, direct.body.id)).status).toBe(404);
  });

  it('holds at most 50', async () => {
    const crowded = await opened(acme);
    for (let index = 0; index < 49; index += 1) {
      ok(await act(acme.owner.token, crowded.id, 'participants', { actorKind: 'contact', id: (await newContact(acme, `Crowd ${index}`)).id }));
    }
    const full = await act(acme.owner.token, crowded.id, 'participants', { actorKind: 'user', id: acme.admin.user.id });
    expect(full.status).toBe(422);
    expect(full.body).toMatchObject({ code: 'limit_exceeded', limit: 50 });
    expect(fields(full)).toEqual(['body.id']);
  });
});

describe('score and qualification', () => {
  it('keeps every rating and qualification, newest first; the latest is the conversation’s', async () => {
    const conversation = await opened(acme);
    for (const value of [4, 2, 5]) {
      stack.clock.advance(1000);
      const res = await act(acme.member.token, conversation.id, 'scores', { value });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.body).toMatchObject({ conversationId: conversation.id, value, source: 'manual', userId: acme.member.user.id });
    }
    expect((await act(acme.member.token, conversation.id, 'scores', { value: 6 })).status).toBe(400);
    const first = await stack.api('GET', `/v1/conversations/${conversation.id}/scores`, { token: acme.admin.token, query: { limit: 2 } });
    expect(first.body.items.map((score: any) => score.value)).toEqual([5, 2]);
    const rest = await stack.api('GET', `/v1/conversations/${conversation.id}/scores`, {
      token: acme.admin.token,
      query: { limit: 2, cursor: first.body.nextCursor },
    });
    expect(rest.body.items.map((score: any) => score.value)).toEqual([4]);
    expect(rest.body.nextCursor).toBeNull();

    for (const [kind, score, source] of [['lead', 3, 'ai'], ['customer', undefined, 'manual']] as const) {
      stack.clock.advance(1000);
      const res = await act(acme.member.token, conversation.id, 'qualifications', { kind, score, source });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    }
    const qualifications = await stack.api('GET', `/v1/conversations/${conversation.id}/qualifications`, { token: acme.member.token });
    expect(qualifications.body.items.map((q: any) => [q.kind, q.score, q.source])).toEqual([
      ['customer', null, 'manual'],
      ['lead', 3, 'ai'],
    ]);
    const now = (await get(acme.member.token, conversation.id)).body;
    expect(now.score).toMatchObject({ value: 5, source: 'manual' });
    expect(now.qualification).toMatchObject({ kind: 'customer', score: null, source: 'manual' });

    const events = await eventsOf(conversation.id);
    expect(events.slice(0, 5).map((event) => [event.type, event.payload.value ?? event.payload.kind])).toEqual([
      ['conversation.qualified', 'customer'],
      ['conversation.qualified', 'lead'],
      ['conversation.scored', 5],
      ['conversation.scored', 2],
      ['conversation.scored', 4],
    ]);
    expect(events[0]!.contactId).toBe(conversation.contactId);
    // They carry the conversation's channel, so the contact's timeline filtered by it keeps them.
    const timelineOn = async (channels: string) => {
      const timeline = await stack.api('GET', `/v1/contacts/${conversation.contactId}/timeline`, { token: acme.member.token, query: { channels } });
      expect(timeline.status, JSON.stringify(timeline.body)).toBe(200);
      return (timeline.body.items as any[]).map(({ event }) => [event.type, event.channel, event.payload.channel]);
    };
    expect(await timelineOn('email')).toEqual([
      ...Array.from({ length: 5 }, (_, index) => [index < 2 ? 'conversation.qualified' : 'conversation.scored', 'email', 'email']),
      ['conversation.opened', 'email', 'email'],
    ]);
    expect(await timelineOn('sms')).toEqual([]);

    // As for contacts: a member rates and qualifies only their own and pool conversations.
    ok(await act(acme.owner.token, conversation.id, 'assign', { assigneeId: max.user.id }));
    expect((await act(acme.member.token, conversation.id, 'scores', { value: 1 })).status).toBe(403);
    expect((await act(acme.member.token, conversation.id, 'qualifications', { kind: 'not_a_fit' })).status).toBe(403);
    expect((await act(max.token, conversation.id, 'scores', { value: 1 })).status).toBe(201);
  });
});

describe('another workspace', () => {
  it('answers 404 on every conversation route, and shows nothing of it in lists and counts', async () => {
    const conversation = await opened(acme);
    const token = globex.owner.token;
    const id = conversation.id;
    const requests: [string, string, unknown?][] = [
      ['GET', `/v1/conversations/${id}`],
      ['POST', `/v1/conversations/${id}/status`, { status: 'resolved' }],
      ['POST', `/v1/conversations/${id}/claim`],
      ['POST', `/v1/conversations/${id}/release`],
      ['POST', `/v1/conversations/${id}/assign`, { assigneeId: globex.owner.user.id }],
      ['POST', `/v1/conversations/${id}/participants`, { actorKind: 'user', id: globex.owner.user.id }],
      ['DELETE', `/v1/conversations/${id}/participants/${conversation.contactId}`],
      ['POST', `/v1/conversations/${id}/scores`, { value: 3 }],
      ['GET', `/v1/conversations/${id}/scores`],
      ['POST', `/v1/conversations/${id}/qualifications`, { kind: 'lead' }],
      ['GET', `/v1/conversations/${id}/qualifications`],
    ];
    for (const [method, path, body] of requests) {
      const res = await stack.api(method, path, { token, ...(body === undefined ? {} : { body }) });
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    expect(ids((await listAll(token, { view: 'all' })).items)).not.toContain(id);
    expect((await listAll(token, { contactId: conversation.contactId! })).items).toEqual([]);
    const counts = await stack.api('GET', '/v1/inbox/counts', { token });
    expect(counts.body.conversations.all.open).toBe(0);
    // Nothing changed.
    expect((await get(acme.owner.token, id)).body.version).toBe(1);
    expect(await typesOf(id)).toEqual(['conversation.opened']);
  });
});

/** What a view holds, from the conversations themselves (each read by id). */
function recount(conversations: Conversation[], userId: string) {
  const statuses = ['open', 'pending', 'snoozed', 'resolved'] as const;
  const contactOnes = conversations.filter((c) => c.kind === 'contact');
  const byStatus = (keep: (c: Conversation) => boolean) =>
    Object.fromEntries(statuses.map((status) => [status, contactOnes.filter((c) => c.status === status && keep(c)).length]));
  return {
    mine: byStatus((c) => c.assigneeId === userId),
    unassigned: byStatus((c) => c.assigneeId === null),
    all: byStatus(() => true),
  };
}

describe('views and counts (a workspace of their own)', () => {
  let ws: Seeded;
  let contacts: { id: string }[];
  /** Every conversation of the workspace, by id. */
  const made = new Map<string, Conversation>();
  const refresh = async () => {
    // The owner is in no direct conversation here (a 404 to them): those are read by the member.
    for (const [id, known] of made) made.set(id, ok(await get(known.kind === 'direct' ? ws.member.token : ws.owner.token, id)));
    return [...made.values()];
  };
  /** Newest activity first (ties: the later id first), as the views sort. */
  const byActivity = (items: Conversation[]) =>
    [...items].sort((a, b) => `${b.lastActivityAt}#${b.id}`.localeCompare(`${a.lastActivityAt}#${a.id}`));

  beforeAll(async () => {
    ws = await seedWorkspace(stack, 'Views');
    contacts = [await newContact(ws, 'V One'), await newContact(ws, 'V Two'), await newContact(ws, 'V Three')];
    const channels = ['email', 'sms', 'whatsapp', 'telegram'];
    for (let index = 0; index < 23; index += 1) {
      stack.clock.advance(60_000);
      const conversation = await opened(ws, { contactId: contacts[index % 3]!.id, channel: channels[index % 4]! });
      made.set(conversation.id, conversation);
      if (index % 5 === 1) ok(await act(ws.member.token, conversation.id, 'claim'));
      if (index % 5 === 2) ok(await act(ws.owner.token, conversation.id, 'assign', { assigneeId: ws.admin.user.id }));
      if (index % 7 === 3) ok(await act(ws.owner.token, conversation.id, 'status', { status: 'pending' }));
      if (index % 11 === 4) ok(await act(ws.owner.token, conversation.id, 'status', { status: 'resolved' }));
    }
    const direct = await open(ws.member.token, { kind: 'direct', userIds: [ws.admin.user.id] });
    made.set(direct.body.id, direct.body);
  }, 180_000);

  it('serves mine, unassigned, all and direct, with their filters, newest activity first', async () => {
    const all = await refresh();
    const expectView = async (token: string, query: Record<string, string>, keep: (c: Conversation) => boolean) => {
      const { items } = await listAll(token, { ...query, limit: 100 });
      expect(ids(items), JSON.stringify(query)).toEqual(ids(byActivity(all.filter(keep))));
      return items;
    };
    const contact = (c: Conversation) => c.kind === 'contact';
    const mine = await expectView(ws.member.token, { view: 'mine' }, (c) => contact(c) && c.status === 'open' && c.assigneeId === ws.member.user.id);
    expect(mine.length).toBeGreaterThan(0);
    await expectView(ws.admin.token, { view: 'mine', status: 'pending' }, (c) => contact(c) && c.status === 'pending' && c.assigneeId === ws.admin.user.id);
    await expectView(ws.member.token, { view: 'unassigned' }, (c) => contact(c) && c.status === 'open' && c.assigneeId === null);
    await expectView(ws.member.token, { view: 'all' }, (c) => contact(c) && c.status === 'open');
    await expectView(ws.member.token, { view: 'all', status: 'resolved' }, (c) => contact(c) && c.status === 'resolved');
    await expectView(ws.member.token, { view: 'all', channel: 'sms' }, (c) => contact(c) && c.status === 'open' && c.channel === 'sms');
    await expectView(ws.member.token, { view: 'unassigned', channel: 'email' }, (c) => contact(c) && c.status === 'open' && !c.assigneeId && c.channel === 'email');
    await expectView(ws.member.token, { view: 'all', assigneeId: ws.admin.user.id }, (c) => contact(c) && c.status === 'open' && c.assigneeId === ws.admin.user.id);
    await expectView(ws.owner.token, { view: 'all', assigneeId: ws.admin.user.id, channel: 'whatsapp' }, (c) => contact(c) && c.status === 'open' && c.assigneeId === ws.admin.user.id && c.channel === 'whatsapp');
    const ofContact = await expectView(ws.member.token, { contactId: contacts[0]!.id }, (c) => c.contactId === contacts[0]!.id && c.status === 'open');
    expect(ofContact.length).toBeGreaterThan(1);
    await expectView(ws.member.token, { contactId: contacts[1]!.id, status: 'pending' }, (c) => c.contactId === contacts[1]!.id && c.status === 'pending');
    await expectView(ws.member.token, { contactId: contacts[2]!.id, view: 'mine' }, (c) => c.contactId === contacts[2]!.id && c.status === 'open' && c.assigneeId === ws.member.user.id);
    await expectView(ws.member.token, { contactId: contacts[0]!.id, channel: 'email', status: 'open' }, (c) => c.contactId === contacts[0]!.id && c.status === 'open' && c.channel === 'email');
    await expectView(ws.admin.token, { view: 'direct' }, (c) => c.kind === 'direct');
    expect(await expectView(ws.owner.token, { view: 'direct' }, () => false)).toEqual([]);

    const wrong = await stack.api('GET', '/v1/conversations', { token: ws.owner.token, query: { view: 'mine', assigneeId: ws.admin.user.id } });
    expect(wrong.status).toBe(400);
    expect(fields(wrong)).toEqual(['query.assigneeId']);
    expect((await stack.api('GET', '/v1/conversations', { token: ws.owner.token, query: { view: 'everything' } })).status).toBe(400);
  });

  it('pages through a view and through a filtered contact list without duplicates or gaps', async () => {
    const all = await refresh();
    const open = byActivity(all.filter((c) => c.kind === 'contact' && c.status === 'open'));
    expect(open.length).toBeGreaterThan(12);
    const paged = await listAll(ws.member.token, { view: 'all', limit: 4 });
    expect(paged.pages).toBe(Math.ceil(open.length / 4));
    expect(ids(paged.items)).toEqual(ids(open));

    // A contact's list holds every status: a filter may leave a page short, or empty, with a cursor.
    for (const status of ['open', 'pending', 'resolved']) {
      for (const contact of contacts) {
        const expected = byActivity(all.filter((c) => c.contactId === contact.id && c.status === status));
        const { items } = await listAll(ws.member.token, { contactId: contact.id, status, limit: 2 });
        expect(ids(items), `${status} of ${contact.id}`).toEqual(ids(expected));
      }
    }
    // A cursor continues only its own query.
    const first = await list(ws.member.token, { view: 'all', limit: 2 });
    const other = await stack.api('GET', '/v1/conversations', {
      token: ws.member.token,
      query: { view: 'unassigned', limit: 2, cursor: first.nextCursor! },
    });
    expect(other.status).toBe(400);
    expect(other.body.code).toBe('invalid_cursor');
  });

  it('sorts by waiting time: the longest-waiting first, nothing waiting last', async () => {
    const all = (await refresh()).filter((c) => c.kind === 'contact' && c.status === 'open' && c.assigneeId === null);
    expect(all.length).toBeGreaterThan(4);
    // A contact's unanswered message sets `waitingSince` (messages arrive with the inbox's message
    // routes): written here as they write it, through commitConversation.
    const waiting = [all[3]!, all[0]!, all[2]!];
    for (const [index, conversation] of waiting.entries()) {
      const before = (await findConversation(stack.deps, ws.workspace.id, conversation.id, true))!;
      await commitConversation(stack.deps, before, {
        after: { ...before, waitingSince: `2026-01-01T0${index}:00:00.000Z`, version: before.version + 1, updatedAt: stack.clock.nowIso() },
        events: [],
      });
    }
    const notWaiting = all.filter((c) => !waiting.includes(c)).sort((a, b) => a.id.localeCompare(b.id));
    const expected = [...ids(waiting), ...ids(notWaiting)];
    const { items, pages } = await listAll(ws.member.token, { view: 'unassigned', sort: 'waiting', limit: 2 });
    expect(ids(items)).toEqual(expected);
    expect(pages).toBe(Math.ceil(expected.length / 2));
    expect(items[0]!.waitingSince).toBe('2026-01-01T00:00:00.000Z');
    expect(ids((await listAll(ws.admin.token, { view: 'all', sort: 'waiting', limit: 100 })).items).slice(0, 3)).toEqual(ids(waiting));
    // By activity, waiting changes nothing.
    expect(ids((await listAll(ws.member.token, { view: 'unassigned', limit: 100 })).items)).toEqual(ids(byActivity(all)));
  });

  it('counts each view per status as a recount does, after opens, assignments and status changes', async () => {
    const users = [ws.owner, ws.admin, ws.member];
    const check = async () => {
      const all = await refresh();
      for (const user of users) {
        const counts = await stack.api('GET', '/v1/inbox/counts', { token: user.token });
        expect(counts.status).toBe(200);
        const expected = recount(all, user.user.id);
        expect(counts.body.conversations).toEqual(expected);
        // The views hold what the counts say.
        for (const view of ['mine', 'unassigned', 'all'] as const) {
          for (const status of ['open', 'pending', 'snoozed', 'resolved'] as const) {
            const { items } = await listAll(user.token, { view, status, limit: 100 });
            expect(items.length, `${view} ${status}`).toBe(expected[view][status]);
          }
        }
      }
    };
    await check();
    const conversations = [...made.values()].filter((c) => c.kind === 'contact');
    const script: [string, string, unknown][] = [
      [ws.member.token, 'claim', undefined],
      [ws.owner.token, 'assign', { assigneeId: ws.member.user.id }],
      [ws.owner.token, 'status', { status: 'snoozed', snoozedUntil: later(600) }],
      [ws.member.token, 'status', { status: 'pending' }],
      [ws.admin.token, 'claim', undefined],
      [ws.owner.token, 'status', { status: 'resolved' }],
      [ws.admin.token, 'release', undefined],
      [ws.owner.token, 'assign', { assigneeId: ws.admin.user.id }],
      [ws.owner.token, 'status', { status: 'open' }],
    ];
    for (const [index, conversation] of conversations.slice(0, 12).entries()) {
      for (const [token, action, body] of script.slice(index % 3, (index % 3) + 4)) {
        const res = await act(token, conversation.id, action, body);
        expect([200, 403, 409], `${action} ${res.status} ${JSON.stringify(res.body)}`).toContain(res.status);
      }
    }
    for (const index of [0, 1, 2]) {
      const conversation = await opened(ws, { contactId: contacts[index]!.id, channel: 'sms', token: ws.member.token });
      made.set(conversation.id, conversation);
    }
    await check();
  }, 180_000);

  it('reads a view page in one Query and the counts in one BatchGetItem', async () => {
    const queries: Record<string, string>[] = [
      { view: 'mine' },
      { view: 'unassigned', channel: 'email', sort: 'waiting' },
      { view: 'all', status: 'pending', limit: '3' },
      { view: 'all', assigneeId: ws.admin.user.id },
      { view: 'direct' },
      { contactId: contacts[0]!.id, status: 'resolved' },
    ];
    await list(ws.member.token); // the token is read once, then cached
    for (const query of queries) {
      stack.calls.reset();
      const page = await list(ws.member.token, query);
      expect({ ...stack.calls.counts }, JSON.stringify(query)).toEqual({ QueryCommand: 1 });
      if (page.nextCursor) {
        stack.calls.reset();
        await list(ws.member.token, { ...query, cursor: page.nextCursor });
        expect({ ...stack.calls.counts }).toEqual({ QueryCommand: 1 });
      }
    }
    stack.calls.reset();
    await stack.api('GET', '/v1/inbox/counts', { token: ws.member.token });
    expect({ ...stack.calls.counts }).toEqual({ BatchGetItemCommand: 1 });
  });
});

describe('snooze wake-up by time (the wake-snoozed schedule)', () => {
  const runSchedule = () => wakeSnoozed(scheduledEvent('wake-snoozed', stack.clock.nowIso()));

  it('opens the conversations whose time has come, in every workspace; a later snooze waits', async () => {
    const due = await opened(acme);
    const moved = await opened(acme);
    const untimed = await opened(acme);
    const foreign = await opened(globex);
    const at = later(30);
    ok(await act(acme.member.token, due.id, 'status', { status: 'snoozed', snoozedUntil: at }));
    ok(await act(acme.member.token, moved.id, 'status', { status: 'snoozed', snoozedUntil: at }));
    ok(await act(acme.member.token, moved.id, 'status', { status: 'snoozed', snoozedUntil: later(180) }));
    ok(await act(acme.member.token, untimed.id, 'status', { status: 'snoozed' }));
    ok(await act(globex.owner.token, foreign.id, 'status', { status: 'snoozed', snoozedUntil: later(31) }));

    // Not yet: nothing moves, and the run reads nothing but the due part of the snoozed index.
    stack.clock.advance(29 * 60_000);
    stack.calls.reset();
    await runSchedule();
    expect({ ...stack.calls.counts }).toEqual({ QueryCommand: 1 });
    expect((await get(acme.owner.token, due.id)).body.status).toBe('snoozed');

    stack.clock.advance(3 * 60_000);
    await runSchedule();
    const woken = (await get(acme.owner.token, due.id)).body as Conversation;
    expect(woken).toMatchObject({ status: 'open', snoozedUntil: null, version: 3 });
    expect((await get(globex.owner.token, foreign.id)).body.status).toBe('open');
    expect((await get(acme.owner.token, moved.id)).body).toMatchObject({ status: 'snoozed', snoozedUntil: expect.any(String) });
    expect((await get(acme.owner.token, untimed.id)).body.status).toBe('snoozed');

    const [event] = await eventsOf(due.id);
    expect(event).toMatchObject({
      type: 'conversation.status_changed',
      actorUserId: 'system',
      contactId: due.contactId,
      payload: { from: 'snoozed', to: 'open', snoozedUntil: null, cause: 'schedule', channel: 'email' },
    });
    // It is back in the open views and out of the snoozed ones.
    expect(ids((await listAll(acme.member.token, { view: 'unassigned', limit: 100 })).items)).toContain(due.id);
    expect(ids((await listAll(acme.member.token, { view: 'all', status: 'snoozed', limit: 100 })).items)).not.toContain(due.id);

    // A second run finds nothing more to do.
    await runSchedule();
    expect((await get(acme.owner.token, due.id)).body.version).toBe(3);
    expect((await eventsOf(due.id)).filter((e) => e.payload.cause === 'schedule')).toHaveLength(1);

    stack.clock.advance(151 * 60_000);
    await runSchedule();
    expect((await get(acme.owner.token, moved.id)).body.status).toBe('open');
    expect((await get(acme.owner.token, untimed.id)).body.status).toBe('snoozed');
  });

  it('goes on batch after batch while batches come back full', async () => {
    const many = [];
    for (let index = 0; index < 5; index += 1) many.push(await opened(acme));
    for (const [index, conversation] of many.entries()) {
      ok(await act(acme.owner.token, conversation.id, 'status', { status: 'snoozed', snoozedUntil: later(5 + index) }));
    }
    stack.clock.advance(11 * 60_000);
    const batch = wakeSnoozedSettings.batch;
    wakeSnoozedSettings.batch = 2;
    try {
      await runSchedule();
    } finally {
      wakeSnoozedSettings.batch = batch;
    }
    for (const conversation of many) expect((await get(acme.owner.token, conversation.id)).body.status).toBe('open');
  });

  it('a conversation that cannot be woken holds back none of the others due with it', async () => {
    const broken = await opened(acme);
    const fine = await opened(acme);
    ok(await act(acme.owner.token, broken.id, 'status', { status: 'snoozed', snoozedUntil: later(5) }));
    ok(await act(acme.owner.token, fine.id, 'status', { status: 'snoozed', snoozedUntil: later(6) }));
    // A stored item its event cannot describe (a channel no catalogue knows): waking it throws.
    const setChannel = (channel: string) =>
      stack.deps.db.client.send(
        new UpdateCommand({
          TableName: stack.tableName,
          Key: { pk: `WS#${acme.workspace.id}#CONV#${broken.id}`, sk: 'CONV' },
          UpdateExpression: 'SET channel = :channel',
          ExpressionAttributeValues: { ':channel': channel },
        }),
      );
    await setChannel('fax');
    stack.clock.advance(10 * 60_000);
    await runSchedule();
    expect((await get(acme.owner.token, fine.id)).body.status).toBe('open');
    await setChannel('email');
    await runSchedule();
    expect((await get(acme.owner.token, broken.id)).body.status).toBe('open');
  });
});
