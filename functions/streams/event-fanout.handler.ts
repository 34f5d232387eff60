import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { fanOutBatch, fanOutEvent, fanoutConsumers, parseEventImage } from '../../events/fanout';
import type { EventRecord } from '../../events/event-log';
import { logger } from '../shared/logger';
import { getCoreDeps, getJobQueue } from '../shared/deps';

/** Each record's event, or why it is not one: parsed once for both passes. */
function parseAll(records: DynamoDBRecord[]): Map<DynamoDBRecord, EventRecord | Error> {
  return new Map<DynamoDBRecord, EventRecord | Error>(
    records.map((record): [DynamoDBRecord, EventRecord | Error] => {
      try {
        return [record, parseEventImage(record.dynamodb?.NewImage)];
      } catch (error) {
        return [record, error instanceof Error ? error : new Error(String(error))];
      }
    }),
  );
}

/**
 * Appended events (the mapping's filter lets only event INSERTs through) to their consumers. First
 * the whole batch to the consumers that take batches (counters: a few transactions for a hundred
 * events); then record by record to the rest, and to any whose batch failed, reporting the records
 * that fail (partial batch response).
 */
export const handler = async (event: DynamoDBStreamEvent, context?: Context): Promise<DynamoDBBatchResponse> => {
  const deps = { ...getCoreDeps(), queue: getJobQueue() };
  const parsed = parseAll(event.Records);
  const events = [...parsed.values()].filter((value): value is EventRecord => !(value instanceof Error));
  const batched = await fanOutBatch(deps, events, fanoutConsumers, (consumer, error) =>
    logger.warn('A consumer failed its batch: it takes the events one by one', { consumer, error }),
  );
  const rest = fanoutConsumers.filter((consumer) => !batched.has(consumer.name));
  const recordHandler = (record: DynamoDBRecord) => {
    // A record that is not a valid event fails alone: reported in batchItemFailures.
    const result = parsed.get(record) ?? parseEventImage(record.dynamodb?.NewImage);
    if (result instanceof Error) return Promise.reject(result);
    return rest.length > 0 ? fanOutEvent(deps, result, rest) : Promise.resolve();
  };
  // A processor holds one batch's state: one per invocation, so handlers sharing a process locally cannot mix.
  // In order: a shard's records are a history, and parallel ADDs to one counter would only conflict.
  return processPartialResponse(event, recordHandler, new BatchProcessor(EventType.DynamoDBStreams), {
    context,
    processInParallel: false,
  });
};
