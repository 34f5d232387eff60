import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activityShardOf, commitJob, findJob, type JobItem } from '../../domain/jobs/job-record';
import { maxRedispatches } from '../../domain/jobs/job-sweep.service';
import { createJob } from '../../domain/jobs/jobs.service';
import type { CallerContext } from '../../domain/shared/context';
import type { JobQueue } from '../../domain/shared/ports';
import { createDb } from '../../domain/store/db';
import { createDocumentClient, createDynamoClient } from '../../domain/store/dynamo-client';
import { jobQueues, staleAfterSeconds } from '../../functions/jobs/job-queues';
import { handler as sweepJobs } from '../../functions/schedules/sweep-jobs.handler';
import { setCoreDeps, setJobQueue } from '../../functions/shared/deps';
import { scheduledEvent } from '../../local/scheduler';
import { startTestJobs } from '../support/test-jobs';
import { startTestStreams } from '../support/test-streams';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';

/**
 * The `sweep-jobs` schedule on DynamoDB Local: a job whose message was never sent (the `job-dispatch`
 * consumer gave up on it) is found in the active-jobs index once no run has written it for its kind's
 * stale time, and sent again (then the real consumer and runner finish it), or failed `stalled` after
 * three re-sends. Export jobs stand for every kind (their stale time is their queue's).
 */

let stack: TestStack;
let acme: Awaited<ReturnType<typeof seedWorkspace>>;
let globex: Awaited<ReturnType<typeof seedWorkspace>>;

const staleMs = staleAfterSeconds(jobQueues.find((queue) => queue.name === 'export_contacts')!) * 1000;

beforeAll(async () => {
  stack = await createTestStack({ clockStart: '2026-04-01T09:00:00.000Z' });
  [acme, globex] = await Promise.all([seedWorkspace(stack, 'Acme'), seedWorkspace(stack, 'Globex')]);
});

afterAll(async () => {
  await stack?.destroy();
});

// ---- helpers ------------------------------------------------------------------------------------------

const ownerOf = (workspace: typeof acme): CallerContext => ({
  workspaceId: workspace.workspace.id,
  userId: workspace.owner.user.id,
  role: 'owner',
});

/** An export job, queued; nothing sends its message (no dispatch consumer runs here but in the first test). */
const queuedExport = async (workspace = acme) =>
  (await createJob(stack.deps, ownerOf(workspace), { kind: 'export_contacts', input: { format: 'csv', role: 'owner', filters: {} } })).id;

const sweep = () => sweepJobs(scheduledEvent('sweep-jobs', stack.clock.nowIso()));
const job = async (jobId: string, workspace = acme) => (await findJob(stack.deps, workspace.workspace.id, jobId, true))!;
/** The stored item with its keys, as DynamoDB holds it. */
const rawItem = async (jobId: string, workspace = acme) =>
  (await stack.deps.db.entities.job.get({ workspaceId: workspace.workspace.id, jobId }).go({ data: 'includeKeys', consistent: true }))
    .data as Record<string, unknown>;
/** The jobs the active-jobs index lists under the job's shard. */
const activeInShard = async (jobId: string) => {
  const { data } = await stack.deps.db.entities.job.query.byActivity({ activeShard: activityShardOf(jobId) }).go({ pages: 'all' });
  return data.map((item) => item.jobId);
};
const endEvents = async (jobId: string) => {
  const res = await stack.api('GET', `/v1/events?entityType=job&entityId=${jobId}`, { token: acme.owner.token });
  expect(res.status).toBe(200);
  return res.body.items as { type: string; actorUserId: string; payload: Record<string, unknown> }[];
};

// ---- tests ----------------------------------------------------------------------------------------------

describe('a job whose message was never sent', () => {
  it('stays queued, is sent again once its stale time has passed, and then runs to the end', async () => {
    // Prepare: the dispatch consumer runs, but every send to SQS fails through all its retries
    const contact = await stack.api('POST', '/v1/contacts', {
      token: acme.owner.token,
      body: { name: 'Ada Lovelace', channels: [{ kind: 'email', value: 'ada@example.com' }] },
    });
    expect(contact.status).toBe(201);
    let sends = 0;
    const unreachable: JobQueue = {
      send: () => {
        sends += 1;
        return Promise.reject(new Error('SQS is unreachable'));
      },
    };
    setJobQueue(unreachable);
    const streams = await startTestStreams(stack, ['job-dispatch']);
    let jobId: string;
    try {
      const created = await stack.api('POST', '/v1/exports', { token: acme.owner.token, body: { format: 'csv' } });
      expect(created.status).toBe(201);
      jobId = created.body.id as string;
      await streams.drain();
    } finally {
      await streams.stop();
      setJobQueue(undefined);
    }
    // The first send and the consumer's 10 retries all failed: the record is dropped, the job left queued
    expect(sends).toBe(11);
    expect(await job(jobId)).toMatchObject({ status: 'queued', dispatchSeq: 1, version: 1 });

    // Act 1: a sweep while the job is younger than its stale time leaves it alone
    stack.clock.advance(staleMs);
    await sweep();
    expect(await job(jobId)).toMatchObject({ status: 'queued', dispatchSeq: 1, version: 1 });

    // Act 2: past its stale time, the sweep sends its step again
    stack.clock.advance(1000);
    await sweep();
    const resent = await job(jobId);
    expect(resent).toMatchObject({
      status: 'queued',
      dispatchSeq: 2,
      redispatches: 1,
      version: 2,
      updatedAt: stack.clock.nowIso(),
    });

    // Act 3: the stream and the queue come back (the consumer reads the stream from its start again)
    const seqs: number[] = [];
    const jobs = await startTestJobs(stack, ['export_contacts'], {
      wrap: (_kind, handler) => (event, context) => {
        seqs.push(...event.Records.map((record) => (JSON.parse(record.body) as { seq: number }).seq));
        return handler(event, context);
      },
    });
    let ended: JobItem;
    try {
      ended = await jobs.finished(acme.workspace.id, jobId);
    } finally {
      await jobs.stop();
    }

    // Assess: the run was the re-sent step's (the first step's message, sent late, found it stale)
    expect(ended).toMatchObject({ status: 'succeeded', dispatchSeq: 2, result: expect.objectContaining({ rows: 1 }) });
    expect(seqs).toContain(2);
    const res = await stack.api('GET', `/v1/jobs/${jobId}`, { token: acme.owner.token });
    expect(res.body).toMatchObject({ status: 'succeeded', error: null });
    expect(res.body).not.toHaveProperty('redispatches');
    // An ended job leaves the active-jobs index
    expect(await rawItem(jobId)).not.toHaveProperty('gsi4pk');
    expect(await activeInShard(jobId)).not.toContain(jobId);
  });
});

describe('the active-jobs index', () => {
  it('lists a queued job under its shard by its last write, and drops it when it ends', async () => {
    const jobId = await queuedExport();
    const item = await rawItem(jobId);
    expect(item).toMatchObject({
      gsi4pk: `JOBS#ACTIVE#${activityShardOf(jobId)}`,
      gsi4sk: `${stack.clock.nowIso()}#${acme.workspace.id}#${jobId}`,
    });
    expect(await activeInShard(jobId)).toContain(jobId);

    const canceled = await stack.api('POST', `/v1/jobs/${jobId}/cancel`, { token: acme.owner.token });
    expect(canceled.status).toBe(200);

    const after = await rawItem(jobId);
    expect(after.status).toBe('canceled');
    expect(after).not.toHaveProperty('gsi4pk');
    expect(after).not.toHaveProperty('gsi4sk');
    expect(await activeInShard(jobId)).not.toContain(jobId);
  });

  it('follows a job’s writes: a run’s write moves its entry to the run’s time', async () => {
    const jobId = await queuedExport();
    stack.clock.advance(60_000);
    const before = await job(jobId);
    await commitJob(stack.deps, before, { ...before, status: 'running', startedAt: stack.clock.nowIso(), updatedAt: stack.clock.nowIso(), version: 2 });
    expect((await rawItem(jobId)).gsi4sk).toBe(`${stack.clock.nowIso()}#${acme.workspace.id}#${jobId}`);
  });
});

describe('sweeping', () => {
  it('sends again the stale jobs of every workspace, queued or running, and leaves recent ones alone', async () => {
    // Prepare: two stale jobs in two workspaces (one a run took, then nothing), one written recently
    const acmeJob = await queuedExport(acme);
    const globexJob = await queuedExport(globex);
    const taken = await job(globexJob, globex);
    await commitJob(stack.deps, taken, { ...taken, status: 'running', startedAt: stack.clock.nowIso(), version: 2 });
    stack.clock.advance(staleMs + 1000);
    const recentJob = await queuedExport(acme);

    // Act
    await sweep();

    // Assess
    expect(await job(acmeJob)).toMatchObject({ status: 'queued', dispatchSeq: 2, redispatches: 1, updatedAt: stack.clock.nowIso() });
    expect(await job(globexJob, globex)).toMatchObject({ status: 'running', dispatchSeq: 2, redispatches: 1, version: 3 });
    expect(await job(recentJob)).toMatchObject({ status: 'queued', dispatchSeq: 1, version: 1 });
    expect((await job(recentJob)).redispatches).toBeUndefined();
  });

  it(`fails a job \`stalled\` after ${maxRedispatches} re-sends no run took up, with its end event`, async () => {
    // Prepare
    const jobId = await queuedExport();

    // Act: each sweep past the stale time sends the step again, each re-send waiting twice as long as the
    // one before, until the re-sends are used up
    for (let resend = 1; resend <= maxRedispatches; resend += 1) {
      const wait = staleMs * 2 ** (resend - 1);
      stack.clock.advance(wait);
      await sweep();
      // Not yet: the wait is not over
      expect(await job(jobId)).toMatchObject({ status: 'queued', dispatchSeq: resend });
      stack.clock.advance(1000);
      await sweep();
      expect(await job(jobId)).toMatchObject({ status: 'queued', dispatchSeq: 1 + resend, redispatches: resend });
    }
    stack.clock.advance(staleMs * 2 ** maxRedispatches + 1000);
    await sweep();

    // Assess: failed with the reason, its end event appended, out of the active-jobs index
    const failed = await job(jobId);
    expect(failed).toMatchObject({
      status: 'failed',
      dispatchSeq: 1 + maxRedispatches,
      finishedAt: stack.clock.nowIso(),
      error: { code: 'stalled', message: expect.stringContaining('No run picked the job up') },
    });
    const res = await stack.api('GET', `/v1/jobs/${jobId}`, { token: acme.owner.token });
    expect(res.body).toMatchObject({ status: 'failed', error: { code: 'stalled' } });
    expect(await endEvents(jobId)).toEqual([
      expect.objectContaining({
        type: 'export.finished',
        actorUserId: 'system',
        payload: { jobId, kind: 'export_contacts', status: 'failed', result: null, error: failed.error },
      }),
    ]);
    expect(await rawItem(jobId)).not.toHaveProperty('gsi4pk');
    // A later sweep changes nothing
    stack.clock.advance(staleMs + 1000);
    await sweep();
    expect(await job(jobId)).toEqual(failed);
  });

  it('counts only re-sends in a row: a run that took the job up in between starts the count again', async () => {
    const jobId = await queuedExport();
    for (let resend = 1; resend <= maxRedispatches; resend += 1) {
      stack.clock.advance(staleMs * 2 ** (resend - 1) + 1000);
      await sweep();
    }
    // A run takes the re-sent step up, then its continuation's message is lost too
    const resent = await job(jobId);
    await commitJob(stack.deps, resent, { ...resent, status: 'running', updatedAt: stack.clock.nowIso(), version: resent.version + 1 });

    stack.clock.advance(staleMs + 1000);
    await sweep();

    expect(await job(jobId)).toMatchObject({ status: 'running', dispatchSeq: 2 + maxRedispatches, redispatches: 1 });
  });
});

describe('a race between the sweep’s read and its write', () => {
  /**
   * The sweep with its own DynamoDB client, on which `meanwhile` runs once, after the active-jobs
   * Query that returned `jobId` and before the sweep writes: the job changes in between.
   */
  async function sweepWithRace(jobId: string, meanwhile: () => Promise<unknown>) {
    const raw: DynamoDBClient = createDynamoClient({ endpoint: process.env.DYNAMODB_ENDPOINT! });
    let raced = false;
    raw.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        if (!raced && context.commandName === 'QueryCommand' && JSON.stringify(result.output).includes(jobId)) {
          raced = true;
          await meanwhile();
        }
        return result;
      },
      { step: 'initialize', name: 'raceBetweenReadAndWrite' },
    );
    setCoreDeps({ ...stack.deps, db: createDb(createDocumentClient(raw), stack.tableName) });
    try {
      await sweep();
    } finally {
      setCoreDeps(stack.deps);
      raw.destroy();
    }
    expect(raced).toBe(true);
  }

  it('leaves a job a run took up meanwhile as the run wrote it', async () => {
    const jobId = await queuedExport();
    stack.clock.advance(staleMs + 1000);
    let runWrote: JobItem | undefined;

    await sweepWithRace(jobId, async () => {
      const before = await job(jobId);
      runWrote = { ...before, status: 'running', startedAt: stack.clock.nowIso(), updatedAt: stack.clock.nowIso(), version: before.version + 1 };
      await commitJob(stack.deps, before, runWrote);
    });

    const after = await job(jobId);
    expect(after).toMatchObject({ status: 'running', dispatchSeq: 1, version: 2 });
    expect(after.redispatches).toBeUndefined();
  });

  it('leaves a job canceled meanwhile canceled, not failed', async () => {
    const jobId = await queuedExport();
    for (let resend = 1; resend <= maxRedispatches; resend += 1) {
      stack.clock.advance(staleMs * 2 ** (resend - 1) + 1000);
      await sweep();
    }
    stack.clock.advance(staleMs + 1000);

    await sweepWithRace(jobId, () => stack.api('POST', `/v1/jobs/${jobId}/cancel`, { token: acme.owner.token }));

    expect(await job(jobId)).toMatchObject({ status: 'canceled' });
    expect((await job(jobId)).error).toBeUndefined();
    expect((await endEvents(jobId)).map((event) => event.payload.status)).toEqual(['canceled']);
  });
});
