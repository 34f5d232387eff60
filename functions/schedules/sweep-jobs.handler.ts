import type { Context, ScheduledEvent } from 'aws-lambda';
import { sweepStalledJobs } from '../../domain/jobs/job-sweep.service';
import { sweepOverdueDeliveries } from '../../domain/webhooks/webhook-delivery.service';
import { jobQueues, staleAfterSeconds } from '../jobs/job-queues';
import { getCoreDeps, getJobQueue } from '../shared/deps';
import { logger } from '../shared/logger';

/** Index entries per Query, and per shard in one run (tests lower them). */
export const sweepJobsSettings = { pageSize: 100, maxPerShard: 500 };
/** Stop taking new pages this long before the function's timeout. */
const reserveMs = 60_000;
/** Per kind with a queue: its stale time in milliseconds. */
const staleAfterMs = Object.fromEntries(
  jobQueues.flatMap((queue) => [queue.name, ...(queue.alsoRuns ?? [])].map((kind) => [kind, staleAfterSeconds(queue) * 1000])),
);

/**
 * Every 5 minutes: jobs queued or running that no run has written for their kind's stale time get their
 * step sent again, or, after 3 such re-sends in a row, fail `stalled` (domain/jobs/job-sweep.service.ts).
 * Then the outbound webhooks' safety net: pending deliveries overdue past a grace get their message
 * again (a schedule of their own would cost the stack six more resources).
 */
export const handler = async (_event: ScheduledEvent, context?: Context): Promise<void> => {
  const remainingMs = () => context?.getRemainingTimeInMillis() ?? Number.POSITIVE_INFINITY;
  const report = await sweepStalledJobs(getCoreDeps(), {
    staleAfterMs,
    ...sweepJobsSettings,
    shouldStop: () => remainingMs() < reserveMs,
  });
  for (const job of report.redispatched) logger.warn('A job no run had written for its stale time: its step sent again', { ...job });
  for (const job of report.stalled) logger.error('A job no run picked up after its re-sends: failed (stalled)', { ...job });
  for (const failure of report.failures) {
    logger.error('A job could not be swept', { workspaceId: failure.workspaceId, jobId: failure.jobId, error: failure.error as Error });
  }
  const deliveriesSent = await sweepOverdueDeliveries({ ...getCoreDeps(), queue: getJobQueue() });
  if (deliveriesSent > 0) logger.warn('Overdue webhook deliveries: their message sent again', { sent: deliveriesSent });
  if (report.looked > 0) {
    logger.info('Jobs swept', {
      looked: report.looked,
      redispatched: report.redispatched.length,
      stalled: report.stalled.length,
      skipped: report.skipped,
      moved: report.moved,
      failed: report.failures.length,
      more: report.more,
    });
  }
};
