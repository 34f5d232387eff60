/**
 * Placing a phone call through the workspace's Twilio connection (`POST …/phone-calls`): the call is
 * written before Twilio is asked, Twilio's id is linked from its answer or from a progress callback that
 * names the call (`?call=` on the StatusCallback URL), and the callbacks move it. The provider is the
 * fake adapter (the request shape is the Twilio adapter's unit test); the callbacks are signed Twilio
 * webhooks through the channel-hooks function.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setChannelAdapters } from '../../functions/shared/deps';
import { createFakeChannelAdapters } from '../support/fake-channel-adapters';
import { connectAll, hook, twilioHeaders, type Connections } from '../support/channel-hooks';
import { fixtureText } from '../support/provider-fixtures';
import { contactWith } from '../support/send-setup';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';

let stack: TestStack;
let acme: Awaited<ReturnType<typeof seedWorkspace>>;
let globex: Awaited<ReturnType<typeof seedWorkspace>>;
let hooks: Connections;
const fake = createFakeChannelAdapters();
const agentPhone = '+14155550123';

beforeAll(async () => {
  stack = await createTestStack();
  setChannelAdapters(fake);
  acme = await seedWorkspace(stack, 'Acme');
  globex = await seedWorkspace(stack, 'Globex');
  hooks = await connectAll(stack, acme.owner.token);
});
afterAll(async () => {
  setChannelAdapters(undefined);
  await stack?.destroy();
});

const api = (method: string, path: string, body?: unknown, token = acme.owner.token) => stack.api(method, path, { token, body });

let threads = 0;
/** A contact with a phone number (its own each time: a number is one contact's) and an SMS conversation with them. */
async function smsThread(ws = acme, phone = `+1415555${2600 + ++threads}`) {
  const contact = await contactWith(stack, ws, [{ kind: 'phone', value: phone }], 'Pablo Phone');
  const opened = await api('POST', '/v1/conversations', { kind: 'contact', contactId: contact.id, channel: 'sms', new: true }, ws.owner.token);
  expect(opened.status, JSON.stringify(opened.body)).toBe(201);
  return { contactId: contact.id, conversationId: opened.body.id as string, phone };
}

/** A signed Twilio call progress callback for call `sid`, posted to the connection's hook (with our `?call=` when given). */
async function progress(name: string, sid: string, reference?: { conversationId: string; callId: string }) {
  const body = fixtureText(`twilio/${name}.txt`).trim().replace(/CallSid=[A-Za-z0-9]+/, `CallSid=${sid}`);
  const path = `/hooks/twilio/${hooks.sms}${reference ? `?call=${encodeURIComponent(`${reference.conversationId}:${reference.callId}`)}` : ''}`;
  const res = await hook(path, { body, headers: twilioHeaders(path, body) });
  expect(res.status, res.text).toBe(200);
}

async function callTypes(callId: string) {
  const { data } = await stack.deps.db.entities.event.query
    .byEntity({ workspaceId: acme.workspace.id, entityType: 'call', entityId: callId } as never)
    .go({ pages: 'all' });
  return (data as { type: string }[]).map((event) => event.type).sort();
}

describe('placing a phone call through Twilio', () => {
  it('rings the contact, bridges the caller’s phone, and follows Twilio’s progress to the end', async () => {
    const { conversationId, phone } = await smsThread();
    fake.nextCall({ accept: true, providerCallId: 'CA00000000000000000000000000000101' });
    const res = await api('POST', `/v1/conversations/${conversationId}/phone-calls`, { agentPhone });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({
      conversationId,
      channel: 'phone',
      kind: 'voice',
      status: 'initiated',
      startedByUserId: acme.owner.user.id,
      payload: {
        dial: { connectionId: hooks.sms, to: phone, agentPhone, providerCallId: 'CA00000000000000000000000000000101', error: null },
      },
    });
    expect(fake.calls.at(-1)).toMatchObject({ connectionId: hooks.sms, call: { to: phone, agentPhone } });

    for (const name of ['call-status-initiated', 'call-status-ringing', 'call-status-in-progress', 'call-status-completed']) {
      await progress(name, 'CA00000000000000000000000000000101');
    }
    const call = await api('GET', `/v1/conversations/${conversationId}/calls/${res.body.id}`);
    expect(call.body).toMatchObject({ status: 'ended', endedBy: 'system' });
    expect(call.body.durationSeconds).toEqual(expect.any(Number));
    // One call, not a second record made by the callbacks.
    expect((await api('GET', `/v1/conversations/${conversationId}/calls`)).body.items).toHaveLength(1);
    expect(await callTypes(res.body.id)).toEqual(['call.ended', 'call.started', 'call.status_changed', 'call.status_changed'].sort());
  });

  it('Twilio’s answer lost: the first callback naming the call links Twilio’s id, and the call moves on', async () => {
    const { conversationId } = await smsThread();
    fake.nextCall({ fail: 'timeout', code: 'timeout', message: 'Twilio POST Calls: no answer within 10000 ms' });
    const res = await api('POST', `/v1/conversations/${conversationId}/phone-calls`, { agentPhone });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'initiated', payload: { dial: { providerCallId: null } } });

    const reference = { conversationId, callId: res.body.id as string };
    await progress('call-status-ringing', 'CA00000000000000000000000000000102', reference);
    await progress('call-status-no-answer', 'CA00000000000000000000000000000102', reference);
    const calls = (await api('GET', `/v1/conversations/${conversationId}/calls`)).body.items;
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ id: res.body.id, status: 'missed', payload: { dial: { providerCallId: 'CA00000000000000000000000000000102' } } });
  });

  it('Twilio refusing the call fails it with Twilio’s code and message', async () => {
    const { conversationId } = await smsThread();
    fake.nextCall({ fail: 'rejected', code: '21211', message: "Twilio POST Calls: Invalid 'To' Phone Number: +14155550000" });
    const res = await api('POST', `/v1/conversations/${conversationId}/phone-calls`, { agentPhone });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      status: 'failed',
      endedBy: 'system',
      durationSeconds: 0,
      payload: { dial: { error: { code: '21211', message: "Twilio POST Calls: Invalid 'To' Phone Number: +14155550000" } } },
    });
  });

  it('refuses what cannot be called, writing nothing', async () => {
    const { conversationId } = await smsThread();
    const before = fake.calls.length;
    const bad = await api('POST', `/v1/conversations/${conversationId}/phone-calls`, { agentPhone: 'my desk' });
    expect([bad.status, bad.body.reason]).toEqual([422, 'invalid_agent_phone']);
    const notTheirs = await api('POST', `/v1/conversations/${conversationId}/phone-calls`, { agentPhone, to: '+442079460000' });
    expect([notTheirs.status, notTheirs.body.reason]).toEqual([422, 'not_a_contact_value']);
    const missing = await api('POST', `/v1/conversations/${conversationId}/phone-calls`, {});
    expect(missing.status).toBe(400);
    // A contact with no phone number.
    const mailOnly = await contactWith(stack, acme, [{ kind: 'email', value: `nophone-${Date.now()}@example.com` }]);
    const mailThread = await api('POST', '/v1/conversations', { kind: 'contact', contactId: mailOnly.id, channel: 'email' });
    const noPhone = await api('POST', `/v1/conversations/${mailThread.body.id}/phone-calls`, { agentPhone });
    expect([noPhone.status, noPhone.body.reason]).toEqual([422, 'no_channel_value']);
    expect((await api('GET', `/v1/conversations/${conversationId}/calls`)).body.items).toEqual([]);
    expect(fake.calls.length).toBe(before);
  });

  it('a workspace without a Twilio connection: 422 channel_not_connected; another workspace’s conversation: 404', async () => {
    const { conversationId } = await smsThread(globex);
    const res = await api('POST', `/v1/conversations/${conversationId}/phone-calls`, { agentPhone }, globex.owner.token);
    expect([res.status, res.body.reason]).toEqual([422, 'channel_not_connected']);
    const cross = await api('POST', `/v1/conversations/${conversationId}/phone-calls`, { agentPhone });
    expect(cross.status).toBe(404);
  });

  it('a callback naming another workspace’s call links nothing of it', async () => {
    const theirs = await smsThread(globex);
    const started = await api('POST', `/v1/conversations/${theirs.conversationId}/calls`, { channel: 'phone' }, globex.owner.token);
    expect(started.status).toBe(201);
    await progress('call-status-ringing', 'CA00000000000000000000000000000103', { conversationId: theirs.conversationId, callId: started.body.id });
    const after = await api('GET', `/v1/conversations/${theirs.conversationId}/calls/${started.body.id}`, undefined, globex.owner.token);
    expect(after.body).toMatchObject({ status: 'initiated', payload: null });
  });
});
