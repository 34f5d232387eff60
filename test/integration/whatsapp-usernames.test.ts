/**
 * WhatsApp users who adopt a username, through the real webhook route: Meta names them by their
 * business-scoped user ID (BSUID) and may leave their number out (Meta's business-scoped user IDs page,
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/business-scoped-user-ids/,
 * copied at https://support.chatarchitect.com/books/meta-whatsapp/page/business-scoped-user-ids-developer-documentation;
 * https://dualhook.com/docs/contacts-bsuid-webhooks). The payloads are the page's examples.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channelScope } from '../../domain/contacts/contact-record';
import { fixtureText } from '../support/provider-fixtures';
import { connectAll, hook, whatsappHeaders, type Connections } from '../support/channel-hooks';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';

let stack: TestStack;
let acme: Awaited<ReturnType<typeof seedWorkspace>>;
let hooks: Connections;

beforeAll(async () => {
  stack = await createTestStack({ clockStart: '2027-01-15T09:00:00.000Z' });
  acme = await seedWorkspace(stack, 'Acme');
  hooks = await connectAll(stack, acme.owner.token);
});
afterAll(() => stack?.destroy());

const get = (path: string) => stack.api('GET', path, { token: acme.owner.token });
const whatsappHook = (body: string) => hook(`/hooks/whatsapp/${hooks.whatsapp}`, { body, headers: whatsappHeaders(body) });

/** Sent now (the test clock): a reply is within WhatsApp's 24-hour window. */
const now = () => Math.floor(Date.parse(stack.deps.clock.nowIso()) / 1000);

interface StoredChannel {
  kind: string;
  value: string;
  normalized: string;
  primary: boolean;
}

/** A message from a user known only by their BSUID (`from` and `wa_id` left out), as the page shows it. */
const usernameMessage = (bsuid: string, wamid: string, text: string) =>
  fixtureText('whatsapp/username-message.json')
    .replaceAll('US.13491208655302741918', bsuid)
    .replace('wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=', wamid)
    .replace('Does it come in another color?', text)
    .replace('"1749416383"', `"${now()}"`);

/** A message with both the number and the BSUID (the page's syntax: `from`/`wa_id` while the number may be shared). */
const numberAndUserIdMessage = (waId: string, bsuid: string, wamid: string, text: string) => {
  const payload = JSON.parse(fixtureText('whatsapp/text.json'));
  const value = payload.entry[0].changes[0].value;
  value.contacts[0] = { profile: { name: 'Pablo M.', username: '@pablomorales' }, wa_id: waId, user_id: bsuid };
  value.messages[0] = { ...value.messages[0], from: waId, from_user_id: bsuid, id: wamid, timestamp: String(now()), text: { body: text } };
  return JSON.stringify(payload);
};

/** The contact holding this WhatsApp value, their WhatsApp conversations and those conversations' messages. */
async function threadsOf(value: string) {
  const { data: guard } = await stack.deps.db.entities.uniqueGuard
    .get({ workspaceId: acme.workspace.id, scope: channelScope('whatsapp'), value })
    .go({ consistent: true });
  if (!guard) return undefined;
  const contact = (await get(`/v1/contacts/${guard.ownerId}`)).body;
  const all = (await get('/v1/conversations?view=all&limit=100')).body.items as { id: string; contactId: string; channel: string }[];
  const conversations = await Promise.all(
    all
      .filter((conversation) => conversation.contactId === guard.ownerId && conversation.channel === 'whatsapp')
      .map(async (conversation) => ({
        id: conversation.id,
        messages: ((await get(`/v1/conversations/${conversation.id}/messages`)).body.items as { body: string }[]).map((m) => m.body),
      })),
  );
  return { contact, conversations };
}

const whatsappValues = (contact: { channels: StoredChannel[] }) =>
  contact.channels.filter((channel) => channel.kind === 'whatsapp').map((channel) => [channel.normalized, channel.primary]);

describe('WhatsApp usernames and business-scoped user IDs', () => {
  it('stores a message without a number from its BSUID: a contact with the BSUID as their WhatsApp value, and a conversation; the next one joins it', async () => {
    const bsuid = 'US.13491208655302741918';
    const first = usernameMessage(bsuid, 'wamid.USERNAME-1', 'Does it come in another color?');
    expect(await whatsappHook(first)).toMatchObject({ status: 200, body: { stored: 1, ignored: 0 } });
    expect((await whatsappHook(first)).body).toMatchObject({ stored: 0, duplicate: 1 });

    const thread = (await threadsOf(bsuid))!;
    expect(thread.contact).toMatchObject({ name: 'Sheena Nelson' });
    expect(thread.contact.channels).toMatchObject([{ kind: 'whatsapp', value: bsuid, normalized: bsuid, primary: true }]);
    expect(thread.conversations).toMatchObject([{ messages: ['Does it come in another color?'] }]);

    expect((await whatsappHook(usernameMessage(bsuid, 'wamid.USERNAME-2', 'And in blue?'))).body).toMatchObject({ stored: 1 });
    const after = (await threadsOf(bsuid))!;
    expect(after.contact.id).toBe(thread.contact.id);
    expect(after.conversations).toHaveLength(1);
    expect(after.conversations[0]!.messages.sort()).toEqual(['And in blue?', 'Does it come in another color?']);

    // A reply goes to the BSUID (the sender adapter sends it as `recipient`).
    const reply = await stack.api('POST', `/v1/conversations/${after.conversations[0]!.id}/messages`, {
      token: acme.owner.token,
      body: { body: 'It does: red, blue and green.' },
    });
    expect(reply.status).toBe(201);
    expect(reply.body.routing).toMatchObject({ channel: 'whatsapp', to: bsuid });
  });

  it('keeps an existing contact’s number when a message brings it with a BSUID, adds the BSUID, and a later BSUID-only message finds them', async () => {
    const bsuid = 'US.ENT.11815799212886844830';
    const created = await stack.api('POST', '/v1/contacts', {
      token: acme.owner.token,
      body: { name: 'Pablo Morales', channels: [{ kind: 'whatsapp', value: '+16505550707' }] },
    });
    expect(created.status).toBe(201);

    expect((await whatsappHook(numberAndUserIdMessage('16505550707', bsuid, 'wamid.BOTH-1', 'Is my order ready?'))).body).toMatchObject({ stored: 1, ignored: 0 });
    const byNumber = (await threadsOf('+16505550707'))!;
    expect(byNumber.contact.id).toBe(created.body.id);
    expect(byNumber.contact.name).toBe('Pablo Morales');
    expect(whatsappValues(byNumber.contact)).toEqual([
      ['+16505550707', true],
      [bsuid, false],
    ]);

    // Later their number is left out: the BSUID finds the same contact and conversation.
    expect((await whatsappHook(usernameMessage(bsuid, 'wamid.BOTH-2', 'Any news?'))).body).toMatchObject({ stored: 1 });
    const byUserId = (await threadsOf(bsuid))!;
    expect(byUserId.contact.id).toBe(created.body.id);
    expect(byUserId.conversations).toHaveLength(1);
    expect(byUserId.conversations[0]!.messages.sort()).toEqual(['Any news?', 'Is my order ready?']);
    // Replies still go to their number, their primary WhatsApp value.
    const reply = await stack.api('POST', `/v1/conversations/${byUserId.conversations[0]!.id}/messages`, {
      token: acme.owner.token,
      body: { body: 'Shipped today.' },
    });
    expect(reply.body.routing).toMatchObject({ channel: 'whatsapp', to: '+16505550707' });
  });

  it('gives a contact known by their BSUID their number, as primary, once a message shares it', async () => {
    const bsuid = 'GB.4410000000000000001';
    expect((await whatsappHook(usernameMessage(bsuid, 'wamid.LATER-NUMBER-1', 'Hello'))).body).toMatchObject({ stored: 1 });
    const before = (await threadsOf(bsuid))!;
    expect((await whatsappHook(numberAndUserIdMessage('447911123456', bsuid, 'wamid.LATER-NUMBER-2', 'It is me again'))).body).toMatchObject({ stored: 1 });
    const after = (await threadsOf('+447911123456'))!;
    expect(after.contact.id).toBe(before.contact.id);
    expect(whatsappValues(after.contact)).toEqual([
      [bsuid, false],
      ['+447911123456', true],
    ]);
    expect(after.conversations).toHaveLength(1);
  });

  it('accepts a BSUID as a WhatsApp value through the contacts API, and refuses a malformed one', async () => {
    const ok = await stack.api('POST', '/v1/contacts', {
      token: acme.owner.token,
      body: { name: 'By user id', channels: [{ kind: 'whatsapp', value: 'br.1502576394655843' }] },
    });
    expect(ok.status).toBe(201);
    expect(ok.body.channels).toMatchObject([{ kind: 'whatsapp', value: 'BR.1502576394655843', normalized: 'BR.1502576394655843' }]);
    const bad = await stack.api('POST', '/v1/contacts', {
      token: acme.owner.token,
      body: { name: 'Bad user id', channels: [{ kind: 'whatsapp', value: 'BR.1502-576' }] },
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('invalid_whatsapp');
  });
});
