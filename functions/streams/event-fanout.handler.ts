import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { fanOutEvent, parseEventImage } from '../../events/fanout';
import { getCoreDeps } from '../shared/deps';

const recordHandler = (record: DynamoDBRecord) =>
  fanOutEvent(getCoreDeps(), parseEventImage(record.dynamodb?.NewImage));

/** Appended events (the mapping's filter lets only event INSERTs through) to their consumers, record by record. */
export const handler = (event: DynamoDBStreamEvent, context?: Context): Promise<DynamoDBBatchResponse> =>
  // A processor holds one batch's state: one per invocation, so handlers sharing a process locally cannot mix.
  // In order: a shard's records are a history, and parallel ADDs to one counter would only conflict.
  processPartialResponse(event, recordHandler, new BatchProcessor(EventType.DynamoDBStreams), {
    context,
    processInParallel: false,
  });
