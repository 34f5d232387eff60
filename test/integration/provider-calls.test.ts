import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channelScope } from '../../domain/contacts/contact-record';
import { fixtureText } from '../support/provider-fixtures';
import { connectAll, hook, twilioHeaders, whatsappHeaders, type Connections } from '../support/channel-hooks';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';

let stack: TestStack;
let acme: Awaited<ReturnType<typeof seedWorkspace>>;
let hooks: Connections;

beforeAll(async () => {
  stack = await createTestStack();
  acme = await seedWorkspace(stack, 'Acme');
  hooks = await connectAll(stack, acme.owner.token);
});
afterAll(() => stack?.destroy());

const get = (path: string) => stack.api('GET', path, { token: acme.owner.token });

/** A Twilio call status callback fixture for call `sid`. */
const callback = (name: string, sid: string) =>
  fixtureText(`twilio/${name}.txt`).trim().replace(/CallSid=[A-Za-z0-9]+/, `CallSid=${sid}`);

async function postTwilio(body: string) {
  const path = `/hooks/twilio/${hooks.sms}`;
  return hook(path, { body, headers: twilioHeaders(path, body) });
}

/** The calls of the contact with this channel value, over their conversations on `channel`. */
async function callsOf(kind: 'phone' | 'whatsapp', value: string, channel: string) {
  const { data: guard } = await stack.deps.db.entities.uniqueGuard
    .get({ workspaceId: acme.workspace.id, scope: channelScope(kind), value })
    .go({ consistent: true });
  const conversations = ((await get('/v1/conversations?view=all&limit=100')).body.items as { id: string; contactId: string; channel: string }[]).filter(
    (cv) => cv.contactId === guard?.ownerId && cv.channel === channel,
  );
  const pages = await Promise.all(conversations.map(async (cv) => (await get(`/v1/conversations/${cv.id}/calls`)).body.items));
  return { contactId: guard?.ownerId, calls: pages.flat() };
}

async function eventsOf(callId: string) {
  const { data } = await stack.deps.db.entities.event.query
    .byEntity({ workspaceId: acme.workspace.id, entityType: 'call', entityId: callId } as never)
    .go({ pages: 'all' });
  return (data as { type: string }[]).map((event) => event.type);
}

describe('Twilio voice', () => {
  it('declines an inbound call unanswered (<Reject>: busy, not billed) and records it as missed, started by the contact, on their phone thread', async () => {
    const body = fixtureText('twilio/voice-inbound.txt').trim();
    const res = await postTwilio(body);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/xml');
    // Twilio: "Using <Reject> as the first verb in your response is the only way to prevent Twilio from answering a call."
    expect(res.text).toBe('<?xml version="1.0" encoding="UTF-8"?><Response><Reject reason="busy"/></Response>');
    const { contactId, calls } = await callsOf('phone', '+14155552671', 'sms');
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ channel: 'phone', status: 'missed', startedByContactId: contactId, startedByUserId: null });
    // A message's webhook still answers empty TwiML.
    const sms = await postTwilio(fixtureText('twilio/sms-inbound.txt').trim());
    expect(sms.text).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
    // Twilio's retry of the same webhook changes nothing.
    await postTwilio(body);
    expect((await callsOf('phone', '+14155552671', 'sms')).calls).toHaveLength(1);
  });

  it('moves a call by its status callbacks in order: ringing, in progress, completed (with Twilio’s duration)', async () => {
    const sid = 'CA00000000000000000000000000000001';
    for (const name of ['call-status-initiated', 'call-status-ringing', 'call-status-in-progress', 'call-status-in-progress', 'call-status-completed']) {
      expect((await postTwilio(callback(name, sid))).status).toBe(200);
    }
    const call = (await callsOf('phone', '+14155552671', 'sms')).calls.find((item: { payload: { provider: { callId: string } } }) => item.payload.provider.callId === sid);
    expect(call).toMatchObject({ status: 'ended', startedByUserId: 'system', endedBy: 'system' });
    expect(call.connectedAt).not.toBeNull();
    expect(call.durationSeconds).toEqual(expect.any(Number));
    expect(await eventsOf(call.id)).toEqual(['call.started', 'call.status_changed', 'call.status_changed', 'call.ended']);
  });

  it('never moves a call back when callbacks arrive out of order (SequenceNumber), nor on a repeat', async () => {
    const sid = 'CA00000000000000000000000000000002';
    expect((await postTwilio(callback('call-status-completed', sid))).status).toBe(200);
    for (const name of ['call-status-ringing', 'call-status-in-progress', 'call-status-initiated', 'call-status-completed']) {
      expect((await postTwilio(callback(name, sid))).status).toBe(200);
    }
    const calls = (await callsOf('phone', '+14155552671', 'sms')).calls.filter(
      (item: { payload: { provider: { callId: string } } }) => item.payload.provider.callId === sid,
    );
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ status: 'ended' });
    expect(calls[0].payload.provider.sequence).toBe(4);
  });

  it('maps busy and no-answer to missed', async () => {
    for (const [name, sid] of [
      ['call-status-busy', 'CA00000000000000000000000000000003'],
      ['call-status-no-answer', 'CA00000000000000000000000000000004'],
    ] as const) {
      await postTwilio(callback('call-status-ringing', sid));
      await postTwilio(callback(name, sid));
      const call = (await callsOf('phone', '+14155552671', 'sms')).calls.find((item: { payload: { provider: { callId: string } } }) => item.payload.provider.callId === sid);
      expect(call, name).toMatchObject({ status: 'missed' });
    }
  });
});

describe('WhatsApp calling', () => {
  it('records a call the contact started, connected then terminated, on their WhatsApp thread', async () => {
    // The fixture's number, as this connection's (another number's calls are not this connection's).
    const body = fixtureText('whatsapp/calls.json').replaceAll('436666719526789', '106540352242922');
    const res = await hook(`/hooks/whatsapp/${hooks.whatsapp}`, { body, headers: whatsappHeaders(body) });
    expect(res.status).toBe(200);
    const { contactId, calls } = await callsOf('whatsapp', '+16505551234', 'whatsapp');
    const call = calls.find((item: { payload: { provider: { callId: string } } }) => item.payload.provider.callId === 'wacid.ABGGFjFVU2AfAgo6V-Hc5eCgK5Gh');
    expect(call).toMatchObject({ channel: 'whatsapp', startedByContactId: contactId, status: 'ended', durationSeconds: 35 });
    const again = await hook(`/hooks/whatsapp/${hooks.whatsapp}`, { body, headers: whatsappHeaders(body) });
    expect(again.body.stored).toBe(0);
  });

  it('leaves out a call for another phone number of the same Meta app', async () => {
    const body = fixtureText('whatsapp/calls.json').replaceAll('wacid.ABGGFjFVU2AfAgo6V-Hc5eCgK5Gh', 'wacid.OTHER');
    const res = await hook(`/hooks/whatsapp/${hooks.whatsapp}`, { body, headers: whatsappHeaders(body) });
    expect(res.status).toBe(200);
    expect(res.body.stored).toBe(0);
    const { calls } = await callsOf('whatsapp', '+16505551234', 'whatsapp');
    expect(calls.some((item: { payload: { provider: { callId: string } } }) => item.payload.provider.callId === 'wacid.OTHER')).toBe(false);
  });
});
