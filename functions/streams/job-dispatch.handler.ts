import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { dispatchJobChange, parseJobChange } from '../../domain/jobs/job-dispatch';
import { queueOfKind } from '../jobs/job-queues';
import { getJobQueue } from '../shared/deps';

const recordHandler = (record: DynamoDBRecord) =>
  dispatchJobChange(getJobQueue(), parseJobChange(record.dynamodb?.NewImage, record.dynamodb?.OldImage), queueOfKind);

/**
 * The jobs' outbox (the mapping's filter lets job items through): a new job, or one whose `dispatchSeq`
 * moved, gets its message on its kind's queue. A record whose send fails is retried alone.
 */
export const handler = (event: DynamoDBStreamEvent, context?: Context): Promise<DynamoDBBatchResponse> =>
  // In order: a shard's records are each job's history (a duplicate send would be harmless, a lost one is not).
  processPartialResponse(event, recordHandler, new BatchProcessor(EventType.DynamoDBStreams), {
    context,
    processInParallel: false,
  });
