import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestInboundCall } from '../../domain/inbox/calls.service';
import { systemActor } from '../../domain/shared/context';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';
import { ok } from '../support/ok';

/* eslint-disable @typescript-eslint/no-explicit-any -- records read back from the API */

let stack: TestStack;
let acme: Awaited<ReturnType<typeof seedWorkspace>>;
let globex: Awaited<ReturnType<typeof seedWorkspace>>;

// The stack's clock starts at 2026-01-15T09:00:00Z and moves only when told.
beforeAll(async () => {
  stack = await createTestStack();
  [acme, globex] = await Promise.all([seedWorkspace(stack, 'Acme'), seedWorkspace(stack, 'Globex')]);
});
afterAll(() => stack.destroy());

const later = (seconds: number) => stack.clock.advance(seconds * 1000);
const api = (method: string, path: string, body?: unknown, token = acme.owner.token, headers: Record<string, string> = {}) =>
  stack.api(method, path, { token, ...(body === undefined ? {} : { body }), headers });

let contacts = 0;
async function contactConversation(channel = 'email') {
  const contact = await ok(api('POST', '/v1/contacts', { name: `Callee ${++contacts}` }), 201);
  const conversation = await ok(api('POST', '/v1/conversations', { kind: 'contact', contactId: contact.id, channel }), 201);
  return { contactId: contact.id as string, conversation };
}
const callsOf = (conversationId: string) => `/v1/conversations/${conversationId}/calls`;
const start = (conversationId: string, body: Record<string, unknown> = {}, token = acme.owner.token) =>
  api('POST', callsOf(conversationId), body, token);
const conversation = (id: string) => ok(api('GET', `/v1/conversations/${id}`));
/** The owner's direct conversation with these users (201 the first time, 200 after). */
async function openDirect(userIds: string[]) {
  const res = await api('POST', '/v1/conversations', { kind: 'direct', userIds });
  expect([200, 201]).toContain(res.status);
  return res.body;
}

describe('starting a call', () => {
  it('records it `initiated`, started by the caller, and moves the conversation up its views', async () => {
    const first = await contactConversation();
    later(60);
    const second = await contactConversation();
    const view = async () => (await ok(api('GET', '/v1/conversations', undefined, acme.owner.token))).items.map((c: any) => c.id);
    expect((await view()).indexOf(second.conversation.id)).toBeLessThan((await view()).indexOf(first.conversation.id));

    later(60);
    const res = await start(first.conversation.id, { kind: 'video', payload: { provider: 'test', room: 'r1' } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      conversationId: first.conversation.id,
      channel: 'phone',
      kind: 'video',
      status: 'initiated',
      startedByUserId: acme.owner.user.id,
      startedByContactId: null,
      startedAt: '2026-01-15T09:02:00.000Z',
      connectedAt: null,
      endedAt: null,
      durationSeconds: null,
      endedBy: null,
      payload: { provider: 'test', room: 'r1' },
      version: 1,
    });
    expect(res.body.id).toMatch(/^call_/);
    expect(res.headers.etag).toBe('"1"');
    expect(res.headers.location).toBe(`${callsOf(first.conversation.id)}/${res.body.id}`);

    const after = await conversation(first.conversation.id);
    expect(after.lastActivityAt).toBe('2026-01-15T09:02:00.000Z');
    expect(after.version).toBe(first.conversation.version + 1);
    const ids = await view();
    expect(ids.indexOf(first.conversation.id)).toBeLessThan(ids.indexOf(second.conversation.id));
  });

  it('takes its channel from the conversation, or the one named; a direct conversation calls on `internal` only', async () => {
    const expected: Record<string, string> = { whatsapp: 'whatsapp', telegram: 'telegram', sms: 'phone', email: 'phone' };
    for (const [channel, callChannel] of Object.entries(expected)) {
      const { conversation: cv } = await contactConversation(channel);
      expect((await ok(start(cv.id), 201)).channel, channel).toBe(callChannel);
    }
    const { conversation: cv } = await contactConversation('email');
    expect((await ok(start(cv.id, { channel: 'whatsapp' }), 201)).channel).toBe('whatsapp');

    const direct = await openDirect([acme.admin.user.id]);
    expect((await ok(start(direct.id), 201)).channel).toBe('internal');
    expect((await ok(start(direct.id, { channel: 'internal' }), 201)).kind).toBe('voice');
    const refused = await start(direct.id, { channel: 'phone' });
    expect(refused.status).toBe(422);
    expect(refused.body.code).toBe('unprocessable');
  });

  it('refuses a bad body with a 400 naming the field', async () => {
    const { conversation: cv } = await contactConversation();
    for (const body of [{ channel: 'email' }, { kind: 'hologram' }, { payload: 'text' }, { payload: { big: 'x'.repeat(16_001) } }]) {
      const res = await start(cv.id, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.errors[0].field).toMatch(/^body\./);
    }
  });

  it('takes an inbound call from the conversation’s contact (the channels’ domain entry)', async () => {
    const { contactId, conversation: cv } = await contactConversation('whatsapp');
    later(30);
    const call = await ingestInboundCall(stack.deps, systemActor(acme.workspace.id), cv.id, { kind: 'voice' });
    expect(call).toMatchObject({ startedByContactId: contactId, startedByUserId: null, channel: 'whatsapp', status: 'initiated' });
    expect((await ok(api('GET', callsOf(cv.id)))).items.map((c: any) => c.id)).toEqual([call.id]);
    expect((await conversation(cv.id)).lastActivityAt).toBe(call.startedAt);

    const direct = await openDirect([acme.member.user.id]);
    await expect(ingestInboundCall(stack.deps, systemActor(acme.workspace.id), direct.id, { kind: 'voice' })).rejects.toMatchObject({
      code: 'unprocessable',
    });
  });
});

describe('reading calls', () => {
  it('lists a conversation’s calls newest first, a page per Query, with a cursor', async () => {
    const { conversation: cv } = await contactConversation();
    const started: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      later(1);
      started.push((await ok(start(cv.id), 201)).id);
    }
    const other = await contactConversation();
    await ok(start(other.conversation.id), 201);

    await ok(api('GET', callsOf(cv.id), undefined)); // the token is read and cached
    stack.calls.reset();
    const page1 = await ok(api('GET', callsOf(cv.id) + '?limit=2'));
    expect(stack.calls.counts.QueryCommand).toBe(1);
    const page2 = await ok(api('GET', `${callsOf(cv.id)}?limit=2&cursor=${encodeURIComponent(page1.nextCursor)}`));
    const page3 = await ok(api('GET', `${callsOf(cv.id)}?limit=2&cursor=${encodeURIComponent(page2.nextCursor)}`));
    expect([...page1.items, ...page2.items, ...page3.items].map((c: any) => c.id)).toEqual([...started].reverse());
    expect(page3.nextCursor).toBeNull();

    // A cursor is bound to its conversation.
    const foreignCursor = await api('GET', `${callsOf(other.conversation.id)}?limit=2&cursor=${encodeURIComponent(page1.nextCursor)}`);
    expect(foreignCursor.status).toBe(400);
    expect(foreignCursor.body.code).toBe('invalid_cursor');
  });

  it('gets one call with its ETag; a call of another conversation is a 404', async () => {
    const { conversation: cv } = await contactConversation();
    const call = await ok(start(cv.id), 201);
    const res = await api('GET', `${callsOf(cv.id)}/${call.id}`, undefined, acme.member.token);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(call);
    expect(res.headers.etag).toBe('"1"');
    const elsewhere = await contactConversation();
    expect((await api('GET', `${callsOf(elsewhere.conversation.id)}/${call.id}`)).status).toBe(404);
    expect((await api('GET', `${callsOf(cv.id)}/call_00000000000000000000000000`)).status).toBe(404);
  });
});

describe('a call’s status', () => {
  const status = (cv: string, callId: string, to: string, headers: Record<string, string> = {}, token = acme.owner.token) =>
    api('POST', `${callsOf(cv)}/${callId}/status`, { status: to }, token, headers);
  const end = (cv: string, callId: string, body: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
    api('POST', `${callsOf(cv)}/${callId}/end`, body, acme.owner.token, headers);

  it('rings, connects and ends; the duration runs from `connectedAt`', async () => {
    const { conversation: cv } = await contactConversation();
    const call = await ok(start(cv.id), 201);
    later(5);
    expect(await ok(status(cv.id, call.id, 'ringing'))).toMatchObject({ status: 'ringing', version: 2, connectedAt: null });
    later(10);
    const connected = await ok(status(cv.id, call.id, 'connected'));
    expect(connected).toMatchObject({ status: 'connected', version: 3, connectedAt: stack.clock.nowIso(), endedAt: null });
    later(90);
    const ended = await ok(end(cv.id, call.id));
    expect(ended).toMatchObject({
      status: 'ended',
      version: 4,
      endedAt: stack.clock.nowIso(),
      durationSeconds: 90,
      endedBy: acme.owner.user.id,
    });
    expect((await conversation(cv.id)).lastActivityAt).toBe(ended.endedAt);
  });

  it('refuses every transition the table does not allow with a 409 `invalid_transition`', async () => {
    const legal: Record<string, string[]> = {
      initiated: ['ringing', 'connected', 'missed', 'failed', 'ended'],
      ringing: ['connected', 'missed', 'failed', 'ended'],
      connected: ['ended', 'failed'],
      ended: [],
      missed: [],
      failed: [],
    };
    const path: Record<string, string[]> = {
      initiated: [],
      ringing: ['ringing'],
      connected: ['connected'],
      ended: ['ended'],
      missed: ['missed'],
      failed: ['failed'],
    };
    const { conversation: cv } = await contactConversation();
    for (const [from, allowed] of Object.entries(legal)) {
      for (const to of Object.keys(legal)) {
        if (to === from) continue;
        const call = await ok(start(cv.id), 201);
        for (const step of path[from]!) await ok(status(cv.id, call.id, step));
        const res = await status(cv.id, call.id, to);
        if (allowed.includes(to)) {
          expect(res.status, `${from} → ${to}`).toBe(200);
          expect(res.body.status).toBe(to);
        } else {
          expect(res.status, `${from} → ${to}`).toBe(409);
          expect(res.body).toMatchObject({ code: 'invalid_transition', callStatus: from, allowed });
        }
      }
    }
  });

  it('changes nothing when told the status the call has (a repeated report)', async () => {
    const { conversation: cv } = await contactConversation();
    const call = await ok(start(cv.id), 201);
    await ok(status(cv.id, call.id, 'ringing'));
    const again = await ok(status(cv.id, call.id, 'ringing'));
    expect(again).toMatchObject({ status: 'ringing', version: 2 });
    await ok(status(cv.id, call.id, 'missed'));
    expect(await ok(status(cv.id, call.id, 'missed'))).toMatchObject({ status: 'missed', version: 3 });
  });

  it('ends a call that never connected with 0 s; missed and failed calls end too', async () => {
    const { conversation: cv } = await contactConversation();
    const unanswered = await ok(start(cv.id), 201);
    later(20);
    expect(await ok(end(cv.id, unanswered.id))).toMatchObject({ status: 'ended', durationSeconds: 0 });
    const missed = await ok(start(cv.id), 201);
    later(20);
    expect(await ok(status(cv.id, missed.id, 'missed'))).toMatchObject({ status: 'missed', durationSeconds: 0, endedAt: stack.clock.nowIso() });
    expect((await conversation(cv.id)).lastActivityAt).toBe(stack.clock.nowIso());
    const dropped = await ok(start(cv.id), 201);
    await ok(status(cv.id, dropped.id, 'connected'));
    later(42);
    expect(await ok(status(cv.id, dropped.id, 'failed'))).toMatchObject({ status: 'failed', durationSeconds: 42 });
    // `ended` through the status route is the end route without a duration.
    const viaStatus = await ok(start(cv.id), 201);
    await ok(status(cv.id, viaStatus.id, 'connected'));
    later(7);
    expect(await ok(status(cv.id, viaStatus.id, 'ended'))).toMatchObject({ status: 'ended', durationSeconds: 7 });
    // A final call does not end again.
    for (const final of [missed, dropped]) {
      const res = await end(cv.id, final.id);
      expect(res.status).toBe(409);
      expect(res.body.code).toBe('invalid_transition');
    }
  });

  it('takes the client’s duration, at most the time since the call started', async () => {
    const { conversation: cv } = await contactConversation();
    const call = await ok(start(cv.id), 201);
    await ok(status(cv.id, call.id, 'connected'));
    later(100);
    const tooLong = await end(cv.id, call.id, { durationSeconds: 101 });
    expect(tooLong.status).toBe(422);
    expect(tooLong.body).toMatchObject({ code: 'limit_exceeded', limit: 100 });
    expect(tooLong.body.errors[0].field).toBe('body.durationSeconds');
    const negative = await end(cv.id, call.id, { durationSeconds: -1 });
    expect(negative.status).toBe(400);
    expect(negative.body.errors[0].field).toBe('body.durationSeconds');
    expect((await end(cv.id, call.id, { durationSeconds: 1.5 })).status).toBe(400);
    expect(await ok(end(cv.id, call.id, { durationSeconds: 95 }))).toMatchObject({ status: 'ended', durationSeconds: 95, version: 3 });
    // Ending it again changes nothing; another duration is a conflict.
    expect(await ok(end(cv.id, call.id))).toMatchObject({ durationSeconds: 95, version: 3 });
    expect(await ok(end(cv.id, call.id, { durationSeconds: 95 }))).toMatchObject({ version: 3 });
    expect((await end(cv.id, call.id, { durationSeconds: 60 })).body.code).toBe('invalid_transition');
  });

  it('honours If-Match: a stale version is a 412, the current one goes through', async () => {
    const { conversation: cv } = await contactConversation();
    const call = await ok(start(cv.id), 201);
    const stale = await status(cv.id, call.id, 'ringing', { 'if-match': '"2"' });
    expect(stale.status).toBe(412);
    const current = await status(cv.id, call.id, 'ringing', { 'if-match': '"1"' });
    expect(current.status).toBe(200);
    expect(current.headers.etag).toBe('"2"');
    expect((await end(cv.id, call.id, {}, { 'if-match': '"1"' })).status).toBe(412);
    expect((await end(cv.id, call.id, {}, { 'if-match': '"2"' })).status).toBe(200);
  });
});

describe('who may call', () => {
  it('a member reads every contact conversation’s calls but calls and changes only their own or pool conversations', async () => {
    const { conversation: pool } = await contactConversation();
    const mine = await ok(start(pool.id, {}, acme.member.token), 201);
    expect(mine.startedByUserId).toBe(acme.member.user.id);

    const { conversation: held } = await contactConversation();
    const call = await ok(start(held.id), 201);
    await ok(api('POST', `/v1/conversations/${held.id}/assign`, { assigneeId: acme.admin.user.id }));
    expect((await ok(api('GET', callsOf(held.id), undefined, acme.member.token))).items).toHaveLength(1);
    expect((await api('GET', `${callsOf(held.id)}/${call.id}`, undefined, acme.member.token)).status).toBe(200);
    for (const res of [
      await start(held.id, {}, acme.member.token),
      await api('POST', `${callsOf(held.id)}/${call.id}/status`, { status: 'ringing' }, acme.member.token),
      await api('POST', `${callsOf(held.id)}/${call.id}/end`, {}, acme.member.token),
    ]) {
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('forbidden');
    }
    // The assignee and an owner may.
    expect((await api('POST', `${callsOf(held.id)}/${call.id}/status`, { status: 'ringing' }, acme.admin.token)).status).toBe(200);
    expect((await api('POST', `${callsOf(held.id)}/${call.id}/end`, {})).status).toBe(200);
  });

  it('a direct conversation’s calls are its users’: anyone else gets a 404', async () => {
    const direct = await openDirect([acme.admin.user.id]);
    const call = await ok(start(direct.id), 201);
    expect((await api('GET', callsOf(direct.id), undefined, acme.admin.token)).status).toBe(200);
    expect((await api('GET', callsOf(direct.id), undefined, acme.member.token)).status).toBe(404);
    expect((await api('POST', `${callsOf(direct.id)}/${call.id}/end`, {}, acme.member.token)).status).toBe(404);
  });

  it('another workspace’s conversation and calls are a 404 on every route', async () => {
    const { conversation: cv } = await contactConversation();
    const call = await ok(start(cv.id), 201);
    const foreign = globex.owner.token;
    for (const res of [
      await api('GET', callsOf(cv.id), undefined, foreign),
      await api('POST', callsOf(cv.id), {}, foreign),
      await api('GET', `${callsOf(cv.id)}/${call.id}`, undefined, foreign),
      await api('POST', `${callsOf(cv.id)}/${call.id}/status`, { status: 'ringing' }, foreign),
      await api('POST', `${callsOf(cv.id)}/${call.id}/end`, {}, foreign),
    ]) {
      expect(res.status).toBe(404);
    }
    expect(await ok(api('GET', `${callsOf(cv.id)}/${call.id}`))).toMatchObject({ status: 'initiated', version: 1 });
  });
});

describe('calls on the contact’s timeline', () => {
  it('shows the call’s events, with their channel, filterable by it', async () => {
    const { contactId, conversation: cv } = await contactConversation('sms');
    const call = await ok(start(cv.id), 201);
    later(3);
    await ok(api('POST', `${callsOf(cv.id)}/${call.id}/status`, { status: 'connected' }));
    later(61);
    await ok(api('POST', `${callsOf(cv.id)}/${call.id}/end`, {}));
    const timeline = await ok(api('GET', `/v1/contacts/${contactId}/timeline`, undefined, acme.member.token));
    const callEvents = timeline.items.filter((entry: any) => entry.event.entityType === 'call');
    expect(callEvents.map((entry: any) => entry.event.type)).toEqual(['call.ended', 'call.status_changed', 'call.started']);
    for (const entry of callEvents) {
      expect(entry.event).toMatchObject({ entityId: call.id, channel: 'phone', contactId, payload: { conversationId: cv.id, channel: 'phone' } });
    }
    expect(callEvents[0].event.payload).toMatchObject({ from: 'connected', durationSeconds: 61, kind: 'voice' });
    expect(callEvents[1].event.payload).toMatchObject({ from: 'initiated', to: 'connected' });
    expect(callEvents[2].event).toMatchObject({ actorUserId: acme.owner.user.id, payload: { startedByUserId: acme.owner.user.id, startedByContactId: null } });

    const byChannel = await ok(api('GET', `/v1/contacts/${contactId}/timeline?channels=phone`));
    expect(byChannel.items.map((entry: any) => entry.event.type)).toEqual(['call.ended', 'call.status_changed', 'call.started']);
    const byType = await ok(api('GET', `/v1/contacts/${contactId}/timeline?types=call.ended`));
    expect(byType.items).toHaveLength(1);
  });
});
