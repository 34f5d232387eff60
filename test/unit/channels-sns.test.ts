import { sign as rsaSign } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import {
  cachedCertificates,
  snsStringToSign,
  snsSubscriptionEvent,
  verifySnsMessage,
  type CertificateSource,
  type SnsMessage,
} from '../../domain/channels/sns-message';
import { fixtureText } from '../support/provider-fixtures';

const signingKey = fixtureText('sns/signing-key.pem');
const signingCert = fixtureText('sns/signing-cert.pem');
const otherKey = fixtureText('sns/other-key.pem');
const otherCert = fixtureText('sns/other-cert.pem');
const certUrl =
  'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-7506a1e35b36ef5a444dd1a8e7cc3ed8.pem';
const eventsTopic = 'arn:aws:sns:us-east-1:123456789012:crm-ses-events';
const inboundTopic = 'arn:aws:sns:us-east-1:123456789012:crm-inbound-mail';

/** A certificate source serving our test certificate, counting fetches. */
const certificates = (pem = signingCert) => {
  const fetchPem = vi.fn(async (_url: string) => pem);
  return { fetchPem } satisfies CertificateSource;
};
const options = (source: CertificateSource = certificates()) => ({
  expectedTopicArns: [eventsTopic, inboundTopic],
  certificates: source,
});

/** Signs as SNS does, written out from AWS's documented field lists (independently of the code under test). */
const resign = (message: Record<string, string | undefined>, key = signingKey): string => {
  const fields =
    message.Type === 'Notification'
      ? ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type']
      : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
  const text = fields
    .filter((field) => message[field] !== undefined)
    .map((field) => `${field}\n${message[field]}\n`)
    .join('');
  const algorithm = message.SignatureVersion === '1' ? 'RSA-SHA1' : 'RSA-SHA256';
  return JSON.stringify({
    ...message,
    Signature: rsaSign(algorithm, Buffer.from(text), key).toString('base64'),
  });
};
const fixture = (name: string) =>
  JSON.parse(fixtureText(`sns/${name}`)) as Record<string, string | undefined>;

describe('snsStringToSign', () => {
  it('builds AWS’s documented example for a Notification: name and value lines in byte order', () => {
    const message = {
      Type: 'Notification',
      MessageId: '4d4dc071-ddbf-465d-bba8-08f81c89da64',
      TopicArn: 'arn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P',
      Subject: 'My subject',
      Message: 'My Test Message',
      Timestamp: '2012-06-05T04:37:04.321Z',
      SignatureVersion: '1',
      Signature: 'x',
      SigningCertURL: certUrl,
    } satisfies SnsMessage;

    expect(snsStringToSign(message)).toBe(
      'Message\nMy Test Message\nMessageId\n4d4dc071-ddbf-465d-bba8-08f81c89da64\nSubject\nMy subject\n' +
        'Timestamp\n2012-06-05T04:37:04.321Z\nTopicArn\narn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P\n' +
        'Type\nNotification\n',
    );
  });

  it('signs SubscribeURL and Token for a confirmation, and never the unsubscribe URL', () => {
    const m = JSON.parse(fixtureText('sns/subscription-confirmation.json')) as SnsMessage;
    expect(snsStringToSign(m)).toBe(
      `Message\n${m.Message}\nMessageId\n${m.MessageId}\nSubscribeURL\n${m.SubscribeURL}\n` +
        `Timestamp\n${m.Timestamp}\nToken\n${m.Token}\nTopicArn\n${m.TopicArn}\nType\nSubscriptionConfirmation\n`,
    );
    expect(
      snsStringToSign({ ...m, UnsubscribeURL: 'https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe' }),
    ).toBe(snsStringToSign(m));
  });
});

describe('verifySnsMessage', () => {
  it.each([
    ['a SignatureVersion 1 notification', 'notification-v1.json'],
    ['a SignatureVersion 2 notification with a Subject', 'notification-v2-subject.json'],
    ['a SignatureVersion 1 subscription confirmation', 'subscription-confirmation.json'],
    ['a SignatureVersion 2 unsubscribe confirmation', 'unsubscribe-confirmation.json'],
  ])('accepts %s signed with the certificate’s key', async (_name, file) => {
    const source = certificates();
    const result = await verifySnsMessage(fixtureText(`sns/${file}`), options(source));

    expect(result).toMatchObject({ ok: true, message: { MessageId: fixture(file).MessageId } });
    expect(source.fetchPem).toHaveBeenCalledWith(certUrl);
  });

  it.each([
    [
      'the Message',
      (m: Record<string, string | undefined>) => ({
        ...m,
        Message: m.Message!.replace('Delivery', 'Bounce'),
      }),
    ],
    [
      'the Timestamp',
      (m: Record<string, string | undefined>) => ({ ...m, Timestamp: '2025-12-01T14:00:05.512Z' }),
    ],
    [
      'the MessageId',
      (m: Record<string, string | undefined>) => ({
        ...m,
        MessageId: '22b80b92-fdea-4c2c-8f9d-bdfb0c7bf325',
      }),
    ],
    ['an added Subject', (m: Record<string, string | undefined>) => ({ ...m, Subject: 'Hi' })],
    [
      'the SignatureVersion (1 relabelled 2)',
      (m: Record<string, string | undefined>) => ({ ...m, SignatureVersion: '2' }),
    ],
  ])('refuses a notification with tampered %s as a mismatch', async (_name, tamper) => {
    const body = JSON.stringify(tamper(fixture('notification-v1.json')));
    expect(await verifySnsMessage(body, options())).toMatchObject({ ok: false, reason: 'mismatch' });
  });

  it('refuses a removed Subject and a tampered SubscribeURL as a mismatch', async () => {
    const withSubject = fixture('notification-v2-subject.json');
    const confirmation = fixture('subscription-confirmation.json');
    const tampered = [
      { ...withSubject, Subject: undefined },
      { ...confirmation, SubscribeURL: confirmation.SubscribeURL!.replace('Token=2', 'Token=3') },
    ];
    for (const message of tampered) {
      expect(await verifySnsMessage(JSON.stringify(message), options())).toMatchObject({
        ok: false,
        reason: 'mismatch',
      });
    }
  });

  it('refuses a message signed with another key, and a certificate that is not the signer’s', async () => {
    const forged = resign(fixture('notification-v1.json'), otherKey);
    expect(await verifySnsMessage(forged, options())).toMatchObject({ ok: false, reason: 'mismatch' });
    expect(
      await verifySnsMessage(fixtureText('sns/notification-v1.json'), options(certificates(otherCert))),
    ).toMatchObject({
      ok: false,
      reason: 'mismatch',
    });
  });

  it('refuses a topic this endpoint does not subscribe to, before fetching any certificate', async () => {
    const source = certificates();
    const body = resign({
      ...fixture('notification-v1.json'),
      TopicArn: 'arn:aws:sns:us-east-1:999999999999:someone-else',
    });

    expect(await verifySnsMessage(body, options(source))).toMatchObject({
      ok: false,
      reason: 'unexpected_topic',
    });
    expect(source.fetchPem).not.toHaveBeenCalled();
  });

  it.each([
    ['http', 'http://sns.us-east-1.amazonaws.com/SimpleNotificationService-1.pem'],
    ['another host', 'https://evil.example/SimpleNotificationService-1.pem'],
    [
      'an SNS-looking subdomain of another host',
      'https://sns.us-east-1.amazonaws.com.evil.example/SimpleNotificationService-1.pem',
    ],
    [
      'an SNS name in the path',
      'https://s3.amazonaws.com/sns.us-east-1.amazonaws.com/SimpleNotificationService-1.pem',
    ],
    ['a dotted region', 'https://sns.evil.example.amazonaws.com/SimpleNotificationService-1.pem'],
    [
      'a host merely ending like SNS',
      'https://notsns.us-east-1.amazonaws.com/SimpleNotificationService-1.pem',
    ],
    ['another port', 'https://sns.us-east-1.amazonaws.com:8443/SimpleNotificationService-1.pem'],
    ['credentials in the URL', 'https://user:pw@sns.us-east-1.amazonaws.com/SimpleNotificationService-1.pem'],
    ['a file that is not a .pem', 'https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe'],
    ['not a URL', 'sns.us-east-1.amazonaws.com/cert.pem'],
  ])('refuses a certificate URL with %s, before fetching it', async (_name, url) => {
    const source = certificates();
    const body = resign({ ...fixture('notification-v1.json'), SigningCertURL: url });

    expect(await verifySnsMessage(body, options(source))).toMatchObject({
      ok: false,
      reason: 'untrusted_certificate',
    });
    expect(source.fetchPem).not.toHaveBeenCalled();
  });

  it('accepts a certificate from an SNS host in a China region', async () => {
    const url = 'https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-1.pem';
    const body = resign({ ...fixture('notification-v1.json'), SigningCertURL: url });
    expect((await verifySnsMessage(body, options())).ok).toBe(true);
  });

  it('refuses an unknown SignatureVersion as unsupported, before fetching', async () => {
    const source = certificates();
    const body = JSON.stringify({ ...fixture('notification-v1.json'), SignatureVersion: '3' });

    expect(await verifySnsMessage(body, options(source))).toMatchObject({ ok: false, reason: 'unsupported' });
    expect(source.fetchPem).not.toHaveBeenCalled();
  });

  it('tells a missing signature from a malformed message', async () => {
    const notification = fixture('notification-v1.json');
    const confirmation = fixture('subscription-confirmation.json');
    expect(
      await verifySnsMessage(JSON.stringify({ ...notification, Signature: undefined }), options()),
    ).toMatchObject({
      reason: 'missing',
    });
    for (const body of [
      'not json',
      '[]',
      JSON.stringify({ ...notification, TopicArn: undefined }),
      JSON.stringify({ ...notification, Type: 'Other' }),
      JSON.stringify({ ...confirmation, Token: undefined }),
      JSON.stringify({ ...notification, Signature: 'not base64!' }),
    ]) {
      expect(await verifySnsMessage(body, options())).toMatchObject({ ok: false, reason: 'malformed' });
    }
  });

  it('reports a certificate that cannot be fetched as unavailable, and one that is no certificate as untrusted', async () => {
    const failing: CertificateSource = {
      fetchPem: async () => Promise.reject(new Error('connect ETIMEDOUT')),
    };
    expect(await verifySnsMessage(fixtureText('sns/notification-v1.json'), options(failing))).toMatchObject({
      ok: false,
      reason: 'certificate_unavailable',
    });
    expect(
      await verifySnsMessage(fixtureText('sns/notification-v1.json'), options(certificates('<html>'))),
    ).toMatchObject({
      ok: false,
      reason: 'untrusted_certificate',
    });
  });

  it('refuses a certificate outside its validity period when given the time', async () => {
    const body = fixtureText('sns/notification-v1.json');
    const at = (iso: string) => ({ ...options(), now: new Date(iso) });

    expect(await verifySnsMessage(body, at('2020-01-01T00:00:00Z'))).toMatchObject({
      ok: false,
      reason: 'untrusted_certificate',
    });
    expect(await verifySnsMessage(body, at('2200-01-01T00:00:00Z'))).toMatchObject({
      ok: false,
      reason: 'untrusted_certificate',
    });
    expect((await verifySnsMessage(body, at('2030-01-01T00:00:00Z'))).ok).toBe(true);
  });
});

describe('cachedCertificates', () => {
  it('fetches a certificate once, even for concurrent messages', async () => {
    const source = certificates();
    const cached = cachedCertificates(source);

    const results = await Promise.all(
      [1, 2, 3].map(() => verifySnsMessage(fixtureText('sns/notification-v1.json'), options(cached))),
    );
    await verifySnsMessage(fixtureText('sns/subscription-confirmation.json'), options(cached));

    expect(results.every((r) => r.ok)).toBe(true);
    expect(source.fetchPem).toHaveBeenCalledTimes(1);
  });

  it('does not keep a failed fetch', async () => {
    const fetchPem = vi
      .fn<(url: string) => Promise<string>>()
      .mockRejectedValueOnce(new Error('503'))
      .mockResolvedValue(signingCert);
    const cached = cachedCertificates({ fetchPem });

    await expect(cached.fetchPem(certUrl)).rejects.toThrow('503');
    await expect(cached.fetchPem(certUrl)).resolves.toBe(signingCert);
    expect(fetchPem).toHaveBeenCalledTimes(2);
  });

  it('keeps the most recently used certificates up to its size', async () => {
    const source = certificates();
    const cached = cachedCertificates(source, { maxEntries: 2 });

    await cached.fetchPem('a');
    await cached.fetchPem('b');
    await cached.fetchPem('a'); // a is now the most recent
    await cached.fetchPem('c'); // evicts b
    await cached.fetchPem('a');
    await cached.fetchPem('b');

    expect(source.fetchPem.mock.calls.map(([url]) => url)).toEqual(['a', 'b', 'c', 'b']);
  });
});

describe('snsSubscriptionEvent', () => {
  const message = (file: string) => JSON.parse(fixtureText(`sns/${file}`)) as SnsMessage;

  it('turns a subscription confirmation into an event carrying the URL to visit, deduplicated by MessageId', () => {
    const confirmation = message('subscription-confirmation.json');
    expect(snsSubscriptionEvent(confirmation)).toEqual({
      type: 'sns_subscription',
      provider: 'sns',
      dedupeKeys: ['sns:165545c9-2a5c-472c-8df2-7ff2be2b3b1b'],
      action: 'confirm',
      topicArn: eventsTopic,
      subscribeUrl: confirmation.SubscribeURL,
      token: confirmation.Token,
    });
    expect(snsSubscriptionEvent(message('unsubscribe-confirmation.json'))).toMatchObject({
      action: 'unsubscribed',
    });
  });

  it('gives no event for a notification, nor for a SubscribeURL off SNS', () => {
    expect(snsSubscriptionEvent(message('notification-v1.json'))).toBeNull();
    const confirmation = message('subscription-confirmation.json');
    expect(
      snsSubscriptionEvent({
        ...confirmation,
        SubscribeURL: 'https://evil.example/?Action=ConfirmSubscription',
      }),
    ).toBeNull();
  });
});
