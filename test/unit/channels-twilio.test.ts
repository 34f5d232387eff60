import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type {
  CallEvent,
  DeliveryStatus,
  DeliveryStatusEvent,
  ProviderError,
  IgnoredEvent,
  InboundMessageEvent,
} from '../../domain/channels/inbound-events';
import {
  formParams,
  parseTwilioWebhook,
  twilioSignature,
  verifyTwilioSignature,
} from '../../domain/channels/twilio-webhook';
import { fixtureText } from '../support/provider-fixtures';

const authToken = '9f86d081884c7d659a2feaa0c55ad015';
const url = 'https://hooks.example.com/hooks/twilio/chn_01JF8Z6Q4V2N3M5K7H9G1D0S2A';

/** The documented rule, written out independently: URL, then name+value of each parameter sorted by name. */
const sign = (signedUrl: string, pairs: [string, string][], token = authToken) =>
  createHmac('sha1', token)
    .update(
      signedUrl +
        [...pairs]
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([name, value]) => name + value)
          .join(''),
    )
    .digest('base64');

const pairsOf = (body: string) => [...new URLSearchParams(body)] as [string, string][];

describe('twilioSignature', () => {
  it('reproduces Twilio’s documented example', () => {
    // Prepare: the example of https://www.twilio.com/docs/usage/webhooks/webhooks-security (auth token 12345)
    const params = formParams(
      'CallSid=CA1234567890ABCDE&Caller=%2B12349013030&Digits=1234&From=%2B12349013030&To=%2B18005551212',
    );

    // Assess
    expect(twilioSignature('12345', 'https://mycompany.com/myapp.php?foo=1&bar=2', params)).toBe(
      '0/KCTR6DLpKmkAf8muzZqo1nDgQ=',
    );
  });
});

describe('verifyTwilioSignature', () => {
  const body = fixtureText('twilio/sms-inbound.txt');
  const signature = sign(url, pairsOf(body));

  it('accepts the signature of the exact URL and the sorted form parameters, decoded', () => {
    expect(
      verifyTwilioSignature({ url, rawBody: body, headers: { 'X-Twilio-Signature': signature } }, authToken),
    ).toEqual({
      ok: true,
    });
    expect(
      verifyTwilioSignature(
        { url, rawBody: Buffer.from(body), headers: { 'x-twilio-signature': signature } },
        authToken,
      ).ok,
    ).toBe(true);
  });

  it('refuses a request without the header as missing', () => {
    expect(verifyTwilioSignature({ url, rawBody: body, headers: {} }, authToken)).toMatchObject({
      ok: false,
      reason: 'missing',
    });
  });

  it.each([
    ['hex instead of base64', createHmac('sha1', authToken).update(url).digest('hex')],
    ['a truncated signature', signature.slice(0, 20)],
    ['an HMAC-SHA256', createHmac('sha256', authToken).update(url).digest('base64')],
  ])('refuses %s as malformed', (_name, header) => {
    expect(
      verifyTwilioSignature({ url, rawBody: body, headers: { 'X-Twilio-Signature': header } }, authToken),
    ).toMatchObject({
      ok: false,
      reason: 'malformed',
    });
  });

  it('refuses a tampered parameter, an added parameter, another auth token and another URL as a mismatch', () => {
    const headers = { 'X-Twilio-Signature': signature };
    const cases = [
      { url, rawBody: body.replace('Body=Hi%21', 'Body=Ho%21'), headers },
      { url, rawBody: `${body}&Extra=1`, headers },
      { url, rawBody: body, headers: { 'X-Twilio-Signature': sign(url, pairsOf(body), 'another-token') } },
      { url: url.replace('https:', 'http:'), rawBody: body, headers },
      { url: `${url}?x=1`, rawBody: body, headers },
      {
        url: url.replace('chn_01JF8Z6Q4V2N3M5K7H9G1D0S2A', 'chn_01JF8Z6Q4V2N3M5K7H9G1D0S2B'),
        rawBody: body,
        headers,
      },
    ];
    for (const request of cases) {
      expect(verifyTwilioSignature(request, authToken)).toMatchObject({ ok: false, reason: 'mismatch' });
    }
  });

  it('signs the query string as part of the URL', () => {
    const withQuery = `${url}?source=status&attempt=2`;
    const request = {
      url: withQuery,
      rawBody: body,
      headers: { 'X-Twilio-Signature': sign(withQuery, pairsOf(body)) },
    };
    expect(verifyTwilioSignature(request, authToken).ok).toBe(true);
  });

  it('counts each distinct value of a repeated parameter once, values sorted', () => {
    // Prepare: Foo sent three times with a repeat; the signed string has Foo1 then Foo2, each once
    const repeated = 'To=%2B15017122661&Foo=2&Foo=1&Foo=2';
    const header = createHmac('sha1', authToken).update(`${url}Foo1Foo2To+15017122661`).digest('base64');

    // Assess
    expect(
      verifyTwilioSignature({ url, rawBody: repeated, headers: { 'X-Twilio-Signature': header } }, authToken)
        .ok,
    ).toBe(true);
  });

  it('accepts a signature made with or without the default port, as Twilio’s own validator does', () => {
    const withPort = url.replace('example.com/', 'example.com:443/');
    const signedWithPort = {
      url,
      rawBody: body,
      headers: { 'X-Twilio-Signature': sign(withPort, pairsOf(body)) },
    };
    const configuredWithPort = { url: withPort, rawBody: body, headers: { 'X-Twilio-Signature': signature } };

    expect(verifyTwilioSignature(signedWithPort, authToken).ok).toBe(true);
    expect(verifyTwilioSignature(configuredWithPort, authToken).ok).toBe(true);
    expect(
      verifyTwilioSignature(
        {
          url,
          rawBody: body,
          headers: {
            'X-Twilio-Signature': sign(url.replace('example.com/', 'example.com:8443/'), pairsOf(body)),
          },
        },
        authToken,
      ),
    ).toMatchObject({ ok: false, reason: 'mismatch' });
  });

  describe('a JSON body signed with bodySHA256', () => {
    const json =
      '{"AccountSid":"AC6b8f2c4e1d9a7b3c5e0f2a4d6c8b1e3f","MessageSid":"SM1","MessageStatus":"delivered"}';
    const hash = createHash('sha256').update(json).digest('hex');
    const jsonUrl = `${url}?bodySHA256=${hash}`;
    const headers = { 'X-Twilio-Signature': sign(jsonUrl, []) };

    it('accepts the URL signature when the body hashes to bodySHA256', () => {
      expect(verifyTwilioSignature({ url: jsonUrl, rawBody: json, headers }, authToken)).toEqual({
        ok: true,
      });
    });

    it('refuses a body that does not hash to bodySHA256, and a URL whose hash was swapped', () => {
      expect(
        verifyTwilioSignature(
          { url: jsonUrl, rawBody: json.replace('delivered', 'read'), headers },
          authToken,
        ),
      ).toMatchObject({ ok: false, reason: 'mismatch' });
      const otherHash = createHash('sha256').update('{}').digest('hex');
      expect(
        verifyTwilioSignature({ url: `${url}?bodySHA256=${otherHash}`, rawBody: '{}', headers }, authToken),
      ).toMatchObject({ ok: false, reason: 'mismatch' });
    });
  });
});

describe('parseTwilioWebhook', () => {
  it('turns an inbound SMS into a message from the E.164 sender', () => {
    expect(parseTwilioWebhook(fixtureText('twilio/sms-inbound.txt'))).toEqual([
      {
        type: 'message',
        provider: 'twilio',
        channel: 'sms',
        dedupeKeys: ['twilio:message:SM1f0e8d6c4b2a09182736455463728190'],
        providerMessageId: 'SM1f0e8d6c4b2a09182736455463728190',
        from: { kind: 'phone', value: '+14155552671', name: null, alternateValues: [] },
        to: ['+15017122661'],
        sentAt: null,
        text: 'Hi! Is my order #1042 on its way? 🚚',
        media: [],
        replyToProviderMessageId: null,
        chatId: null,
        email: null,
      } satisfies InboundMessageEvent,
    ]);
  });

  it('lists every MMS media URL with its content type', () => {
    const [event] = parseTwilioWebhook(fixtureText('twilio/mms-inbound.txt')) as InboundMessageEvent[];

    expect(event!.text).toBe('Receipt and the photo');
    expect(event!.media.map((m) => [m.kind, m.mimeType, m.url?.slice(-34)])).toEqual([
      ['image', 'image/jpeg', 'ME0a1b2c3d4e5f60718293a4b5c6d7e8f9'],
      ['document', 'application/pdf', 'ME1f2e3d4c5b6a7980a1b2c3d4e5f60718'],
    ]);
  });

  it('reads whatsapp: addresses as WhatsApp through Twilio, with the profile name', () => {
    expect(parseTwilioWebhook(fixtureText('twilio/whatsapp-inbound.txt'))).toMatchObject([
      {
        type: 'message',
        channel: 'whatsapp',
        from: { kind: 'whatsapp', value: '+16505551234', name: 'Sheena Nelson' },
        to: ['+15017122661'],
        text: 'Hello from WhatsApp',
      },
    ]);
  });

  it('returns a message from a short code as ignored: no contact can hold that sender', () => {
    expect(parseTwilioWebhook(fixtureText('twilio/sms-inbound-short-code.txt'))).toMatchObject([
      {
        type: 'ignored',
        reason: 'unroutable_sender',
        dedupeKeys: ['twilio:message:SM00000000000000000000000000000001'],
      },
    ]);
  });

  it.each<[string, DeliveryStatus | null, ProviderError | null]>([
    ['queued', null, null],
    ['sent', 'sent', null],
    ['delivered', 'delivered', null],
    ['read', 'read', null],
    ['undelivered', 'failed', { code: '30003', message: null }],
    ['failed', 'failed', { code: '30008', message: null }],
  ])('maps message status %s to %s', (providerStatus, status, error) => {
    expect(parseTwilioWebhook(fixtureText(`twilio/message-status-${providerStatus}.txt`))).toEqual([
      {
        type: 'delivery_status',
        provider: 'twilio',
        channel: 'sms',
        dedupeKeys: [`twilio:status:SMb7c9d1e3f5a7b9c1d3e5f7a9b1c3d5e7:${providerStatus}`],
        providerMessageId: 'SMb7c9d1e3f5a7b9c1d3e5f7a9b1c3d5e7',
        recipient: '+14155552671',
        providerStatus,
        status,
        at: null,
        error,
        email: null,
        sendReference: null,
      } satisfies DeliveryStatusEvent,
    ]);
  });

  it('reads our send reference from the status callback URL it was posted to', () => {
    const url = 'https://hooks.example.com/hooks/twilio/chc_01?ref=cnv_01JF8Z6K3T1M2L4J6G8F0C9R1Z%3Amsg_01JF8Z6Q4V2N3M5K7H9G1D0S2A%3A3';
    expect(parseTwilioWebhook(fixtureText('twilio/message-status-sent.txt'), url)).toMatchObject([
      { type: 'delivery_status', sendReference: { conversationId: 'cnv_01JF8Z6K3T1M2L4J6G8F0C9R1Z', messageId: 'msg_01JF8Z6Q4V2N3M5K7H9G1D0S2A', attempt: 3 } },
    ]);
    // A ref that is not ours (hand-made, truncated) names nothing.
    for (const bad of ['?ref=cnv_1%3Amsg_2', '?ref=drop%20table', '?ref=cnv_1%3Amsg_2%3A0', '']) {
      expect(parseTwilioWebhook(fixtureText('twilio/message-status-sent.txt'), `https://hooks.example.com/h${bad}`)).toMatchObject([
        { type: 'delivery_status', sendReference: null },
      ]);
    }
  });

  it('returns a message status it does not know as ignored', () => {
    expect(parseTwilioWebhook(fixtureText('twilio/message-status-partially_delivered.txt'))).toMatchObject([
      { type: 'ignored', reason: 'unknown_status' },
    ]);
  });

  it('turns the inbound voice webhook into a ringing inbound call', () => {
    expect(parseTwilioWebhook(fixtureText('twilio/voice-inbound.txt'))).toEqual([
      {
        type: 'call',
        provider: 'twilio',
        channel: 'phone',
        dedupeKeys: ['twilio:call:CA5d7f9b1c3e5a7c9e1b3d5f7a9c1e3b5d:ringing'],
        providerCallId: 'CA5d7f9b1c3e5a7c9e1b3d5f7a9c1e3b5d',
        direction: 'inbound',
        contact: { kind: 'phone', value: '+14155552671', name: null, alternateValues: [] },
        business: '+15017122661',
        providerStatus: 'ringing',
        status: 'ringing',
        at: null,
        durationSeconds: null,
        sequence: null,
        error: null,
        callReference: null,
      } satisfies CallEvent,
    ]);
  });

  it.each([
    ['queued', 'initiated', 0],
    ['initiated', 'initiated', 1],
    ['ringing', 'ringing', 2],
    ['in-progress', 'connected', 3],
    ['completed', 'ended', 4],
    ['busy', 'missed', 5],
    ['no-answer', 'missed', 6],
    ['canceled', 'missed', 7],
    ['failed', 'failed', 8],
  ])('maps call status %s to %s, in callback order', (providerStatus, status, sequence) => {
    const [event] = parseTwilioWebhook(
      fixtureText(`twilio/call-status-${providerStatus}.txt`),
    ) as CallEvent[];

    expect(event).toMatchObject({
      type: 'call',
      direction: 'outbound',
      contact: { value: '+14155552671' },
      business: '+15017122661',
      providerStatus,
      status,
      sequence,
      at: `2025-12-01T14:05:${String(sequence * 3).padStart(2, '0')}.000Z`,
      dedupeKeys: [`twilio:call:CAe2d4f6a8c0b2d4f6a8c0e2b4d6f8a0c2:${providerStatus}`],
    });
  });

  it('keeps the duration of a completed call and the error of a failed one', () => {
    const [completed] = parseTwilioWebhook(fixtureText('twilio/call-status-completed.txt')) as CallEvent[];
    const [failed] = parseTwilioWebhook(fixtureText('twilio/call-status-failed.txt')) as CallEvent[];

    expect([completed!.durationSeconds, completed!.error]).toEqual([42, null]);
    expect(failed!.error).toEqual({ code: '32009', message: 'The SIP trunk rejected the call' });
  });

  it('returns a body that is neither a message nor a call as ignored', () => {
    const [event] = parseTwilioWebhook(fixtureText('twilio/unrecognised.txt')) as IgnoredEvent[];
    expect(event).toMatchObject({
      type: 'ignored',
      reason: 'unrecognised_payload',
      item: { EventType: 'onConversationAdded' },
    });
  });
});
