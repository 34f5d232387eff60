/**
 * LinkedIn has no messaging API: its messages are logged. The contact's arrive through the inbound API
 * (`linkedin.replied`), a user's are recorded as sent (`linkedin.sent`) with no delivery and no provider
 * call, and the product never chooses LinkedIn to send on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setChannelAdapters } from '../../functions/shared/deps';
import { createFakeChannelAdapters } from '../support/fake-channel-adapters';
import { connect } from '../support/send-setup';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';

let stack: TestStack;
let acme: Awaited<ReturnType<typeof seedWorkspace>>;
let globex: Awaited<ReturnType<typeof seedWorkspace>>;
const fake = createFakeChannelAdapters();

beforeAll(async () => {
  stack = await createTestStack();
  setChannelAdapters(fake);
  acme = await seedWorkspace(stack, 'Acme');
  globex = await seedWorkspace(stack, 'Globex');
  await connect(stack, acme, ['email', 'sms']);
});
afterAll(async () => {
  setChannelAdapters(undefined);
  await stack?.destroy();
});

const profile = 'https://www.linkedin.com/in/ana-lopez-4711';

describe('LinkedIn messages, logged', () => {
  let contactId: string;
  let conversationId: string;

  it('a LinkedIn message logged through the inbound API finds or creates the contact by profile URL: linkedin.replied', async () => {
    const res = await stack.api('POST', '/v1/inbound-messages', {
      token: acme.owner.token,
      // The profile as a browser shows it: the product's canonical form is matched.
      body: { channel: 'linkedin', from: 'linkedin.com/in/Ana-Lopez-4711/', name: 'Ana López', externalId: 'li-msg-1', body: 'Saw your post, interested' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ createdContact: true, createdConversation: true });
    expect(res.body.message).toMatchObject({ channel: 'linkedin', authorKind: 'contact', delivery: null });
    conversationId = res.body.conversationId;
    contactId = res.body.contactId;
    const conversation = await stack.api('GET', `/v1/conversations/${conversationId}`, { token: acme.owner.token });
    expect(conversation.body).toMatchObject({ channel: 'linkedin', kind: 'contact', contactId });
    const contact = await stack.api('GET', `/v1/contacts/${contactId}`, { token: acme.owner.token });
    expect(contact.body.channels).toEqual([expect.objectContaining({ kind: 'linkedin', normalized: profile })]);
    // The same id again is the same message.
    const again = await stack.api('POST', '/v1/inbound-messages', {
      token: acme.owner.token,
      body: { channel: 'linkedin', from: profile, externalId: 'li-msg-1', body: 'Saw your post, interested' },
    });
    expect(again.status).toBe(200);
    expect(again.body.message.id).toBe(res.body.message.id);
  });

  it('a user’s LinkedIn message is logged as sent: no delivery, no provider call; linkedin.sent on the timeline', async () => {
    const sent = await stack.api('POST', `/v1/conversations/${conversationId}/messages`, {
      token: acme.owner.token,
      body: { body: 'Thanks Ana, here is our deck' },
    });
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    expect(sent.body).toMatchObject({ channel: 'linkedin', authorKind: 'user', delivery: null, routing: null });
    expect(fake.sends).toHaveLength(0);
    const timeline = await stack.api('GET', `/v1/contacts/${contactId}/timeline`, { token: acme.owner.token });
    const types = (timeline.body.items as { event: { type: string } }[]).map(({ event }) => event.type);
    expect(types).toEqual(expect.arrayContaining(['linkedin.replied', 'linkedin.sent']));
    // The conversation is no longer waiting for us.
    const conversation = await stack.api('GET', `/v1/conversations/${conversationId}`, { token: acme.owner.token });
    expect(conversation.body.waitingSince ?? null).toBeNull();
  });

  it('the product never chooses LinkedIn to send on, and LinkedIn cannot be named for a send', async () => {
    const chosen = await stack.api('POST', `/v1/contacts/${contactId}/messages`, { token: acme.owner.token, body: { body: 'Hello' } });
    expect(chosen.status).toBe(422);
    expect(chosen.body.reason).toBe('no_channel_value');
    const named = await stack.api('POST', `/v1/contacts/${contactId}/messages`, {
      token: acme.owner.token,
      body: { body: 'Hello', channel: 'linkedin' },
    });
    expect(named.status).toBe(400);
    expect(fake.sends).toHaveLength(0);
  });

  it('another workspace sees none of it', async () => {
    const res = await stack.api('GET', `/v1/conversations/${conversationId}`, { token: globex.owner.token });
    expect(res.status).toBe(404);
    const list = await stack.api('GET', '/v1/conversations', { token: globex.owner.token, query: { channel: 'linkedin' } });
    expect(list.status).toBe(200);
    expect(list.body.items).toEqual([]);
  });
});
