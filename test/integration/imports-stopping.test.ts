import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';
import { startTestJobs, type TestJobs } from '../support/test-jobs';
import { ok } from '../support/ok';

/**
 * An import that has to stop or change its rules while it runs, end to end (the real `import_contacts`
 * job through the stream dispatcher and the local queue runner): a cancel stops it within a few rows and
 * the canceled job says what it wrote; the user who started it is checked as they are when each chunk is
 * written, so a demoted admin's rows go by a member's rules and a deactivated user's import stops.
 */

/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies */

let stack: TestStack;
let acme: Awaited<ReturnType<typeof seedWorkspace>>;
let jobs: TestJobs;
/** While set, the import handler waits for it before it runs (a job held queued). */
let gate: Promise<void> | undefined;
/** Called after each run of the import handler (a test's way to act between runs). */
let afterImportRun: (() => Promise<void>) | undefined;

beforeAll(async () => {
  process.env.IMPORT_CHUNK_ROWS = '50';
  stack = await createTestStack();
  acme = await seedWorkspace(stack, 'Acme');
  jobs = await startTestJobs(stack, ['import_contacts'], {
    wrap: (kind, handler) =>
      kind === 'import_contacts'
        ? async (event, context) => {
            await gate;
            const response = await handler(event, context);
            await afterImportRun?.();
            return response;
          }
        : handler,
  });
});
afterEach(() => {
  process.env.IMPORT_CHUNK_ROWS = '50';
  delete process.env.JOB_RUN_BUDGET_MS;
  gate = undefined;
  afterImportRun = undefined;
});
afterAll(async () => {
  delete process.env.IMPORT_CHUNK_ROWS;
  await jobs?.stop();
  await stack?.destroy();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const owner = () => acme.owner.token;

/** A new user of the workspace with a token. */
async function addUser(role: 'admin' | 'member', name: string) {
  const user = await ok(
    stack.api('POST', '/v1/users', { token: owner(), body: { name, email: `${name.toLowerCase().replace(/\W+/g, '-')}-${Date.now()}@example.com`, role } }),
    201,
  );
  const token = await ok(stack.api('POST', '/v1/tokens', { token: owner(), body: { userId: user.id, name: 'test' } }), 201);
  return { id: user.id as string, token: token.token as string };
}

/** Uploads `text` as `token`'s CSV and starts its import; returns the job as the start answered it. */
async function startImport(text: string, token: string, options: Record<string, unknown> = {}) {
  const body = Buffer.from(text, 'utf8');
  const created = await ok(stack.api('POST', '/v1/imports/uploads', { token, body: { fileName: 'contacts.csv', sizeBytes: body.length } }), 201);
  expect((await fetch(created.uploadUrl, { method: 'PUT', headers: created.uploadHeaders, body })).status).toBe(200);
  return ok(stack.api('POST', '/v1/imports', { token, body: { uploadId: created.uploadId, format: 'csv', ...options } }), 201);
}

/** Runs the job to its end (and whatever its last write sent); the job as the owner sees it then. */
async function finished(jobId: string) {
  await jobs.finished(acme.workspace.id, jobId);
  return ok(stack.api('GET', `/v1/jobs/${jobId}`, { token: owner() }));
}

const lookup = async (email: string) => {
  const res = await stack.api('GET', '/v1/contacts/lookup', { token: owner(), query: { kind: 'email', value: email } });
  return res.status === 200 ? res.body : undefined;
};

/** The contacts with `tag`, counted through the list. */
async function countTagged(tag: string) {
  let count = 0;
  let cursor: string | undefined;
  do {
    const page = await ok(stack.api('GET', '/v1/contacts', { token: owner(), query: { tag, limit: '100', ...(cursor ? { cursor } : {}) } }));
    count += page.items.length;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return count;
}

const endEvents = async (jobId: string) => {
  const res = await ok(stack.api('GET', '/v1/events', { token: owner(), query: { entityType: 'job', entityId: jobId } }));
  return (res.items as any[]).filter((event) => event.type === 'import.finished');
};

const errorsCsvLines = async (jobId: string) => {
  const link = await ok(stack.api('GET', `/v1/jobs/${jobId}/files/errors.csv`, { token: owner() }));
  return (await (await fetch(link.url)).text()).replace(/^\ufeff/, '').trim().split('\r\n');
};

const sumOf = (counts: any) =>
  counts.blank + counts.rejected + counts.created + counts.updated + counts.unchanged + counts.skipped + counts.merged;

describe('canceling an import', () => {
  it('stops the run within a few rows of the cancel, and the canceled job and its end event say what was written', async () => {
    // Prepare: chunks of 100 rows; every 10th row has no valid email (rejected)
    process.env.IMPORT_CHUNK_ROWS = '100';
    const rows = ['Email,Name'];
    for (let i = 0; i < 500; i++) rows.push(i % 10 === 9 ? `not-an-email-${i},Bad ${i}` : `cancel-${i}@example.com,Cancel ${i}`);
    const job = await startImport(`${rows.join('\n')}\n`, owner(), { tags: ['cancel-run'] });

    // Act: the owner cancels once the first chunk is saved, while the second is being written
    let canceled: any;
    for (let polls = 0; !canceled; polls++) {
      const seen = await ok(stack.api('GET', `/v1/jobs/${job.id}`, { token: owner() }));
      expect(seen.status, 'the import ended before the cancel').not.toBe('succeeded');
      if (seen.progress.processed >= 100) canceled = await stack.api('POST', `/v1/jobs/${job.id}/cancel`, { token: owner() });
      else await sleep(50);
      expect(polls).toBeLessThan(2_000);
    }
    const done = await finished(job.id);

    // Assess: canceled at once; the run stopped inside the second chunk, not at its end
    expect(canceled.status).toBe(200);
    expect(canceled.body.status).toBe('canceled');
    expect(done.status).toBe('canceled');
    const counts = done.result.counts;
    expect(counts.rowsRead).toBeGreaterThanOrEqual(100);
    expect(counts.rowsRead).toBeLessThan(200);
    expect(sumOf(counts)).toBe(counts.rowsRead);
    expect(done.progress.processed).toBe(counts.rowsRead);
    // Exactly the contacts counted were written, and none after
    expect(await countTagged('cancel-run')).toBe(counts.created);
    await sleep(500);
    expect(await countTagged('cancel-run')).toBe(counts.created);
    expect(await lookup('cancel-498@example.com')).toBeUndefined();
    // The error report lists the rejected rows of what was written
    expect(counts.rejected).toBeGreaterThanOrEqual(10);
    expect(done.files).toContain('errors.csv');
    expect(await errorsCsvLines(job.id)).toHaveLength(1 + counts.rejected);
    // One end event, with the report
    expect(await endEvents(job.id)).toEqual([
      expect.objectContaining({
        actorUserId: acme.owner.user.id,
        payload: { jobId: job.id, kind: 'import_contacts', status: 'canceled', result: done.result, error: null },
      }),
    ]);
  });

  it('a job canceled between runs reports what its earlier runs wrote, once its next message finds it canceled', async () => {
    process.env.JOB_RUN_BUDGET_MS = '1';
    const rows = ['Email,Name'];
    for (let i = 0; i < 110; i++) rows.push(`between-${i}@example.com,Between ${i}`);
    let jobId = '';
    let runs = 0;
    afterImportRun = async () => {
      if (++runs === 1) await ok(stack.api('POST', `/v1/jobs/${jobId}/cancel`, { token: owner() }));
    };
    jobId = (await startImport(`${rows.join('\n')}\n`, owner())).id;

    const done = await finished(jobId);

    expect(done).toMatchObject({ status: 'canceled', progress: { processed: 50 }, result: { counts: { rowsRead: 50, created: 50 } } });
    expect(await lookup('between-50@example.com')).toBeUndefined();
    expect(await endEvents(jobId)).toEqual([expect.objectContaining({ payload: expect.objectContaining({ status: 'canceled', result: done.result }) })]);
  });
});

describe('the user who started an import, as they are now', () => {
  it('a demoted admin’s queued import writes by a member’s rules: another’s contact, another owner and system tags are refused row by row', async () => {
    // Prepare: a contact claimed by one member; an admin's file that renames it, gives it and new
    // contacts to another member, and sets the system tag bot:off
    const [temp, claimer, other] = await Promise.all([addUser('admin', 'Temp Admin'), addUser('member', 'Claire Claimer'), addUser('member', 'Otto Other')]);
    const victim = await ok(
      stack.api('POST', '/v1/contacts', { token: claimer.token, body: { name: 'Victor Victim', channels: [{ kind: 'email', value: 'victim@example.com' }] } }),
      201,
    );
    await ok(stack.api('POST', `/v1/contacts/${victim.id}/claim`, { token: claimer.token }));
    const claimed = await ok(stack.api('GET', `/v1/contacts/${victim.id}`, { token: owner() }));
    const file =
      'Name,Email,Owner,Job Title,Tags\n' +
      `Renamed,victim@example.com,${other.id},Overwritten,bot:off\n` +
      `Given Away,given-away@example.com,${other.id},,\n` +
      'Own Row,own-row@example.com,,,\n';
    let open!: () => void;
    gate = new Promise((resolve) => (open = resolve));
    const job = await startImport(file, temp.token, { overwrite: true });
    expect(job.input.role).toBe('admin');

    // Act: the owner demotes the admin while the job is queued
    await ok(stack.api('PATCH', `/v1/users/${temp.id}`, { token: owner(), body: { role: 'member' } }));
    open();
    const done = await finished(job.id);

    // Assess
    expect(done.status).toBe('succeeded');
    expect(done.result.counts).toMatchObject({ rowsRead: 3, created: 1, updated: 0, rejected: 2, rejectedByCode: { not_permitted: 2 } });
    const after = await ok(stack.api('GET', `/v1/contacts/${victim.id}`, { token: owner() }));
    expect(after).toMatchObject({ name: 'Victor Victim', ownerId: claimer.id, version: claimed.version });
    expect(after.tags ?? []).not.toContain('bot:off');
    expect(await lookup('given-away@example.com')).toBeUndefined();
    expect((await lookup('own-row@example.com')).ownerId ?? null).toBeNull();
  });

  it('a role that changes while a chunk is written applies to the rest of it', async () => {
    // Prepare: one chunk of 400 rows, each making a contact owned by another member (an admin may)
    process.env.IMPORT_CHUNK_ROWS = '400';
    const [temp, other] = await Promise.all([addUser('admin', 'Mid Admin'), addUser('member', 'Mo Member')]);
    const rows = ['Email,Owner,Tags'];
    for (let i = 0; i < 400; i++) rows.push(`midway-${i}@example.com,${other.id},midway`);
    const job = await startImport(`${rows.join('\n')}\n`, temp.token);

    // Act: the owner demotes the admin once the first contacts are in
    for (let polls = 0; !(await lookup('midway-0@example.com')); polls++) {
      expect(polls).toBeLessThan(5_000);
      await sleep(20);
    }
    await ok(stack.api('PATCH', `/v1/users/${temp.id}`, { token: owner(), body: { role: 'member' } }));
    const done = await finished(job.id);

    // Assess: the rows before the demotion were written, the rest refused; every row once
    const { counts } = done.result;
    expect(done.status).toBe('succeeded');
    expect(counts.rowsRead).toBe(400);
    expect(counts.created).toBeGreaterThan(0);
    expect(counts.created).toBeLessThan(400);
    expect(counts).toMatchObject({ rejected: 400 - counts.created, rejectedByCode: { not_permitted: 400 - counts.created } });
    expect(await countTagged('midway')).toBe(counts.created);
  });

  it('a user deactivated between runs stops their import: failed with the reason, what it wrote reported', async () => {
    // Prepare: one chunk of 50 rows a run; the 5th row is rejected
    process.env.JOB_RUN_BUDGET_MS = '1';
    const temp = await addUser('admin', 'Gone Admin');
    const rows = ['Email,Name'];
    for (let i = 0; i < 110; i++) rows.push(i === 4 ? 'not-an-email,Bad' : `deactivated-${i}@example.com,Deactivated ${i}`);
    let runs = 0;
    afterImportRun = async () => {
      if (++runs === 1) await ok(stack.api('PATCH', `/v1/users/${temp.id}`, { token: owner(), body: { status: 'deactivated' } }));
    };

    // Act
    const job = await startImport(`${rows.join('\n')}\n`, temp.token);
    const done = await finished(job.id);

    // Assess
    expect(done).toMatchObject({
      status: 'failed',
      error: { code: 'user_deactivated', message: expect.stringMatching(/was deactivated/) },
      progress: { processed: 50, total: 110 },
      result: { counts: { rowsRead: 50, created: 49, rejected: 1 } },
    });
    expect(done.files).toContain('errors.csv');
    expect(await errorsCsvLines(job.id)).toHaveLength(2);
    expect(await lookup('deactivated-49@example.com')).toBeDefined();
    expect(await lookup('deactivated-50@example.com')).toBeUndefined();
    expect(await endEvents(job.id)).toEqual([
      expect.objectContaining({ payload: expect.objectContaining({ status: 'failed', result: done.result, error: done.error }) }),
    ]);
  });

  it('a user deactivated while their import is queued writes nothing', async () => {
    const temp = await addUser('member', 'Queued Member');
    let open!: () => void;
    gate = new Promise((resolve) => (open = resolve));
    const job = await startImport('Email\nnever-written@example.com\n', temp.token);

    await ok(stack.api('PATCH', `/v1/users/${temp.id}`, { token: owner(), body: { status: 'deactivated' } }));
    open();
    const done = await finished(job.id);

    expect(done).toMatchObject({ status: 'failed', error: { code: 'user_deactivated' }, result: { counts: { rowsRead: 0 } } });
    expect(await lookup('never-written@example.com')).toBeUndefined();
  });
});
