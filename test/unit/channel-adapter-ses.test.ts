/**
 * The SES email sender through the real SESv2 client against an SES v2 endpoint played at loopback
 * (`POST /v2/email/outbound-emails`, REST-JSON, errors named by `x-amzn-ErrorType`).
 * Shapes: https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html,
 * https://docs.aws.amazon.com/ses/latest/APIReference-V2/CommonErrors.html
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ProviderSendError, type OpenedConnection, type OutboundEmail } from '../../domain/channels/outbound';
import { createChannelAdapters } from '../../functions/shared/adapters/channels/channel-adapters';
import { referencesHeader, sesFromAddress } from '../../functions/shared/adapters/channels/ses-email-sender';
import { outbound, startFakeProvider, thrown, type FakeProvider } from './channel-adapter-fake-provider';

const connection: OpenedConnection = {
  workspaceId: 'ws_01',
  connectionId: 'chc_mail',
  kind: 'email',
  settings: { sesIdentity: 'acme.example', fromAddress: 'support@acme.example', replyDomain: 'reply.acme.example' },
  secrets: {},
};

const email: OutboundEmail = {
  subject: 'Re: Your order',
  messageIdHeader: '<msg_01@reply.acme.example>',
  inReplyTo: '<CAF=abc@mail.example.com>',
  references: ['<first@mail.example.com>', '<CAF=abc@mail.example.com>'],
  replyTo: 'reply+cnv_01@reply.acme.example',
  fromName: 'Ada Lovelace',
};

describe('SES email sender', () => {
  let ses: FakeProvider;
  let adapters: ReturnType<typeof createChannelAdapters>;

  beforeAll(async () => {
    ses = await startFakeProvider();
    adapters = createChannelAdapters({
      region: 'eu-west-1',
      sesEndpoint: ses.baseUrl,
      sesConfigurationSet: 'crm-channel-events',
      providerTimeoutMs: 400,
    });
  });
  afterAll(() => ses.close());
  beforeEach(() => {
    ses.requests.length = 0;
  });

  it('sends SendEmail with our From, Reply-To, threading headers, tags and configuration set, and answers the MessageId', async () => {
    ses.answer(() => ({ json: { MessageId: '0102018c3f9d6a8b-5e2c1f0a-example-000000' } }));

    const receipt = await adapters.sender('email').send(outbound(connection, { to: 'customer@mail.example.com', text: 'Thanks, it ships today.', email }));

    expect(receipt).toEqual({ providerMessageId: '0102018c3f9d6a8b-5e2c1f0a-example-000000', providerStatus: null });
    const [request] = ses.requests;
    expect(request!.method).toBe('POST');
    expect(request!.url).toBe('/v2/email/outbound-emails');
    expect(request!.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=local\/\d{8}\/eu-west-1\/ses\/aws4_request/);
    expect(request!.json).toEqual({
      FromEmailAddress: '"Ada Lovelace" <support@acme.example>',
      Destination: { ToAddresses: ['customer@mail.example.com'] },
      ReplyToAddresses: ['reply+cnv_01@reply.acme.example'],
      Content: {
        Simple: {
          Subject: { Data: 'Re: Your order', Charset: 'UTF-8' },
          Body: { Text: { Data: 'Thanks, it ships today.', Charset: 'UTF-8' } },
          Headers: [
            { Name: 'Message-ID', Value: '<msg_01@reply.acme.example>' },
            { Name: 'In-Reply-To', Value: '<CAF=abc@mail.example.com>' },
            { Name: 'References', Value: '<first@mail.example.com> <CAF=abc@mail.example.com>' },
          ],
        },
      },
      EmailTags: [
        { Name: 'workspace', Value: 'ws_01' },
        { Name: 'delivery', Value: 'dlv_01' },
        // Our send reference, echoed in every SES event's mail.tags.
        { Name: 'conversation', Value: 'cnv_01' },
        { Name: 'message', Value: 'msg_01' },
        { Name: 'attempt', Value: '1' },
      ],
      ConfigurationSetName: 'crm-channel-events',
    });
  });

  it('attaches the files’ bytes, fetched from their URLs', async () => {
    ses.answer((request) =>
      request.url === '/files/invoice.pdf' ? { body: '%PDF-1.7 bytes', headers: { 'content-type': 'application/pdf' } } : { json: { MessageId: 'm-2' } },
    );

    await adapters.sender('email').send(
      outbound(connection, {
        to: 'customer@mail.example.com',
        email: { ...email, inReplyTo: null, references: [] },
        attachments: [{ url: `${ses.baseUrl}/files/invoice.pdf`, fileName: 'invoice.pdf', mimeType: 'application/pdf', sizeBytes: 14 }],
      }),
    );

    const send = ses.requests.find((r) => r.url === '/v2/email/outbound-emails')!;
    const simple = (send.json as { Content: { Simple: Record<string, unknown> } }).Content.Simple;
    expect(simple.Headers).toEqual([{ Name: 'Message-ID', Value: '<msg_01@reply.acme.example>' }]);
    expect(simple.Attachments).toEqual([
      {
        RawContent: Buffer.from('%PDF-1.7 bytes').toString('base64'),
        FileName: 'invoice.pdf',
        ContentType: 'application/pdf',
        ContentDisposition: 'ATTACHMENT',
        ContentTransferEncoding: 'BASE64',
      },
    ]);
  });

  it.each([
    [400, 'MessageRejected', 'Email address is not verified. The following identities failed the check in region EU-WEST-1: support@acme.example', 'rejected'],
    [400, 'MailFromDomainNotVerifiedException', 'The message can’t be sent because the sending domain isn’t verified.', 'unauthorized'],
    [400, 'AccountSuspendedException', 'The message can’t be sent because the account’s ability to send email has been permanently restricted.', 'unauthorized'],
    [400, 'SendingPausedException', 'The message can’t be sent because the account’s ability to send email is currently paused.', 'unauthorized'],
    [404, 'NotFoundException', 'Configuration set <crm-channel-events> does not exist.', 'unauthorized'],
    [429, 'TooManyRequestsException', 'Maximum sending rate exceeded.', 'rate_limited'],
    [400, 'LimitExceededException', 'Daily message quota exceeded.', 'rate_limited'],
    [400, 'BadRequestException', 'Missing final \'@domain\'', 'rejected'],
    [500, 'InternalFailure', 'We encountered an internal error. Please try again.', 'provider_unavailable'],
  ] as const)('maps HTTP %i %s to %s', async (status, type, message, kind) => {
    ses.answer(() => ({ status, json: { message }, headers: { 'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazonaws.sesv2/` } }));

    const error = await thrown(() => adapters.sender('email').send(outbound(connection, { to: 'c@mail.example.com', email })));

    expect(error).toBeInstanceOf(ProviderSendError);
    expect(error).toMatchObject({ kind, code: type, httpStatus: status });
    expect(error.message).toBe(`SES SendEmail: ${message}`);
  });

  it('times out a SendEmail that gets no answer (one attempt: no SDK retry)', async () => {
    ses.answer(() => ({ hang: true }));
    const error = await thrown(() => adapters.sender('email').send(outbound(connection, { to: 'c@mail.example.com', email })));
    expect(error).toMatchObject({ kind: 'timeout', code: 'timeout', retryable: true });
    expect(ses.requests).toHaveLength(1);
  });

  it('does not retry a 5xx inside the SDK (the delivery job decides)', async () => {
    ses.answer(() => ({ status: 503, json: { message: 'Service Unavailable' }, headers: { 'x-amzn-errortype': 'ServiceUnavailable' } }));
    await thrown(() => adapters.sender('email').send(outbound(connection, { to: 'c@mail.example.com', email })));
    expect(ses.requests).toHaveLength(1);
  });

  it('refuses a message without its email part', async () => {
    expect(await thrown(() => adapters.sender('email').send(outbound(connection, { to: 'c@mail.example.com' })))).toMatchObject({ kind: 'rejected', code: 'no_email_details' });
  });
});

describe('SES header values', () => {
  it('quotes an ASCII display name and encodes any other as an RFC 2047 encoded-word', () => {
    expect(sesFromAddress('a@x.io', 'Ada "the" Countess')).toBe('"Ada \\"the\\" Countess" <a@x.io>');
    expect(sesFromAddress('a@x.io', 'Zoë')).toBe(`=?UTF-8?B?${Buffer.from('Zoë').toString('base64')}?= <a@x.io>`);
    expect(sesFromAddress('a@x.io', null)).toBe('a@x.io');
  });

  it('keeps References within 995 characters: the first id and the latest that fit', () => {
    const ids = Array.from({ length: 40 }, (_, i) => `<message-${String(i).padStart(2, '0')}@mail.example.com>`);
    const header = referencesHeader(ids)!;
    expect(header.length).toBeLessThanOrEqual(995);
    expect(header.startsWith('<message-00@')).toBe(true);
    expect(header.endsWith('<message-39@mail.example.com>')).toBe(true);
    expect(header).not.toContain('<message-01@');
  });
});
