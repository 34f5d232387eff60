/**
 * The WhatsApp Cloud API sender against a Graph API played at loopback: the request Meta documents
 * (path, Bearer token, JSON body), its answers and its error objects.
 * Shapes: https://developers.facebook.com/documentation/business-messaging/whatsapp/messages/text-messages/,
 * .../image-messages/, https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes/
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ProviderSendError, type OpenedConnection } from '../../domain/channels/outbound';
import { createChannelAdapters } from '../../functions/shared/adapters/channels/channel-adapters';
import { outbound, startFakeProvider, thrown, type FakeProvider } from './channel-adapter-fake-provider';

const accessToken = 'EAAGm0PX4ZCpsBAKsecrettoken1234567890';
const connection: OpenedConnection = {
  workspaceId: 'ws_01',
  connectionId: 'chc_wa',
  kind: 'whatsapp',
  settings: { phoneNumberId: '106540352242922' },
  secrets: { accessToken, appSecret: 'app-secret-value-123', verifyToken: 'verify-me' },
};

const accepted = (id: string, status?: string) => ({
  messaging_product: 'whatsapp',
  contacts: [{ input: '+15551234567', wa_id: '15551234567' }],
  messages: [{ id, ...(status ? { message_status: status } : {}) }],
});

const graphError = (code: number, message: string, details: string, subcode?: number) => ({
  error: {
    message,
    type: 'OAuthException',
    code,
    error_data: { messaging_product: 'whatsapp', details },
    ...(subcode !== undefined ? { error_subcode: subcode } : {}),
    fbtrace_id: 'Az8or2yhqkZfEZ-_4Qn_Bam',
  },
});

describe('WhatsApp Cloud API sender', () => {
  let graph: FakeProvider;
  let adapters: ReturnType<typeof createChannelAdapters>;

  beforeAll(async () => {
    graph = await startFakeProvider();
    adapters = createChannelAdapters({ region: 'eu-west-1', whatsappApiBaseUrl: `${graph.baseUrl}/v23.0`, providerTimeoutMs: 400 });
  });
  afterAll(() => graph.close());
  beforeEach(() => {
    graph.requests.length = 0;
  });

  it('posts a text message to /{phone-number-id}/messages with the Bearer token and answers the wamid', async () => {
    graph.answer(() => ({ json: accepted('wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA') }));

    const receipt = await adapters.sender('whatsapp').send(outbound(connection, { text: 'Your order shipped: https://example.com/o/1' }));

    expect(receipt).toEqual({ providerMessageId: 'wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA', providerStatus: 'accepted' });
    const [request] = graph.requests;
    expect(request!.method).toBe('POST');
    expect(request!.url).toBe('/v23.0/106540352242922/messages');
    expect(request!.headers.authorization).toBe(`Bearer ${accessToken}`);
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.json).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '+15551234567',
      type: 'text',
      text: { body: 'Your order shipped: https://example.com/o/1', preview_url: true },
      // Our send reference: its statuses name the attempt even when this answer is lost.
      biz_opaque_callback_data: 'cnv_01:msg_01:1',
    });
  });

  it.each([
    ['a business-scoped user ID', 'US.13491208655302741918'],
    ['a parent business-scoped user ID', 'US.ENT.11815799212886844830'],
  ])('sends to %s with `recipient` in place of `to`', async (_what, userId) => {
    // Meta's business-scoped user IDs page (copied at
    // https://support.chatarchitect.com/books/meta-whatsapp/page/business-scoped-user-ids-developer-documentation),
    // https://dualhook.com/docs/contacts-bsuid-api-changes and https://docs.ycloud.com/reference/webhook-updates-bsuid:
    // `recipient` takes a BSUID or parent BSUID, `to` a phone number (and wins when both are given); a send
    // to a BSUID answers `contacts[].user_id`, without `wa_id`.
    graph.answer(() => ({
      json: { messaging_product: 'whatsapp', contacts: [{ input: userId, user_id: userId }], messages: [{ id: 'wamid.TO-BSUID' }] },
    }));

    const receipt = await adapters.sender('whatsapp').send(outbound(connection, { to: userId, text: 'Hi' }));

    expect(receipt).toEqual({ providerMessageId: 'wamid.TO-BSUID', providerStatus: 'accepted' });
    expect(graph.requests[0]!.json).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      recipient: userId,
      type: 'text',
      text: { body: 'Hi', preview_url: false },
      biz_opaque_callback_data: 'cnv_01:msg_01:1',
    });
  });

  it('answers a reply with context.message_id and keeps the provider status Meta gives', async () => {
    graph.answer(() => ({ json: accepted('wamid.reply', 'held_for_quality_assessment') }));

    const receipt = await adapters
      .sender('whatsapp')
      .send(outbound(connection, { text: 'Sure', replyToProviderMessageId: 'wamid.incoming', reference: { workspaceId: 'ws_01', conversationId: 'cnv_7', messageId: 'msg_9', deliveryId: 'dlv_9', attempt: 3 } }));

    expect(receipt.providerStatus).toBe('held_for_quality_assessment');
    expect(graph.requests[0]!.json).toMatchObject({
      context: { message_id: 'wamid.incoming' },
      text: { body: 'Sure', preview_url: false },
      biz_opaque_callback_data: 'cnv_7:msg_9:3',
    });
  });

  it('sends files by link, one message each: the text as the first caption, a document with its file name', async () => {
    let n = 0;
    graph.answer(() => ({ json: accepted(`wamid.part${++n}`) }));

    const receipt = await adapters.sender('whatsapp').send(
      outbound(connection, {
        text: 'Photo and invoice',
        replyToProviderMessageId: 'wamid.question',
        attachments: [
          { url: 'https://files.example.com/a.jpg?sig=1', fileName: 'a.jpg', mimeType: 'image/jpeg', sizeBytes: 10 },
          { url: 'https://files.example.com/inv.pdf?sig=2', fileName: 'invoice.pdf', mimeType: 'application/pdf', sizeBytes: 20 },
        ],
      }),
    );

    expect(receipt.providerMessageId).toBe('wamid.part1');
    expect(graph.requests.map((r) => r.json)).toEqual([
      expect.objectContaining({
        type: 'image',
        image: { link: 'https://files.example.com/a.jpg?sig=1', caption: 'Photo and invoice' },
        context: { message_id: 'wamid.question' },
      }),
      expect.objectContaining({ type: 'document', document: { link: 'https://files.example.com/inv.pdf?sig=2', filename: 'invoice.pdf' } }),
    ]);
    expect(graph.requests[1]!.json).not.toHaveProperty('context');
  });

  it('sends the text on its own first when the first file is audio (audio takes no caption)', async () => {
    let n = 0;
    graph.answer(() => ({ json: accepted(`wamid.a${++n}`) }));

    await adapters.sender('whatsapp').send(
      outbound(connection, { text: 'Listen', attachments: [{ url: 'https://f/v.ogg', fileName: 'v.ogg', mimeType: 'audio/ogg', sizeBytes: 5 }] }),
    );

    expect(graph.requests.map((r) => (r.json as { type: string }).type)).toEqual(['text', 'audio']);
    expect(graph.requests[1]!.json).toMatchObject({ audio: { link: 'https://f/v.ogg' } });
    expect((graph.requests[1]!.json as { audio: object }).audio).not.toHaveProperty('caption');
  });

  it('says which part was already accepted when a later file fails', async () => {
    graph.answer((request) =>
      (request.json as { type: string }).type === 'image'
        ? { json: accepted('wamid.first') }
        : { status: 400, json: graphError(131053, '(#131053) Media upload error', 'Unable to upload the media used in the message.') },
    );

    const error = await thrown(() =>
      adapters.sender('whatsapp').send(
        outbound(connection, {
          attachments: [
            { url: 'https://f/a.jpg', fileName: 'a.jpg', mimeType: 'image/jpeg', sizeBytes: 1 },
            { url: 'https://f/b.zip', fileName: 'b.zip', mimeType: 'application/zip', sizeBytes: 1 },
          ],
        }),
      ),
    );

    expect(error).toMatchObject({ kind: 'rejected', code: '131053', acceptedParts: ['wamid.first'] });
    expect(error.message).toBe(
      'WhatsApp POST messages (part 2 of 2): (#131053) Media upload error: Unable to upload the media used in the message. (after 1 part accepted, the first as wamid.first)',
    );
  });

  it('a re-send goes on after the parts an earlier call got accepted, and answers the first part’s id', async () => {
    let n = 0;
    graph.answer(() => {
      n += 1;
      return n === 2 ? { status: 503, json: graphError(2, 'Service temporarily unavailable', 'Overloaded.') } : { json: accepted(`wamid.part${n}`) };
    });
    const files = outbound(connection, {
      text: 'Your documents',
      attachments: [
        { url: 'https://f/a.pdf', fileName: 'a.pdf', mimeType: 'application/pdf', sizeBytes: 1 },
        { url: 'https://f/b.pdf', fileName: 'b.pdf', mimeType: 'application/pdf', sizeBytes: 1 },
        { url: 'https://f/c.pdf', fileName: 'c.pdf', mimeType: 'application/pdf', sizeBytes: 1 },
      ],
    });

    const error = await thrown(() => adapters.sender('whatsapp').send(files));
    expect(error).toMatchObject({ kind: 'provider_unavailable', retryable: true, acceptedParts: ['wamid.part1'] });

    const receipt = await adapters.sender('whatsapp').send({ ...files, partsSent: ['wamid.part1'] });
    expect(receipt.providerMessageId).toBe('wamid.part1');
    // a.pdf went once; b.pdf was tried twice (the 503, then accepted); c.pdf once.
    expect(graph.requests.map((request) => (request.json as { document: { filename: string } }).document.filename)).toEqual([
      'a.pdf',
      'b.pdf',
      'b.pdf',
      'c.pdf',
    ]);
  });

  it.each([
    [130429, undefined, 400, 'rate_limited', '(#130429) Rate limit hit', 'Message failed to send because there were too many messages sent from this phone number in a short period of time'],
    [131056, undefined, 400, 'rate_limited', '(#131056) (Business Account, Consumer Account) pair rate limit hit', 'Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time.'],
    [131048, undefined, 400, 'rate_limited', '(#131048) Spam rate limit hit', 'Message failed to send because there are restrictions on how many messages can be sent from this phone number.'],
    [80007, undefined, 400, 'rate_limited', '(#80007) Rate limit issues', 'The WhatsApp Business Account has reached its rate limit.'],
    [4, undefined, 429, 'rate_limited', '(#4) Application request limit reached', 'The app has reached its API call rate limit.'],
    [131000, undefined, 500, 'provider_unavailable', 'Something went wrong', 'Message failed to send due to an unknown error.'],
    [2, undefined, 503, 'provider_unavailable', 'Service temporarily unavailable', 'Temporary due to downtime or due to being overloaded.'],
    [190, 463, 401, 'unauthorized', 'Error validating access token: Session has expired', 'Your access token has expired.'],
    [10, undefined, 403, 'unauthorized', '(#10) Application does not have permission for this action', 'Permission is either not granted or has been removed.'],
    [100, 33, 400, 'unauthorized', "Unsupported post request. Object with ID '106540352242922' does not exist", 'Does not exist, cannot be loaded due to missing permissions, or does not support this operation.'],
    [131047, undefined, 400, 'rejected', '(#131047) Re-engagement message', 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.'],
    [131026, undefined, 400, 'rejected', '(#131026) Message Undeliverable', 'Unable to deliver message.'],
    [131051, undefined, 400, 'rejected', '(#131051) Unsupported message type', 'Message type is not currently supported.'],
    [131053, undefined, 400, 'rejected', '(#131053) Media upload error', 'Unable to upload the media used in the message.'],
    [100, undefined, 400, 'rejected', '(#100) Invalid parameter', 'The parameter to is invalid.'],
  ] as const)('maps Graph error %i (subcode %s, HTTP %i) to %s', async (code, subcode, status, kind, message, details) => {
    graph.answer(() => ({ status, json: graphError(code, message, details, subcode), headers: status === 429 ? { 'retry-after': '30' } : {} }));

    const error = await thrown(() => adapters.sender('whatsapp').send(outbound(connection)));

    expect(error).toBeInstanceOf(ProviderSendError);
    expect(error).toMatchObject({ kind, code: String(code), httpStatus: status, retryable: kind === 'rate_limited' || kind === 'provider_unavailable' });
    expect(error.message).toContain(details);
    expect(error.message).not.toContain(accessToken);
    if (status === 429) expect(error.retryAfterSeconds).toBe(30);
  });

  it('maps a 5xx without a Graph error body to provider_unavailable', async () => {
    graph.answer(() => ({ status: 502, body: '<html>Bad Gateway</html>' }));
    expect(await thrown(() => adapters.sender('whatsapp').send(outbound(connection)))).toMatchObject({ kind: 'provider_unavailable', code: '502', retryable: true });
  });

  it('keeps a token echoed in an error text out of the message', async () => {
    graph.answer(() => ({ status: 400, json: graphError(190, `Malformed access token ${accessToken}`, 'Invalid OAuth access token.') }));
    const error = await thrown(() => adapters.sender('whatsapp').send(outbound(connection)));
    expect(error.message).not.toContain(accessToken);
    expect(error.message).toContain('[redacted]');
  });

  it('times out a call that gets no answer, retryable', async () => {
    graph.answer(() => ({ hang: true }));
    const error = await thrown(() => adapters.sender('whatsapp').send(outbound(connection)));
    expect(error).toMatchObject({ kind: 'timeout', code: 'timeout', retryable: true });
    expect(error.message).toBe('WhatsApp POST messages: no answer within 400 ms');
  });

  it('treats a 200 without messages[0].id as maybe sent', async () => {
    graph.answer(() => ({ json: { messaging_product: 'whatsapp' } }));
    expect(await thrown(() => adapters.sender('whatsapp').send(outbound(connection)))).toMatchObject({ kind: 'timeout', code: 'unreadable_answer' });
  });

  it('refuses a connection without its access token before calling Meta', async () => {
    const error = await thrown(() => adapters.sender('whatsapp').send(outbound({ ...connection, secrets: {} })));
    expect(error).toMatchObject({ kind: 'unauthorized', code: 'missing_credentials' });
    expect(graph.requests).toHaveLength(0);
  });

  describe('fetchMedia', () => {
    const media = { kind: 'image' as const, providerMediaId: '2621233374848975', url: null, mimeType: 'image/jpeg', fileName: null, caption: null, sizeBytes: null };

    it('reads the media URL from GET /{media-id}, then downloads it with the same Bearer token', async () => {
      const bytes = Buffer.from('jpeg-bytes');
      graph.answer((request) =>
        request.url === '/v23.0/2621233374848975'
          ? {
              json: {
                messaging_product: 'whatsapp',
                url: `${graph.baseUrl}/whatsapp_business/attachments/?mid=2621233374848975&ext=1&hash=abc`,
                mime_type: 'image/jpeg',
                sha256: '81d3bd8a8db4868c9520ed47186e8b7c5789e61ff79f7f834be6950b808a90d3',
                file_size: String(bytes.length),
                id: '2621233374848975',
              },
            }
          : { body: bytes, headers: { 'content-type': 'image/jpeg' } },
      );

      const file = await adapters.fetchMedia(connection, media, 1024);

      expect(Buffer.from(file.bytes).toString()).toBe('jpeg-bytes');
      expect(file.mimeType).toBe('image/jpeg');
      expect(graph.requests.map((r) => [r.method, r.url, r.headers.authorization])).toEqual([
        ['GET', '/v23.0/2621233374848975', `Bearer ${accessToken}`],
        ['GET', '/whatsapp_business/attachments/?mid=2621233374848975&ext=1&hash=abc', `Bearer ${accessToken}`],
      ]);
    });

    it('refuses a file Meta says is too large without downloading it', async () => {
      graph.answer(() => ({ json: { url: `${graph.baseUrl}/f`, mime_type: 'video/mp4', file_size: '5000', id: 'x', messaging_product: 'whatsapp' } }));
      expect(await thrown(() => adapters.fetchMedia(connection, media, 1000))).toMatchObject({ kind: 'rejected', code: 'too_large' });
      expect(graph.requests).toHaveLength(1);
    });

    it('stops a download that streams past maxBytes', async () => {
      graph.answer((request) =>
        request.url.startsWith('/v23.0/')
          ? { json: { url: `${graph.baseUrl}/big`, mime_type: 'video/mp4', id: 'x', messaging_product: 'whatsapp' } }
          : { chunked: [Buffer.alloc(600), Buffer.alloc(600), Buffer.alloc(600)], headers: { 'content-type': 'video/mp4' } },
      );
      expect(await thrown(() => adapters.fetchMedia(connection, media, 1000))).toMatchObject({ kind: 'rejected', code: 'too_large' });
    });
  });
});
