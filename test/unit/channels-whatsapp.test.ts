import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type {
  CallEvent,
  DeliveryStatusEvent,
  IgnoredEvent,
  InboundMessageEvent,
} from '../../domain/channels/inbound-events';
import {
  parseWhatsAppWebhook,
  verifyWhatsAppSignature,
  verifyWhatsAppSubscription,
} from '../../domain/channels/whatsapp-webhook';
import { fixtureBytes, fixtureText } from '../support/provider-fixtures';

const appSecret = 'e3b0c44298fc1c149afbf4c8996fb924';
const sign = (body: Buffer | string, secret = appSecret) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

describe('verifyWhatsAppSignature', () => {
  const body = fixtureBytes('whatsapp/text.json');

  it('accepts the HMAC-SHA256 of the exact bytes, keyed with the app secret', () => {
    expect(verifyWhatsAppSignature(body, { 'X-Hub-Signature-256': sign(body) }, appSecret)).toEqual({
      ok: true,
    });
  });

  it('finds the header whatever its case, and takes the body as a string or bytes', () => {
    expect(
      verifyWhatsAppSignature(body.toString('utf8'), { 'x-hub-signature-256': sign(body) }, appSecret).ok,
    ).toBe(true);
    expect(
      verifyWhatsAppSignature(
        body,
        { 'x-hub-signature-256': sign(body).toUpperCase().replace('SHA256=', 'sha256=') },
        appSecret,
      ).ok,
    ).toBe(true);
  });

  it('signs the bytes as sent: non-ASCII text is hashed as UTF-8, not re-serialised', () => {
    // Prepare: the same JSON with escaped and unescaped é are different bytes, so different signatures
    const raw = '{"text":"caf\\u00e9"}';
    const reserialised = JSON.stringify(JSON.parse(raw));

    // Assess
    expect(verifyWhatsAppSignature(raw, { 'X-Hub-Signature-256': sign(raw) }, appSecret).ok).toBe(true);
    expect(
      verifyWhatsAppSignature(reserialised, { 'X-Hub-Signature-256': sign(raw) }, appSecret),
    ).toMatchObject({
      ok: false,
      reason: 'mismatch',
    });
  });

  it('refuses a request without the header as missing', () => {
    expect(verifyWhatsAppSignature(body, {}, appSecret)).toMatchObject({ ok: false, reason: 'missing' });
    expect(verifyWhatsAppSignature(body, { 'X-Hub-Signature-256': '  ' }, appSecret)).toMatchObject({
      ok: false,
      reason: 'missing',
    });
  });

  it.each([
    ['no sha256= prefix', createHmac('sha256', appSecret).update(body).digest('hex')],
    ['sha1 instead', `sha1=${createHmac('sha1', appSecret).update(body).digest('hex')}`],
    ['a short digest', sign(body).slice(0, -2)],
    ['not hex', `sha256=${'z'.repeat(64)}`],
  ])('refuses %s as malformed', (_name, header) => {
    expect(verifyWhatsAppSignature(body, { 'X-Hub-Signature-256': header }, appSecret)).toMatchObject({
      ok: false,
      reason: 'malformed',
    });
  });

  it('refuses a tampered body and a signature made with another secret as a mismatch', () => {
    const tampered = Buffer.from(body);
    tampered[tampered.indexOf('color')] = 'C'.charCodeAt(0);
    expect(verifyWhatsAppSignature(tampered, { 'X-Hub-Signature-256': sign(body) }, appSecret)).toMatchObject(
      { ok: false, reason: 'mismatch' },
    );
    expect(
      verifyWhatsAppSignature(body, { 'X-Hub-Signature-256': sign(body, 'another-secret') }, appSecret),
    ).toMatchObject({
      ok: false,
      reason: 'mismatch',
    });
  });
});

describe('verifyWhatsAppSubscription', () => {
  const query = { 'hub.mode': 'subscribe', 'hub.verify_token': 'vibecoding', 'hub.challenge': '1158201444' };

  it('echoes the challenge when the mode is subscribe and the verify token is ours', () => {
    expect(verifyWhatsAppSubscription(query, 'vibecoding')).toEqual({ ok: true, challenge: '1158201444' });
    expect(verifyWhatsAppSubscription(new URLSearchParams(query), 'vibecoding')).toEqual({
      ok: true,
      challenge: '1158201444',
    });
  });

  it.each([
    ['another verify token', { ...query, 'hub.verify_token': 'guess' }, 'mismatch'],
    ['a mode other than subscribe', { ...query, 'hub.mode': 'unsubscribe' }, 'malformed'],
    ['no challenge', { ...query, 'hub.challenge': undefined }, 'malformed'],
    ['no verify token', { ...query, 'hub.verify_token': undefined }, 'missing'],
    ['no hub parameters at all', {}, 'missing'],
  ])('refuses %s', (_name, params, reason) => {
    expect(verifyWhatsAppSubscription(params, 'vibecoding')).toMatchObject({ ok: false, reason });
  });
});

describe('parseWhatsAppWebhook', () => {
  it('turns a text message into one message from the normalised sender', () => {
    expect(parseWhatsAppWebhook(fixtureBytes('whatsapp/text.json'))).toEqual([
      {
        type: 'message',
        provider: 'whatsapp',
        channel: 'whatsapp',
        dedupeKeys: ['whatsapp:message:wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA='],
        providerMessageId: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=',
        from: { kind: 'whatsapp', value: '+16505551234', name: 'Sheena Nelson', alternateValues: [] },
        to: ['106540352242922'],
        sentAt: '2025-06-08T20:59:43.000Z',
        text: 'Does it come in another color?',
        media: [],
        replyToProviderMessageId: null,
        chatId: null,
        email: null,
      } satisfies InboundMessageEvent,
    ]);
  });

  it('keeps media references, captions and the message replied to', () => {
    const events = parseWhatsAppWebhook(fixtureBytes('whatsapp/media-reply.json')) as InboundMessageEvent[];

    expect(events.map((e) => e.type)).toEqual(['message', 'message', 'message', 'message']);
    const [image, voice, document, button] = events;
    expect(image).toMatchObject({
      text: 'This one, in blue?',
      replyToProviderMessageId: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI5QTNDQUVCMDhFNzNGOTUwQUIA',
      media: [
        {
          kind: 'image',
          providerMediaId: '1003383421387256',
          url: null,
          mimeType: 'image/jpeg',
          fileName: null,
          caption: 'This one, in blue?',
          sizeBytes: null,
        },
      ],
    });
    expect(voice).toMatchObject({
      text: '',
      replyToProviderMessageId: null,
      media: [{ kind: 'voice', providerMediaId: '1139367734504391' }],
    });
    expect(document!.media).toEqual([
      expect.objectContaining({
        kind: 'document',
        fileName: 'invoice-2025-06.pdf',
        mimeType: 'application/pdf',
        caption: null,
      }),
    ]);
    expect(button).toMatchObject({
      text: 'Cancel',
      media: [],
      replyToProviderMessageId: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBIzQjg4RjdBRDNFMUE1RjNENjcA',
    });
  });

  it('maps every status, played as read, and keeps the error of a failed one', () => {
    const events = parseWhatsAppWebhook(fixtureBytes('whatsapp/statuses.json')) as DeliveryStatusEvent[];

    expect(events.map((e) => [e.providerStatus, e.status])).toEqual([
      ['sent', 'sent'],
      ['delivered', 'delivered'],
      ['read', 'read'],
      ['played', 'read'],
      ['failed', 'failed'],
    ]);
    expect(events[0]).toEqual({
      type: 'delivery_status',
      provider: 'whatsapp',
      channel: 'whatsapp',
      dedupeKeys: ['whatsapp:status:wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3MTE5MjVBOTE3MDk5QUVFM0YA:sent'],
      providerMessageId: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3MTE5MjVBOTE3MDk5QUVFM0YA',
      recipient: '+16505551234',
      providerStatus: 'sent',
      status: 'sent',
      at: '2025-06-18T16:22:53.000Z',
      error: null,
      email: null,
      sendReference: null,
    } satisfies DeliveryStatusEvent);
    // biz_opaque_callback_data, when it is our send reference, names the attempt.
    expect(events[1]!.sendReference).toEqual({ conversationId: 'cnv_01JF8Z6K3T1M2L4J6G8F0C9R1Z', messageId: 'msg_01JF8Z6Q4V2N3M5K7H9G1D0S2A', attempt: 1 });
    expect(events[4]!.error).toEqual({
      code: '131047',
      message:
        'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
    });
    // (status id, status): the same message's statuses are distinct keys, a repeat of one is the same key
    expect(new Set(events.flatMap((e) => e.dedupeKeys)).size).toBe(5);
  });

  it('returns every message and status of a batch: several entries, changes and senders, in order', () => {
    const events = parseWhatsAppWebhook(fixtureBytes('whatsapp/batched.json'));

    expect(events.map((e) => [e.type, 'providerMessageId' in e ? e.providerMessageId : null])).toEqual([
      ['message', 'wamid.BATCH-1'],
      ['message', 'wamid.BATCH-2'],
      ['delivery_status', 'wamid.BATCH-OUT-1'],
      ['message', 'wamid.BATCH-3'],
    ]);
    const messages = events.filter((e): e is InboundMessageEvent => e.type === 'message');
    expect(messages.map((m) => [m.from.value, m.from.name, m.to])).toEqual([
      ['+16505551234', 'Sheena Nelson', ['106540352242922']],
      ['+60173526233', 'Lee Jen Ling', ['106540352242922']],
      ['+16505551234', 'Sheena Nelson', ['106540352242923']],
    ]);
  });

  it('returns what it does not handle as ignored entries with a reason, next to nothing else dropped', () => {
    const events = parseWhatsAppWebhook(fixtureBytes('whatsapp/unhandled.json')) as IgnoredEvent[];

    expect(events.map((e) => [e.type, e.reason, e.dedupeKeys])).toEqual([
      ['ignored', 'unsupported_message_type', ['whatsapp:message:wamid.REACTION-1']],
      // What Cloud API cannot show is still a message from the contact, with a placeholder text.
      ['message', undefined, ['whatsapp:message:wamid.UNSUPPORTED-1']],
      ['ignored', 'unroutable_sender', ['whatsapp:message:wamid.BADSENDER-1']],
      ['ignored', 'invalid_item', []],
      ['ignored', 'unknown_status', ['whatsapp:status:wamid.DELETED-1:deleted']],
      ['ignored', 'provider_error', []],
      ['ignored', 'unsupported_field', []],
      ['ignored', 'unsupported_field', []],
    ]);
    expect(events[0]!.detail).toContain('reaction');
    expect(events[1]).toMatchObject({ type: 'message', text: '[A message WhatsApp cannot show here (edit)]' });
    expect(events[3]!.item).toMatchObject({ id: 'wamid.NOFROM-1' });
  });

  it("keeps a template quick-reply button's payload, and stores kinds it has no view of with the item kept", () => {
    // Meta's messages webhook reference: .../messages/button and .../messages/request_welcome; the third a type added later.
    const payload = JSON.parse(fixtureText('whatsapp/text.json'));
    const value = payload.entry[0].changes[0].value;
    const base = { from: value.messages[0].from, timestamp: value.messages[0].timestamp };
    value.messages = [
      { ...base, id: 'wamid.BUTTON-1', type: 'button', context: { from: '15550783881', id: 'wamid.TEMPLATE-1' }, button: { payload: 'Unsubscribe', text: 'Stop promotions' } },
      { ...base, id: 'wamid.WELCOME-1', type: 'request_welcome' },
      { ...base, id: 'wamid.FUTURE-1', type: 'hologram', hologram: { id: 'h-1', depth: 3 } },
    ];
    const [button, welcome, future] = parseWhatsAppWebhook(JSON.stringify(payload)) as InboundMessageEvent[];
    expect(button).toMatchObject({
      type: 'message',
      text: 'Stop promotions',
      replyToProviderMessageId: 'wamid.TEMPLATE-1',
      interactive: { type: 'button', id: 'Unsubscribe', title: 'Stop promotions', response: null },
    });
    expect(welcome).toMatchObject({ type: 'message', text: '[Opened a chat for the first time]', media: [] });
    expect(future).toMatchObject({
      type: 'message',
      text: '[A hologram message this inbox cannot show]',
      original: { kind: 'hologram', item: { id: 'h-1', depth: 3 } },
    });
  });

  it('reports calls: inbound connect and terminate, outbound ringing, answered and failed', () => {
    const events = parseWhatsAppWebhook(fixtureBytes('whatsapp/calls.json')) as CallEvent[];

    expect(
      events.map((e) => [e.direction, e.providerStatus, e.status, e.contact?.value, e.durationSeconds]),
    ).toEqual([
      ['inbound', 'connect', 'ringing', '+16505551234', null],
      ['inbound', 'terminate/COMPLETED', 'ended', '+16505551234', 35],
      ['outbound', 'RINGING', 'ringing', '+12185552828', null],
      ['outbound', 'ACCEPTED', 'connected', '+12185552828', null],
      ['outbound', 'terminate/FAILED', 'failed', '+12185552828', null],
    ]);
    expect(events[0]).toMatchObject({
      type: 'call',
      channel: 'whatsapp',
      providerCallId: 'wacid.ABGGFjFVU2AfAgo6V-Hc5eCgK5Gh',
      contact: { name: 'Sheena Nelson' },
      business: '436666719526789',
      at: '2022-12-21T17:47:04.000Z',
      dedupeKeys: ['whatsapp:call:wacid.ABGGFjFVU2AfAgo6V-Hc5eCgK5Gh:connect'],
    });
  });

  it("leaves out a call's duration that is not whole seconds DynamoDB can hold, and keeps the call", () => {
    const durationOf = (duration: string) =>
      (parseWhatsAppWebhook(fixtureText('whatsapp/calls.json').replace('"duration": 35', `"duration": ${duration}`)) as CallEvent[])[1]!
        .durationSeconds;
    expect(durationOf('"35"')).toBe(35);
    expect(durationOf('0')).toBe(0);
    for (const bad of ['1e200', '5.5e-303', '-4', '2.5', '"soon"', 'null', '{}']) expect(durationOf(bad), bad).toBeNull();
  });

  it('answers a body that is not JSON, or not a WhatsApp notification, with one ignored entry', () => {
    expect(parseWhatsAppWebhook('{"object":')).toMatchObject([{ type: 'ignored', reason: 'malformed_json' }]);
    expect(parseWhatsAppWebhook('{"object":"page","entry":[]}')).toMatchObject([
      { type: 'ignored', reason: 'unrecognised_payload' },
    ]);
  });
});

/**
 * Users who adopt a username: Meta's business-scoped user IDs page,
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/business-scoped-user-ids/
 * (copy: https://support.chatarchitect.com/books/meta-whatsapp/page/business-scoped-user-ids-developer-documentation),
 * and https://dualhook.com/docs/contacts-bsuid-webhooks: every incoming message carries the sender's BSUID
 * (`messages[].from_user_id`, `contacts[].user_id`); `from` and `wa_id` only while their number may be
 * shared; `contacts[].profile.username` when they adopted one. The fixtures are the page's examples (its
 * message example writes the contact's `user_id` as `uUS.…`, read as a typo of the `US.…` beside it).
 */
describe('parseWhatsAppWebhook: usernames and business-scoped user IDs', () => {
  const bsuid = 'US.13491208655302741918';

  it('takes a message without `from` from the sender named by `from_user_id`', () => {
    const [event] = parseWhatsAppWebhook(fixtureBytes('whatsapp/username-message.json')) as InboundMessageEvent[];

    expect(event).toMatchObject({
      type: 'message',
      channel: 'whatsapp',
      providerMessageId: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=',
      from: { kind: 'whatsapp', value: bsuid, name: 'Sheena Nelson', alternateValues: [] },
      text: 'Does it come in another color?',
      dedupeKeys: ['whatsapp:message:wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA='],
    });
  });

  it('names the sender by their username when there is no profile name', () => {
    const payload = JSON.parse(fixtureText('whatsapp/username-message.json'));
    delete payload.entry[0].changes[0].value.contacts[0].profile.name;

    const [event] = parseWhatsAppWebhook(JSON.stringify(payload)) as InboundMessageEvent[];

    expect(event!.from).toMatchObject({ value: bsuid, name: '@realsheenanelson' });
  });

  it("falls back to the change's contacts[].user_id when the message names no sender", () => {
    const payload = JSON.parse(fixtureText('whatsapp/username-message.json'));
    delete payload.entry[0].changes[0].value.messages[0].from_user_id;

    const [event] = parseWhatsAppWebhook(JSON.stringify(payload)) as InboundMessageEvent[];

    expect(event!.from).toMatchObject({ value: bsuid, name: 'Sheena Nelson' });
  });

  it('keeps the number as the sender’s value when both are given, their BSUID as an alternate', () => {
    // The page's syntax: `from` and `wa_id` while the number may be shared, `from_user_id` and `user_id` always.
    const payload = JSON.parse(fixtureText('whatsapp/text.json'));
    const value = payload.entry[0].changes[0].value;
    value.contacts[0].user_id = bsuid;
    value.messages[0].from_user_id = bsuid;

    const [event] = parseWhatsAppWebhook(JSON.stringify(payload)) as InboundMessageEvent[];

    expect(event!.from).toEqual({ kind: 'whatsapp', value: '+16505551234', name: 'Sheena Nelson', alternateValues: [bsuid] });
  });

  it('refuses a BSUID that is not one as an unroutable sender, and a message naming nobody as invalid', () => {
    const payload = JSON.parse(fixtureText('whatsapp/username-message.json'));
    const value = payload.entry[0].changes[0].value;
    const message = value.messages[0];
    value.messages = [
      { ...message, id: 'wamid.BAD-BSUID', from_user_id: 'US.13491208655302741918!' },
      { ...message, id: 'wamid.NOBODY', from_user_id: undefined },
    ];
    value.contacts = [];

    const events = parseWhatsAppWebhook(JSON.stringify(payload)) as IgnoredEvent[];

    expect(events.map((e) => [e.type, e.reason, e.dedupeKeys])).toEqual([
      ['ignored', 'unroutable_sender', ['whatsapp:message:wamid.BAD-BSUID']],
      ['ignored', 'invalid_item', []],
    ]);
  });

  it('reads the status of a message sent to a BSUID: matched by its wamid, the recipient its BSUID', () => {
    const [status] = parseWhatsAppWebhook(fixtureBytes('whatsapp/username-status.json')) as DeliveryStatusEvent[];

    expect(status).toMatchObject({
      type: 'delivery_status',
      providerMessageId: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=',
      recipient: bsuid,
      status: 'delivered',
    });
  });

  it('takes a call from a caller known only by their BSUID', () => {
    // Calling webhooks carry `from_user_id` (and `from` while the number may be shared), the same page.
    const payload = JSON.parse(fixtureText('whatsapp/calls.json'));
    const call = payload.entry[0].changes[0].value.calls[0];
    delete call.from;
    call.from_user_id = bsuid;
    payload.entry[0].changes[0].value.contacts = [{ profile: { name: 'Sheena Nelson' }, user_id: bsuid }];

    const [event] = parseWhatsAppWebhook(JSON.stringify(payload)) as CallEvent[];

    expect(event).toMatchObject({ type: 'call', direction: 'inbound', contact: { kind: 'whatsapp', value: bsuid, name: 'Sheena Nelson' } });
  });
});
