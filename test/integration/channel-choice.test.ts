/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setChannelAdapters } from '../../functions/shared/deps';
import { createFakeChannelAdapters } from '../support/fake-channel-adapters';
import { connect, contactWith, inboundFrom, values } from '../support/send-setup';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';

let stack: TestStack;
let acme: Awaited<ReturnType<typeof seedWorkspace>>;
let solo: Awaited<ReturnType<typeof seedWorkspace>>;
let globex: Awaited<ReturnType<typeof seedWorkspace>>;
let connections: Record<string, string>;

beforeAll(async () => {
  stack = await createTestStack();
  setChannelAdapters(createFakeChannelAdapters());
  acme = await seedWorkspace(stack, 'Acme');
  solo = await seedWorkspace(stack, 'Solo');
  globex = await seedWorkspace(stack, 'Globex');
  connections = await connect(stack, acme, ['email', 'whatsapp', 'telegram', 'sms']);
  await connect(stack, solo, ['sms']);
});
afterAll(async () => {
  setChannelAdapters(undefined);
  await stack?.destroy();
});

const sendTo = (contactId: string, body: Record<string, unknown>, token = acme.owner.token) =>
  stack.api('POST', `/v1/contacts/${contactId}/messages`, { token, body: { body: 'Hello from us', ...body } });

describe('choosing the channel, connection and value for a contact', () => {
  it('preference order when the contact never wrote: email first', async () => {
    const v = values();
    const contact = await contactWith(stack, acme, [
      { kind: 'phone', value: v.phone },
      { kind: 'email', value: v.email },
    ]);
    const res = await sendTo(contact.id, { subject: 'Welcome' });
    expect(res.status).toBe(201);
    expect(res.body.routing).toEqual({
      channel: 'email',
      connectionId: connections.email,
      to: v.email,
      reason: 'preference_order',
      choices: { channel: 'preference_order', connection: 'oldest_active', to: 'primary' },
    });
    expect(res.body.delivery.status).toBe('queued');
    // A new conversation on that channel, with the subject.
    const conversation = await stack.api('GET', `/v1/conversations/${res.body.conversationId}`, { token: acme.owner.token });
    expect(conversation.body).toMatchObject({ channel: 'email', contactId: contact.id, subject: 'Welcome', messageCount: 1 });
    // The next send goes to the same conversation.
    const next = await sendTo(contact.id, {});
    expect(next.body.conversationId).toBe(res.body.conversationId);
  });

  it('the preference order skips channels the workspace has not connected', async () => {
    const v = values();
    const contact = await contactWith(stack, solo, [
      { kind: 'email', value: v.email },
      { kind: 'phone', value: v.phone },
    ]);
    const res = await sendTo(contact.id, {}, solo.owner.token);
    expect(res.status).toBe(201);
    expect(res.body.routing).toMatchObject({ channel: 'sms', to: v.phone, reason: 'preference_order' });
  });

  it('the channel the contact last wrote on, and the value they wrote from', async () => {
    const v = values();
    const other = values();
    const contact = await contactWith(stack, acme, [
      { kind: 'email', value: v.email },
      { kind: 'telegram', value: v.chat, primary: true },
      { kind: 'telegram', value: other.chat },
    ]);
    // They write on Telegram from their second chat (ingest stores the sender in the payload).
    await inboundFrom(stack, acme, 'telegram', other.chat, 'Hi there', { from: other.chat });
    const res = await sendTo(contact.id, {});
    expect(res.status).toBe(201);
    expect(res.body.routing).toEqual({
      channel: 'telegram',
      connectionId: connections.telegram,
      to: other.chat,
      reason: 'last_inbound',
      choices: { channel: 'last_inbound', connection: 'oldest_active', to: 'last_inbound' },
    });
  });

  it('the channel they last wrote on, while it is connected: else the preference order, and a 422 when nothing is left', async () => {
    const ws = await seedWorkspace(stack, 'Fallback');
    const ids = await connect(stack, ws, ['email', 'sms']);
    const v = values();
    const contact = await contactWith(stack, ws, [
      { kind: 'email', value: v.email },
      { kind: 'phone', value: v.phone },
    ]);
    await inboundFrom(stack, ws, 'sms', v.phone, 'Text me');
    expect((await sendTo(contact.id, {}, ws.owner.token)).body.routing).toMatchObject({ channel: 'sms', reason: 'last_inbound' });
    const disconnect = (id: string) => stack.api('POST', `/v1/channels/${id}/disconnect`, { token: ws.owner.token });
    expect((await disconnect(ids.sms!)).status).toBe(200);
    const res = await sendTo(contact.id, { subject: 'Follow-up' }, ws.owner.token);
    expect(res.status).toBe(201);
    expect(res.body.routing).toEqual({
      channel: 'email',
      connectionId: ids.email,
      to: v.email,
      reason: 'preference_order',
      choices: { channel: 'preference_order', connection: 'oldest_active', to: 'primary' },
    });
    expect((await disconnect(ids.email!)).status).toBe(200);
    const none = await sendTo(contact.id, {}, ws.owner.token);
    expect(none.status).toBe(422);
    expect(none.body).toMatchObject({ reason: 'channel_not_connected', detail: expect.stringContaining('email, sms') });
  });

  it('the channel they last wrote on, while they have a value on it: else the preference order', async () => {
    const v = values();
    const contact = await contactWith(stack, acme, [
      { kind: 'email', value: v.email },
      { kind: 'telegram', value: v.chat },
    ]);
    await inboundFrom(stack, acme, 'telegram', v.chat, 'Hi there');
    const held = await stack.api('GET', `/v1/contacts/${contact.id}`, { token: acme.owner.token });
    const chat = held.body.channels.find((channel: any) => channel.kind === 'telegram');
    expect((await stack.api('DELETE', `/v1/contacts/${contact.id}/channels/${chat.id}`, { token: acme.owner.token })).status).toBe(200);
    const res = await sendTo(contact.id, {});
    expect(res.status).toBe(201);
    expect(res.body.routing).toMatchObject({ channel: 'email', to: v.email, reason: 'preference_order' });
  });

  it('explicit channel, connection and value', async () => {
    const v = values();
    const second = await stack.api('POST', '/v1/channels', {
      token: acme.owner.token,
      body: { kind: 'sms', name: 'Second number', settings: { accountSid: `AC${'f'.repeat(32)}`, senderNumber: '+15550002222' }, secrets: { authToken: 'second-auth-token' } },
    });
    const otherPhone = values().phone;
    const contact = await contactWith(stack, acme, [
      { kind: 'email', value: v.email },
      { kind: 'phone', value: v.phone },
      { kind: 'phone', value: otherPhone },
    ]);
    const res = await sendTo(contact.id, { channel: 'sms', connectionId: second.body.id, to: otherPhone });
    expect(res.status).toBe(201);
    expect(res.body.routing).toEqual({
      channel: 'sms',
      connectionId: second.body.id,
      to: otherPhone,
      reason: 'explicit',
      choices: { channel: 'explicit', connection: 'explicit', to: 'explicit' },
    });
    // Only the channel named: the oldest active connection and the primary value.
    const plain = await sendTo(contact.id, { channel: 'sms' });
    expect(plain.body.routing).toMatchObject({ connectionId: connections.sms, to: v.phone, choices: { to: 'primary' } });
  });

  it('sendMessage in a conversation uses the same routing (the channel fixed by the conversation)', async () => {
    const v = values();
    const contact = await contactWith(stack, acme, [{ kind: 'phone', value: v.phone }]);
    const first = await sendTo(contact.id, { channel: 'sms' });
    const res = await stack.api('POST', `/v1/conversations/${first.body.conversationId}/messages`, {
      token: acme.owner.token,
      body: { body: 'And again' },
    });
    expect(res.body.routing).toMatchObject({ channel: 'sms', to: v.phone, reason: 'primary', choices: { channel: 'conversation' } });
  });
});

describe('an impossible choice is a 422 saying why, with nothing written', () => {
  async function refused(contactId: string, body: Record<string, unknown>, reason: string, token = acme.owner.token) {
    const jobsBefore = await stack.deps.db.entities.job.query.byWorkspace({ workspaceId: acme.workspace.id }).go({ pages: 'all' });
    const res = await sendTo(contactId, body, token);
    expect(res.status).toBe(422);
    expect(res.body.reason).toBe(reason);
    const conversations = await stack.api('GET', `/v1/conversations?view=all&contactId=${contactId}`, { token: acme.owner.token });
    const jobsAfter = await stack.deps.db.entities.job.query.byWorkspace({ workspaceId: acme.workspace.id }).go({ pages: 'all' });
    expect(jobsAfter.data.length).toBe(jobsBefore.data.length);
    return { body: res.body, conversations: conversations.body.items as any[] };
  }

  it('no value on the channel named, or on any channel', async () => {
    const contact = await contactWith(stack, acme, [{ kind: 'email', value: values().email }]);
    expect((await refused(contact.id, { channel: 'whatsapp' }, 'no_channel_value')).conversations).toEqual([]);
    const linkedinOnly = await contactWith(stack, acme, [{ kind: 'linkedin', value: 'https://www.linkedin.com/in/nobody-here' }]);
    await refused(linkedinOnly.id, {}, 'no_channel_value');
  });

  it('a value that is not the contact’s', async () => {
    const contact = await contactWith(stack, acme, [{ kind: 'email', value: values().email }]);
    await refused(contact.id, { channel: 'email', to: 'stranger@example.com' }, 'not_a_contact_value');
  });

  it('a connection of another kind, or another workspace’s', async () => {
    const contact = await contactWith(stack, acme, [{ kind: 'email', value: values().email }]);
    await refused(contact.id, { channel: 'email', connectionId: connections.sms }, 'connection_not_usable');
    const theirs = await connect(stack, globex, ['email']);
    await refused(contact.id, { channel: 'email', connectionId: theirs.email }, 'connection_not_usable');
  });

  it('no connection for any of the contact’s channels', async () => {
    const contact = await contactWith(stack, solo, [{ kind: 'email', value: values().email }]);
    const res = await sendTo(contact.id, {}, solo.owner.token);
    expect(res.status).toBe(422);
    expect(res.body.reason).toBe('channel_not_connected');
  });

  it('a suppressed contact', async () => {
    const contact = await contactWith(stack, acme, [{ kind: 'email', value: values().email }]);
    const got = await stack.api('GET', `/v1/contacts/${contact.id}`, { token: acme.owner.token });
    await stack.api('POST', `/v1/contacts/${contact.id}/suppress`, {
      token: acme.owner.token,
      body: {},
      headers: { 'if-match': `"${got.body.version}"` },
    });
    await refused(contact.id, {}, 'contact_suppressed');
  });

  it('passes WhatsApp over when its 24-hour window is closed, while another channel takes the message', async () => {
    const v = values();
    const contact = await contactWith(stack, acme, [
      { kind: 'whatsapp', value: v.phone },
      { kind: 'phone', value: v.phone },
    ]);
    // Never wrote on WhatsApp: the preference order would pick it (whatsapp before sms), but it takes no free-form text.
    const first = await sendTo(contact.id, {});
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(first.body.routing).toMatchObject({ channel: 'sms', reason: 'preference_order' });
    // They write on WhatsApp: now it is where they last wrote, and open.
    await inboundFrom(stack, acme, 'whatsapp', v.phone, 'Hi on WhatsApp', {});
    const open = await sendTo(contact.id, {});
    expect(open.body.routing).toMatchObject({ channel: 'whatsapp', reason: 'last_inbound' });
    // A day later the window is closed: SMS again.
    stack.clock.advance(25 * 3600 * 1000);
    const closed = await sendTo(contact.id, {});
    expect(closed.status, JSON.stringify(closed.body)).toBe(201);
    expect(closed.body.routing).toMatchObject({ channel: 'sms', reason: 'preference_order' });
  });

  it('WhatsApp to a contact who never wrote', async () => {
    const contact = await contactWith(stack, acme, [{ kind: 'whatsapp', value: values().phone }]);
    const { body, conversations } = await refused(contact.id, { channel: 'whatsapp' }, 'whatsapp_window_closed');
    expect(body.closedAt).toBeNull();
    expect(conversations).toEqual([]);
  });

  it('another workspace’s contact is a 404; a member may send to a contact in the pool', async () => {
    const contact = await contactWith(stack, acme, [{ kind: 'email', value: values().email }]);
    expect((await sendTo(contact.id, {}, globex.owner.token)).status).toBe(404);
    expect((await sendTo(contact.id, {}, acme.member.token)).status).toBe(201);
  });
});
