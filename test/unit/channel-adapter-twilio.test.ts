/**
 * The Twilio Messages sender and media fetch against Twilio's REST API played at loopback.
 * Shapes: https://www.twilio.com/docs/messaging/api/message-resource (create, the Message resource),
 * https://www.twilio.com/docs/usage/twilios-response (the exception object), https://www.twilio.com/docs/api/errors
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ProviderSendError, type OpenedConnection } from '../../domain/channels/outbound';
import { createChannelAdapters } from '../../functions/shared/adapters/channels/channel-adapters';
import { outbound, startFakeProvider, thrown, type FakeProvider } from './channel-adapter-fake-provider';

const accountSid = 'ACa1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6';
const authToken = 'f0e1d2c3b4a5968778695a4b3c2d1e0f';
const connection: OpenedConnection = {
  workspaceId: 'ws_01',
  connectionId: 'chc_sms',
  kind: 'sms',
  settings: { accountSid, senderNumber: '+15558675309' },
  secrets: { authToken },
};
const basic = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;

const created = (sid: string) => ({
  account_sid: accountSid,
  api_version: '2010-04-01',
  body: 'Hello',
  date_created: 'Thu, 24 Aug 2023 05:01:45 +0000',
  date_sent: null,
  date_updated: 'Thu, 24 Aug 2023 05:01:45 +0000',
  direction: 'outbound-api',
  error_code: null,
  error_message: null,
  from: '+15558675309',
  messaging_service_sid: null,
  num_media: '0',
  num_segments: '1',
  price: null,
  price_unit: 'USD',
  sid,
  status: 'queued',
  subresource_uris: { media: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}/Media.json` },
  to: '+15551234567',
  uri: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}.json`,
});

const exception = (code: number, message: string, status: number) => ({
  code,
  message,
  more_info: `https://www.twilio.com/docs/errors/${code}`,
  status,
});

describe('Twilio Messages sender', () => {
  let twilio: FakeProvider;
  let adapters: ReturnType<typeof createChannelAdapters>;

  beforeAll(async () => {
    twilio = await startFakeProvider();
    adapters = createChannelAdapters({ region: 'eu-west-1', twilioApiBaseUrl: twilio.baseUrl, providerTimeoutMs: 400 });
  });
  afterAll(() => twilio.close());
  beforeEach(() => {
    twilio.requests.length = 0;
  });

  it('creates a Message with basic auth and a form body, and answers its sid and status', async () => {
    twilio.answer(() => ({ status: 201, json: created('SM1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d') }));

    const receipt = await adapters.sender('sms').send(
      outbound(connection, {
        text: 'Your table is ready',
        attachments: [
          { url: 'https://files.example.com/menu.jpg', fileName: 'menu.jpg', mimeType: 'image/jpeg', sizeBytes: 1 },
          { url: 'https://files.example.com/map.png', fileName: 'map.png', mimeType: 'image/png', sizeBytes: 1 },
        ],
        statusCallbackUrl: 'https://hooks.example.com/hooks/twilio/chc_sms',
      }),
    );

    expect(receipt).toEqual({ providerMessageId: 'SM1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d', providerStatus: 'queued' });
    const [request] = twilio.requests;
    expect(request!.method).toBe('POST');
    expect(request!.url).toBe(`/2010-04-01/Accounts/${accountSid}/Messages.json`);
    expect(request!.headers.authorization).toBe(basic);
    expect(request!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect([...request!.form!.entries()]).toEqual([
      ['To', '+15551234567'],
      ['From', '+15558675309'],
      ['Body', 'Your table is ready'],
      ['MediaUrl', 'https://files.example.com/menu.jpg'],
      ['MediaUrl', 'https://files.example.com/map.png'],
      ['StatusCallback', 'https://hooks.example.com/hooks/twilio/chc_sms'],
    ]);
  });

  it('leaves out StatusCallback and MediaUrl when there are none', async () => {
    twilio.answer(() => ({ status: 201, json: created('SMx') }));
    await adapters.sender('sms').send(outbound(connection));
    expect([...twilio.requests[0]!.form!.keys()]).toEqual(['To', 'From', 'Body']);
  });

  it.each([
    [429, exception(20429, 'Too Many Requests', 429), 'rate_limited', '20429'],
    [401, exception(20003, 'Authenticate', 401), 'unauthorized', '20003'],
    [400, exception(21211, "The 'To' number +1555 is not a valid phone number.", 400), 'rejected', '21211'],
    [400, exception(21610, 'Attempt to send to unsubscribed recipient', 400), 'rejected', '21610'],
    [400, exception(21614, "'To' number is not a valid mobile number", 400), 'rejected', '21614'],
    [400, exception(21408, 'Permission to send an SMS has not been enabled for the region indicated by the \'To\' number: +999', 400), 'rejected', '21408'],
    [400, exception(21606, "The 'From' phone number provided is not a valid message-capable Twilio phone number for this destination.", 400), 'unauthorized', '21606'],
    [404, exception(20404, `The requested resource /2010-04-01/Accounts/${accountSid}/Messages.json was not found`, 404), 'unauthorized', '20404'],
    [500, exception(20500, 'Internal Server Error', 500), 'provider_unavailable', '20500'],
  ] as const)('maps HTTP %i %j to %s', async (status, body, kind, code) => {
    twilio.answer(() => ({ status, json: body, headers: status === 429 ? { 'retry-after': '3' } : {} }));

    const error = await thrown(() => adapters.sender('sms').send(outbound(connection)));

    expect(error).toBeInstanceOf(ProviderSendError);
    expect(error).toMatchObject({ kind, code, httpStatus: status, retryAfterSeconds: status === 429 ? 3 : null });
    expect(error.message).toBe(`Twilio POST Messages: ${body.message}`);
    expect(error.message).not.toContain(authToken);
  });

  it('maps a 503 with no JSON to provider_unavailable', async () => {
    twilio.answer(() => ({ status: 503, body: 'Service Unavailable' }));
    expect(await thrown(() => adapters.sender('sms').send(outbound(connection)))).toMatchObject({ kind: 'provider_unavailable', code: '503', retryable: true });
  });

  it('reports a refused connection as provider_unavailable (never sent), retryable', async () => {
    const closed = await startFakeProvider();
    const gone = closed.baseUrl;
    await closed.close();
    const offline = createChannelAdapters({ region: 'eu-west-1', twilioApiBaseUrl: gone, providerTimeoutMs: 400 });
    const error = await thrown(() => offline.sender('sms').send(outbound(connection)));
    expect(error).toMatchObject({ kind: 'provider_unavailable', code: 'connection_failed', retryable: true });
    expect(error.message).toMatch(/^Twilio POST Messages: could not connect \(ECONNREFUSED\)$/);
  });

  it('reports a connection dropped after the request as a timeout (maybe sent), retryable', async () => {
    twilio.answer(() => ({ reset: true }));
    const error = await thrown(() => adapters.sender('sms').send(outbound(connection)));
    expect(error).toMatchObject({ kind: 'timeout', code: 'timeout', retryable: true });
    expect(error.message).toMatch(/^Twilio POST Messages: the connection failed \(/);
  });

  it('fetches a MediaUrl with basic auth, following Twilio’s redirect to the file', async () => {
    const mediaPath = `/2010-04-01/Accounts/${accountSid}/Messages/MM800f449d0399ed014aae2bcc0cc2f2ec/Media/ME85ebf7e12cb821f84b319340424dcb02`;
    twilio.answer((request) =>
      request.url === mediaPath
        ? { status: 307, headers: { location: `${twilio.baseUrl}/storage/ME85eb.jpg?X-Amz-Signature=abc` } }
        : { body: 'img', headers: { 'content-type': 'image/jpeg' } },
    );

    const file = await adapters.fetchMedia(
      connection,
      { kind: 'image', providerMediaId: null, url: `${twilio.baseUrl}${mediaPath}`, mimeType: 'image/jpeg', fileName: null, caption: null, sizeBytes: null },
      100,
    );

    expect(Buffer.from(file.bytes).toString()).toBe('img');
    expect(twilio.requests[0]).toMatchObject({ method: 'GET', url: mediaPath, headers: { authorization: basic } });
    expect(twilio.requests[1]!.url).toBe('/storage/ME85eb.jpg?X-Amz-Signature=abc');
  });

  it('maps a media fetch refused for our credentials to unauthorized', async () => {
    twilio.answer(() => ({ status: 401, json: exception(20003, 'Authenticate', 401) }));
    const error = await thrown(() =>
      adapters.fetchMedia(connection, { kind: 'image', providerMediaId: null, url: `${twilio.baseUrl}/m`, mimeType: null, fileName: null, caption: null, sizeBytes: null }, 100),
    );
    expect(error).toMatchObject({ kind: 'unauthorized', code: '401' });
  });
});

describe('Twilio Voice: placing a call', () => {
  let twilio: FakeProvider;
  let adapters: ReturnType<typeof createChannelAdapters>;

  beforeAll(async () => {
    twilio = await startFakeProvider();
    adapters = createChannelAdapters({ region: 'eu-west-1', twilioApiBaseUrl: twilio.baseUrl, providerTimeoutMs: 400 });
  });
  afterAll(() => twilio.close());
  beforeEach(() => {
    twilio.requests.length = 0;
  });

  const call = {
    to: '+15551234567',
    agentPhone: '+15550001111',
    statusCallbackUrl: 'https://hooks.example.com/hooks/twilio/chc_sms?call=cv_1%3Acall_2',
  };

  it('posts Calls.json: the contact rings, the answered call dials the agent showing our number, every progress event is asked', async () => {
    const sid = 'CAe2d4f6a8c0b2d4f6a8c0e2b4d6f8a0c2';
    twilio.answer(() => ({ status: 201, json: { sid, status: 'queued', direction: 'outbound-api', to: call.to, from: '+15558675309' } }));

    const receipt = await adapters.placeCall(connection, call);

    expect(receipt).toEqual({ providerCallId: sid, providerStatus: 'queued' });
    const request = twilio.requests[0]!;
    expect([request.method, request.url, request.headers.authorization]).toEqual(['POST', `/2010-04-01/Accounts/${accountSid}/Calls.json`, basic]);
    expect(request.form!.get('To')).toBe(call.to);
    expect(request.form!.get('From')).toBe('+15558675309');
    expect(request.form!.get('Twiml')).toBe('<Response><Dial callerId="+15558675309"><Number>+15550001111</Number></Dial></Response>');
    expect(request.form!.get('StatusCallback')).toBe(call.statusCallbackUrl);
    expect(request.form!.getAll('StatusCallbackEvent')).toEqual(['initiated', 'ringing', 'answered', 'completed']);
  });

  it('a refused number is rejected (not retried); a 503 is passing; other kinds place no calls', async () => {
    twilio.answer(() => ({ status: 400, json: exception(13224, 'The phone number you are attempting to call is not valid.', 400) }));
    expect(await thrown(() => adapters.placeCall(connection, call))).toMatchObject({ kind: 'rejected', code: '13224', retryable: false });
    twilio.answer(() => ({ status: 503, body: 'Service Unavailable' }));
    expect(await thrown(() => adapters.placeCall(connection, call))).toMatchObject({ kind: 'provider_unavailable', retryable: true });
    const whatsapp = { ...connection, kind: 'whatsapp' as const };
    expect(await thrown(() => adapters.placeCall(whatsapp, call))).toMatchObject({ kind: 'rejected', code: 'calls_unsupported' });
    expect((await thrown(() => adapters.placeCall(connection, call))).message).not.toContain(authToken);
  });
});
