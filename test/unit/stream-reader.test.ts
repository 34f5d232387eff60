import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import {
  defineStreamReader,
  maxFiltersPerMapping,
  maxStreamReaders,
  streamConsumers,
  streamReaders,
  type StreamConsumerDefinition,
} from '../../functions/streams/stream-consumers';
import { createStreamReader, type RoutedConsumer } from '../../functions/streams/stream-reader';

/** A stream record of an item of `entity`, sequence number `seq`. */
const record = (seq: number, entity: string, eventName = 'MODIFY'): DynamoDBRecord => ({
  eventID: `e${seq}`,
  eventName: eventName as DynamoDBRecord['eventName'],
  dynamodb: {
    ...(eventName === 'REMOVE' ? { OldImage: { __edb_e__: { S: entity } } } : { NewImage: { __edb_e__: { S: entity } } }),
    SequenceNumber: String(seq),
  },
});
const pattern = (entity: string) => ({ dynamodb: { NewImage: { __edb_e__: { S: [entity] } } } });
const seqs = (event: DynamoDBStreamEvent) => event.Records.map((r) => Number(r.dynamodb!.SequenceNumber));

/** A consumer that records what it was given and answers with `respond`. */
function consumer(
  name: string,
  entity: string,
  respond: (event: DynamoDBStreamEvent) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }> = async () => ({
    batchItemFailures: [],
  }),
) {
  const seen: number[][] = [];
  const routed: RoutedConsumer = {
    name,
    filterPatterns: [pattern(entity)],
    handler: (event) => {
      seen.push(seqs(event));
      return respond(event);
    },
  };
  return { routed, seen };
}
const silent = { error: () => undefined };
const batch = (...records: DynamoDBRecord[]): DynamoDBStreamEvent => ({ Records: records });

describe('a stream reader routes each record to the consumers whose patterns match it', () => {
  it('gives each consumer its own records, in stream order, and reports nothing when all succeed', async () => {
    const contacts = consumer('contacts', 'contact');
    const jobs = consumer('jobs', 'job');
    const alsoContacts = consumer('also-contacts', 'contact');
    const reader = createStreamReader('r', [contacts.routed, jobs.routed, alsoContacts.routed], silent);

    const response = await reader(batch(record(1, 'contact'), record(2, 'job'), record(3, 'user'), record(4, 'contact')));

    expect(response).toEqual({ batchItemFailures: [] });
    expect(contacts.seen).toEqual([[1, 4]]);
    expect(alsoContacts.seen).toEqual([[1, 4]]);
    expect(jobs.seen).toEqual([[2]]);
  });

  it('does not invoke a consumer none of whose records are in the batch', async () => {
    const jobs = consumer('jobs', 'job');
    await createStreamReader('r', [jobs.routed], silent)(batch(record(1, 'contact')));
    expect(jobs.seen).toEqual([]);
  });
});

describe('a stream reader merges its consumers failures', () => {
  it('names the earliest failed record of all consumers, so Lambda resumes there', async () => {
    const contacts = consumer('contacts', 'contact', async () => ({ batchItemFailures: [{ itemIdentifier: '5' }] }));
    const jobs = consumer('jobs', 'job', async () => ({ batchItemFailures: [{ itemIdentifier: '4' }, { itemIdentifier: '6' }] }));
    const reader = createStreamReader('r', [contacts.routed, jobs.routed], silent);

    const response = await reader(
      batch(record(1, 'contact'), record(2, 'job'), record(4, 'job'), record(5, 'contact'), record(6, 'job')),
    );

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: '4' }] });
  });

  it('lets the others finish when one consumer throws, and counts its whole part failed from its first record', async () => {
    const errors: Record<string, unknown>[] = [];
    let jobsFinished = false;
    const contacts = consumer('contacts', 'contact', () => Promise.reject(new Error('boom')));
    const jobs = consumer('jobs', 'job', async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      jobsFinished = true;
      return { batchItemFailures: [] };
    });
    const reader = createStreamReader('r', [contacts.routed, jobs.routed], { error: (_m, extra) => errors.push(extra!) });

    const response = await reader(batch(record(1, 'job'), record(2, 'contact'), record(3, 'job'), record(4, 'contact')));

    expect(jobsFinished).toBe(true);
    expect(jobs.seen).toEqual([[1, 3]]);
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: '2' }] });
    expect(errors).toEqual([expect.objectContaining({ reader: 'r', consumer: 'contacts', records: 2 })]);
  });

  it('counts a consumer that names a record outside its part as failed from its first record, as Lambda would', async () => {
    const contacts = consumer('contacts', 'contact', async () => ({ batchItemFailures: [{ itemIdentifier: '99' }] }));
    const response = await createStreamReader('r', [contacts.routed], silent)(batch(record(1, 'job'), record(3, 'contact'), record(4, 'contact')));
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: '3' }] });
  });
});

describe('the readers as deployed', () => {
  it('are at most two, and run every consumer exactly once', () => {
    expect(streamReaders.length).toBeLessThanOrEqual(maxStreamReaders);
    const run = streamReaders.flatMap((reader) => reader.consumers);
    expect([...run].sort()).toEqual(streamConsumers.map((c) => c.name).sort());
  });

  it('each stays within the filter limit of a mapping, and filters in every record a consumer of it takes', () => {
    for (const reader of streamReaders) {
      expect(reader.filterPatterns.length).toBeLessThanOrEqual(maxFiltersPerMapping);
      for (const name of reader.consumers) {
        const own = streamConsumers.find((c) => c.name === name)!.filterPatterns.map((p) => JSON.stringify(p));
        expect(reader.filterPatterns.map((p) => JSON.stringify(p))).toEqual(expect.arrayContaining(own));
      }
    }
  });

  it('take the smallest batch and window, the most retries and bisection from their consumers', () => {
    const definition = (overrides: Partial<StreamConsumerDefinition>): StreamConsumerDefinition => ({
      name: 'x',
      entry: 'x.ts',
      batchSize: 100,
      maxBatchingWindowSeconds: 1,
      retryAttempts: 5,
      bisectBatchOnError: false,
      filterPatterns: [pattern('contact')],
      ...overrides,
    });
    const consumers = [
      definition({ name: 'a', batchSize: 50, retryAttempts: 10 }),
      definition({ name: 'b', maxBatchingWindowSeconds: 0, filterPatterns: [pattern('contact'), pattern('job')] }),
    ];
    expect(defineStreamReader('ab', 'ab.ts', ['a', 'b'], consumers)).toEqual({
      name: 'ab',
      entry: 'ab.ts',
      consumers: ['a', 'b'],
      batchSize: 50,
      maxBatchingWindowSeconds: 0,
      retryAttempts: 10,
      bisectBatchOnError: true,
      filterPatterns: [pattern('contact'), pattern('job')],
    });
    const forever = [...consumers, definition({ name: 'c', retryAttempts: -1 })];
    expect(defineStreamReader('abc', 'abc.ts', ['a', 'c'], forever).retryAttempts).toBe(-1);
    const many = ['p', 'q', 'r', 's', 't', 'u'].map((entity) => definition({ name: entity, filterPatterns: [pattern(entity)] }));
    expect(() => defineStreamReader('many', 'm.ts', many.map((c) => c.name), many)).toThrow(/6 filters/);
  });
});
