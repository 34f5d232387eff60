import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { logger } from '../shared/logger';
import { streamConsumers, type StreamReaderDefinition } from './stream-consumers';
import { matchesAnyPattern, type FilterPattern } from './stream-filter';

/** A consumer's handler, as it would run behind its own event source mapping. */
export type StreamBatchHandler = (
  event: DynamoDBStreamEvent,
  context?: Context,
) => Promise<DynamoDBBatchResponse | void | undefined | null>;

/** A consumer inside a reader: its name, the records it takes, and its handler. */
export interface RoutedConsumer {
  name: string;
  filterPatterns: readonly FilterPattern[];
  handler: StreamBatchHandler;
}

export interface StreamReaderLogger {
  error(message: string, extra?: Record<string, unknown>): void;
}

/**
 * The reader's consumers with their declared filter patterns, checked against the reader's definition:
 * every consumer it lists has its handler here, and no other.
 */
export function routedConsumers(
  reader: StreamReaderDefinition,
  handlers: Readonly<Record<string, StreamBatchHandler>>,
): RoutedConsumer[] {
  const extra = Object.keys(handlers).filter((name) => !reader.consumers.includes(name));
  if (extra.length > 0) throw new Error(`Stream reader ${reader.name} does not list ${extra.join(', ')}`);
  return reader.consumers.map((name) => {
    const handler = handlers[name];
    if (!handler) throw new Error(`Stream reader ${reader.name}: no handler for ${name}`);
    return { name, filterPatterns: streamConsumers.find((consumer) => consumer.name === name)!.filterPatterns, handler };
  });
}

/**
 * The handler of a reader (one Lambda function, one event source mapping, several consumers): each
 * record goes to the consumers whose filter patterns match it, as their own mappings would have sent
 * it; the consumers run concurrently, each on its own subset in stream order; their failures merge into
 * one partial batch response naming the earliest failed record, so Lambda resumes from there for all.
 *
 * A consumer that throws does not stop the others finishing their part; its whole subset counts as
 * failed from its first record (what a function error would have meant behind its own mapping). So
 * after any failure, the consumers that had succeeded see the records from the earliest failure again:
 * each consumer of a shared reader must be idempotent under re-delivery (README, "Stream readers").
 */
export function createStreamReader(
  readerName: string,
  consumers: readonly RoutedConsumer[],
  log: StreamReaderLogger = { error: (message, extra) => logger.error(message, { ...extra }) },
): (event: DynamoDBStreamEvent, context?: Context) => Promise<DynamoDBBatchResponse> {
  return async (event, context) => {
    const records = event.Records;
    const failures = await Promise.all(
      consumers.map((consumer) => earliestFailure(readerName, consumer, records, context, log)),
    );
    const earliest = Math.min(...failures.filter((index): index is number => index !== undefined));
    if (!Number.isFinite(earliest)) return { batchItemFailures: [] };
    // Lambda resumes from the lowest failed sequence number: naming that one record says all.
    return { batchItemFailures: [{ itemIdentifier: sequenceOf(records[earliest]!) }] };
  };
}

/** Runs one consumer on its records; the index (in the whole batch) of its earliest failed record, if any. */
async function earliestFailure(
  readerName: string,
  consumer: RoutedConsumer,
  records: readonly DynamoDBRecord[],
  context: Context | undefined,
  log: StreamReaderLogger,
): Promise<number | undefined> {
  const indexes = records.flatMap((record, index) => (matchesAnyPattern(consumer.filterPatterns, record) ? [index] : []));
  if (indexes.length === 0) return undefined;
  const first = indexes[0]!;
  let response: DynamoDBBatchResponse | void | undefined | null;
  try {
    response = await consumer.handler({ Records: indexes.map((index) => records[index]!) }, context);
  } catch (error) {
    log.error('A stream consumer failed its part of the batch: retried from its first record', {
      reader: readerName,
      consumer: consumer.name,
      records: indexes.length,
      error,
    });
    return first;
  }
  const failed = response?.batchItemFailures ?? [];
  if (failed.length === 0) return undefined;
  const positions = failed.map(({ itemIdentifier }) =>
    itemIdentifier ? indexes.find((index) => sequenceOf(records[index]!) === itemIdentifier) : undefined,
  );
  // As Lambda treats it: an empty identifier, or one not in the batch, fails the whole (sub)batch.
  if (positions.some((position) => position === undefined)) {
    log.error('A stream consumer named records not in its batch: retried from its first record', {
      reader: readerName,
      consumer: consumer.name,
      batchItemFailures: failed,
    });
    return first;
  }
  return Math.min(...(positions as number[]));
}

const sequenceOf = (record: DynamoDBRecord) => record.dynamodb?.SequenceNumber ?? '';
