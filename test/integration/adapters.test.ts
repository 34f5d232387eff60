import { randomUUID } from 'node:crypto';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { CreateQueueCommand, DeleteQueueCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createS3Client,
  createSesClient,
  createSqsClient,
} from '../../functions/shared/adapters/aws-clients';
import { createS3BlobStore } from '../../functions/shared/adapters/s3-blob-store';
import { createSesMailer } from '../../functions/shared/adapters/ses-mailer';
import { createSqsJobQueue } from '../../functions/shared/adapters/sqs-job-queue';
import { getConfig } from '../../functions/shared/config';
import { multipartLimits } from '../../domain/shared/ports';

/** The adapters against the emulators started by the global setup (fauxqs for SQS and S3, SES-local). */
const config = getConfig({ ...process.env, TABLE_NAME: 'unused' });
const suffix = randomUUID().slice(0, 8);

describe('SQS job queue on fauxqs', () => {
  const client = createSqsClient(config);
  let queueUrl: string;

  beforeAll(async () => {
    queueUrl = (await client.send(new CreateQueueCommand({ QueueName: `adapters-${suffix}` }))).QueueUrl!;
  });
  afterAll(async () => {
    await client.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
    client.destroy();
  });

  it('sends a JSON body that a consumer receives as sent', async () => {
    // Prepare
    const queue = createSqsJobQueue({ client, queueUrls: { import_contacts: queueUrl } });

    // Act
    const { messageId } = await queue.send({
      queue: 'import_contacts',
      body: { importId: 'imp_1', name: 'Zoë' },
    });

    // Assess
    const received = await client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 2 }));
    expect(received.Messages).toHaveLength(1);
    expect(received.Messages![0]!.MessageId).toBe(messageId);
    expect(JSON.parse(received.Messages![0]!.Body!)).toEqual({ importId: 'imp_1', name: 'Zoë' });
  });
});

describe('S3 blob store on fauxqs', () => {
  const client = createS3Client(config);
  const bucket = `crm-files-${suffix}`;
  const blobs = createS3BlobStore({ client, bucket });

  beforeAll(async () => {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  afterAll(() => client.destroy());

  it('puts and gets an object, and reports a missing one as undefined', async () => {
    await blobs.put('exports/ws_1/contacts.csv', 'name,email\nAda,ada@example.com\n', 'text/csv');

    const bytes = await blobs.get('exports/ws_1/contacts.csv');

    expect(new TextDecoder().decode(bytes)).toBe('name,email\nAda,ada@example.com\n');
    expect(await blobs.get('exports/ws_1/nothing-here.csv')).toBeUndefined();
  });

  it('deletes an object; deleting one that is not there is a no-op', async () => {
    const key = 'exports/ws_1/jobs/job_del/contacts.csv';
    await blobs.put(key, 'Name\r\n', 'text/csv');

    await blobs.delete(key);
    await blobs.delete(key);

    expect(await blobs.head(key)).toBeUndefined();
  });

  it('streams byte ranges of an object, an empty stream past its end, undefined for a missing one', async () => {
    const key = 'uploads/ws_1/jobs/job_1/contacts.csv';
    await blobs.put(key, '0123456789', 'text/csv');
    const text = async (stream: AsyncIterable<Uint8Array> | undefined) => {
      const chunks: Uint8Array[] = [];
      for await (const chunk of stream!) chunks.push(chunk);
      return Buffer.concat(chunks).toString('utf8');
    };

    expect(await text(await blobs.read(key))).toBe('0123456789');
    expect(await text(await blobs.read(key, { start: 4 }))).toBe('456789');
    expect(await text(await blobs.read(key, { start: 2, end: 5 }))).toBe('234');
    expect(await text(await blobs.read(key, { start: 10 }))).toBe('');
    expect(await text(await blobs.read(key, { start: 3, end: 3 }))).toBe('');
    expect(await blobs.read('uploads/ws_1/nothing.csv')).toBeUndefined();
  });

  it('accepts a real HTTP PUT through the upload URL and serves it through the download URL', async () => {
    // Prepare
    const key = 'imports/ws_1/upload 1.csv';
    const content = 'name\nAda\nZoë\n';
    const uploadUrl = await blobs.uploadUrl(key, 'text/csv', 300);

    // Act
    const put = await fetch(uploadUrl, {
      method: 'PUT',
      headers: { 'content-type': 'text/csv' },
      body: content,
    });
    const downloadUrl = await blobs.downloadUrl(key, 300);
    const got = await fetch(downloadUrl);

    // Assess
    expect(put.status).toBe(200);
    expect(new URL(uploadUrl).pathname).toBe(`/${bucket}/imports/ws_1/upload%201.csv`);
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toContain('text/csv');
    expect(await got.text()).toBe(content);
    expect(new TextDecoder().decode(await blobs.get(key))).toBe(content);
  });

  it('assembles a multipart upload from its parts in order, and keeps S3 rules on part sizes', async () => {
    // Prepare: a first part of exactly the 5 MiB minimum, a short last part
    const key = 'exports/ws_1/jobs/job_1/contacts.csv';
    const first = new Uint8Array(multipartLimits.minPartBytes).fill(0x61);
    const last = new TextEncoder().encode('Zoë,Ω\r\n');

    // Act: parts sent out of order, part 1 sent twice (the second replaces the first)
    const { uploadId } = await blobs.startMultipartUpload(key, 'text/csv; charset=utf-8');
    const part2 = await blobs.uploadPart(key, uploadId, 2, last);
    await blobs.uploadPart(key, uploadId, 1, new Uint8Array(multipartLimits.minPartBytes).fill(0x62));
    const part1 = await blobs.uploadPart(key, uploadId, 1, first);
    await blobs.completeMultipartUpload(key, uploadId, [
      { partNumber: 1, etag: part1.etag },
      { partNumber: 2, etag: part2.etag },
    ]);

    // Assess
    expect(await blobs.head(key)).toEqual({ sizeBytes: first.length + last.length, contentType: 'text/csv; charset=utf-8' });
    const stored = (await blobs.get(key))!;
    expect(stored.subarray(0, 3)).toEqual(new Uint8Array([0x61, 0x61, 0x61]));
    expect(new TextDecoder().decode(stored.subarray(first.length))).toBe('Zoë,Ω\r\n');
    // Completed: aborting it now changes nothing
    await blobs.abortMultipartUpload(key, uploadId);
    expect((await blobs.head(key))?.sizeBytes).toBe(first.length + last.length);
  });

  it('refuses to complete with a small part before the last, and aborting discards the upload', async () => {
    // Prepare
    const key = 'exports/ws_1/jobs/job_2/contacts.csv';
    const { uploadId } = await blobs.startMultipartUpload(key, 'text/csv');
    const small = await blobs.uploadPart(key, uploadId, 1, new TextEncoder().encode('too small'));
    const tail = await blobs.uploadPart(key, uploadId, 2, new TextEncoder().encode('tail'));

    // Act
    const completing = blobs.completeMultipartUpload(key, uploadId, [
      { partNumber: 1, etag: small.etag },
      { partNumber: 2, etag: tail.etag },
    ]);

    // Assess
    await expect(completing).rejects.toMatchObject({ name: 'EntityTooSmall' });
    await blobs.abortMultipartUpload(key, uploadId);
    await blobs.abortMultipartUpload(key, uploadId); // already gone: a no-op
    await expect(blobs.uploadPart(key, uploadId, 3, new Uint8Array(1))).rejects.toMatchObject({ name: 'NoSuchUpload' });
    expect(await blobs.head(key)).toBeUndefined();
  });

  it('completes a single small part: an upload of one part has no minimum', async () => {
    const key = 'exports/ws_1/jobs/job_3/contacts.csv';
    const { uploadId } = await blobs.startMultipartUpload(key, 'text/csv');
    const only = await blobs.uploadPart(key, uploadId, 1, new TextEncoder().encode('\ufeffName\r\n'));

    await blobs.completeMultipartUpload(key, uploadId, [{ partNumber: 1, etag: only.etag }]);

    expect(new TextDecoder('utf-8', { ignoreBOM: true }).decode(await blobs.get(key))).toBe('\ufeffName\r\n');
  });
});

describe('SES mailer on the SES emulator', () => {
  const client = createSesClient(config);
  afterAll(() => client.destroy());

  it('sends a mail the emulator stores with its recipients, subject and bodies', async () => {
    // Prepare
    const mailer = createSesMailer({ client });
    const subject = `Welcome ${suffix}`;
    const since = Math.floor(Date.now() / 1000);

    // Act
    const { providerMessageId } = await mailer.send({
      from: 'crm@example.com',
      to: ['ada@example.com'],
      subject,
      text: 'Hello Ada',
      html: '<p>Hello Ada</p>',
      tags: { workspace: 'ws_1' },
    });

    // Assess
    const store = (await (await fetch(`${config.sesEndpoint}/store?since=${since}`)).json()) as {
      emails: {
        messageId: string;
        from: string;
        destination: { to: string[] };
        subject: string;
        body: object;
      }[];
    };
    const stored = store.emails.find((email) => email.messageId === providerMessageId);
    expect(stored).toMatchObject({
      from: 'crm@example.com',
      destination: { to: ['ada@example.com'] },
      subject,
      body: { text: 'Hello Ada', html: '<p>Hello Ada</p>' },
    });
  });
});
