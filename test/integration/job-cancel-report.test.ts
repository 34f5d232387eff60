import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activityShardOf, commitJob, findJob } from '../../domain/jobs/job-record';
import { failDeadLetteredJob } from '../../domain/jobs/job-run.service';
import { createJob } from '../../domain/jobs/jobs.service';
import { jobQueues, staleAfterSeconds } from '../../functions/jobs/job-queues';
import { handler as sweepJobs } from '../../functions/schedules/sweep-jobs.handler';
import { scheduledEvent } from '../../local/scheduler';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';

/**
 * A running import canceled by a user is `canceled` at once, but its end event waits for the report of
 * what it wrote, which the runner gives once its run has stopped (imports-stopping.test.ts). Should no
 * run ever come (its message lost, or every delivery failing), the job still ends: the `sweep-jobs`
 * schedule after its stale time, or the dead-letter consumer, append its end event without the report.
 * No queue runs here: nothing but those two ends the job.
 */

let stack: TestStack;
let acme: Awaited<ReturnType<typeof seedWorkspace>>;
const staleMs = staleAfterSeconds(jobQueues.find((queue) => queue.name === 'import_contacts')!) * 1000;

beforeAll(async () => {
  stack = await createTestStack({ clockStart: '2026-04-01T09:00:00.000Z' });
  acme = await seedWorkspace(stack, 'Acme');
});
afterAll(async () => {
  await stack?.destroy();
});

/** An import job a run took up (its message never to come again), canceled by the admin. */
async function canceledRunningImport() {
  const caller = { workspaceId: acme.workspace.id, userId: acme.owner.user.id, role: 'owner' as const };
  const created = await createJob(stack.deps, caller, {
    kind: 'import_contacts',
    input: { format: 'csv', options: { mode: 'create_and_update', tags: [], overwrite: false }, role: 'owner' },
  });
  const queued = (await findJob(stack.deps, acme.workspace.id, created.id, true))!;
  await commitJob(stack.deps, queued, { ...queued, status: 'running', startedAt: stack.clock.nowIso(), version: queued.version + 1 });
  const canceled = await stack.api('POST', `/v1/jobs/${created.id}/cancel`, { token: acme.admin.token });
  expect(canceled.status).toBe(200);
  expect(canceled.body).toMatchObject({ status: 'canceled', result: null });
  return created.id;
}

const endEvents = async (jobId: string) => {
  const res = await stack.api('GET', '/v1/events', { token: acme.owner.token, query: { entityType: 'job', entityId: jobId } });
  expect(res.status).toBe(200);
  return res.body.items as { type: string; actorUserId: string; payload: Record<string, unknown> }[];
};
const activeInShard = async (jobId: string) => {
  const { data } = await stack.deps.db.entities.job.query.byActivity({ activeShard: activityShardOf(jobId) }).go({ pages: 'all' });
  return data.map((item) => item.jobId);
};
const sweep = () => sweepJobs(scheduledEvent('sweep-jobs', stack.clock.nowIso()));

describe('a canceled import whose report no run gives', () => {
  it('waits for it, then is ended by the sweep once its stale time has passed, without the report', async () => {
    const jobId = await canceledRunningImport();
    // Waiting: no end event yet, still listed for the sweep
    expect(await endEvents(jobId)).toEqual([]);
    expect(await activeInShard(jobId)).toContain(jobId);
    stack.clock.advance(staleMs);
    await sweep();
    expect(await endEvents(jobId)).toEqual([]);

    stack.clock.advance(1000);
    await sweep();

    expect(await endEvents(jobId)).toEqual([
      expect.objectContaining({
        type: 'import.finished',
        actorUserId: acme.admin.user.id,
        payload: { jobId, kind: 'import_contacts', status: 'canceled', result: null, error: null },
      }),
    ]);
    expect(await findJob(stack.deps, acme.workspace.id, jobId, true)).toMatchObject({ status: 'canceled' });
    expect((await findJob(stack.deps, acme.workspace.id, jobId, true))!.endPending).toBeUndefined();
    expect(await activeInShard(jobId)).not.toContain(jobId);
    // A later sweep changes nothing
    stack.clock.advance(staleMs * 4);
    await sweep();
    expect(await endEvents(jobId)).toHaveLength(1);
  });

  it('is ended by the dead-letter consumer when its message used up its deliveries', async () => {
    const jobId = await canceledRunningImport();

    expect(await failDeadLetteredJob(stack.deps, { workspaceId: acme.workspace.id, jobId, seq: 1 })).toBe('ended');
    // Delivered again: nothing more
    expect(await failDeadLetteredJob(stack.deps, { workspaceId: acme.workspace.id, jobId, seq: 1 })).toBe('ended');

    expect(await endEvents(jobId)).toEqual([
      expect.objectContaining({ type: 'import.finished', actorUserId: acme.admin.user.id, payload: expect.objectContaining({ status: 'canceled' }) }),
    ]);
    expect(await findJob(stack.deps, acme.workspace.id, jobId, true)).toMatchObject({ status: 'canceled' });
  });
});
