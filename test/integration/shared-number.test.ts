/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies */
/**
 * One number, one person, on SMS and on WhatsApp (seed 000: "a customer is a person; a contact is a
 * channel ... the channel maps to the matching contact on that customer"): a message from a number a
 * contact holds on the other channel reaches that contact, who gains the number on this one; and a
 * WhatsApp message to a contact with a phone number but no WhatsApp value goes to that number.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAll, hook, twilioHeaders, whatsappHeaders, type Connections } from '../support/channel-hooks';
import { fixtureText } from '../support/provider-fixtures';
import { contactWith, inboundFrom, values } from '../support/send-setup';
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

const token = () => acme.owner.token;
const get = async (path: string) => (await stack.api('GET', path, { token: token() })).body;
const ingest = (channel: string, from: string, body = 'Hello?') =>
  stack.api('POST', '/v1/inbound-messages', {
    token: token(),
    body: { channel, from, externalId: `ext-${randomUUID()}`, body },
  });
const sendTo = (contactId: string, body: Record<string, unknown>) =>
  stack.api('POST', `/v1/contacts/${contactId}/messages`, { token: token(), body: { body: 'Hello from us', ...body } });
const valuesOf = (contact: { channels: { kind: string; normalized: string; primary: boolean }[] }, kind: string) =>
  contact.channels.filter((channel) => channel.kind === kind).map((channel) => [channel.normalized, channel.primary]);
const lookup = (kind: string, value: string) => stack.api('GET', '/v1/contacts/lookup', { token: token(), query: { kind, value } });

/** A WhatsApp webhook message from a number (and a BSUID, when given), sent now. */
function whatsappMessage(number: string, wamid: string, text: string, bsuid?: string) {
  const payload = JSON.parse(fixtureText('whatsapp/text.json'));
  const value = payload.entry[0].changes[0].value;
  const waId = number.replace('+', '');
  value.contacts[0] = { profile: { name: 'Wendy WhatsApp' }, wa_id: waId, ...(bsuid ? { user_id: bsuid } : {}) };
  value.messages[0] = {
    ...value.messages[0],
    from: waId,
    ...(bsuid ? { from_user_id: bsuid } : {}),
    id: wamid,
    timestamp: String(Math.floor(Date.parse(stack.deps.clock.nowIso()) / 1000)),
    text: { body: text },
  };
  return JSON.stringify(payload);
}
const whatsappHook = (body: string) => hook(`/hooks/whatsapp/${hooks.whatsapp}`, { body, headers: whatsappHeaders(body) });

/** A Twilio SMS webhook from a number. */
function twilioSms(number: string, sid: string) {
  const path = `/hooks/twilio/${hooks.sms}`;
  const body = fixtureText('twilio/sms-inbound.txt')
    .trim()
    .replaceAll('SM1f0e8d6c4b2a09182736455463728190', sid)
    .replace('From=%2B14155552671', `From=${encodeURIComponent(number)}`);
  return hook(path, { body, headers: twilioHeaders(path, body) });
}

describe('a number a contact holds on SMS or WhatsApp finds them on the other', () => {
  it('an inbound WhatsApp from a number on file as a phone reaches that contact, who gains it as their WhatsApp value', async () => {
    const { phone } = values();
    const contact = await contactWith(stack, acme, [{ kind: 'phone', value: phone }], 'Walt Phone');
    const sms = await ingest('sms', phone, 'sms hi');
    expect(sms.body).toMatchObject({ contactId: contact.id, createdContact: false });

    const whatsapp = await ingest('whatsapp', phone, 'wa hi');
    expect(whatsapp.status).toBe(201);
    expect(whatsapp.body).toMatchObject({ contactId: contact.id, createdContact: false });
    const after = await get(`/v1/contacts/${contact.id}`);
    expect(valuesOf(after, 'whatsapp')).toEqual([[phone, true]]);
    expect(valuesOf(after, 'phone')).toEqual([[phone, true]]);
    expect((await lookup('whatsapp', phone)).body.id).toBe(contact.id);

    // A reply on WhatsApp goes to them, in their WhatsApp conversation.
    const reply = await sendTo(contact.id, { channel: 'whatsapp' });
    expect(reply.status).toBe(201);
    expect(reply.body.conversationId).toBe(whatsapp.body.conversationId);
    expect(reply.body.routing).toMatchObject({ channel: 'whatsapp', to: phone });
  });

  it('through the WhatsApp webhook too, the number and the BSUID both kept on the contact', async () => {
    const { phone } = values();
    const bsuid = `GB.${Date.now()}${Math.floor(Math.random() * 1000)}`;
    const contact = await contactWith(stack, acme, [{ kind: 'phone', value: phone }], 'Bea Both');
    expect((await whatsappHook(whatsappMessage(phone, `wamid.SHARED-${randomUUID()}`, 'Is it in stock?', bsuid))).body).toMatchObject({
      stored: 1,
    });
    const after = await get(`/v1/contacts/${contact.id}`);
    expect(after.name).toBe('Bea Both');
    expect(valuesOf(after, 'whatsapp')).toEqual([
      [phone, true],
      [bsuid, false],
    ]);
    const conversations = (await get(`/v1/conversations?view=all&contactId=${contact.id}`)).items;
    expect(conversations).toMatchObject([{ channel: 'whatsapp', contactId: contact.id }]);
  });

  it('an SMS (Twilio webhook) from a number on file only as a WhatsApp value reaches that contact, who gains it as their phone', async () => {
    const { phone } = values();
    const contact = await contactWith(stack, acme, [{ kind: 'whatsapp', value: phone }], 'Sam Sms');
    expect((await twilioSms(phone, `SM${randomUUID().replaceAll('-', '')}`)).status).toBe(200);
    const after = await get(`/v1/contacts/${contact.id}`);
    expect(valuesOf(after, 'phone')).toEqual([[phone, true]]);
    const conversations = (await get(`/v1/conversations?view=all&contactId=${contact.id}`)).items;
    expect(conversations).toMatchObject([{ channel: 'sms', contactId: contact.id }]);
  });

  it('an archived contact holding the number is left: the sender is a new contact, as before', async () => {
    const { phone } = values();
    const archived = await contactWith(stack, acme, [{ kind: 'phone', value: phone }], 'Archie Archived');
    expect((await stack.api('POST', `/v1/contacts/${archived.id}/archive`, { token: token() })).status).toBe(200);
    const whatsapp = await ingest('whatsapp', phone);
    expect(whatsapp.body).toMatchObject({ createdContact: true });
    expect(whatsapp.body.contactId).not.toBe(archived.id);
    expect(valuesOf(await get(`/v1/contacts/${archived.id}`), 'whatsapp')).toEqual([]);
  });

  it('a contact known on the channel already keeps the message, whoever holds the number on the other', async () => {
    const { phone } = values();
    const onPhone = await contactWith(stack, acme, [{ kind: 'phone', value: phone }], 'Pat Phone');
    const onWhatsApp = await contactWith(stack, acme, [{ kind: 'whatsapp', value: phone }], 'Wes WhatsApp');
    expect((await ingest('whatsapp', phone)).body).toMatchObject({ contactId: onWhatsApp.id, createdContact: false });
    expect((await ingest('sms', phone)).body).toMatchObject({ contactId: onPhone.id, createdContact: false });
    expect(valuesOf(await get(`/v1/contacts/${onPhone.id}`), 'whatsapp')).toEqual([]);
    expect(valuesOf(await get(`/v1/contacts/${onWhatsApp.id}`), 'phone')).toEqual([]);
  });
});

describe('WhatsApp to a contact with a phone number and no WhatsApp value', () => {
  it('goes to their phone number', async () => {
    const { phone } = values();
    const contact = await contactWith(stack, acme, [{ kind: 'phone', value: phone }], 'Nora Number');
    // They wrote on WhatsApp (the window is open); their WhatsApp value was removed since.
    const wrote = await inboundFrom(stack, acme, 'whatsapp', phone, 'Hi');
    expect(wrote.contactId).toBe(contact.id);
    const held = await get(`/v1/contacts/${contact.id}`);
    const whatsappId = held.channels.find((channel: any) => channel.kind === 'whatsapp').id;
    expect((await stack.api('DELETE', `/v1/contacts/${contact.id}/channels/${whatsappId}`, { token: token() })).status).toBe(200);

    const named = await sendTo(contact.id, { channel: 'whatsapp' });
    expect(named.status).toBe(201);
    expect(named.body.routing).toMatchObject({ channel: 'whatsapp', to: phone, reason: 'explicit' });
    const chosen = await sendTo(contact.id, {});
    expect(chosen.status).toBe(201);
    expect(chosen.body.routing).toMatchObject({ channel: 'whatsapp', to: phone, reason: 'last_inbound' });
    expect((await sendTo(contact.id, { channel: 'whatsapp', to: phone })).body.routing).toMatchObject({ to: phone, choices: { to: 'explicit' } });
  });

  it('who never wrote on WhatsApp: the window is what refuses it, and the automatic choice is SMS', async () => {
    const { phone } = values();
    const contact = await contactWith(stack, acme, [{ kind: 'phone', value: phone }], 'Nils Never');
    const named = await sendTo(contact.id, { channel: 'whatsapp' });
    expect(named.status).toBe(422);
    expect(named.body.reason).toBe('whatsapp_window_closed');
    const chosen = await sendTo(contact.id, {});
    expect(chosen.status).toBe(201);
    expect(chosen.body.routing).toMatchObject({ channel: 'sms', to: phone, reason: 'preference_order' });
  });
});
