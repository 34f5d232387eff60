import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { applyContactChangeToFit } from '../../domain/fit/fit-rules.service';
import { parseContactImages } from '../../domain/segments/segment-stream.service';
import { getCoreDeps } from '../shared/deps';

const recordHandler = (record: DynamoDBRecord) =>
  applyContactChangeToFit(getCoreDeps(), parseContactImages(record.dynamodb?.NewImage, record.dynamodb?.OldImage));

/** Contact inserts and updates (the mapping's filter) to the rule criteria of fit scoring and the leads' summaries. */
export const handler = (event: DynamoDBStreamEvent, context?: Context): Promise<DynamoDBBatchResponse> =>
  processPartialResponse(event, recordHandler, new BatchProcessor(EventType.DynamoDBStreams), {
    context,
    processInParallel: false,
  });
