import { randomUUID } from 'node:crypto';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openImportFile, type ImportCursor } from '../../domain/imports/import-file';
import { createS3Client } from '../../functions/shared/adapters/aws-clients';
import { createS3BlobStore } from '../../functions/shared/adapters/s3-blob-store';
import { getConfig } from '../../functions/shared/config';
import { buildXlsx } from '../support/xlsx-files';

/** The import reader on the S3 emulator: range reads, continuations and early stops over real HTTP streams. */
const config = getConfig({ ...process.env, TABLE_NAME: 'unused' });
const client = createS3Client(config);
const bucket = `imports-${randomUUID().slice(0, 8)}`;
const blobs = createS3BlobStore({ client, bucket });

beforeAll(async () => {
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
});
afterAll(() => client.destroy());

const people = Array.from({ length: 3000 }, (_, i) => [`Person ${i} Ærøskøbing`, `p${i}@example.com`]);

describe('import reader on S3', () => {
  it.each([
    ['CSV', 'csv' as const, () => Buffer.from(`\ufeffName;Email\r\n${people.map((row) => row.join(';')).join('\r\n')}\r\n`, 'utf8')],
    ['XLSX', 'xlsx' as const, () => buildXlsx([{ name: 'People', rows: [['Name', 'Email'], ...people] }])],
  ])('%s: a job reads a chunk, stops, and a continuation from the saved cursor reads exactly the rest', async (_name, format, bytes) => {
    const key = `uploads/ws_1/jobs/job_${format}/contacts.${format}`;
    await blobs.put(key, bytes(), 'application/octet-stream');

    const names: string[] = [];
    let cursor: ImportCursor | undefined;
    // Three "Lambda runs" of 1,000 rows each, and a last one that finds nothing left.
    for (let run = 0; run < 4; run++) {
      const file = await openImportFile(blobs, key, { claimedFormat: format, ...(cursor ? { cursor } : {}) });
      let handled = 0;
      for await (const read of file.rows()) {
        if (read.row.kind === 'candidate') names.push(read.row.candidate.name);
        cursor = read.cursor;
        if (++handled === 1000) break;
      }
      await file.close();
    }

    expect(names).toEqual(people.map(([name]) => name));
  });

  it('counts a file, and says when the upload is missing', async () => {
    const key = 'uploads/ws_1/jobs/job_count/contacts.csv';
    await blobs.put(key, `Email\n${people.map(([, email]) => email).join('\n')}\n\n`, 'text/csv');

    expect(await (await openImportFile(blobs, key, { claimedFormat: 'csv' })).count()).toEqual({ rows: 3000, nonBlank: 3000 });
    await expect(openImportFile(blobs, 'uploads/ws_1/none.csv', { claimedFormat: 'csv' })).rejects.toMatchObject({ code: 'not_found' });
  });
});
