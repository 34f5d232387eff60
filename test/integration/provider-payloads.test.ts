/**
 * Provider payload kinds seen in real traffic, each in the shape of the provider's own documentation
 * (fixtures under test/fixtures/providers/): answered as the provider expects, stored once, in the
 * conversation a CRM user would look for it in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channelScope } from '../../domain/contacts/contact-record';
import {
  connectAll,
  hook,
  inboundTopic,
  snsBody,
  startFakeSns,
  telegramHeaders,
  twilioHeaders,
  whatsappHeaders,
  type Connections,
} from '../support/channel-hooks';
import { fixtureBytes, fixtureText } from '../support/provider-fixtures';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';

let stack: TestStack;
let acme: Awaited<ReturnType<typeof seedWorkspace>>;
let hooks: Connections;
let sns: Awaited<ReturnType<typeof startFakeSns>>;

beforeAll(async () => {
  // The fixture SNS signing certificate is valid from December 2026.
  stack = await createTestStack({ clockStart: '2027-01-15T09:00:00.000Z' });
  acme = await seedWorkspace(stack, 'Acme');
  hooks = await connectAll(stack, acme.owner.token);
  sns = await startFakeSns();
});
afterAll(async () => {
  await sns?.stop();
  await stack?.destroy();
});

const get = (path: string) => stack.api('GET', path, { token: acme.owner.token });

interface StoredMessage {
  id: string;
  body: string;
  kind: string;
  authorKind: string;
  externalId: string;
  payload: Record<string, unknown> & { provider: { chatId?: string } };
}
interface StoredChannel {
  kind: string;
  normalized: string;
  primary: boolean;
}
interface ListedConversation {
  id: string;
  contactId: string;
  channel: string;
  subject?: string;
}

/** The contact holding this channel value, its conversations (oldest first) and each one's messages. */
async function threadsOf(kind: 'phone' | 'whatsapp' | 'telegram' | 'email', value: string) {
  const { data: guard } = await stack.deps.db.entities.uniqueGuard
    .get({ workspaceId: acme.workspace.id, scope: channelScope(kind), value })
    .go({ consistent: true });
  if (!guard) return { contactId: undefined, conversations: [] };
  const listed = ((await get('/v1/conversations?view=all&limit=100')).body.items as ListedConversation[])
    .filter((cv) => cv.contactId === guard.ownerId)
    .sort((a, b) => a.id.localeCompare(b.id));
  const conversations = await Promise.all(
    listed.map(async (cv) => ({
      ...cv,
      // What the contact wrote, in the provider's order (our replies left out).
      messages: ((await get(`/v1/conversations/${cv.id}/messages`)).body.items as StoredMessage[])
        .filter((message) => message.authorKind === 'contact')
        .sort((a, b) => a.externalId.localeCompare(b.externalId)),
    })),
  );
  return { contactId: guard.ownerId, conversations };
}

/** The notes the system wrote in a conversation, oldest first. */
const notesIn = async (conversationId: string) =>
  ((await get(`/v1/conversations/${conversationId}/messages`)).body.items as (StoredMessage & { note: boolean; createdAt: string })[])
    .filter((message) => message.authorKind === 'system' && message.note)
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id))
    .map((message) => message.body);

describe('Telegram', () => {
  it('keeps a contact’s group messages in a thread of their own, apart from their private conversation', async () => {
    const body = fixtureText('telegram/group-and-kinds.json');
    const first = await hook(`/hooks/telegram/${hooks.telegram}`, { body, headers: telegramHeaders() });
    // Seven messages, a group's upgrade to a supergroup and Bruno blocking the bot (a note in his
    // conversation) stored; a reaction and a channel's post forwarded into the group (from a chat, not a
    // person) are not a contact's.
    expect(first).toMatchObject({ status: 200, body: { stored: 9, ignored: 2, duplicate: 0 } });
    const again = await hook(`/hooks/telegram/${hooks.telegram}`, { body, headers: telegramHeaders() });
    expect(again).toMatchObject({ status: 200, body: { stored: 0, duplicate: 9, ignored: 2 } });
    // No contact for the fake sender Telegram puts in `from` of a message sent on behalf of a chat.
    expect((await threadsOf('telegram', '777000')).contactId).toBeUndefined();

    // A user without username or last name: their first name, and the user id as the channel.
    const { contactId, conversations } = await threadsOf('telegram', '6123456789');
    expect((await get(`/v1/contacts/${contactId}`)).body).toMatchObject({ name: 'Bruno' });
    // Private, "Acme customers" and "Acme pilot".
    expect(conversations).toHaveLength(3);
    const threadIn = (chatId: string) => conversations.find((cv) => cv.messages.some((m) => m.payload.provider.chatId === chatId))!;
    const personal = threadIn('6123456789');
    const group = threadIn('-1001234567890');
    const pilot = threadIn('-4012345678');
    expect(pilot).toMatchObject({ subject: 'Acme pilot (Telegram group)', messages: [{ body: 'Pilot feedback: exports are slow' }] });

    expect(personal.messages.map((m) => m.body)).toEqual([
      'Oi! Can I get a quote for 12 seats?',
      'Contact: Carla Souza, +5511987654321',
      'Carla asked me to forward this: we need SSO too',
      'Poll: Which plan? (Monthly / Annual)',
    ]);
    expect(personal.messages.every((m) => m.payload.provider.chatId === '6123456789')).toBe(true);

    expect(group.subject).toBe('Acme customers (Telegram group)');
    expect(group.messages.map((m) => [m.body, m.kind])).toEqual([
      ['@acme_support_bot does the API have webhooks?', 'text'],
      ['This is the error I get', 'media'],
    ]);
    expect(group.messages.every((m) => m.payload.provider.chatId === '-1001234567890')).toBe(true);
    expect(group.messages[1]!.payload).toMatchObject({
      media: [{ kind: 'image', providerMediaId: 'AgACAgQAAxkBAAIBg2blarge', caption: 'This is the error I get' }],
      replyTo: { conversationId: group.id, messageId: group.messages[0]!.id },
    });

    // A reply goes to the contact, privately, from either thread: the group is not the contact's to write to.
    const reply = (conversationId: string) =>
      stack.api('POST', `/v1/conversations/${conversationId}/messages`, { token: acme.owner.token, body: { body: 'Thanks!' } });
    expect((await reply(personal.id)).body.routing).toMatchObject({ channel: 'telegram', to: '6123456789' });
    expect((await reply(group.id)).body.routing).toMatchObject({ channel: 'telegram', to: '6123456789' });
    // A send to the contact (not to a conversation) picks their private thread, the latest they wrote in privately.
    const toContact = await stack.api('POST', `/v1/contacts/${contactId}/messages`, {
      token: acme.owner.token,
      body: { body: 'Following up', channel: 'telegram' },
    });
    expect(toContact.body).toMatchObject({ conversationId: personal.id, routing: { to: '6123456789' } });

    // The next group message finds its thread again; the next private one the private thread.
    const later = JSON.parse(body) as { update_id: number; message?: { message_id: number; date: number; text?: string } }[];
    const more = [later[1]!, later[0]!].map((update, i) => ({
      ...update,
      update_id: 748303100 + i,
      message: { ...update.message!, message_id: update.message!.message_id + 1000, text: `later ${i}` },
    }));
    // The pilot group, now a supergroup under its new id: the same thread carries on.
    more.push({
      update_id: 748303102,
      message: { message_id: 1, date: 1764600400, text: 'later 2', ...{ from: { id: 6123456789, is_bot: false, first_name: 'Bruno' }, chat: { id: -1009988776655, title: 'Acme pilot', type: 'supergroup' } } },
    });
    expect((await hook(`/hooks/telegram/${hooks.telegram}`, { body: JSON.stringify(more), headers: telegramHeaders() })).body).toMatchObject({
      stored: 3,
    });
    const after = await threadsOf('telegram', '6123456789');
    expect(after.conversations).toHaveLength(3);
    const bodies = Object.fromEntries(after.conversations.map((cv) => [cv.id, cv.messages.map((m) => m.body)]));
    expect(bodies[group.id]).toContain('later 0');
    expect(bodies[personal.id]).toContain('later 1');
    expect(bodies[pilot.id]).toContain('later 2');

    // Edits in the group: of a message stored (changed in place), of one never seen (kept in the group's thread).
    const groupMessage = later[1]!.message!;
    const edits = [
      { update_id: 748303200, edited_message: { ...groupMessage, edit_date: groupMessage.date + 60, text: 'does the API have webhooks? (and retries?)' } },
      { update_id: 748303201, edited_message: { ...groupMessage, message_id: 880, edit_date: groupMessage.date + 90, text: 'an older question, edited' } },
    ];
    expect((await hook(`/hooks/telegram/${hooks.telegram}`, { body: JSON.stringify(edits), headers: telegramHeaders() })).body).toMatchObject({
      stored: 2,
    });
    const edited = await threadsOf('telegram', '6123456789');
    const groupBodies = edited.conversations.find((cv) => cv.id === group.id)!.messages.map((m) => m.body);
    expect(groupBodies).toEqual(expect.arrayContaining(['does the API have webhooks? (and retries?)', 'an older question, edited']));
    expect(edited.conversations).toHaveLength(3);
  });
});

describe('Telegram: a contact who blocks the bot', () => {
  const telegramHook = (body: string) => hook(`/hooks/telegram/${hooks.telegram}`, { body, headers: telegramHeaders() });
  /** The system's notes in the contact's Telegram conversation, oldest first. */
  it('says so in their Telegram conversation, once, and again when they start it again; the contact is not suppressed', async () => {
    expect(await telegramHook(fixtureText('telegram/blocked.json'))).toMatchObject({ status: 200, body: { stored: 2, ignored: 0 } });
    const { contactId, conversations } = await threadsOf('telegram', '6230001111');
    expect(conversations).toHaveLength(1);
    const conversationId = conversations[0]!.id;
    expect(await notesIn(conversationId)).toEqual([
      'Dana Block blocked the bot on Telegram: messages sent here will not reach them until they start it again.',
    ]);
    // A bot block speaks for Telegram alone: the contact may still be written to on other channels.
    expect((await get(`/v1/contacts/${contactId}`)).body).toMatchObject({ name: 'Dana Block', suppressed: false });
    // Telegram repeats an update it thinks was not received: applied once.
    expect((await telegramHook(fixtureText('telegram/blocked.json'))).body).toMatchObject({ stored: 0, duplicate: 2 });

    stack.clock.advance(60_000);
    expect(await telegramHook(fixtureText('telegram/unblocked.json'))).toMatchObject({ status: 200, body: { stored: 1 } });
    expect(await notesIn(conversationId)).toEqual([
      'Dana Block blocked the bot on Telegram: messages sent here will not reach them until they start it again.',
      'Dana Block started the bot again on Telegram: messages sent here reach them again.',
    ]);
  });

  it('notes an update once even when the webhook lost its record of it (the note written, the receipt not)', async () => {
    const update = JSON.parse(fixtureText('telegram/blocked.json'))[1] as { update_id: number };
    update.update_id += 900;
    expect((await telegramHook(JSON.stringify([update]))).body).toMatchObject({ stored: 1 });
    const { conversations } = await threadsOf('telegram', '6230001111');
    const before = await notesIn(conversations[0]!.id);
    // What a failed receipt write leaves: the note, and no record of the update.
    await stack.deps.db.entities.webhookReceipt
      .delete({ workspaceId: acme.workspace.id, connectionId: hooks.telegram, dedupeKey: `telegram:update:${update.update_id}` })
      .go();
    expect((await telegramHook(JSON.stringify([update]))).body).toMatchObject({ stored: 0, duplicate: 1 });
    expect(await notesIn(conversations[0]!.id)).toEqual(before);
  });

  it('notes an update that arrives after a later one as what it was, with the state that holds now', async () => {
    type Update = { update_id: number; message?: { from: { id: number; first_name: string }; chat: { id: number; first_name: string }; date: number }; my_chat_member?: { from: { id: number; first_name: string }; chat: { id: number; first_name: string }; date: number } };
    const [message, blocked] = JSON.parse(fixtureText('telegram/blocked.json')) as Update[];
    const unblocked = JSON.parse(fixtureText('telegram/unblocked.json')) as Update;
    const asEvan = (update: Update, updateId: number, date: number): Update => {
      const copy = JSON.parse(JSON.stringify(update)) as Update;
      const part = (copy.message ?? copy.my_chat_member)!;
      copy.update_id = updateId;
      part.from = { ...part.from, id: 6230002222, first_name: 'Evan' };
      part.chat = { ...part.chat, id: 6230002222, first_name: 'Evan' };
      part.date = date;
      return copy;
    };
    const t0 = Date.UTC(2026, 10, 3, 9, 0) / 1000;
    expect((await telegramHook(JSON.stringify(asEvan(message!, 748305001, t0)))).body).toMatchObject({ stored: 1 });
    const { conversations } = await threadsOf('telegram', '6230002222');
    const conversationId = conversations[0]!.id;
    // Evan blocked the bot at 09:05 and started it again at 09:10; Telegram delivered the second first.
    expect((await telegramHook(JSON.stringify(asEvan(unblocked, 748305003, t0 + 600)))).body).toMatchObject({ stored: 1 });
    expect((await telegramHook(JSON.stringify(asEvan(blocked!, 748305002, t0 + 300)))).body).toMatchObject({ stored: 1 });
    const name = 'Evan Block'; // the contact Telegram's first and last name made
    expect(await notesIn(conversationId)).toEqual([
      `${name} started the bot again on Telegram: messages sent here reach them again.`,
      `${name} blocked the bot on Telegram at 2026-11-03 09:05 UTC, and has started it again since (2026-11-03 09:10 UTC): messages sent here reach them.`,
    ]);
    // A later block is the state again.
    expect((await telegramHook(JSON.stringify(asEvan(blocked!, 748305004, t0 + 900)))).body).toMatchObject({ stored: 1 });
    expect((await notesIn(conversationId)).at(-1)).toBe(
      `${name} blocked the bot on Telegram: messages sent here will not reach them until they start it again.`,
    );
  });

  it('is nothing to store for a user who is no contact, or a contact without a Telegram conversation', async () => {
    const stranger = JSON.parse(fixtureText('telegram/unblocked.json')) as { update_id: number; my_chat_member: { chat: { id: number }; from: { id: number } } };
    stranger.update_id += 500;
    stranger.my_chat_member.chat.id = 6230009999;
    stranger.my_chat_member.from.id = 6230009999;
    expect((await telegramHook(JSON.stringify(stranger))).body).toMatchObject({ stored: 0, ignored: 1 });
  });
});

describe('WhatsApp', () => {
  it('stores contact cards, locations, orders, unsupported messages, a number change and ad replies with a text a person can read; a reaction is no message', async () => {
    const body = fixtureText('whatsapp/kinds.json');
    const path = `/hooks/whatsapp/${hooks.whatsapp}`;
    // Three entries, nine messages in one POST: all of it stored before the 200.
    expect(await hook(path, { body, headers: whatsappHeaders(body) })).toMatchObject({
      status: 200,
      body: { stored: 8, ignored: 1, duplicate: 0 },
    });
    expect((await hook(path, { body, headers: whatsappHeaders(body) })).body).toMatchObject({ stored: 0, duplicate: 8, ignored: 1 });

    const { conversations } = await threadsOf('whatsapp', '+16315551181');
    expect(conversations).toHaveLength(1);
    const byId = Object.fromEntries(conversations[0]!.messages.map((m) => [m.externalId.split(':').at(-1), m]));
    expect(Object.keys(byId).sort()).toEqual([
      'wamid.KINDS-AD',
      'wamid.KINDS-CONTACTS',
      'wamid.KINDS-LIST',
      'wamid.KINDS-LOCATION',
      'wamid.KINDS-ORDER',
      'wamid.KINDS-STICKER',
      'wamid.KINDS-SYSTEM',
      'wamid.KINDS-UNSUPPORTED',
    ]);
    expect(byId['wamid.KINDS-SYSTEM']!.body).toBe('[User Kerry Fisher changed from 16315551181 to 12195555358]');
    expect(byId['wamid.KINDS-CONTACTS']!.body).toBe(
      'Contact: Barbara Johnson, Manager at Lucky Shrub, +1 (650) 555-1234, barbara@example.com, https://www.luckyshrub.com',
    );
    // The card's every field (address, birthday, ...) is kept as WhatsApp sent it.
    expect(byId['wamid.KINDS-CONTACTS']!.payload).toMatchObject({
      original: { kind: 'contacts', item: [{ birthday: '1999-01-23', addresses: [{ street: '1 Hacker Way', zip: '94025' }] }] },
    });
    expect(byId['wamid.KINDS-LOCATION']!.body).toBe(
      'Location: Philz Coffee, 101 Forest Ave, Palo Alto, CA 94301 (37.44221496582, -122.16139984131) https://philzcoffee.com',
    );
    expect(byId['wamid.KINDS-LOCATION']!.payload).toMatchObject({
      original: { kind: 'location', item: { url: 'https://philzcoffee.com', latitude: 37.44221496582 } },
    });
    expect(byId['wamid.KINDS-ORDER']!.body).toBe('Order: 2 × di9ozbzfi4 at 7.99 USD\nLove these!');
    expect(byId['wamid.KINDS-UNSUPPORTED']!.body).toBe('[A message WhatsApp cannot show here (poll_creation)]');
    expect(byId['wamid.KINDS-LIST']!.body).toBe('Priority Mail Express');
    expect(byId['wamid.KINDS-LIST']!.payload).toMatchObject({ replyTo: { providerMessageId: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJBQkNERUY=' } });
    expect(byId['wamid.KINDS-STICKER']).toMatchObject({ kind: 'media', payload: { media: [{ kind: 'sticker', mimeType: 'image/webp' }] } });
    expect(byId['wamid.KINDS-AD']!.payload).toMatchObject({
      referral: { sourceType: 'ad', sourceId: '120226305854810726', sourceUrl: 'https://fb.me/3cr4Wqqkv', headline: 'Chat with us' },
    });
  });
});

describe('WhatsApp: a contact’s number change', () => {
  const whatsappHook = (body: string) => hook(`/hooks/whatsapp/${hooks.whatsapp}`, { body, headers: whatsappHeaders(body) });

  it('gives the contact their new WhatsApp id as primary, keeps the old one, and their next message reaches the same conversation', async () => {
    // The contact wrote from their old number before.
    const earlier = fixtureText('whatsapp/text.json')
      .replaceAll('16505551234', '16505550101').replace('Sheena Nelson', 'Nora Newnumber').replace('wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=', 'wamid.BEFORE-NUMBER-CHANGE');
    expect((await whatsappHook(earlier)).body).toMatchObject({ stored: 1 });
    const before = await threadsOf('whatsapp', '+16505550101');

    const body = fixtureText('whatsapp/number-change.json');
    expect((await whatsappHook(body)).body).toMatchObject({ stored: 2, ignored: 0 });
    expect((await whatsappHook(body)).body).toMatchObject({ stored: 0, duplicate: 2 });

    const contact = (await get(`/v1/contacts/${before.contactId}`)).body;
    expect(contact.channels.filter((channel: StoredChannel) => channel.kind === 'whatsapp').map((channel: StoredChannel) => [channel.normalized, channel.primary])).toEqual([
      ['+16505550101', false],
      ['+16505550202', true],
    ]);
    const after = await threadsOf('whatsapp', '+16505550202');
    expect(after.contactId).toBe(before.contactId);
    expect(after.conversations).toHaveLength(1);
    // In the order of their external ids: AFTER-, BEFORE-, NUMBER-CHANGE.
    expect(after.conversations[0]!.messages.map((m) => m.body)).toEqual([
      'New number, same me',
      'Does it come in another color?',
      '[User Nora Newnumber changed from 16505550101 to 16505550202]',
    ]);
    const updates = ((await get(`/v1/contacts/${before.contactId}/timeline?limit=50`)).body.items as { event: { type: string; actorUserId: string } }[]).filter(
      (entry) => entry.event.type === 'contact.updated',
    );
    expect(updates).toHaveLength(1);
    expect(updates[0]!.event.actorUserId).toBe('system');
  });

  it('never takes a number another contact holds: the change is left to a person', async () => {
    const holder = await stack.api('POST', '/v1/contacts', {
      token: acme.owner.token,
      body: { name: 'Owns The Number', channels: [{ kind: 'whatsapp', value: '+16505550404' }] },
    });
    expect(holder.status).toBe(201);
    const body = fixtureText('whatsapp/number-change.json')
      .replaceAll('16505550101', '16505550303')
      .replaceAll('16505550202', '16505550404')
      .replaceAll('wamid.NUMBER-CHANGE', 'wamid.NUMBER-CHANGE-TAKEN')
      .replaceAll('wamid.AFTER-NUMBER-CHANGE', 'wamid.AFTER-NUMBER-CHANGE-TAKEN');
    expect((await whatsappHook(body)).body).toMatchObject({ stored: 2 });
    const changer = await threadsOf('whatsapp', '+16505550303');
    expect((await get(`/v1/contacts/${changer.contactId}`)).body.channels.map((channel: StoredChannel) => channel.normalized)).toEqual(['+16505550303']);
    expect((await get(`/v1/contacts/${holder.body.id}`)).body.channels.map((channel: StoredChannel) => channel.normalized)).toEqual(['+16505550404']);
    // The system message is shown in the changer's conversation; the holder's message stays theirs.
    expect(changer.conversations[0]!.messages.map((m) => m.body)).toEqual(['[User Nora Newnumber changed from 16505550303 to 16505550404]']);
    // Whoever answers there is told the change was not applied, why, and what to do: once, however often WhatsApp repeats it.
    // Nobody named them yet: the contact the system message made is named after its number.
    const note = "+16505550303's new WhatsApp number +16505550404 was not added to them: it is Owns The Number's WhatsApp number already. If they are the same person, merge the two contacts.";
    expect(await notesIn(changer.conversations[0]!.id)).toEqual([note]);
    expect((await whatsappHook(body)).body).toMatchObject({ stored: 0, duplicate: 2 });
    expect(await notesIn(changer.conversations[0]!.id)).toEqual([note]);
  });

  it('says so in the conversation when the contact already holds as many channels as a contact may', async () => {
    const full = await stack.api('POST', '/v1/contacts', {
      token: acme.owner.token,
      body: {
        name: 'Full Channels',
        channels: [
          { kind: 'whatsapp', value: '+16505550505' },
          ...Array.from({ length: 9 }, (_, i) => ({ kind: 'email', value: `full${i}@example.com` })),
        ],
      },
    });
    expect(full.status).toBe(201);
    const body = fixtureText('whatsapp/number-change.json')
      .replaceAll('16505550101', '16505550505')
      .replaceAll('16505550202', '16505550606')
      .replaceAll('wamid.NUMBER-CHANGE', 'wamid.NUMBER-CHANGE-FULL')
      .replaceAll('wamid.AFTER-NUMBER-CHANGE', 'wamid.AFTER-NUMBER-CHANGE-FULL');
    expect((await whatsappHook(body)).body).toMatchObject({ stored: 2 });
    expect((await get(`/v1/contacts/${full.body.id}`)).body.channels).toHaveLength(10);
    const { conversations } = await threadsOf('whatsapp', '+16505550505');
    expect(await notesIn(conversations[0]!.id)).toEqual([
      "Full Channels's new WhatsApp number +16505550606 was not added to them: they hold as many channels as a contact may. Remove one they no longer use, then add +16505550606 as their primary WhatsApp number.",
    ]);
  });
});

describe('WhatsApp Flows', () => {
  it('stores a Flow’s response (`nfm_reply`) with its answers written out and the parsed response on the message', async () => {
    const body = fixtureText('whatsapp/flow-reply.json');
    const path = `/hooks/whatsapp/${hooks.whatsapp}`;
    expect(await hook(path, { body, headers: whatsappHeaders(body) })).toMatchObject({ status: 200, body: { stored: 1, ignored: 0 } });
    expect((await hook(path, { body, headers: whatsappHeaders(body) })).body).toMatchObject({ stored: 0, duplicate: 1 });

    const { conversations } = await threadsOf('whatsapp', '+16315558151');
    expect(conversations).toHaveLength(1);
    const [reply] = conversations[0]!.messages;
    expect(reply).toMatchObject({ kind: 'text', body: 'Form reply: date: 2026-01-20, people: 2, extras: parking, breakfast' });
    expect(reply!.payload.interactive).toEqual({
      type: 'nfm_reply',
      id: null,
      title: 'flow',
      response: { flow_token: 'booking-7f3a', date: '2026-01-20', people: '2', extras: ['parking', 'breakfast'] },
    });
  });
});

/**
 * An SES receipt notification for a raw mail, its content inline (SNS action, Base64: the encoding
 * AWS advises for mail that is not UTF-8), as SNS posts it, signed. The headers are given as written,
 * RFC 2047 words undecoded.
 */
function receivedMail(raw: Buffer, headers: { from: string; subject: string; messageId: string | null }, sesMessageId: string) {
  const notification = {
    notificationType: 'Received',
    receipt: {
      timestamp: '2025-12-02T09:15:03.102Z',
      processingTimeMillis: 412,
      recipients: ['support@acme.example'],
      spamVerdict: { status: 'PASS' },
      virusVerdict: { status: 'PASS' },
      spfVerdict: { status: 'PASS' },
      dkimVerdict: { status: 'PASS' },
      dmarcVerdict: { status: 'PASS' },
      action: { type: 'SNS', topicArn: inboundTopic, encoding: 'BASE64' },
    },
    mail: {
      timestamp: '2025-12-02T09:15:02.650Z',
      source: /<([^>]+)>/.exec(headers.from)![1],
      messageId: sesMessageId,
      destination: ['support@acme.example'],
      headersTruncated: false,
      headers: [
        { name: 'From', value: headers.from },
        { name: 'To', value: 'support@acme.example' },
        { name: 'Subject', value: headers.subject },
        ...(headers.messageId ? [{ name: 'Message-ID', value: headers.messageId }] : []),
      ],
      commonHeaders: {
        from: [headers.from],
        to: ['support@acme.example'],
        ...(headers.messageId ? { messageId: headers.messageId } : {}),
        subject: headers.subject,
        date: 'Tue, 2 Dec 2025 10:15:00 +0100',
      },
    },
    content: raw.toString('base64'),
  };
  return snsBody({ TopicArn: inboundTopic, Message: JSON.stringify(notification) });
}

const postMail = (body: string) => hook(`/hooks/ses/${hooks.email}`, { body, headers: { 'content-type': 'text/plain; charset=UTF-8' } });

describe('inbound mail', () => {
  it('reads a windows-1251 mail: its body, its subject and its sender’s name decoded', async () => {
    const raw = fixtureBytes('ses/mime/cp1251.eml');
    const body = receivedMail(
      raw,
      { from: '=?windows-1251?B?0eXw4+XpIMji4O3u4g==?= <sergey@example.ru>', subject: '=?windows-1251?B?0fe48iDt4CAxMiDs5fHy?=', messageId: '<cp1251-1@mail.example.ru>' },
      'ses-cp1251-1',
    );
    expect(await postMail(body)).toMatchObject({ status: 200, body: { stored: 1 } });
    expect((await postMail(body)).body).toMatchObject({ stored: 0, duplicate: 1 });
    const { contactId, conversations } = await threadsOf('email', 'sergey@example.ru');
    expect((await get(`/v1/contacts/${contactId}`)).body.name).toBe('Сергей Иванов');
    expect(conversations).toMatchObject([{ subject: 'Счёт на 12 мест' }]);
    expect(conversations[0]!.messages[0]!.body).toBe('Здравствуйте!\nНам нужен счёт на 12 мест.\nСергей');
  });

  it('keeps a mail’s files (an attached PDF, an inline image) as its message’s attachments, once', async () => {
    const raw = fixtureBytes('ses/mime/attachments.eml');
    const body = receivedMail(
      raw,
      { from: 'Ana Lopez <ana.lopez@example.com>', subject: 'Signed contract and our logo', messageId: '<attachments-1@mail.example.com>' },
      'ses-attachments-1',
    );
    expect(await postMail(body)).toMatchObject({ status: 200, body: { stored: 1 } });
    expect((await postMail(body)).body).toMatchObject({ stored: 0, duplicate: 1 });

    const { conversations } = await threadsOf('email', 'ana.lopez@example.com');
    const message = conversations.flatMap((cv) => cv.messages).find((m) => m.body.startsWith('Here is the signed contract'))!;
    const stored = (await get(`/v1/conversations/${conversations[0]!.id}/messages/${message.id}`)).body;
    expect(stored.kind).toBe('media');
    expect(stored.attachments).toEqual([
      { id: expect.any(String), kind: 'image', fileName: 'logo.png', contentType: 'image/png', sizeBytes: 70 },
      { id: expect.any(String), kind: 'document', fileName: 'contrato firmadoñ.pdf', contentType: 'application/pdf', sizeBytes: 125 },
    ]);
    // The bytes are in the bucket, under each attachment, as the mail carried them.
    const pdf = await stack.blobs.get(`attachments/${acme.workspace.id}/${stored.attachments[1].id}`);
    expect(Buffer.from(pdf!).toString('latin1')).toMatch(/^%PDF-1.4/);
  });
});

describe('inbound mail from no person', () => {
  it('leaves a bounce report that reached the inbound address out (no contact for the mail server), and threads an auto-reply flagged', async () => {
    const bounce = receivedMail(
      fixtureBytes('ses/mime/bounce-report.eml'),
      { from: 'Mail Delivery Subsystem <MAILER-DAEMON@mail.example.com>', subject: 'Undelivered Mail Returned to Sender', messageId: '<dsn-1@mail.example.com>' },
      'ses-dsn-1',
    );
    expect(await postMail(bounce)).toMatchObject({ status: 200, body: { stored: 0, ignored: 1 } });
    expect((await threadsOf('email', 'mailer-daemon@mail.example.com')).contactId).toBeUndefined();

    const autoReply = receivedMail(
      fixtureBytes('ses/mime/auto-reply.eml'),
      { from: 'Ana Lopez <ana.lopez@example.com>', subject: 'Automatic reply: Your quote', messageId: '<ooo-1@mail.example.com>' },
      'ses-ooo-1',
    );
    expect(await postMail(autoReply)).toMatchObject({ status: 200, body: { stored: 1 } });
    const message = (await threadsOf('email', 'ana.lopez@example.com')).conversations
      .flatMap((cv) => cv.messages)
      .find((m) => m.body.startsWith('I am out of the office'))!;
    expect(message.payload).toMatchObject({ email: { autoSubmitted: 'auto-replied', precedence: 'bulk' } });
  });

  it('stores a mail without Message-ID once (SES’s id keeps it), its forwarded text whole', async () => {
    const body = receivedMail(
      fixtureBytes('ses/mime/no-message-id.eml'),
      { from: 'Ana Lopez <ana.lopez@example.com>', subject: 'Fwd: Invoice 2025-118', messageId: null },
      'ses-no-id-1',
    );
    expect(await postMail(body)).toMatchObject({ status: 200, body: { stored: 1 } });
    expect((await postMail(body)).body).toMatchObject({ stored: 0, duplicate: 1 });
    const message = (await threadsOf('email', 'ana.lopez@example.com')).conversations
      .flatMap((cv) => cv.messages)
      .find((m) => m.body.startsWith('See below'))!;
    expect(message.body).toContain('Your invoice is attached.');
    expect(message.payload).toMatchObject({ email: { messageIdHeader: null } });
  });
});

describe('Twilio', () => {
  it('stores an MMS with its text and both files, signed over a URL with a query string; a retry adds nothing', async () => {
    const path = `/hooks/twilio/${hooks.sms}?source=mms`;
    const body = fixtureText('twilio/mms-inbound.txt').trim();
    const first = await hook(path, { body, headers: twilioHeaders(path, body) });
    expect(first).toMatchObject({ status: 200, headers: { 'content-type': 'text/xml' } });
    expect(first.text).toContain('<Response/>');
    // Signed without the query string: refused, nothing written.
    expect((await hook(path, { body, headers: twilioHeaders(`/hooks/twilio/${hooks.sms}`, body) })).status).toBe(403);
    expect((await hook(path, { body, headers: twilioHeaders(path, body) })).status).toBe(200);

    const { conversations } = await threadsOf('phone', '+14155552671');
    const messages = conversations.flatMap((cv) => cv.messages).filter((m) => m.externalId.endsWith('MM9a8b7c6d5e4f30211203948576abcdef'));
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({
      body: 'Receipt and the photo',
      kind: 'media',
      payload: { media: [{ kind: 'image', mimeType: 'image/jpeg' }, { kind: 'document', mimeType: 'application/pdf' }] },
    });
  });
});
