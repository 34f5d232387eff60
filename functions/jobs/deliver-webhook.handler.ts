import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { parseJobMessage } from '../../domain/jobs/job-run.service';
import { attemptDelivery } from '../../domain/webhooks/webhook-delivery.service';
import { deliveryMessageSchema } from '../../domain/webhooks/webhook-delivery-record';
import { replayWebhookJob } from '../../domain/webhooks/webhook-replay-job';
import { getCoreDeps, getJobQueue, withBlobStore, withWebhookDeps } from '../shared/deps';
import { logger } from '../shared/logger';
import { recordDelivery } from '../shared/metrics';
import { createJobHandler } from './job-runner';

const recordHandler = async (record: SQSRecord) => {
  const parsed = deliveryMessageSchema.safeParse(JSON.parse(record.body));
  if (!parsed.success) {
    logger.error('Not a webhook delivery message: dropped', { messageId: record.messageId });
    return;
  }
  const outcome = await attemptDelivery(withWebhookDeps(getCoreDeps()), parsed.data);
  logger.debug('Webhook delivery message handled', { ...parsed.data, outcome });
  recordDelivery('webhook', outcome);
};

/** `replay_webhook` jobs ride on this queue (`alsoRuns`): a subscription's deliveries of a time range sent again. */
const replayHandler = createJobHandler(replayWebhookJob, { getDeps: () => ({ ...withBlobStore(getCoreDeps()), queue: getJobQueue() }) });

/**
 * The `deliver_webhook` queue: one attempt per delivery message, the batch's records side by side, so a
 * receiver that takes its whole 10 s timeout holds up no other delivery of the batch (and on AWS, other
 * batches run in other invocations). A record fails alone (partial batch response) only when the table
 * or the queue did; a receiver's failure is logged and retried through the delivery's own schedule. Job
 * messages (`replay_webhook` steps) go to the job runner.
 */
export const handler = async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
  const isJob = (record: SQSRecord) => parseJobMessage(record.body) !== undefined;
  const jobs = event.Records.filter(isJob);
  const deliveries = event.Records.filter((record) => !isJob(record));
  const [replayed, delivered] = await Promise.all([
    jobs.length > 0 ? replayHandler({ Records: jobs }, context) : { batchItemFailures: [] },
    deliveries.length > 0
      ? processPartialResponse({ Records: deliveries }, recordHandler, new BatchProcessor(EventType.SQS), {
          context,
          processInParallel: true,
          throwOnFullBatchFailure: false,
        })
      : { batchItemFailures: [] },
  ]);
  return { batchItemFailures: [...replayed.batchItemFailures, ...delivered.batchItemFailures] };
};
