import { systemActor } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import { LostRace } from '../shared/errors';
import { runJobFailedHook } from './job-failure-hooks';
import { activityShards, commitJob, endCanceledJob, endEvent, without, type JobItem } from './job-record';
import { isTerminal } from './job-status';

/**
 * Re-sends of one step in a row, without a run writing the job, before the sweeper fails it `stalled`.
 * With the doubling waits, a job no run takes fails after 15 stale times (~4.5 h for an import).
 */
export const maxRedispatches = 3;

export interface SweepOptions {
  /**
   * Per kind, how long a queued or running job may go unwritten before its message counts as lost
   * (functions/jobs/job-queues.ts `staleAfterSeconds`). Jobs of a kind not listed are left alone.
   */
  staleAfterMs: Readonly<Record<string, number>>;
  /** Index entries per Query. */
  pageSize?: number;
  /** Index entries looked at per shard in one sweep; the rest wait for the next. */
  maxPerShard?: number;
  /** Asked before each further page: true ends the sweep there (the function's time is running out). */
  shouldStop?: () => boolean;
}

/** A job the sweep wrote. */
export interface SweptJob {
  workspaceId: string;
  jobId: string;
  kind: string;
  status: JobItem['status'];
  /** The step whose message was sent again (re-sent), or the step it was stuck at (stalled). */
  dispatchSeq: number;
  /** Re-sends in a row, this one included (re-sent), or before it failed (stalled). */
  redispatches: number;
  /** Since the job was last written (before this sweep wrote it). */
  idleSeconds: number;
}

export interface SweepReport {
  /** Index entries read (jobs queued or running, written before the shortest stale time). */
  looked: number;
  /** Jobs whose step was sent again (`dispatchSeq + 1`: the stream sends the new step's message). */
  redispatched: SweptJob[];
  /** Jobs failed with `stalled`: their step had been re-sent `maxRedispatches` times and no run came. */
  stalled: SweptJob[];
  /** Canceled jobs whose end event waited for a report no run gave within their stale time: ended without it. */
  ended: SweptJob[];
  /** Entries left alone: not idle for their kind's stale time yet, of a kind without a queue, or ended. */
  skipped: number;
  /** Jobs written by someone else between the Query and the sweep's write: alive, left alone. */
  moved: number;
  failures: { workspaceId: string; jobId: string; error: unknown }[];
  /** True when a shard had more entries than this sweep looked at. */
  more: boolean;
}

type Outcome = { redispatched: SweptJob } | { stalled: SweptJob } | { ended: SweptJob } | 'skipped' | 'moved';

/**
 * The safety net under the jobs' outbox (the `sweep-jobs` schedule): a queued or running job that no one
 * has written for longer than its kind's stale time has no message that any run will take (the stream
 * consumer gave up on its send, or a message was lost): no live run goes that long without writing. Reads
 * the active-jobs index (gsi4), every shard in parallel, least recently written first, in pages, at most
 * `maxPerShard` entries a shard. Each such job is written conditionally on the version read: its step is
 * sent again (`dispatchSeq + 1`, so the stream sends the new step's message and any late message of the
 * old step is stale), or, when that was already done `maxRedispatches` times in a row with no run writing
 * the job in between, it fails with `{ code: 'stalled' }` and its end event. A job written meanwhile
 * (a run took it, a user canceled it) fails the condition and is left alone. The n-th re-send in a row
 * waits 2^(n−1) stale times. A canceled job whose end event still waits for its report (`endPending`)
 * after its stale time gets its end event without the report.
 */
export async function sweepStalledJobs(deps: CoreDeps, options: SweepOptions): Promise<SweepReport> {
  const { staleAfterMs, pageSize = 100, maxPerShard = 500, shouldStop = () => false } = options;
  const report: SweepReport = { looked: 0, redispatched: [], stalled: [], ended: [], skipped: 0, moved: 0, failures: [], more: false };
  const shortest = Math.min(...Object.values(staleAfterMs));
  if (!Number.isFinite(shortest)) return report;
  const nowMs = deps.clock.nowMs();
  // Entries sort by `<updatedAt>#…`: every job last written before this time, and only those, is below it.
  const before = new Date(nowMs - shortest).toISOString();

  const sweepShard = async (activeShard: number) => {
    let cursor: string | null = null;
    let looked = 0;
    do {
      const page: { data: unknown[]; cursor: string | null } = await deps.db.entities.job.query
        .byActivity({ activeShard })
        .lt({ activeKey: before })
        .go({ limit: Math.min(pageSize, maxPerShard - looked), pages: 1, cursor });
      cursor = page.cursor;
      looked += page.data.length;
      report.looked += page.data.length;
      // One job after the other: a shard's jobs share its partition; the shards run side by side.
      for (const item of page.data as JobItem[]) {
        try {
          const outcome = await sweepJob(deps, item, staleAfterMs[item.kind], nowMs);
          if (outcome === 'skipped') report.skipped += 1;
          else if (outcome === 'moved') report.moved += 1;
          else if ('redispatched' in outcome) report.redispatched.push(outcome.redispatched);
          else if ('ended' in outcome) report.ended.push(outcome.ended);
          else report.stalled.push(outcome.stalled);
        } catch (error) {
          // One job that cannot be written must not hold back the others.
          report.failures.push({ workspaceId: item.workspaceId, jobId: item.jobId, error });
        }
      }
    } while (cursor && looked < maxPerShard && !shouldStop());
    if (cursor) report.more = true;
  };
  await Promise.all(Array.from({ length: activityShards }, (_, shard) => sweepShard(shard)));
  return report;
}

async function sweepJob(deps: CoreDeps, item: JobItem, staleMs: number | undefined, nowMs: number): Promise<Outcome> {
  // No queue for its kind: a message would not help (a job of a kind this deployment does not run).
  if (staleMs === undefined) return 'skipped';
  // A canceled job waiting for its report is ended below once stale: no run came to give it.
  const endPending = item.status === 'canceled' && item.endPending === true;
  // The index lags the table: the entry may show a job that has ended since (its write will say so).
  if (isTerminal(item.status) && !endPending) return 'skipped';
  // Only re-sends with nothing else writing the job in between count: a run that took the job resets it.
  const inARow = item.redispatchedVersion === item.version ? (item.redispatches ?? 0) : 0;
  const idleMs = nowMs - Date.parse(item.updatedAt);
  // Each re-send in a row waits twice as long: a job merely queued behind a long backlog (its kind's
  // functions all busy) is re-sent a few times, not failed within the hour. A step sent with a delay
  // (a back-off) is not due before its delay has passed.
  if (idleMs <= staleMs * 2 ** inARow + (item.dispatchDelaySeconds ?? 0) * 1000) return 'skipped';
  const at = new Date(nowMs).toISOString();
  const swept = {
    workspaceId: item.workspaceId,
    jobId: item.jobId,
    kind: item.kind,
    status: item.status,
    dispatchSeq: item.dispatchSeq,
    idleSeconds: Math.round(idleMs / 1000),
  };
  try {
    if (endPending) {
      await endCanceledJob(deps, item);
      return { ended: { ...swept, redispatches: inARow } };
    }
    if (inARow >= maxRedispatches) {
      const failed: JobItem = {
        ...item,
        status: 'failed',
        error: {
          code: 'stalled',
          message: `No run picked the job up: its message was sent again ${inARow} times and no run started`,
        },
        finishedAt: at,
        updatedAt: at,
        version: item.version + 1,
      };
      await commitJob(deps, item, failed, [endEvent(deps, systemActor(item.workspaceId), failed)]);
      await runJobFailedHook(deps, failed);
      return { stalled: { ...swept, redispatches: inARow } };
    }
    await commitJob(deps, item, {
      ...without(item, 'dispatchDelaySeconds'),
      dispatchSeq: item.dispatchSeq + 1,
      redispatches: inARow + 1,
      redispatchedVersion: item.version + 1,
      updatedAt: at,
      version: item.version + 1,
    });
    return { redispatched: { ...swept, redispatches: inARow + 1 } };
  } catch (error) {
    if (error instanceof LostRace) return 'moved';
    throw error;
  }
}
