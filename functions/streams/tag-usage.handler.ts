import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { applyContactChangeToTagUsage, parseContactChange } from '../../domain/tags/tag-usage.service';
import { getCoreDeps } from '../shared/deps';

const recordHandler = (record: DynamoDBRecord) =>
  applyContactChangeToTagUsage(getCoreDeps(), parseContactChange(record.dynamodb?.NewImage, record.dynamodb?.OldImage));

/** Contact inserts and updates (the mapping's filter) to the tag library's usage counts, record by record. */
export const handler = (event: DynamoDBStreamEvent, context?: Context): Promise<DynamoDBBatchResponse> =>
  // In order: a shard's records are each contact's history, and parallel ADDs to one tag would only conflict.
  processPartialResponse(event, recordHandler, new BatchProcessor(EventType.DynamoDBStreams), {
    context,
    processInParallel: false,
  });
