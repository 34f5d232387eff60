import { describe, expect, it } from 'vitest';
import { fakeBlobStore, fakeJobQueue, fakeMailer } from '../support/fakes';

describe('port fakes', () => {
  it('fakeJobQueue records messages as SQS would carry them (through JSON) and can fail on demand', async () => {
    const queue = fakeJobQueue();

    const { messageId } = await queue.send({ queue: 'import_contacts', body: { at: new Date(0), n: 1 } });
    queue.failNext(new Error('down'));
    await expect(queue.send({ queue: 'import_contacts', body: {} })).rejects.toThrow('down');

    expect(queue.sent).toEqual([
      { queue: 'import_contacts', body: { at: '1970-01-01T00:00:00.000Z', n: 1 }, messageId },
    ]);
    expect(queue.bodies('import_contacts')).toHaveLength(1);
    expect(queue.bodies('other')).toEqual([]);
  });

  it('fakeBlobStore keeps copies of bytes and hands out recognisable URLs', async () => {
    const blobs = fakeBlobStore();
    const bytes = new Uint8Array([1, 2]);

    await blobs.put('a/b.bin', bytes, 'application/octet-stream');
    bytes[0] = 9;
    await blobs.put('a/c.txt', 'héllo', 'text/plain');

    expect(await blobs.get('a/b.bin')).toEqual(new Uint8Array([1, 2]));
    expect(blobs.text('a/c.txt')).toBe('héllo');
    expect(await blobs.get('missing')).toBeUndefined();
    expect(await blobs.uploadUrl('a/x y.csv', 'text/csv', 60)).toBe(
      'fake-blob://upload/a/x%20y.csv?contentType=text%2Fcsv&expires=60',
    );
    expect(await blobs.downloadUrl('a/c.txt', 30)).toBe('fake-blob://download/a/c.txt?expires=30');
  });

  it('fakeBlobStore streams a byte range in chunks and records what was read', async () => {
    const blobs = fakeBlobStore({ readChunkBytes: 2 });
    await blobs.put('a/b.bin', new Uint8Array([0, 1, 2, 3, 4, 5, 6]), 'application/octet-stream');
    const collect = async (stream: AsyncIterable<Uint8Array> | undefined) => {
      const chunks: number[][] = [];
      for await (const chunk of stream!) chunks.push([...chunk]);
      return chunks;
    };

    expect(await collect(await blobs.read('a/b.bin'))).toEqual([[0, 1], [2, 3], [4, 5], [6]]);
    expect(await collect(await blobs.read('a/b.bin', { start: 3, end: 6 }))).toEqual([[3, 4], [5]]);
    expect(await collect(await blobs.read('a/b.bin', { start: 9 }))).toEqual([]);
    expect(await blobs.read('missing')).toBeUndefined();
    expect(blobs.reads).toEqual([
      { key: 'a/b.bin', start: 0, bytesServed: 7 },
      { key: 'a/b.bin', start: 3, end: 6, bytesServed: 3 },
      { key: 'a/b.bin', start: 9, bytesServed: 0 },
    ]);
  });

  it('fakeBlobStore assembles multipart uploads under S3 rules (minimum part size unless lowered)', async () => {
    const strict = fakeBlobStore();
    const lenient = fakeBlobStore({ minPartBytes: 1 });
    const encode = (text: string) => new TextEncoder().encode(text);
    const upload = async (blobs: typeof strict, key: string) => {
      const { uploadId } = await blobs.startMultipartUpload(key, 'text/csv');
      const b = await blobs.uploadPart(key, uploadId, 2, encode('b'));
      const a = await blobs.uploadPart(key, uploadId, 1, encode('a'));
      return { uploadId, parts: [{ partNumber: 1, etag: a.etag }, { partNumber: 2, etag: b.etag }] };
    };

    const small = await upload(strict, 'x.csv');
    await expect(strict.completeMultipartUpload('x.csv', small.uploadId, small.parts)).rejects.toMatchObject({ name: 'EntityTooSmall' });
    await strict.abortMultipartUpload('x.csv', small.uploadId);
    const ok = await upload(lenient, 'y.csv');
    await lenient.completeMultipartUpload('y.csv', ok.uploadId, ok.parts);

    expect(strict.uploads.size).toBe(0);
    expect(strict.objects.has('x.csv')).toBe(false);
    expect(lenient.text('y.csv')).toBe('ab');
    expect(lenient.uploads.size).toBe(0);
    await expect(lenient.uploadPart('y.csv', ok.uploadId, 3, encode('c'))).rejects.toMatchObject({ name: 'NoSuchUpload' });
  });

  it('fakeMailer records each mail with its provider id', async () => {
    const mailer = fakeMailer();
    const mail = {
      from: 'a@example.com',
      to: ['b@example.com'],
      subject: 'S',
      text: 'T',
      tags: { ws: 'ws_1' },
    };

    const first = await mailer.send(mail);
    const second = await mailer.send(mail);

    expect(first.providerMessageId).not.toBe(second.providerMessageId);
    expect(mailer.sent).toEqual([
      { ...mail, providerMessageId: first.providerMessageId },
      { ...mail, providerMessageId: second.providerMessageId },
    ]);
  });
});
