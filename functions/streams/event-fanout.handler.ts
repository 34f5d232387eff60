import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { fanOutBatch, fanOutEvent, fanoutConsumers, parseEventImage } from '../../events/fanout';
import type { EventRecord } from '../../events/event-log';
import { logger } from '../shared/logger';
import { getCoreDeps } from '../shared/deps';

/** The events of the records that parse; the others fail in the record-by-record pass. */
function parseable(records: DynamoDBRecord[]): EventRecord[] {
  return records.flatMap((record) => {
    try {
      return [parseEventImage(record.dynamodb?.NewImage)];
    } catch {
      return [];
    }
  });
}

/**
 * Appended events (the mapping's filter lets only event INSERTs through) to their consumers. First
 * the whole batch to the consumers that take batches (counters: a few transactions for a hundred
 * events); then record by record to the rest, and to any whose batch failed, reporting the records
 * that fail (partial batch response).
 */
export const handler = async (event: DynamoDBStreamEvent, context?: Context): Promise<DynamoDBBatchResponse> => {
  const deps = getCoreDeps();
  const batched = await fanOutBatch(deps, parseable(event.Records), fanoutConsumers, (consumer, error) =>
    logger.warn('A consumer failed its batch: it takes the events one by one', { consumer, error }),
  );
  const rest = fanoutConsumers.filter((consumer) => !batched.has(consumer.name));
  const recordHandler = (record: DynamoDBRecord) => {
    const parsed = parseEventImage(record.dynamodb?.NewImage);
    return rest.length > 0 ? fanOutEvent(deps, parsed, rest) : Promise.resolve();
  };
  // A processor holds one batch's state: one per invocation, so handlers sharing a process locally cannot mix.
  // In order: a shard's records are a history, and parallel ADDs to one counter would only conflict.
  return processPartialResponse(event, recordHandler, new BatchProcessor(EventType.DynamoDBStreams), {
    context,
    processInParallel: false,
  });
};
