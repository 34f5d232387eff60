import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SendEmailCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createS3Client,
  createSesClient,
  createSqsClient,
} from '../../functions/shared/adapters/aws-clients';
import { attachmentDisposition, createS3BlobStore } from '../../functions/shared/adapters/s3-blob-store';
import { createSesMailer } from '../../functions/shared/adapters/ses-mailer';
import { createSqsJobQueue } from '../../functions/shared/adapters/sqs-job-queue';
import type { Config } from '../../functions/shared/config';

const config = (overrides: Partial<Config> = {}): Config => ({
  tableName: 't',
  region: 'eu-west-1',
  queueUrls: {},
  ...overrides,
});

describe('createSqsJobQueue', () => {
  const sqs = mockClient(SQSClient);
  beforeEach(() => sqs.reset());

  it('sends the body as JSON to the queue named in the message', async () => {
    // Prepare
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
    const queue = createSqsJobQueue({
      client: new SQSClient({}),
      queueUrls: { import_contacts: 'http://sqs/000/import_contacts' },
    });

    // Act
    const result = await queue.send({ queue: 'import_contacts', body: { importId: 'imp_1', rows: [1, 2] } });

    // Assess
    expect(result).toEqual({ messageId: 'm-1' });
    const calls = sqs.commandCalls(SendMessageCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toEqual({
      QueueUrl: 'http://sqs/000/import_contacts',
      MessageBody: '{"importId":"imp_1","rows":[1,2]}',
    });
  });

  it('passes a delay as DelaySeconds', async () => {
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm-2' });
    const queue = createSqsJobQueue({
      client: new SQSClient({}),
      queueUrls: { export_contacts: 'http://sqs/q' },
    });

    await queue.send({ queue: 'export_contacts', body: { cursor: 'c' }, delaySeconds: 30 });

    expect(sqs.commandCalls(SendMessageCommand)[0]!.args[0].input).toMatchObject({ DelaySeconds: 30 });
  });

  it('refuses an unknown queue name with the names it knows, without calling SQS', async () => {
    const queue = createSqsJobQueue({
      client: new SQSClient({}),
      queueUrls: { b: 'http://b', a: 'http://a' },
    });

    await expect(queue.send({ queue: 'nope', body: {} })).rejects.toThrow(
      'Unknown job queue "nope" (known: a, b); set QUEUE_URL_NOPE for it',
    );
    expect(sqs.calls()).toHaveLength(0);
  });

  it('propagates an SQS failure', async () => {
    sqs.on(SendMessageCommand).rejects(new Error('throttled'));
    const queue = createSqsJobQueue({ client: new SQSClient({}), queueUrls: { a: 'http://a' } });

    await expect(queue.send({ queue: 'a', body: {} })).rejects.toThrow('throttled');
  });
});

describe('createS3BlobStore', () => {
  const s3 = mockClient(S3Client);
  beforeEach(() => s3.reset());
  afterEach(() => s3.restore());

  const store = () =>
    createS3BlobStore({ client: new S3Client({ region: 'eu-west-1' }), bucket: 'crm-files' });

  it('puts an object with its content type', async () => {
    s3.on(PutObjectCommand).resolves({});

    await store().put('imports/ws_1/a.csv', 'name\nAda\n', 'text/csv');

    expect(s3.commandCalls(PutObjectCommand)[0]!.args[0].input).toEqual({
      Bucket: 'crm-files',
      Key: 'imports/ws_1/a.csv',
      Body: 'name\nAda\n',
      ContentType: 'text/csv',
    });
  });

  it('gets an object as bytes', async () => {
    // The SDK's stream mixin, reduced to the one method the adapter calls.
    const body = { transformToByteArray: async () => new TextEncoder().encode('hello') };
    s3.on(GetObjectCommand, { Bucket: 'crm-files', Key: 'k' }).resolves({ Body: body as never });

    const bytes = await store().get('k');

    expect(new TextDecoder().decode(bytes)).toBe('hello');
  });

  it('returns undefined for a missing key and rethrows other errors', async () => {
    const missing = Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' });
    s3.on(GetObjectCommand, { Key: 'missing' }).rejects(missing);
    s3.on(GetObjectCommand, { Key: 'denied' }).rejects(
      Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }),
    );

    await expect(store().get('missing')).resolves.toBeUndefined();
    await expect(store().get('denied')).rejects.toThrow('Access Denied');
  });

  it('reads a byte range as a stream, translating the exclusive end into an HTTP range', async () => {
    const body = (async function* () {
      yield new TextEncoder().encode('ell');
    })();
    s3.on(GetObjectCommand).resolves({ Body: body as never });
    const missing = Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' });
    s3.on(GetObjectCommand, { Key: 'missing' }).rejects(missing);
    s3.on(GetObjectCommand, { Key: 'short' }).rejects(Object.assign(new Error('Range Not Satisfiable'), { name: 'InvalidRange' }));
    s3.on(HeadObjectCommand, { Key: 'k' }).resolves({ ContentLength: 5 });

    const chunks: string[] = [];
    for await (const chunk of (await store().read('k', { start: 1, end: 4 }))!) chunks.push(new TextDecoder().decode(chunk));
    await store().read('k', { start: 7 });
    await store().read('k');
    const past = await store().read('short', { start: 99 });
    const empty = await store().read('k', { start: 3, end: 3 });

    expect(chunks).toEqual(['ell']);
    expect(s3.commandCalls(GetObjectCommand).map((call) => call.args[0].input.Range)).toEqual(['bytes=1-3', 'bytes=7-', undefined, 'bytes=99-']);
    expect(await store().read('missing')).toBeUndefined();
    for (const stream of [past, empty]) {
      for await (const _chunk of stream!) expect.unreachable();
    }
  });

  it('presigns PUT and GET URLs for the key, signing the content type, without an empty-body checksum', async () => {
    s3.restore(); // presigning builds the request locally; it sends nothing
    // The SDK itself honours AWS_ENDPOINT_URL (the test setup points it at the emulator).
    vi.stubEnv('AWS_ENDPOINT_URL', undefined);
    const client = createS3Client({ region: 'eu-west-1', awsEndpoint: undefined });
    const blobs = createS3BlobStore({ client, bucket: 'crm-files' });

    const upload = new URL(await blobs.uploadUrl('imports/ws_1/a b.csv', 'text/csv', 300));
    const download = new URL(await blobs.downloadUrl('exports/ws_1/x.csv', 60));

    expect(upload.host).toBe('crm-files.s3.eu-west-1.amazonaws.com');
    expect(upload.pathname).toBe('/imports/ws_1/a%20b.csv');
    expect(upload.searchParams.get('X-Amz-Expires')).toBe('300');
    expect(upload.searchParams.get('X-Amz-SignedHeaders')).toContain('content-type');
    expect(
      [...upload.searchParams.keys()].some((name) => name.toLowerCase().startsWith('x-amz-checksum')),
    ).toBe(false);
    expect(download.pathname).toBe('/exports/ws_1/x.csv');
    expect(download.searchParams.get('X-Amz-Expires')).toBe('60');
    client.destroy();
    vi.unstubAllEnvs();
  });

  it('signs the content length of a sized upload, and names the file of a download', async () => {
    s3.restore();
    vi.stubEnv('AWS_ENDPOINT_URL', undefined);
    const client = createS3Client({ region: 'eu-west-1', awsEndpoint: undefined });
    const blobs = createS3BlobStore({ client, bucket: 'crm-files' });

    const upload = new URL(await blobs.uploadUrl('attachments/ws_1/att_1', 'image/png', 900, { sizeBytes: 1234 }));
    const download = new URL(await blobs.downloadUrl('attachments/ws_1/att_1', 300, { fileName: 'Zoë "final".png' }));

    expect(upload.searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;content-type;host');
    expect(download.searchParams.get('response-content-disposition')).toBe(
      `attachment; filename="Zo_ _final_.png"; filename*=UTF-8''Zo%C3%AB%20%22final%22.png`,
    );
    client.destroy();
    vi.unstubAllEnvs();
  });

  it('heads an object: its size and type, or undefined when missing', async () => {
    s3.on(HeadObjectCommand, { Key: 'there' }).resolves({ ContentLength: 42, ContentType: 'text/csv' });
    s3.on(HeadObjectCommand, { Key: 'missing' }).rejects(Object.assign(new Error('Not Found'), { name: 'NotFound' }));

    await expect(store().head('there')).resolves.toEqual({ sizeBytes: 42, contentType: 'text/csv' });
    await expect(store().head('missing')).resolves.toBeUndefined();
  });
});

describe('attachmentDisposition', () => {
  it('keeps printable ASCII names, and encodes what RFC 8187 does not allow bare', () => {
    expect(attachmentDisposition('quote.pdf')).toBe(`attachment; filename="quote.pdf"; filename*=UTF-8''quote.pdf`);
    expect(attachmentDisposition("it's (1)*.txt")).toBe(
      `attachment; filename="it's (1)*.txt"; filename*=UTF-8''it%27s%20%281%29%2A.txt`,
    );
    expect(attachmentDisposition('100%\\x.csv')).toContain('filename="100__x.csv"');
  });
});

describe('createSesMailer', () => {
  const ses = mockClient(SESv2Client);
  beforeEach(() => ses.reset());
  afterEach(() => ses.restore());

  it('sends simple content with tags as EmailTags and the configuration set', async () => {
    ses.on(SendEmailCommand).resolves({ MessageId: 'ses-1' });
    const mailer = createSesMailer({ client: new SESv2Client({}), configurationSet: 'crm-events' });

    const result = await mailer.send({
      from: 'crm@example.com',
      to: ['ada@example.com', 'bob@example.com'],
      subject: 'Hello',
      text: 'Hi there',
      html: '<p>Hi there</p>',
      tags: { workspace: 'ws_01J', message: 'msg_01J' },
    });

    expect(result).toEqual({ providerMessageId: 'ses-1' });
    expect(ses.commandCalls(SendEmailCommand)[0]!.args[0].input).toEqual({
      FromEmailAddress: 'crm@example.com',
      Destination: { ToAddresses: ['ada@example.com', 'bob@example.com'] },
      Content: {
        Simple: {
          Subject: { Data: 'Hello', Charset: 'UTF-8' },
          Body: {
            Text: { Data: 'Hi there', Charset: 'UTF-8' },
            Html: { Data: '<p>Hi there</p>', Charset: 'UTF-8' },
          },
        },
      },
      EmailTags: [
        { Name: 'workspace', Value: 'ws_01J' },
        { Name: 'message', Value: 'msg_01J' },
      ],
      ConfigurationSetName: 'crm-events',
    });
  });

  it('leaves out Html, EmailTags and the configuration set when there are none', async () => {
    ses.on(SendEmailCommand).resolves({ MessageId: 'ses-2' });
    const mailer = createSesMailer({ client: new SESv2Client({}) });

    await mailer.send({ from: 'a@example.com', to: ['b@example.com'], subject: 'S', text: 'T' });

    const input = ses.commandCalls(SendEmailCommand)[0]!.args[0].input;
    expect(input.Content?.Simple?.Body).toEqual({ Text: { Data: 'T', Charset: 'UTF-8' } });
    expect(input).not.toHaveProperty('EmailTags');
    expect(input).not.toHaveProperty('ConfigurationSetName');
  });

  it('refuses a tag SES would reject, before sending', async () => {
    const mailer = createSesMailer({ client: new SESv2Client({}) });

    await expect(
      mailer.send({
        from: 'a@example.com',
        to: ['b@example.com'],
        subject: 'S',
        text: 'T',
        tags: { email: 'a@b.c' },
      }),
    ).rejects.toThrow('Invalid SES email tag "email"');
    expect(ses.calls()).toHaveLength(0);
  });
});

describe('aws client factories', () => {
  it('use the regional AWS endpoints when no endpoint is configured', async () => {
    const sqs = createSqsClient(config());
    const s3 = createS3Client(config());
    const ses = createSesClient(config());

    expect(await sqs.config.region()).toBe('eu-west-1');
    expect(sqs.config.endpoint).toBeUndefined();
    expect(s3.config.forcePathStyle).toBe(false);
    expect(await s3.config.requestChecksumCalculation()).toBe('WHEN_REQUIRED');
    expect(ses.config.endpoint).toBeUndefined();
    for (const client of [sqs, s3, ses]) client.destroy();
  });

  it('point SQS and S3 at the emulator, path-style, and SES at its own emulator when configured', async () => {
    const local = config({ awsEndpoint: 'http://127.0.0.1:4566', sesEndpoint: 'http://127.0.0.1:8005' });
    const sqs = createSqsClient(local);
    const s3 = createS3Client(local);
    const ses = createSesClient(local);

    expect(await sqs.config.endpoint!()).toMatchObject({ hostname: '127.0.0.1', port: 4566 });
    expect(await s3.config.endpoint!()).toMatchObject({ hostname: '127.0.0.1', port: 4566 });
    expect(s3.config.forcePathStyle).toBe(true);
    expect(await ses.config.endpoint!()).toMatchObject({ hostname: '127.0.0.1', port: 8005 });
    expect(await ses.config.credentials()).toMatchObject({ accessKeyId: 'local' });
    for (const client of [sqs, s3, ses]) client.destroy();
  });
});
