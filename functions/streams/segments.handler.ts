import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { applyContactChangeToSegments, parseContactImages } from '../../domain/segments/segment-stream.service';
import { getCoreDeps } from '../shared/deps';

const recordHandler = (record: DynamoDBRecord) =>
  applyContactChangeToSegments(getCoreDeps(), parseContactImages(record.dynamodb?.NewImage, record.dynamodb?.OldImage));

/** Contact inserts and updates (the mapping's filter) to the contacts' dynamic segment memberships. */
export const handler = (event: DynamoDBStreamEvent, context?: Context): Promise<DynamoDBBatchResponse> =>
  // In order: a shard's records are each contact's history, and an older version is skipped anyway.
  processPartialResponse(event, recordHandler, new BatchProcessor(EventType.DynamoDBStreams), {
    context,
    processInParallel: false,
  });
