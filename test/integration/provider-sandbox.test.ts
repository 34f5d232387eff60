/* eslint-disable @typescript-eslint/no-explicit-any -- provider answers are read back loosely, field by field */
/**
 * The provider sandbox (local/provider-sandbox) against the product: every webhook it posts is verified and
 * parsed by our own verifiers and parsers (domain/channels/*-webhook.ts, sns-message.ts,
 * ses-notifications.ts), and the product's channel adapters send through it as they would through the
 * real providers.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SendEmailCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ConnectionKind } from '../../domain/channels/connections/channel-connections.schemas';
import type { OpenedConnection, OutboundMessage, ProviderSendError } from '../../domain/channels/outbound';
import { createChannelAdapters } from '../../functions/shared/adapters/channels/channel-adapters';
import type {
  DeliveryStatusEvent,
  InboundEvent,
  InboundMessageEvent,
} from '../../domain/channels/inbound-events';
import { parseSesSnsMessage } from '../../domain/channels/ses-notifications';
import { verifySnsMessage } from '../../domain/channels/sns-message';
import { parseTelegramWebhook, verifyTelegramSecret } from '../../domain/channels/telegram-webhook';
import { parseTwilioWebhook, verifyTwilioSignature } from '../../domain/channels/twilio-webhook';
import { parseWhatsAppWebhook, verifyWhatsAppSignature } from '../../domain/channels/whatsapp-webhook';
import { startProviderSandbox, whatsappApiVersion, type ProviderSandbox } from '../../local/provider-sandbox';

/** A webhook receiver standing in for the product: records every request and answers what it is told. */
interface Received {
  path: string;
  url: string;
  headers: Record<string, string>;
  body: Buffer;
}
let receiver: { url: string; requests: Received[]; answer: (r: Received) => number; server: Server };
let sandbox: ProviderSandbox;

const wa = {
  provider: 'whatsapp',
  phoneNumberId: '106540352242922',
  displayPhoneNumber: '+15550783881',
  accessToken: 'EAAG-sandbox-token',
  appSecret: 'wa-app-secret',
};
const tw = {
  provider: 'twilio',
  accountSid: 'AC6b8f2c4e1d9a7b3c5e0f2a4d6c8b1e3f',
  authToken: 'twilio-auth-token-0123456789abcdef',
  phoneNumber: '+15017122661',
};
const tg = {
  provider: 'telegram',
  botToken: '7012345678:AAE-sandbox_token_abcdefghijklmnopq',
  botUsername: 'acme_support_bot',
};
const ses = {
  provider: 'ses',
  domain: 'acme.example',
  topicArn: 'arn:aws:sns:us-east-1:123456789012:crm-ses-events',
  receiptTopicArn: 'arn:aws:sns:us-east-1:123456789012:crm-inbound-mail',
};

const admin = async (method: string, path: string, body?: unknown) => {
  const response = await fetch(`${sandbox.url}/_sandbox/${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await json(response)) as Record<string, any> };
};

const hook = (provider: string, query = '') => `${receiver.url}/hooks/${provider}/conn_1${query}`;

const received = (provider: string) =>
  receiver.requests.filter((r) => r.path.startsWith(`/hooks/${provider}/`));

const certificates = {
  fetchPem: async (url: string) => {
    // The product's certificate port maps the SNS host URL to the sandbox locally; here the test does.
    expect(url).toBe('https://sns.us-east-1.amazonaws.com/SimpleNotificationService-sandbox.pem');
    return (await fetch(`${sandbox.url}/sns/SimpleNotificationService-sandbox.pem`)).text();
  },
};

/** Verifies a received webhook with the product's own verifier and parses it with the product's parser. */
const verifyAndParse = async (provider: string, request: Received): Promise<InboundEvent[]> => {
  switch (provider) {
    case 'whatsapp':
      expect(verifyWhatsAppSignature(request.body, request.headers, wa.appSecret)).toEqual({ ok: true });
      return parseWhatsAppWebhook(request.body);
    case 'telegram':
      expect(verifyTelegramSecret(request.headers, 'tg-secret_123')).toEqual({ ok: true });
      return parseTelegramWebhook(request.body);
    case 'twilio':
      expect(
        verifyTwilioSignature(
          { url: request.url, rawBody: request.body, headers: request.headers },
          tw.authToken,
        ),
      ).toEqual({ ok: true });
      return parseTwilioWebhook(request.body);
    default: {
      const check = await verifySnsMessage(request.body, {
        expectedTopicArns: [ses.topicArn, ses.receiptTopicArn],
        certificates,
        now: new Date(),
      });
      if (!check.ok) throw new Error(`SNS check failed: ${check.reason} ${check.detail}`);
      return parseSesSnsMessage(check.message);
    }
  }
};

const parsedAll = async (provider: string) =>
  (await Promise.all(received(provider).map((r) => verifyAndParse(provider, r)))).flat();

const statusesOf = (events: InboundEvent[]) =>
  events.filter((e): e is DeliveryStatusEvent => e.type === 'delivery_status').map((e) => e.providerStatus);

const sendWhatsApp = (
  body: Record<string, unknown>,
  token = wa.accessToken,
  phoneNumberId = wa.phoneNumberId,
) =>
  fetch(`${sandbox.url}/${whatsappApiVersion}/${phoneNumberId}/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ messaging_product: 'whatsapp', recipient_type: 'individual', ...body }),
  });

const waText = (to: string, text: string, extra: Record<string, unknown> = {}) =>
  sendWhatsApp({ to, type: 'text', text: { body: text }, ...extra });

const json = (response: Response): Promise<any> => response.json();

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

const twilioPost = (resource: 'Messages' | 'Calls', params: [string, string][], password = tw.authToken) =>
  fetch(`${sandbox.url}/2010-04-01/Accounts/${tw.accountSid}/${resource}.json`, {
    method: 'POST',
    headers: {
      authorization: basic(tw.accountSid, password),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams(params).toString(),
  });

const telegram = (method: string, body?: Record<string, unknown>, token = tg.botToken) =>
  fetch(`${sandbox.url}/bot${token}/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body ?? {}),
  });

const sesClient = () =>
  new SESv2Client({
    endpoint: sandbox.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });

beforeAll(async () => {
  sandbox = await startProviderSandbox();
  const requests: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      const request = {
        path: req.url!.split('?')[0]!,
        url: `${receiver.url}${req.url}`,
        headers,
        body: Buffer.concat(chunks),
      };
      requests.push(request);
      res.writeHead(receiver.answer(request)).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    answer: () => 200,
    server,
  };
});

afterAll(async () => {
  await sandbox.stop();
  await new Promise((resolve) => receiver.server.close(resolve));
});

beforeEach(async () => {
  await admin('POST', 'reset', { accounts: true });
  receiver.requests.length = 0;
  receiver.answer = () => 200;
  await admin('POST', 'accounts', { ...wa, webhookUrl: hook('whatsapp') });
  await admin('POST', 'accounts', {
    ...tw,
    smsUrl: hook('twilio', '?kind=sms'),
    voiceUrl: hook('twilio', '?kind=voice'),
  });
  await admin('POST', 'accounts', tg);
  await admin('POST', 'accounts', {
    ...ses,
    webhookUrl: hook('ses'),
    receiptWebhookUrl: hook('ses-inbound'),
  });
  await admin('POST', 'behaviour', { delayMs: 0 });
});

describe('WhatsApp Cloud API', () => {
  it('accepts a text send in Graph shape and posts signed sent, delivered and read statuses our parser reads', async () => {
    const response = await waText('+16505551234', 'Your order shipped', {
      biz_opaque_callback_data: 'dlv_1',
    });
    expect(response.status).toBe(200);
    const body = (await json(response)) as {
      messaging_product: string;
      contacts: unknown[];
      messages: { id: string }[];
    };
    expect(body).toMatchObject({
      messaging_product: 'whatsapp',
      contacts: [{ input: '+16505551234', wa_id: '16505551234' }],
    });
    const id = body.messages[0]!.id;
    expect(id).toMatch(/^wamid\./);

    await admin('POST', 'flush');

    const events = await parsedAll('whatsapp');
    expect(statusesOf(events)).toEqual(['sent', 'delivered', 'read']);
    expect(
      events.every(
        (e) => e.type === 'delivery_status' && e.providerMessageId === id && e.recipient === '+16505551234',
      ),
    ).toBe(true);
    expect(received('whatsapp')[0]!.body.toString()).toContain('"biz_opaque_callback_data":"dlv_1"');
    const sends = (await admin('GET', 'sends?provider=whatsapp')).body;
    expect(sends.sends[0]).toMatchObject({
      providerMessageId: id,
      to: '+16505551234',
      text: 'Your order shipped',
    });
    expect(sends.counts).toEqual([
      { provider: 'whatsapp', to: '+16505551234', text: 'Your order shipped', count: 1 },
    ]);
  });

  it('sends to a business-scoped user ID given as `recipient`, and lets a user known only by one write', async () => {
    // Meta's business-scoped user IDs page: `recipient` in place of `to`; statuses name it by `recipient_user_id`;
    // a user who adopted a username writes with `from_user_id` and `contacts[].user_id`, no number.
    const bsuid = 'US.13491208655302741918';
    const response = await sendWhatsApp({ recipient: bsuid, type: 'text', text: { body: 'Hello there' } });
    expect(response.status).toBe(200);
    const body = (await json(response)) as { contacts: unknown[]; messages: { id: string }[] };
    expect(body.contacts).toEqual([{ input: bsuid, user_id: bsuid }]);
    expect((await admin('POST', 'reply', { provider: 'whatsapp', from: bsuid, fromName: 'Sheena Nelson', text: 'Hi back' })).body).toMatchObject({ status: 200 });
    await admin('POST', 'flush');

    const events = await parsedAll('whatsapp');
    expect(statusesOf(events)).toEqual(['sent', 'delivered', 'read']);
    expect(events.filter((e) => e.type === 'delivery_status').every((e) => e.providerMessageId === body.messages[0]!.id && e.recipient === bsuid)).toBe(true);
    expect(events.find((e) => e.type === 'message')).toMatchObject({ from: { kind: 'whatsapp', value: bsuid, name: 'Sheena Nelson' }, text: 'Hi back' });
  });

  it('accepts media by link and a reply with context', async () => {
    const image = await sendWhatsApp({
      to: '16505551234',
      type: 'image',
      image: { link: 'https://example.com/a.png', caption: 'Invoice' },
    });
    expect(image.status).toBe(200);
    const reply = await waText('16505551234', 'Yes', { context: { message_id: 'wamid.earlier' } });
    expect(reply.status).toBe(200);
    const sends = (await admin('GET', 'sends')).body.sends;
    expect(sends.map((s: { text: string }) => s.text)).toEqual(['Invoice', 'Yes']);
    expect(sends[1].meta.replyTo).toBe('wamid.earlier');
  });

  it('refuses with Graph errors: a bad token (190, 401), another number (100), recipients (131030, 131026), a bad body', async () => {
    const badToken = await waText('+16505551234', 'Hi', {}).then(() =>
      sendWhatsApp({ to: '1', type: 'text', text: { body: 'x' } }, 'nope'),
    );
    expect(badToken.status).toBe(401);
    expect((await json(badToken)).error).toMatchObject({
      code: 190,
      type: 'OAuthException',
      fbtrace_id: expect.any(String),
    });

    const otherNumber = await sendWhatsApp({ to: '16505551234', text: { body: 'x' } }, wa.accessToken, '999');
    expect(otherNumber.status).toBe(400);
    expect((await json(otherNumber)).error).toMatchObject({ code: 100, error_subcode: 33 });

    await admin('POST', 'recipients', { provider: 'whatsapp', to: '+16505550001', error: 'invalid' });
    await admin('POST', 'recipients', { provider: 'whatsapp', to: '+16505550002', error: 'blocked' });
    const notAllowed = await waText('+16505550001', 'Hi');
    expect([notAllowed.status, (await json(notAllowed)).error.code]).toEqual([400, 131030]);
    const undeliverable = await waText('+16505550002', 'Hi');
    expect([undeliverable.status, (await json(undeliverable)).error.code]).toEqual([400, 131026]);

    const noText = await sendWhatsApp({ to: '16505551234', type: 'text', text: {} });
    expect([noText.status, (await json(noText)).error.code]).toEqual([400, 100]);
    // Only the first, valid send was accepted.
    expect((await admin('GET', 'sends')).body.total).toBe(1);
  });

  it('lets the contact reply (text, image with caption, reply context) and serves the media with the token', async () => {
    const text = await admin('POST', 'reply', {
      provider: 'whatsapp',
      from: '+16505551234',
      fromName: 'Ana López',
      text: 'Hi there',
      replyTo: 'wamid.ours',
    });
    expect(text.body).toMatchObject({ status: 200, state: 'delivered' });
    const photo = await admin('POST', 'reply', {
      provider: 'whatsapp',
      account: wa.phoneNumberId,
      from: '+16505551234',
      text: 'The receipt',
      media: { kind: 'image' },
    });
    expect(photo.body.status).toBe(200);

    const [first, second] = (await parsedAll('whatsapp')) as InboundMessageEvent[];
    expect(first).toMatchObject({
      type: 'message',
      from: { kind: 'whatsapp', value: '+16505551234', name: 'Ana López' },
      to: [wa.phoneNumberId],
      text: 'Hi there',
      replyToProviderMessageId: 'wamid.ours',
    });
    expect(second).toMatchObject({
      type: 'message',
      text: 'The receipt',
      media: [{ kind: 'image', caption: 'The receipt', mimeType: 'image/png' }],
    });

    const mediaId = second!.media[0]!.providerMediaId!;
    const auth = { authorization: `Bearer ${wa.accessToken}` };
    const info = (await (
      await fetch(`${sandbox.url}/${whatsappApiVersion}/${mediaId}`, { headers: auth })
    ).json()) as Record<string, string | number>;
    expect(info).toMatchObject({
      messaging_product: 'whatsapp',
      id: mediaId,
      mime_type: 'image/png',
      sha256: expect.any(String),
      file_size: expect.any(Number),
    });
    const download = await fetch(String(info.url), { headers: auth });
    expect(download.status).toBe(200);
    expect((await download.arrayBuffer()).byteLength).toBe(info.file_size);
    expect((await fetch(String(info.url))).status).toBe(401);
  });
});

describe('Telegram Bot API', () => {
  const setWebhook = () =>
    telegram('setWebhook', {
      url: hook('telegram'),
      secret_token: 'tg-secret_123',
      allowed_updates: ['message', 'edited_message', 'my_chat_member'],
    });

  it('answers getMe, setWebhook, getWebhookInfo and deleteWebhook as Telegram does', async () => {
    expect(await (await telegram('getMe')).json()).toMatchObject({
      ok: true,
      result: { id: 7012345678, is_bot: true, username: 'acme_support_bot' },
    });
    expect(await (await setWebhook()).json()).toEqual({
      ok: true,
      result: true,
      description: 'Webhook was set',
    });
    expect(await (await telegram('getWebhookInfo')).json()).toMatchObject({
      ok: true,
      result: { url: hook('telegram'), allowed_updates: ['message', 'edited_message', 'my_chat_member'] },
    });
    const badSecret = await telegram('setWebhook', { url: hook('telegram'), secret_token: 'no spaces!' });
    expect(badSecret.status).toBe(400);
    expect(await (await telegram('deleteWebhook')).json()).toMatchObject({ ok: true, result: true });
    expect(await (await telegram('getMe', {}, '1:wrong')).json()).toEqual({
      ok: false,
      error_code: 401,
      description: 'Unauthorized',
    });
  });

  it('sends messages from JSON and form bodies, with reply_parameters, photos by URL, and its refusals', async () => {
    const first = (await (
      await telegram('sendMessage', { chat_id: 5550001, text: 'Hello', reply_parameters: { message_id: 7 } })
    ).json()) as any;
    expect(first).toMatchObject({
      ok: true,
      result: { message_id: 1, chat: { id: 5550001 }, text: 'Hello', reply_to_message: { message_id: 7 } },
    });
    const form = await fetch(`${sandbox.url}/bot${tg.botToken}/sendMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ chat_id: '5550001', text: 'Again', reply_to_message_id: '1' }).toString(),
    });
    expect(((await json(form)) as any).result).toMatchObject({
      message_id: 2,
      reply_to_message: { message_id: 1 },
    });
    const photo = (await (
      await telegram('sendPhoto', { chat_id: '5550001', photo: 'https://example.com/p.png', caption: 'Look' })
    ).json()) as any;
    expect(photo.result.photo).toHaveLength(2);

    await admin('POST', 'recipients', { provider: 'telegram', to: '5550002', error: 'blocked' });
    const blocked = await telegram('sendMessage', { chat_id: 5550002, text: 'Hi' });
    expect([blocked.status, await json(blocked)]).toEqual([
      403,
      { ok: false, error_code: 403, description: 'Forbidden: bot was blocked by the user' },
    ]);
    const notFound = await telegram('sendMessage', { chat_id: '@nobody', text: 'Hi' });
    expect(await json(notFound)).toEqual({
      ok: false,
      error_code: 400,
      description: 'Bad Request: chat not found',
    });

    const sends = (await admin('GET', 'sends?provider=telegram&to=5550001')).body;
    expect(
      sends.sends.map((s: { text: string; providerMessageId: string }) => [s.providerMessageId, s.text]),
    ).toEqual([
      ['5550001:1', 'Hello'],
      ['5550001:2', 'Again'],
      ['5550001:3', 'Look'],
    ]);
    // Telegram reports no delivery statuses.
    await admin('POST', 'flush');
    expect(received('telegram')).toHaveLength(0);
  });

  it('posts the contact’s message, reply, photo with caption and edit to the webhook with the secret token', async () => {
    expect((await admin('POST', 'reply', { provider: 'telegram', from: '5550001', text: 'Hi' })).status).toBe(
      409,
    );
    await setWebhook();
    await admin('POST', 'reply', {
      provider: 'telegram',
      account: '@acme_support_bot',
      from: '5550001',
      fromName: 'Ana López',
      username: 'ana_l',
      text: 'Hi',
      replyTo: '3',
    });
    await admin('POST', 'reply', { provider: 'telegram', from: '5550001', text: 'The photo', media: true });
    const first = received('telegram')[0]!;
    const messageId = `5550001:${JSON.parse(first.body.toString()).message.message_id}`;
    await admin('POST', 'reply', { provider: 'telegram', from: '5550001', text: 'Hi!', edit: messageId });

    const events = await parsedAll('telegram');
    expect(events[0]).toMatchObject({
      type: 'message',
      from: { kind: 'telegram', value: '5550001', name: 'Ana López', alternateValues: ['@ana_l'] },
      chatId: '5550001',
      text: 'Hi',
      replyToProviderMessageId: '5550001:3',
    });
    expect(events[1]).toMatchObject({ type: 'message', text: 'The photo', media: [{ kind: 'image' }] });
    expect(events[2]).toMatchObject({ type: 'message_edit', providerMessageId: messageId, text: 'Hi!' });

    const fileId = (events[1] as InboundMessageEvent).media[0]!.providerMediaId;
    const file = (await (await telegram('getFile', { file_id: fileId })).json()) as any;
    expect(file).toMatchObject({
      ok: true,
      result: { file_id: fileId, file_path: expect.stringMatching(/^photos\//) },
    });
    const download = await fetch(`${sandbox.url}/file/bot${tg.botToken}/${file.result.file_path}`);
    expect(download.status).toBe(200);
  });
});

describe('Twilio', () => {
  it('creates a message (form, basic auth) and posts signed queued, sent, delivered callbacks', async () => {
    const response = await twilioPost('Messages', [
      ['To', '+14155552671'],
      ['From', tw.phoneNumber],
      ['Body', 'Hello'],
      ['StatusCallback', hook('twilio', '?d=dlv_1')],
    ]);
    expect(response.status).toBe(201);
    const message = (await json(response)) as Record<string, unknown>;
    expect(message).toMatchObject({
      status: 'queued',
      account_sid: tw.accountSid,
      to: '+14155552671',
      from: tw.phoneNumber,
      body: 'Hello',
      direction: 'outbound-api',
      error_code: null,
    });
    expect(message.sid).toMatch(/^SM[0-9a-f]{32}$/);

    await admin('POST', 'flush');

    const events = await parsedAll('twilio');
    expect(events.map((e) => e.type === 'delivery_status' && [e.providerStatus, e.status])).toEqual([
      ['queued', null],
      ['sent', 'sent'],
      ['delivered', 'delivered'],
    ]);
    expect(events.every((e) => e.type === 'delivery_status' && e.providerMessageId === message.sid)).toBe(
      true,
    );
  });

  it('refuses bad credentials (20003), an invalid To (21211), an unsubscribed recipient (21610), a missing body (21602)', async () => {
    const auth = await twilioPost(
      'Messages',
      [
        ['To', '+14155552671'],
        ['From', tw.phoneNumber],
        ['Body', 'x'],
      ],
      'wrong',
    );
    expect([auth.status, (await json(auth)).code]).toEqual([401, 20003]);
    const invalid = await twilioPost('Messages', [
      ['To', '12'],
      ['From', tw.phoneNumber],
      ['Body', 'x'],
    ]);
    expect(await json(invalid)).toEqual({
      code: 21211,
      message: "Invalid 'To' Phone Number: 12",
      more_info: 'https://www.twilio.com/docs/errors/21211',
      status: 400,
    });
    await admin('POST', 'recipients', { provider: 'twilio', to: '+14155550000', error: 'unsubscribed' });
    const unsubscribed = await twilioPost('Messages', [
      ['To', '+14155550000'],
      ['From', tw.phoneNumber],
      ['Body', 'x'],
    ]);
    expect((await json(unsubscribed)).code).toBe(21610);
    const empty = await twilioPost('Messages', [
      ['To', '+14155552671'],
      ['From', tw.phoneNumber],
    ]);
    expect((await json(empty)).code).toBe(21602);
    expect((await admin('GET', 'sends')).body.total).toBe(0);
  });

  it('places a call and posts its progress callbacks in sequence', async () => {
    const response = await twilioPost('Calls', [
      ['To', '+14155552671'],
      ['From', tw.phoneNumber],
      ['Url', 'https://example.com/twiml'],
      ['StatusCallback', hook('twilio', '?call=1')],
      ['StatusCallbackEvent', 'initiated'],
      ['StatusCallbackEvent', 'ringing'],
      ['StatusCallbackEvent', 'answered'],
      ['StatusCallbackEvent', 'completed'],
    ]);
    expect(response.status).toBe(201);
    const call = (await json(response)) as Record<string, unknown>;
    expect(call).toMatchObject({ status: 'queued', direction: 'outbound-api' });
    expect(call.sid).toMatch(/^CA[0-9a-f]{32}$/);
    await admin('POST', 'flush');
    const events = await parsedAll('twilio');
    expect(events.map((e) => e.type === 'call' && [e.status, e.sequence, e.direction])).toEqual([
      ['initiated', 0, 'outbound'],
      ['ringing', 1, 'outbound'],
      ['connected', 2, 'outbound'],
      ['ended', 3, 'outbound'],
    ]);
    expect(events.at(-1)).toMatchObject({ durationSeconds: 42 });

    receiver.requests.length = 0;
    await admin('POST', 'behaviour', { callOutcome: 'busy' });
    await twilioPost('Calls', [
      ['To', '+14155552671'],
      ['From', tw.phoneNumber],
      ['Twiml', '<Response/>'],
      ['StatusCallback', hook('twilio')],
    ]);
    await admin('POST', 'flush');
    expect((await parsedAll('twilio')).map((e) => e.type === 'call' && e.providerStatus)).toEqual(['busy']);
  });

  it('posts an inbound SMS with media and an inbound call, signed for the number’s URLs', async () => {
    const sms = await admin('POST', 'reply', {
      provider: 'twilio',
      account: tw.accountSid,
      from: '+14155552671',
      text: 'Receipt attached',
      media: { mimeType: 'image/png' },
    });
    expect(sms.body.status).toBe(200);
    const call = await admin('POST', 'reply', { provider: 'twilio', from: '+14155552671', kind: 'call' });
    expect(call.body.status).toBe(200);
    const [message, ringing] = await parsedAll('twilio');
    expect(message).toMatchObject({
      type: 'message',
      channel: 'sms',
      from: { value: '+14155552671' },
      to: [tw.phoneNumber],
      text: 'Receipt attached',
      media: [{ kind: 'image', mimeType: 'image/png' }],
    });
    expect(ringing).toMatchObject({
      type: 'call',
      direction: 'inbound',
      status: 'ringing',
      contact: { value: '+14155552671' },
    });
    const mediaUrl = (message as InboundMessageEvent).media[0]!.url!;
    expect(
      (await fetch(mediaUrl, { headers: { authorization: basic(tw.accountSid, tw.authToken) } })).status,
    ).toBe(200);
  });
});

describe('SES and SNS', () => {
  it('takes SendEmail from the real SESv2Client (Simple content) and posts signed Send, Delivery and Open notifications', async () => {
    await admin('POST', 'behaviour', { open: true });
    const client = sesClient();
    const { MessageId } = await client.send(
      new SendEmailCommand({
        FromEmailAddress: 'Acme Support <support@acme.example>',
        Destination: { ToAddresses: ['Ana.Lopez@example.com'] },
        ReplyToAddresses: ['reply+cv_1@reply.acme.example'],
        Content: {
          Simple: {
            Subject: { Data: 'Your annual plan' },
            Body: { Text: { Data: 'It renews soon.' } },
            Headers: [{ Name: 'In-Reply-To', Value: '<earlier@mail.acme.example>' }],
          },
        },
        EmailTags: [
          { Name: 'workspace', Value: 'ws_1' },
          { Name: 'message', Value: 'msg_1' },
        ],
        ConfigurationSetName: 'crm-events',
      }),
    );
    client.destroy();
    expect(MessageId).toMatch(/^0100019a/);

    await admin('POST', 'flush');

    const events = (await parsedAll('ses')) as DeliveryStatusEvent[];
    expect(events.map((e) => [e.providerStatus, e.status])).toEqual([
      ['Send', 'sent'],
      ['Delivery', 'delivered'],
      ['Open', 'read'],
    ]);
    expect(events[0]).toMatchObject({
      providerMessageId: MessageId,
      recipient: 'ana.lopez@example.com',
      email: { tags: { workspace: ['ws_1'], message: ['msg_1'], 'ses:configuration-set': ['crm-events'] } },
    });
    const send = (await admin('GET', 'sends?provider=ses')).body.sends[0];
    expect(send).toMatchObject({
      to: 'ana.lopez@example.com',
      text: 'It renews soon.',
      account: 'support@acme.example',
    });
  });

  it('takes Raw content, refuses an unverified sender (MessageRejected), and posts every other event on request', async () => {
    const client = sesClient();
    const raw =
      'From: support@acme.example\r\nTo: bo@example.com\r\nSubject: Raw\r\nMessage-ID: <msg_2@mail.acme.example>\r\n\r\nRaw body\r\n';
    const { MessageId } = await client.send(
      new SendEmailCommand({ Content: { Raw: { Data: Buffer.from(raw) } } }),
    );
    await expect(
      client.send(
        new SendEmailCommand({
          FromEmailAddress: 'x@other.example',
          Destination: { ToAddresses: ['bo@example.com'] },
          Content: { Simple: { Subject: { Data: 's' }, Body: { Text: { Data: 't' } } } },
        }),
      ),
    ).rejects.toMatchObject({ name: 'MessageRejected', $metadata: { httpStatusCode: 400 } });
    client.destroy();
    await admin('POST', 'flush');
    receiver.requests.length = 0;

    for (const status of ['Bounce', 'TransientBounce', 'Complaint', 'Reject', 'DeliveryDelay', 'Click']) {
      expect(
        (await admin('POST', 'status', { provider: 'ses', providerMessageId: MessageId, status })).body
          .callback.status,
      ).toBe(200);
    }
    const events = (await parsedAll('ses')) as DeliveryStatusEvent[];
    expect(events.map((e) => [e.email!.event, e.status])).toEqual([
      ['bounce', 'failed'],
      ['bounce', 'sent'],
      ['complaint', null],
      ['reject', 'failed'],
      ['delivery_delay', 'sent'],
      ['click', null],
    ]);
    expect(events[0]!.email!.originalMessageIdHeader).toBe('<msg_2@mail.acme.example>');
    expect(events[2]!.email!.suppress).toBe(true);
    expect(events[1]!.error).toMatchObject({ code: '4.2.2' });
  });

  it('posts a reply as a signed receipt notification with In-Reply-To, References and the MIME content', async () => {
    const client = sesClient();
    const { MessageId } = await client.send(
      new SendEmailCommand({
        FromEmailAddress: 'support@acme.example',
        Destination: { ToAddresses: ['ana@example.com'] },
        Content: {
          Simple: {
            Subject: { Data: 'Plan' },
            Body: { Text: { Data: 'Hi' } },
            Headers: [{ Name: 'Message-ID', Value: '<msg_3@mail.acme.example>' }],
          },
        },
      }),
    );
    client.destroy();
    const reply = await admin('POST', 'reply', {
      provider: 'ses',
      from: 'ana@example.com',
      fromName: 'Ana',
      to: 'reply+cv_1@reply.acme.example',
      text: 'Yes please',
      replyTo: MessageId,
    });
    expect(reply.body.status).toBe(200);
    const [event] = (
      await Promise.all(received('ses-inbound').map((r) => verifyAndParse('ses', r)))
    ).flat() as InboundMessageEvent[];
    expect(event).toMatchObject({
      type: 'message',
      channel: 'email',
      from: { value: 'ana@example.com', name: 'Ana' },
      to: ['reply+cv_1@reply.acme.example'],
      email: {
        subject: 'Re: Plan',
        inReplyTo: `<${MessageId}@email.amazonses.com>`,
        references: ['<msg_3@mail.acme.example>', `<${MessageId}@email.amazonses.com>`],
        content: { location: 'inline', encoding: 'base64' },
      },
    });
    const content = event!.email!.content as { data: string };
    expect(Buffer.from(content.data, 'base64').toString()).toContain('Yes please');
  });
});

describe('callback behaviour', () => {
  it('repeats each callback, shuffles the order deterministically, drops, and fails deliveries with provider codes', async () => {
    await admin('POST', 'behaviour', { repeat: 2 });
    await waText('+16505551234', 'one');
    await admin('POST', 'flush');
    expect(statusesOf(await parsedAll('whatsapp'))).toEqual([
      'sent',
      'sent',
      'delivered',
      'delivered',
      'read',
      'read',
    ]);

    const shuffledOrder = async (seed: number) => {
      receiver.requests.length = 0;
      await admin('POST', 'behaviour', { repeat: 1, shuffle: true, seed });
      await waText('+16505551234', `shuffled ${seed}`);
      await admin('POST', 'flush');
      return statusesOf(await parsedAll('whatsapp'));
    };
    const order = await shuffledOrder(3);
    expect(order).not.toEqual(['sent', 'delivered', 'read']);
    expect([...order].sort()).toEqual(['delivered', 'read', 'sent']);
    expect(await shuffledOrder(3)).toEqual(order);

    receiver.requests.length = 0;
    await admin('POST', 'behaviour', { shuffle: false, dropRate: 1 });
    await waText('+16505551234', 'dropped');
    await admin('POST', 'flush');
    expect(received('whatsapp')).toHaveLength(0);
    expect((await admin('GET', 'callbacks?state=dropped')).body.total).toBe(3);

    await admin('POST', 'behaviour', { dropRate: 0, failRate: 1 });
    await waText('+16505551234', 'fails');
    await twilioPost('Messages', [
      ['To', '+14155552671'],
      ['From', tw.phoneNumber],
      ['Body', 'fails'],
      ['StatusCallback', hook('twilio')],
    ]);
    await admin('POST', 'flush');
    const [failed] = (await parsedAll('whatsapp')) as DeliveryStatusEvent[];
    expect(failed).toMatchObject({ status: 'failed', error: { code: '131026' } });
    const twilioFinal = (await parsedAll('twilio')).at(-1) as DeliveryStatusEvent;
    expect(twilioFinal).toMatchObject({
      status: 'failed',
      error: { code: expect.stringMatching(/^3000[38]$/) },
    });
  });

  it('retries a callback the receiver refused and records each attempt', async () => {
    let refusals = 2;
    receiver.answer = () => (refusals-- > 0 ? 503 : 200);
    await admin('POST', 'behaviour', { read: false });
    await waText('+16505551234', 'retry me');
    await admin('POST', 'flush');
    const callbacks = (await admin('GET', 'callbacks')).body.callbacks as {
      attempts: { status: number }[];
      state: string;
    }[];
    expect(callbacks.map((c) => c.state)).toEqual(['delivered', 'delivered']);
    expect(callbacks[0]!.attempts.map((a) => a.status)).toEqual([503, 503, 200]);
  });

  it('holds callbacks for delayMs and flush posts them all before it answers', async () => {
    await admin('POST', 'behaviour', { delayMs: 60_000, read: false });
    for (let i = 0; i < 20; i++) await waText('+16505551234', `message ${i}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(received('whatsapp')).toHaveLength(0);
    await admin('POST', 'flush');
    expect(received('whatsapp')).toHaveLength(40);
    const callbacks = (await admin('GET', 'callbacks')).body;
    expect(callbacks).toMatchObject({ total: 40, pending: 0 });
    // In order per message: sent before delivered.
    const events = (await parsedAll('whatsapp')) as DeliveryStatusEvent[];
    for (const id of new Set(events.map((e) => e.providerMessageId))) {
      expect(events.filter((e) => e.providerMessageId === id).map((e) => e.providerStatus)).toEqual([
        'sent',
        'delivered',
      ]);
    }
  });
  it('forgets pending callbacks on reset', async () => {
    await admin('POST', 'behaviour', { delayMs: 60_000 });
    await waText('+16505551234', 'never reported');
    await admin('POST', 'reset');
    await admin('POST', 'flush');
    expect(received('whatsapp')).toHaveLength(0);
    expect((await admin('GET', 'sends')).body.total).toBe(0);
    // The accounts stay: a send still works.
    expect((await waText('+16505551234', 'after reset')).status).toBe(200);
  });
});

describe('faults', () => {
  it('faults about the asked share of sends with the provider’s 5xx and rate-limit shapes, and records none of them', async () => {
    await admin('POST', 'faults', { rate: 0.3, kinds: ['5xx', '429'], seed: 7 });
    const outcomes: number[] = [];
    for (let i = 0; i < 200; i++)
      outcomes.push((await telegram('sendMessage', { chat_id: 5550001, text: `n${i}` })).status);
    const faulted = outcomes.filter((s) => s !== 200).length;
    expect(faulted).toBeGreaterThan(40);
    expect(faulted).toBeLessThan(80);
    expect(outcomes.filter((s) => s !== 200).every((s) => s === 429 || s === 502)).toBe(true);
    expect((await admin('GET', 'sends')).body.total).toBe(200 - faulted);

    await admin('POST', 'faults', { rate: 1, kinds: ['429'], retryAfterSeconds: 3 });
    expect(await (await telegram('sendMessage', { chat_id: 5550001, text: 'x' })).json()).toEqual({
      ok: false,
      error_code: 429,
      description: 'Too Many Requests: retry after 3',
      parameters: { retry_after: 3 },
    });
    const twilio429 = await twilioPost('Messages', [
      ['To', '+14155552671'],
      ['From', tw.phoneNumber],
      ['Body', 'x'],
    ]);
    expect([twilio429.status, twilio429.headers.get('retry-after'), (await json(twilio429)).code]).toEqual([
      429,
      '3',
      20429,
    ]);
    const wa429 = await waText('+16505551234', 'x');
    expect((await json(wa429)).error.code).toBe(130429);
    await admin('POST', 'faults', { kinds: ['5xx'] });
    const wa5xx = await waText('+16505551234', 'x');
    expect([wa5xx.status, (await json(wa5xx)).error.code]).toEqual([500, 131000]);
    expect((await admin('GET', 'sends')).body.total).toBe(200 - faulted);
  });

  it('holds a timed-out request past the client’s timeout, then drops it, and records no send', async () => {
    await admin('POST', 'faults', { rate: 1, kinds: ['timeout'], timeoutMs: 400 });
    await expect(waText('+16505551234', 'lost').then(() => 'answered')).rejects.toThrow();
    const aborted = await fetch(`${sandbox.url}/${whatsappApiVersion}/${wa.phoneNumberId}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${wa.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ messaging_product: 'whatsapp', to: '16505551234', text: { body: 'lost' } }),
      signal: AbortSignal.timeout(100),
    }).then(
      () => 'answered',
      (error: Error) => error.name,
    );
    expect(aborted).toBe('TimeoutError');
    await admin('POST', 'flush');
    expect((await admin('GET', 'sends')).body.total).toBe(0);
    expect(received('whatsapp')).toHaveLength(0);
  });

  it('a slow accept takes the send and posts its callbacks, but answers after the client has given up', async () => {
    await admin('POST', 'faults', { rate: 1, kinds: ['slow_accept'], timeoutMs: 600, kindProviders: { slow_accept: ['whatsapp'] } });
    const aborted = await fetch(`${sandbox.url}/${whatsappApiVersion}/${wa.phoneNumberId}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${wa.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ messaging_product: 'whatsapp', to: '16505551234', text: { body: 'taken' }, biz_opaque_callback_data: 'cnv_1:msg_1:1' }),
      signal: AbortSignal.timeout(150),
    }).then(
      () => 'answered',
      (error: Error) => error.name,
    );
    expect(aborted).toBe('TimeoutError');
    await admin('POST', 'flush');
    expect((await admin('GET', 'sends')).body.total).toBe(1);
    // Its statuses carry the send's opaque data back.
    const statuses = received('whatsapp').map((hook) => JSON.parse(hook.body.toString('utf8')).entry[0].changes[0].value.statuses[0]);
    expect(statuses.map((status) => [status.status, status.biz_opaque_callback_data])).toContainEqual(['sent', 'cnv_1:msg_1:1']);
    // A provider not listed for the kind meets no fault; the count names kind and provider.
    expect((await telegram('sendMessage', { chat_id: 5550001, text: 'quick' })).status).toBe(200);
    expect((await admin('GET', 'faults')).body.met).toEqual({ 'slow_accept:whatsapp': 1 });
    expect((await admin('POST', 'faults', { kindProviders: { nonsense: ['whatsapp'] } })).status).toBe(400);
  });

  it('accepts a send whose callbacks are dropped', async () => {
    await admin('POST', 'faults', { rate: 1, kinds: ['drop_callbacks'] });
    expect((await waText('+16505551234', 'quiet')).status).toBe(200);
    await admin('POST', 'flush');
    expect((await admin('GET', 'sends')).body.total).toBe(1);
    expect(received('whatsapp')).toHaveLength(0);
    expect((await admin('GET', 'callbacks?state=dropped')).body.total).toBe(3);
  });
});

describe('the product’s channel adapters against the sandbox', () => {
  const connections: Record<ConnectionKind, OpenedConnection> = {
    whatsapp: {
      workspaceId: 'ws_1',
      connectionId: 'chc_wa',
      kind: 'whatsapp',
      settings: { phoneNumberId: wa.phoneNumberId },
      secrets: { accessToken: wa.accessToken, appSecret: wa.appSecret, verifyToken: 'v' },
    },
    telegram: {
      workspaceId: 'ws_1',
      connectionId: 'chc_tg',
      kind: 'telegram',
      settings: {},
      secrets: { botToken: tg.botToken, webhookSecretToken: 'tg-secret_123' },
    },
    sms: {
      workspaceId: 'ws_1',
      connectionId: 'chc_sms',
      kind: 'sms',
      settings: { accountSid: tw.accountSid, senderNumber: tw.phoneNumber },
      secrets: { authToken: tw.authToken },
    },
    email: {
      workspaceId: 'ws_1',
      connectionId: 'chc_mail',
      kind: 'email',
      settings: {
        sesIdentity: 'acme.example',
        fromAddress: 'support@acme.example',
        replyDomain: 'reply.acme.example',
      },
      secrets: {},
    },
  };
  const recipients: Record<ConnectionKind, string> = {
    whatsapp: '+16505551234',
    telegram: '5550001',
    sms: '+14155552671',
    email: 'ana@example.com',
  };
  const adapters = () =>
    createChannelAdapters({
      region: 'us-east-1',
      sesEndpoint: sandbox.url,
      whatsappApiBaseUrl: `${sandbox.url}/${whatsappApiVersion}`,
      telegramApiBaseUrl: sandbox.url,
      twilioApiBaseUrl: sandbox.url,
      providerTimeoutMs: 150,
    });
  const message = (kind: ConnectionKind, text: string): OutboundMessage => ({
    connection: connections[kind],
    to: recipients[kind],
    text,
    attachments: [],
    replyToProviderMessageId: null,
    email:
      kind === 'email'
        ? {
            subject: 'Your plan',
            messageIdHeader: '<msg_9@reply.acme.example>',
            inReplyTo: null,
            references: [],
            replyTo: 'reply+cnv_1@reply.acme.example',
            fromName: 'Ada',
          }
        : null,
    reference: {
      workspaceId: 'ws_1',
      conversationId: 'cnv_1',
      messageId: 'msg_9',
      deliveryId: 'dlv_9',
      attempt: 1,
    },
    statusCallbackUrl: kind === 'sms' ? hook('twilio', '?delivery=dlv_9') : null,
    partsSent: [],
  });
  const kinds: ConnectionKind[] = ['whatsapp', 'telegram', 'sms', 'email'];
  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => null,
      (error: ProviderSendError) => ({
        kind: error.kind,
        code: error.code,
        retryAfter: error.retryAfterSeconds,
      }),
    );

  it('sends on every channel: the receipt holds the id the sandbox recorded, and callbacks follow', async () => {
    const channel = adapters();
    for (const kind of kinds) {
      const receipt = await channel.sender(kind).send(message(kind, `hello over ${kind}`));
      const sends = (await admin('GET', `sends?to=${encodeURIComponent(recipients[kind])}`)).body;
      expect(sends.sends.map((s: { providerMessageId: string }) => s.providerMessageId)).toEqual([
        receipt.providerMessageId,
      ]);
      expect(sends.counts).toEqual([expect.objectContaining({ text: `hello over ${kind}`, count: 1 })]);
    }
    await admin('POST', 'flush');
    expect(statusesOf(await parsedAll('whatsapp'))).toEqual(['sent', 'delivered', 'read']);
    expect(statusesOf(await parsedAll('twilio'))).toEqual(['queued', 'sent', 'delivered']);
    const ses = (await parsedAll('ses')) as DeliveryStatusEvent[];
    expect(ses.map((e) => e.providerStatus)).toEqual(['Send', 'Delivery']);
    expect(ses[0]!.email).toMatchObject({
      originalMessageIdHeader: '<msg_9@reply.acme.example>',
      tags: { workspace: ['ws_1'], delivery: ['dlv_9'] },
    });
  });

  it('gets the provider errors as ProviderSendErrors of the right kind, and nothing is recorded as sent', async () => {
    const channel = adapters();
    await admin('POST', 'faults', { rate: 1, kinds: ['429'], retryAfterSeconds: 3 });
    const limited = await Promise.all(
      kinds.map((kind) => failure(channel.sender(kind).send(message(kind, 'x')))),
    );
    expect(limited.map((f) => f?.kind)).toEqual([
      'rate_limited',
      'rate_limited',
      'rate_limited',
      'rate_limited',
    ]);
    expect(limited.map((f) => f?.retryAfter)).toEqual([null, 3, 3, null]);

    await admin('POST', 'faults', { kinds: ['5xx'] });
    const down = await Promise.all(
      kinds.map((kind) => failure(channel.sender(kind).send(message(kind, 'x')))),
    );
    expect(down.map((f) => f?.kind)).toEqual(Array(4).fill('provider_unavailable'));

    await admin('POST', 'faults', { kinds: ['timeout'], timeoutMs: 500 });
    const lost = await Promise.all(
      kinds.map((kind) => failure(channel.sender(kind).send(message(kind, 'x')))),
    );
    expect(lost.map((f) => f?.kind)).toEqual(Array(4).fill('timeout'));
    expect((await admin('GET', 'sends')).body.total).toBe(0);

    await admin('POST', 'faults', { rate: 0 });
    for (const [provider, to] of [
      ['whatsapp', '+16505551234'],
      ['telegram', '5550001'],
      ['twilio', '+14155552671'],
    ] as const) {
      await admin('POST', 'recipients', { provider, to, error: 'blocked' });
    }
    const refused = await Promise.all(
      (['whatsapp', 'telegram', 'sms'] as const).map((kind) =>
        failure(channel.sender(kind).send(message(kind, 'x'))),
      ),
    );
    expect(refused.map((f) => [f?.kind, f?.code])).toEqual([
      ['rejected', '131026'],
      ['rejected', '403'],
      ['rejected', '21610'],
    ]);
    const wrongToken = {
      ...connections.whatsapp,
      secrets: { ...connections.whatsapp.secrets, accessToken: 'expired' },
    };
    expect(
      await failure(channel.sender('whatsapp').send({ ...message('whatsapp', 'x'), connection: wrongToken })),
    ).toMatchObject({
      kind: 'unauthorized',
      code: '190',
    });
    expect((await admin('GET', 'sends')).body.total).toBe(0);
  });

  it('sets the Telegram webhook and fetches each provider’s inbound media', async () => {
    const channel = adapters();
    expect(await channel.telegramSetWebhook(connections.telegram, hook('telegram'))).toEqual({
      botUsername: tg.botUsername,
    });
    await admin('POST', 'reply', { provider: 'telegram', from: '5550001', text: 'photo', media: true });
    await admin('POST', 'reply', {
      provider: 'whatsapp',
      from: '+16505551234',
      text: 'photo',
      media: { kind: 'image' },
    });
    await admin('POST', 'reply', { provider: 'twilio', from: '+14155552671', text: 'photo', media: {} });
    for (const [provider, kind] of [
      ['telegram', 'telegram'],
      ['whatsapp', 'whatsapp'],
      ['twilio', 'sms'],
    ] as const) {
      const [event] = (await parsedAll(provider)) as InboundMessageEvent[];
      const file = await channel.fetchMedia(connections[kind], event!.media[0]!, 1_000_000);
      expect(Buffer.from(file.bytes).subarray(1, 4).toString()).toBe('PNG');
    }
  });
});
