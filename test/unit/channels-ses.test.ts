import { describe, expect, it } from 'vitest';
import type {
  DeliveryStatusEvent,
  IgnoredEvent,
  InboundMessageEvent,
} from '../../domain/channels/inbound-events';
import { parseSesNotification, parseSesSnsMessage } from '../../domain/channels/ses-notifications';
import { verifySnsMessage, type SnsMessage } from '../../domain/channels/sns-message';
import { fixtureText } from '../support/provider-fixtures';

const sesId = '0100019a1b2c3d4e-5f6a7b8c-9d0e-4f1a-8b2c-3d4e5f6a7b8c-000000';
const ourMessageId = '<msg_01JF8Z6Q4V2N3M5K7H9G1D0S2A@mail.acme.example>';
const ourTags = {
  'ses:configuration-set': ['crm-events'],
  'ses:source-ip': ['192.0.2.0'],
  'ses:from-domain': ['acme.example'],
  'ses:caller-identity': ['crm-deliver-message'],
  workspace: ['ws_01JF8Z5A1B2C3D4E5F6G7H8J9K'],
  message: ['msg_01JF8Z6Q4V2N3M5K7H9G1D0S2A'],
  conversation: ['cnv_01JF8Z6K3T1M2L4J6G8F0C9R1Z'],
  attempt: ['2'],
};

const statuses = (file: string) => parseSesNotification(fixtureText(`ses/${file}`)) as DeliveryStatusEvent[];

describe('parseSesNotification: sending events', () => {
  it('turns a Delivery into a delivered status per recipient, with our tags and Message-ID', () => {
    expect(statuses('delivery.json')).toEqual([
      {
        type: 'delivery_status',
        provider: 'ses',
        channel: 'email',
        dedupeKeys: [`ses:${sesId}:Delivery:ana.lopez@example.com`],
        providerMessageId: sesId,
        recipient: 'ana.lopez@example.com',
        providerStatus: 'Delivery',
        status: 'delivered',
        at: '2025-12-01T14:00:04.133Z',
        error: null,
        email: {
          event: 'delivery',
          bounce: null,
          complaint: null,
          click: null,
          suppress: false,
          originalMessageIdHeader: ourMessageId,
          tags: ourTags,
        },
        // Our send reference from the tags: the status names the attempt before its id is known.
        sendReference: { conversationId: 'cnv_01JF8Z6K3T1M2L4J6G8F0C9R1Z', messageId: 'msg_01JF8Z6Q4V2N3M5K7H9G1D0S2A', attempt: 2 },
      } satisfies DeliveryStatusEvent,
    ]);
  });

  it.each([
    ['send.json', 'send', 'Send', 'sent', null],
    ['open.json', 'open', 'Open', 'read', null],
    ['click.json', 'click', 'Click', null, null],
    ['complaint.json', 'complaint', 'Complaint', null, null],
    ['subscription.json', 'subscription', 'Subscription', null, null],
    ['reject.json', 'reject', 'Reject', 'failed', { code: 'Reject', message: 'Bad content' }],
    [
      'rendering-failure.json',
      'rendering_failure',
      'Rendering Failure',
      'failed',
      {
        code: 'RenderingFailure',
        message: "RenewalReminder: Attribute 'firstName' is not present in the rendering data.",
      },
    ],
    [
      'bounce-permanent.json',
      'bounce',
      'Bounce/Permanent/General',
      'failed',
      { code: '5.1.1', message: 'smtp; 550 5.1.1 user unknown' },
    ],
    [
      'delivery-delay.json',
      'delivery_delay',
      'DeliveryDelay',
      'sent',
      { code: '4.4.1', message: 'smtp; 421 4.4.1 Unable to connect to remote host' },
    ],
  ])('maps %s (%s) to status %s', (file, event, providerStatus, status, error) => {
    const [first, ...rest] = statuses(file);

    expect(rest).toEqual([]);
    expect(first).toMatchObject({
      recipient: 'ana.lopez@example.com',
      providerStatus,
      status,
      error,
      email: { event },
    });
  });

  it('keeps a transient bounce as sent with the error, for each bounced recipient', () => {
    const events = statuses('bounce-transient.json');

    expect(events.map((e) => [e.recipient, e.status, e.error, e.dedupeKeys])).toEqual([
      [
        'ana.lopez@example.com',
        'sent',
        { code: '4.2.2', message: 'smtp; 452 4.2.2 The email account that you tried to reach is over quota' },
        [`ses:${sesId}:Bounce:ana.lopez@example.com`],
      ],
      [
        'bruno.diaz@example.com',
        'sent',
        { code: 'Transient/MailboxFull', message: 'Transient bounce (MailboxFull)' },
        [`ses:${sesId}:Bounce:bruno.diaz@example.com`],
      ],
    ]);
    expect(events[0]!.email!.bounce).toEqual({ type: 'Transient', subType: 'MailboxFull' });
  });

  it('reads an identity notification (notificationType) the same way; an undetermined bounce stays sent', () => {
    expect(statuses('identity-bounce-undetermined.json')).toMatchObject([
      {
        status: 'sent',
        providerStatus: 'Bounce/Undetermined/Undetermined',
        email: { event: 'bounce', tags: {} },
      },
    ]);
  });

  it('asks to suppress the contact on a complaint and on an unsubscribe from everything', () => {
    expect(statuses('complaint.json')[0]!.email).toMatchObject({
      suppress: true,
      complaint: { feedbackType: 'abuse', subType: null },
    });
    expect(statuses('subscription.json')[0]!.email!.suppress).toBe(true);
    expect(statuses('click.json')[0]!.email).toMatchObject({
      suppress: false,
      click: { link: 'https://acme.example/pricing?plan=annual' },
    });
  });

  it('gives every event type of one message its own dedupe key', () => {
    const files = [
      'send.json',
      'delivery.json',
      'open.json',
      'click.json',
      'complaint.json',
      'bounce-permanent.json',
    ];
    const keys = files.flatMap((file) => statuses(file).flatMap((e) => e.dedupeKeys));
    expect(new Set(keys).size).toBe(files.length);
  });

  it('keys each click by its link and time: another click is new, the same notification again is not', () => {
    const click = fixtureText('ses/click.json');
    const keyOf = (text: string) => (parseSesNotification(text) as DeliveryStatusEvent[])[0]!.dedupeKeys;
    const again = keyOf(click.replace('2025-12-01T15:31:25.570Z', '2025-12-01T15:45:02.004Z'));
    const otherLink = keyOf(click.replace('https://acme.example/pricing?plan=annual', 'https://acme.example/contact'));
    expect(keyOf(click)).toEqual(keyOf(click));
    expect(new Set([keyOf(click)[0], again[0], otherLink[0]]).size).toBe(3);
    // A link of any length still makes a key short enough to store (receive-webhook.ts refuses ids over 256).
    const long = keyOf(click.replace('https://acme.example/pricing?plan=annual', `https://acme.example/?q=${'x'.repeat(2000)}`));
    expect(long[0]!.length).toBeLessThan(256);
  });

  it('returns what it does not handle as ignored', () => {
    const withoutMail = JSON.stringify({ eventType: 'Delivery', delivery: { recipients: ['a@b.io'] } });
    const withoutRecipients = JSON.stringify({
      eventType: 'Send',
      mail: { messageId: sesId, destination: [] },
      send: {},
    });
    const withoutBounce = JSON.stringify({
      eventType: 'Bounce',
      mail: { messageId: sesId, destination: ['a@b.io'] },
    });

    expect(
      [
        fixtureText('ses/unknown-event.json'),
        '{not json',
        withoutMail,
        withoutRecipients,
        withoutBounce,
        '"Delivery"',
      ].map((text) => (parseSesNotification(text) as IgnoredEvent[]).map((e) => e.reason)),
    ).toEqual([
      ['unsupported_event'],
      ['malformed_json'],
      ['invalid_item'],
      ['no_recipients'],
      ['invalid_item'],
      ['unsupported_event'],
    ]);
  });
});

describe('parseSesNotification: inbound mail', () => {
  it('turns a receipt notification with an S3 action into an email message with its threading headers', () => {
    expect(parseSesNotification(fixtureText('ses/received-s3.json'))).toEqual([
      {
        type: 'message',
        provider: 'ses',
        channel: 'email',
        dedupeKeys: ['ses:o3vrnil0e2ic28trm7dfhrc2v0clambda4nbp0g1:Received'],
        providerMessageId: 'o3vrnil0e2ic28trm7dfhrc2v0clambda4nbp0g1',
        from: { kind: 'email', value: 'ana.lopez@example.com', name: 'Ana López', alternateValues: [] },
        to: ['reply+cv_01JF8Z7T0Q5R6S7T8V9W0X1Y2Z@reply.acme.example'],
        sentAt: '2025-12-01T16:02:05.000Z',
        text: '',
        media: [],
        replyToProviderMessageId: null,
        chatId: null,
        email: {
          subject: 'Re: Your annual plan',
          messageIdHeader: '<CAJx9v3Fq=8Kx@mail.example.com>',
          inReplyTo: `<${sesId}@email.amazonses.com>`,
          references: [ourMessageId, `<${sesId}@email.amazonses.com>`],
          to: ['reply+cv_01JF8Z7T0Q5R6S7T8V9W0X1Y2Z@reply.acme.example'],
          cc: ['bruno.diaz@example.com'],
          verdicts: { spam: 'PASS', virus: 'PASS', spf: 'PASS', dkim: 'PASS', dmarc: 'PASS' },
          headersTruncated: false,
          content: {
            location: 's3',
            bucket: 'crm-inbound-mail-123456789012',
            key: 'inbound/o3vrnil0e2ic28trm7dfhrc2v0clambda4nbp0g1',
          },
        },
      } satisfies InboundMessageEvent,
    ]);
  });

  it('points at the inline MIME content of an SNS action, UTF-8 unless the action says Base64', () => {
    const received = JSON.parse(fixtureText('ses/received-sns.json'));
    const [inline] = parseSesNotification(JSON.stringify(received)) as InboundMessageEvent[];
    received.receipt.action.encoding = 'BASE64';
    received.content = Buffer.from(received.content).toString('base64');
    const [base64] = parseSesNotification(JSON.stringify(received)) as InboundMessageEvent[];

    expect(inline!.email!.content).toMatchObject({ location: 'inline', encoding: 'utf8' });
    expect((inline!.email!.content as { data: string }).data).toContain('Yes, the annual plan please.');
    expect(base64!.email!.content).toMatchObject({ location: 'inline', encoding: 'base64' });
  });

  it('returns a receipt without a usable sender or without its receipt as ignored', () => {
    const received = JSON.parse(fixtureText('ses/received-s3.json'));
    received.mail.commonHeaders.from = ['MAILER-DAEMON'];
    const noReceipt = { notificationType: 'Received', mail: received.mail };

    expect(parseSesNotification(JSON.stringify(received))).toMatchObject([
      { type: 'ignored', reason: 'unroutable_sender' },
    ]);
    expect(parseSesNotification(JSON.stringify(noReceipt))).toMatchObject([
      { type: 'ignored', reason: 'invalid_item' },
    ]);
  });
});

describe('parseSesSnsMessage', () => {
  const verified = async (file: string): Promise<SnsMessage> => {
    const result = await verifySnsMessage(fixtureText(`sns/${file}`), {
      expectedTopicArns: [
        'arn:aws:sns:us-east-1:123456789012:crm-ses-events',
        'arn:aws:sns:us-east-1:123456789012:crm-inbound-mail',
      ],
      certificates: { fetchPem: async () => fixtureText('sns/signing-cert.pem') },
    });
    if (!result.ok) throw new Error(result.detail);
    return result.message;
  };

  it('parses the SES event a verified notification carries', async () => {
    expect(parseSesSnsMessage(await verified('notification-v1.json'))).toMatchObject([
      { type: 'delivery_status', status: 'delivered', providerMessageId: sesId },
    ]);
    expect(parseSesSnsMessage(await verified('notification-v2-subject.json'))).toMatchObject([
      { type: 'message', channel: 'email', email: { content: { location: 'inline' } } },
    ]);
  });

  it('turns a confirmation into the subscription event, and an off-SNS SubscribeURL into an ignored one', async () => {
    const confirmation = await verified('subscription-confirmation.json');

    expect(parseSesSnsMessage(confirmation)).toMatchObject([{ type: 'sns_subscription', action: 'confirm' }]);
    expect(
      parseSesSnsMessage({ ...confirmation, SubscribeURL: 'https://evil.example/confirm' }),
    ).toMatchObject([
      {
        type: 'ignored',
        reason: 'untrusted_subscribe_url',
        dedupeKeys: ['sns:165545c9-2a5c-472c-8df2-7ff2be2b3b1b'],
      },
    ]);
  });
});
