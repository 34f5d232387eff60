import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { failDeadLetteredJob, parseJobMessage } from '../../domain/jobs/job-run.service';
import { getCoreDeps } from '../shared/deps';
import { logger } from '../shared/logger';

const recordHandler = async (record: SQSRecord) => {
  const message = parseJobMessage(record.body);
  if (!message) {
    logger.error('A dead letter that is no job message: dropped', { messageId: record.messageId, queue: record.eventSourceARN });
    return;
  }
  const outcome = await failDeadLetteredJob(getCoreDeps(), message);
  logger.info('Dead-lettered job message handled', { ...message, outcome });
};

/**
 * Every job kind's dead-letter queue: a message that used up its receives fails its job (`failed`,
 * `retries_exhausted`, the last run's error) with the job's end event. A message of an earlier step or
 * of an ended job changes nothing, so redeliveries are harmless; a failing record is retried alone.
 */
export const handler = (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> =>
  processPartialResponse(event, recordHandler, new BatchProcessor(EventType.SQS), {
    context,
    processInParallel: false,
    throwOnFullBatchFailure: false,
  });
