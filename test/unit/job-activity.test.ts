import { describe, expect, it } from 'vitest';
import { fixedClock, ulidGenerator } from '../../domain/shared/clock';
import { activityShardOf, activityShards, withActivityKeys, type JobItem } from '../../domain/jobs/job-record';
import { jobStatuses, type JobStatus } from '../../domain/jobs/jobs.schemas';
import { jobQueues, staleAfterSeconds } from '../../functions/jobs/job-queues';

const item = (status: JobStatus, fields: Partial<JobItem> = {}): JobItem => ({
  workspaceId: 'ws_1',
  jobId: 'job_01JQ0000000000000000000000',
  kind: 'export_contacts',
  status,
  createdBy: 'usr_1',
  input: {},
  progress: { processed: 0 },
  dispatchSeq: 1,
  files: {},
  attempts: 0,
  createdAt: '2026-04-01T09:00:00.000Z',
  updatedAt: '2026-04-01T09:05:00.000Z',
  version: 1,
  ...fields,
});

describe('the active-jobs shard of a job', () => {
  it('is the same for a job id every time, in every process (pinned values)', () => {
    expect(activityShardOf('job_01JQ0000000000000000000000')).toBe(9);
    expect(activityShardOf('job_01JQZZZZZZZZZZZZZZZZZZZZZZ')).toBe(0);
    expect(activityShardOf('job_01HX5K3V9Q8M2N7P4R6T1W0Y3Z')).toBe(12);
    expect(activityShardOf('job_01HX5K3V9Q8M2N7P4R6T1W0Y3Z')).toBe(activityShardOf('job_01HX5K3V9Q8M2N7P4R6T1W0Y3Z'));
  });

  it('is a whole number from 0 to 15, and ids made one after the other spread over every shard', () => {
    // Ids of one millisecond differ only in their random tail; ids of a busy minute share their time prefix.
    const clock = fixedClock('2026-04-01T09:00:00.000Z');
    const newId = ulidGenerator(clock);
    const counts = new Array<number>(activityShards).fill(0);
    for (let n = 0; n < 8000; n += 1) {
      if (n % 100 === 0) clock.advance(1);
      const shard = activityShardOf(newId('job'));
      expect(Number.isInteger(shard) && shard >= 0 && shard < activityShards).toBe(true);
      counts[shard]! += 1;
    }
    // 500 each on average: no shard far from it
    expect(Math.min(...counts)).toBeGreaterThan(400);
    expect(Math.max(...counts)).toBeLessThan(600);
  });
});

describe('the active-jobs index keys of a job item', () => {
  it('are set while the job is queued or running: its shard, and its last write time, workspace and id', () => {
    for (const status of ['queued', 'running'] as const) {
      expect(withActivityKeys(item(status))).toMatchObject({
        activeShard: 9,
        activeKey: '2026-04-01T09:05:00.000Z#ws_1#job_01JQ0000000000000000000000',
      });
    }
  });

  it('are left out once the job has ended, even when the item had them', () => {
    const ended = jobStatuses.filter((status) => status !== 'queued' && status !== 'running');
    expect(ended).toEqual(['succeeded', 'failed', 'canceled']);
    for (const status of ended) {
      const keys = withActivityKeys(item(status, { activeShard: 9, activeKey: 'stale' }));
      expect(keys).not.toHaveProperty('activeShard');
      expect(keys).not.toHaveProperty('activeKey');
    }
  });
});

describe('a job kind’s stale time', () => {
  it('is its queue’s visibility timeout and 2 minutes, longer than any run (its function’s timeout)', () => {
    for (const queue of jobQueues) {
      expect(staleAfterSeconds(queue)).toBe(queue.visibilityTimeoutSeconds + 120);
      expect(staleAfterSeconds(queue)).toBeGreaterThan(queue.timeoutSeconds);
    }
  });
});
