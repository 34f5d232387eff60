import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { attemptDelivery } from '../../domain/webhooks/webhook-delivery.service';
import { deliveryMessageSchema } from '../../domain/webhooks/webhook-delivery-record';
import { getCoreDeps, withWebhookDeps } from '../shared/deps';
import { logger } from '../shared/logger';

const recordHandler = async (record: SQSRecord) => {
  const parsed = deliveryMessageSchema.safeParse(JSON.parse(record.body));
  if (!parsed.success) {
    logger.error('Not a webhook delivery message: dropped', { messageId: record.messageId });
    return;
  }
  const outcome = await attemptDelivery(withWebhookDeps(getCoreDeps()), parsed.data);
  logger.debug('Webhook delivery message handled', { ...parsed.data, outcome });
};

/**
 * The `deliver_webhook` queue: one attempt per message, the batch's records side by side, so a receiver
 * that takes its whole 10 s timeout holds up no other delivery of the batch (and on AWS, other batches
 * run in other invocations). A record fails alone (partial batch response) only when the table or the
 * queue did; a receiver's failure is logged and retried through the delivery's own schedule.
 */
export const handler = (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> =>
  processPartialResponse(event, recordHandler, new BatchProcessor(EventType.SQS), {
    context,
    processInParallel: true,
    throwOnFullBatchFailure: false,
  });
