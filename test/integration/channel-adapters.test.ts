/**
 * The SES email sender against the SES emulator `npm start` runs (aws-ses-v2-local, SES_ENDPOINT from
 * the global setup): the mail it stores carries our From, Reply-To, threading headers and attachment.
 * The HTTP providers are covered against loopback fakes in test/unit/channel-adapter-*.test.ts.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpenedConnection } from '../../domain/channels/outbound';
import { createChannelAdapters } from '../../functions/shared/adapters/channels/channel-adapters';

const sesEndpoint = process.env.SES_ENDPOINT!;
const run = Date.now().toString(36);

const connection: OpenedConnection = {
  workspaceId: 'ws_it',
  connectionId: 'chc_mail',
  kind: 'email',
  settings: { sesIdentity: 'acme.example', fromAddress: 'support@acme.example', replyDomain: 'reply.acme.example' },
  secrets: {},
};

describe('channel adapters: SES email through the local emulator', () => {
  let files: ReturnType<typeof createServer>;
  let filesUrl: string;

  beforeAll(async () => {
    files = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('attached text');
    });
    await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
    filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => files.close(() => resolve())));

  it('stores the mail with our headers, Reply-To and attachment, and answers its MessageId', async () => {
    const adapters = createChannelAdapters({ region: 'us-east-1', sesEndpoint });

    const receipt = await adapters.sender('email').send({
      connection,
      to: 'ada@example.com',
      text: `Body ${run}`,
      attachments: [{ url: `${filesUrl}/notes.txt`, fileName: 'notes.txt', mimeType: 'text/plain', sizeBytes: 13 }],
      replyToProviderMessageId: null,
      email: {
        subject: `Re: Order ${run}`,
        messageIdHeader: `<msg_${run}@reply.acme.example>`,
        inReplyTo: `<in-${run}@mail.example.com>`,
        references: [`<in-${run}@mail.example.com>`],
        replyTo: 'reply+cnv_1@reply.acme.example',
        fromName: 'Ada',
      },
      reference: { workspaceId: 'ws_it', conversationId: 'cnv_1', messageId: `msg_${run}`, deliveryId: 'dlv_1', attempt: 1 },
      statusCallbackUrl: null,
      partsSent: [],
    });

    const store = (await (await fetch(`${sesEndpoint}/store`)).json()) as {
      emails: { messageId: string; from: string; replyTo: string[]; subject: string; body: { text?: string }; headers?: { name: string; value: string }[]; attachments: { filename?: string; content?: string }[] }[];
    };
    const mail = store.emails.find((email) => email.messageId === receipt.providerMessageId);
    expect(mail).toMatchObject({
      from: '"Ada" <support@acme.example>',
      replyTo: ['reply+cnv_1@reply.acme.example'],
      subject: `Re: Order ${run}`,
      body: { text: `Body ${run}` },
    });
    expect(mail!.headers).toEqual([
      { name: 'Message-ID', value: `<msg_${run}@reply.acme.example>` },
      { name: 'In-Reply-To', value: `<in-${run}@mail.example.com>` },
      { name: 'References', value: `<in-${run}@mail.example.com>` },
    ]);
    expect(mail!.attachments).toHaveLength(1);
  });
});
