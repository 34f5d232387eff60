/**
 * Drives the `channel-hooks` Function URL handler as the gateway does (its Function URL event
 * builder), with each provider's signature made from the connection's fixture secrets in the
 * provider's documented way, and a loopback stand-in for SNS (certificates and confirmations).
 */
import { createHmac, randomUUID, sign as rsaSign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { twilioSignature, formParams } from '../../domain/channels/twilio-webhook';
import { resetConfig } from '../../functions/shared/config';
import { handler, resetChannelHookPorts } from '../../functions/webhooks/channel-hooks.handler';
import { functionUrlEvent, splitRequestTarget } from '../../local/gateway';
import { fixtureText } from './provider-fixtures';
import type { TestStack } from './test-stack';

export const hookHost = 'hooks.example.test';
export const eventsTopic = 'arn:aws:sns:us-east-1:123456789012:crm-ses-events';
export const inboundTopic = 'arn:aws:sns:us-east-1:123456789012:crm-inbound-mail';
export const certUrl = 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-7506a1e35b36ef5a444dd1a8e7cc3ed8.pem';

export const hookSecrets = {
  accessToken: 'EAAGhookAccessToken0123456789abcdef',
  appSecret: 'appsecret-hooks-0f1e2d3c4b5a6978',
  verifyToken: 'verify-hooks-7c1f0e2d',
  botToken: '123456789:AAHhookBotTokenZyXwVuTsRqPoNmLkJi',
  webhookSecretToken: 'tg-hooks-secret-5d4c3b2a19',
  authToken: '1f8e7d6c5b4a39281706f5e4d3c2b1a0',
};

export interface Connections {
  email: string;
  whatsapp: string;
  telegram: string;
  sms: string;
}

/** One connection of each kind in the workspace of `token`, with the fixture secrets (or `secrets` over them). */
export async function connectAll(
  stack: TestStack,
  token: string,
  secrets: Partial<typeof hookSecrets> = {},
  /** The email connection's domain: each workspace holds its own (a domain's mail goes to one). */
  mailDomain = 'acme.example',
): Promise<Connections> {
  const s = { ...hookSecrets, ...secrets };
  const bodies = {
    email: {
      kind: 'email',
      name: 'Mail',
      settings: {
        sesIdentity: mailDomain,
        fromAddress: `support@${mailDomain}`,
        replyDomain: `reply.${mailDomain}`,
        snsTopicArns: [eventsTopic, inboundTopic],
      },
    },
    whatsapp: {
      kind: 'whatsapp',
      name: 'WhatsApp',
      settings: { phoneNumberId: '106540352242922' },
      secrets: { accessToken: s.accessToken, appSecret: s.appSecret, verifyToken: s.verifyToken },
    },
    telegram: { kind: 'telegram', name: 'Bot', settings: {}, secrets: { botToken: s.botToken, webhookSecretToken: s.webhookSecretToken } },
    sms: {
      kind: 'sms',
      name: 'Twilio',
      settings: { accountSid: `AC${'6b8f2c4e1d9a7b3c'.repeat(2)}`, senderNumber: '+15017122661' },
      secrets: { authToken: s.authToken },
    },
  };
  const ids = await Promise.all(
    Object.entries(bodies).map(async ([kind, body]) => {
      const res = await stack.api('POST', '/v1/channels', { token, body });
      if (res.status !== 201) throw new Error(`connect ${kind}: ${res.status} ${JSON.stringify(res.body)}`);
      return [kind, res.body.id as string] as const;
    }),
  );
  return Object.fromEntries(ids) as unknown as Connections;
}

export interface HookResponse {
  status: number;
  headers: Record<string, string>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  text: string;
}

/** A request to `/hooks/...` through the handler, as the gateway builds its Function URL event. */
export async function hook(
  path: string,
  options: { method?: string; body?: string | Buffer; headers?: Record<string, string> } = {},
): Promise<HookResponse> {
  const event = functionUrlEvent({
    name: 'channel-hooks',
    method: options.method ?? 'POST',
    target: splitRequestTarget(path),
    headers: { host: hookHost, ...(options.headers ?? {}) },
    body: typeof options.body === 'string' ? Buffer.from(options.body, 'utf8') : (options.body ?? Buffer.alloc(0)),
  });
  const result = (await handler(event)) as Exclude<Awaited<ReturnType<typeof handler>>, string>;
  const headers = Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]));
  const text = result.body ?? '';
  const body = headers['content-type']?.includes('json') && text ? JSON.parse(text) : text;
  return { status: result.statusCode ?? 200, headers, body, text };
}

export const whatsappHeaders = (body: string, appSecret = hookSecrets.appSecret) => ({
  'content-type': 'application/json',
  'x-hub-signature-256': `sha256=${createHmac('sha256', appSecret).update(body).digest('hex')}`,
});

export const telegramHeaders = (token = hookSecrets.webhookSecretToken) => ({
  'content-type': 'application/json',
  'x-telegram-bot-api-secret-token': token,
});

/** Twilio's signature over the public URL (`https://<host><path>`) and the form parameters. */
export const twilioHeaders = (path: string, body: string, authToken = hookSecrets.authToken) => ({
  'content-type': 'application/x-www-form-urlencoded',
  'x-twilio-signature': twilioSignature(authToken, `https://${hookHost}${path}`, formParams(body)),
});

/** An SNS message signed as SNS signs (version 1, SHA1withRSA) with the fixture key. */
export function snsBody(fields: { Type?: string; TopicArn?: string; Message: string; MessageId?: string; Subject?: string; SubscribeURL?: string; Token?: string }) {
  const message: Record<string, string> = {
    Type: fields.Type ?? 'Notification',
    MessageId: fields.MessageId ?? randomUUID(),
    TopicArn: fields.TopicArn ?? eventsTopic,
    Message: fields.Message,
    Timestamp: '2026-12-06T10:00:00.000Z',
    SignatureVersion: '1',
    SigningCertURL: certUrl,
    ...(fields.Subject ? { Subject: fields.Subject } : {}),
    ...(fields.SubscribeURL ? { SubscribeURL: fields.SubscribeURL } : {}),
    ...(fields.Token ? { Token: fields.Token } : {}),
  };
  const names =
    message.Type === 'Notification'
      ? ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type']
      : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
  const text = names
    .filter((name) => message[name] !== undefined)
    .map((name) => `${name}\n${message[name]}\n`)
    .join('');
  const Signature = rsaSign('RSA-SHA1', Buffer.from(text), fixtureText('sns/signing-key.pem')).toString('base64');
  return JSON.stringify({ ...message, Signature });
}

/**
 * A loopback stand-in for SNS: serves the fixture signing certificate for any `.pem` path and records
 * every other GET (a subscription confirmation). Points the handler at it (SNS_CERTIFICATE_BASE_URL,
 * SNS_SUBSCRIBE_BASE_URL).
 */
export async function startFakeSns(): Promise<{ confirmations: string[]; certificateFetches: () => number; stop(): Promise<void> }> {
  const confirmations: string[] = [];
  let fetches = 0;
  const server: Server = createServer((req, res) => {
    if (req.url?.endsWith('.pem')) {
      fetches += 1;
      res.writeHead(200, { 'content-type': 'application/x-pem-file' });
      res.end(fixtureText('sns/signing-cert.pem'));
      return;
    }
    confirmations.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'text/xml' });
    res.end('<ConfirmSubscriptionResponse/>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  process.env.SNS_CERTIFICATE_BASE_URL = base;
  process.env.SNS_SUBSCRIBE_BASE_URL = base;
  resetConfig();
  resetChannelHookPorts();
  return {
    confirmations,
    certificateFetches: () => fetches,
    stop: () =>
      new Promise<void>((resolve) => {
        delete process.env.SNS_CERTIFICATE_BASE_URL;
        delete process.env.SNS_SUBSCRIBE_BASE_URL;
        resetConfig();
        resetChannelHookPorts();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** How many items the stack's table holds (a refused webhook must leave it unchanged). */
export async function itemCount(stack: TestStack): Promise<number> {
  let count = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await stack.deps.db.client.send(
      new ScanCommand({ TableName: stack.tableName, Select: 'COUNT', ConsistentRead: true, ExclusiveStartKey: start }),
    );
    count += page.Count ?? 0;
    start = page.LastEvaluatedKey;
  } while (start);
  return count;
}

/** A WhatsApp text message payload from `from` (digits, no +) with message id `id`. */
export function whatsappText(from: string, id: string, text: string, name = 'Sheena Nelson') {
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '102290129340398',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550783881', phone_number_id: '106540352242922' },
              contacts: [{ profile: { name }, wa_id: from }],
              messages: [{ from, id, timestamp: '1749416383', type: 'text', text: { body: text } }],
            },
          },
        ],
      },
    ],
  });
}
