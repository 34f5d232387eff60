import { expect } from 'vitest';
import { ok } from './ok';
import type { TestJobs } from './test-jobs';
import type { TestStack } from './test-stack';

/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies */

/** Who imports: a user's token and their workspace. */
export interface Importer {
  stack: TestStack;
  jobs: TestJobs;
  token: string;
  workspaceId: string;
}

/** Declares an upload (the format from the name, unless given) and PUTs the bytes to its URL. */
export async function uploadImportFile(who: Importer, bytes: Uint8Array, fileName: string, format?: string) {
  const body = Buffer.from(bytes);
  const created = await ok(
    who.stack.api('POST', '/v1/imports/uploads', {
      token: who.token,
      body: { fileName, sizeBytes: body.length, ...(format ? { format } : {}) },
    }),
    201,
  );
  const put = await fetch(created.uploadUrl, { method: 'PUT', headers: created.uploadHeaders, body });
  expect(put.status).toBe(200);
  return created as { uploadId: string; format: string; uploadHeaders: Record<string, string> };
}

/**
 * Uploads and imports a file as a user does, waits for the job, and returns it as the API shows it:
 * the job, its `result.file` and counts (checked to add up), and the first 100 entries of its error report.
 */
export async function importThroughApi(
  who: Importer,
  bytes: Uint8Array,
  fileName: string,
  options: Record<string, unknown> = {},
  format?: string,
) {
  const upload = await uploadImportFile(who, bytes, fileName, format);
  const started = await ok(
    who.stack.api('POST', '/v1/imports', {
      token: who.token,
      body: { uploadId: upload.uploadId, format: upload.format, ...options },
    }),
    201,
  );
  await who.jobs.finished(who.workspaceId, started.id);
  const job = await ok(who.stack.api('GET', `/v1/jobs/${started.id}`, { token: who.token }));
  expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
  const counts = job.result.counts;
  expect(
    counts.blank +
      counts.rejected +
      counts.created +
      counts.updated +
      counts.unchanged +
      counts.skipped +
      counts.merged,
  ).toBe(counts.rowsRead);
  const page = await ok(
    who.stack.api('GET', `/v1/imports/${started.id}/errors`, { token: who.token, query: { limit: '100' } }),
  );
  return { upload, job, file: job.result.file, counts, errors: page.items as any[] };
}
