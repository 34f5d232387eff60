/**
 * DynamoDB Streams consumers of the table (the logical consumers: what each does with which records),
 * and the stream readers that run them (`streamReaders` below): the single source for the CDK event
 * source mappings (infra/) and the local stream poller (local/). Each reader is one Lambda function
 * with one event source mapping; a consumer runs inside the reader that lists it.
 */
export interface StreamConsumerDefinition {
  name: string;
  /** Handler module, exporting `handler(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse>`. */
  entry: string;
  batchSize: number;
  maxBatchingWindowSeconds: number;
  /** Retries of a failing batch before its records go to the on-failure destination. */
  retryAttempts: number;
  bisectBatchOnError: boolean;
  /**
   * Lambda event filter patterns (the AWS filter syntax, applied to the stream record): records that
   * match none never invoke the function. The local poller applies the same patterns.
   */
  filterPatterns: Record<string, unknown>[];
}

export const streamConsumers: StreamConsumerDefinition[] = [
  {
    name: 'event-fanout',
    entry: 'functions/streams/event-fanout.handler.ts',
    batchSize: 100,
    maxBatchingWindowSeconds: 1,
    retryAttempts: 5,
    bisectBatchOnError: true,
    // Only appended events: every state change writes one, so this is the whole activity stream.
    filterPatterns: [{ eventName: ['INSERT'], dynamodb: { NewImage: { __edb_e__: { S: ['event'] } } } }],
  },
  {
    name: 'tag-usage',
    entry: 'functions/streams/tag-usage.handler.ts',
    batchSize: 100,
    maxBatchingWindowSeconds: 1,
    retryAttempts: 5,
    bisectBatchOnError: true,
    // Contact items written or changed: the consumer diffs the images' tags (most changes leave them alone).
    filterPatterns: [{ eventName: ['INSERT', 'MODIFY'], dynamodb: { NewImage: { __edb_e__: { S: ['contact'] } } } }],
  },
  {
    name: 'segments',
    entry: 'functions/streams/segments.handler.ts',
    batchSize: 100,
    maxBatchingWindowSeconds: 1,
    retryAttempts: 10,
    bisectBatchOnError: true,
    // Contact items written or changed: the consumer evaluates the dynamic segments whose rules read what changed.
    filterPatterns: [{ eventName: ['INSERT', 'MODIFY'], dynamodb: { NewImage: { __edb_e__: { S: ['contact'] } } } }],
  },
  {
    name: 'fit-rules',
    entry: 'functions/streams/fit-rules.handler.ts',
    batchSize: 100,
    maxBatchingWindowSeconds: 1,
    retryAttempts: 10,
    bisectBatchOnError: true,
    // Contact items written or changed: rule criteria of fit scoring re-evaluated, leads' summaries kept.
    filterPatterns: [{ eventName: ['INSERT', 'MODIFY'], dynamodb: { NewImage: { __edb_e__: { S: ['contact'] } } } }],
  },
  {
    name: 'unread-totals',
    entry: 'functions/streams/unread-totals.handler.ts',
    batchSize: 100,
    maxBatchingWindowSeconds: 1,
    retryAttempts: 10,
    bisectBatchOnError: true,
    // Every change of a user's unread counter, its deletion included (only the old image then).
    filterPatterns: [
      { eventName: ['INSERT', 'MODIFY'], dynamodb: { NewImage: { __edb_e__: { S: ['unreadCounter'] } } } },
      { eventName: ['REMOVE'], dynamodb: { OldImage: { __edb_e__: { S: ['unreadCounter'] } } } },
    ],
  },
  {
    name: 'job-dispatch',
    entry: 'functions/streams/job-dispatch.handler.ts',
    batchSize: 100,
    maxBatchingWindowSeconds: 0,
    retryAttempts: 10,
    bisectBatchOnError: true,
    // Job items written or changed: the consumer sends a message when the job is new or its dispatchSeq moved.
    filterPatterns: [{ eventName: ['INSERT', 'MODIFY'], dynamodb: { NewImage: { __edb_e__: { S: ['job'] } } } }],
  },
];

/**
 * A stream reader: one Lambda function with one event source mapping on the table's stream, running the
 * consumers it lists. Its mapping settings are derived from theirs (`defineStreamReader`), so it has the
 * consumers' shape and the poller and CDK take it as they took a consumer.
 */
export interface StreamReaderDefinition extends StreamConsumerDefinition {
  /** The consumers it runs, each on the records its own filter patterns match. */
  consumers: readonly string[];
}

/**
 * DynamoDB's quota (Developer Guide, "Service, account, and table quotas", DynamoDB Streams): "Do not
 * allow more than two processes to read from the same DynamoDB Streams shard at the same time.
 * Exceeding this limit can result in request throttling." Each event source mapping is one such process.
 */
export const maxStreamReaders = 2;

/**
 * Lambda's event filtering (Lambda Developer Guide, "Control which events Lambda sends to your
 * function"): "By default, you can define up to five different filters for a single event source
 * mapping" (10 on request: we stay within the default, so a deploy needs no quota increase).
 */
export const maxFiltersPerMapping = 5;

/**
 * A reader for the named consumers: the union of their filter patterns (each distinct pattern once),
 * the smallest batch and batching window (the most impatient consumer sets the pace), the most retries
 * (no consumer gives up sooner than it did alone), and bisection on error.
 */
export function defineStreamReader(
  name: string,
  entry: string,
  consumerNames: readonly string[],
  consumers: readonly StreamConsumerDefinition[] = streamConsumers,
): StreamReaderDefinition {
  const members = consumerNames.map((consumerName) => {
    const consumer = consumers.find((candidate) => candidate.name === consumerName);
    if (!consumer) throw new Error(`Stream reader ${name}: no stream consumer named ${consumerName}`);
    return consumer;
  });
  if (members.length === 0) throw new Error(`Stream reader ${name} runs no consumer`);
  const patterns = new Map<string, Record<string, unknown>>();
  for (const pattern of members.flatMap((member) => member.filterPatterns)) patterns.set(JSON.stringify(pattern), pattern);
  if (patterns.size > maxFiltersPerMapping) {
    throw new Error(`Stream reader ${name} needs ${patterns.size} filters: a mapping may have ${maxFiltersPerMapping}`);
  }
  // -1 retries until the records expire: more than any count.
  const retries = members.map((member) => (member.retryAttempts < 0 ? Infinity : member.retryAttempts));
  const retryAttempts = Math.max(...retries);
  return {
    name,
    entry,
    consumers: members.map((member) => member.name),
    batchSize: Math.min(...members.map((member) => member.batchSize)),
    maxBatchingWindowSeconds: Math.min(...members.map((member) => member.maxBatchingWindowSeconds)),
    retryAttempts: retryAttempts === Infinity ? -1 : retryAttempts,
    bisectBatchOnError: true,
    filterPatterns: [...patterns.values()],
  };
}

/**
 * The table's stream readers, at most `maxStreamReaders`: the appended events alone (the activity
 * stream keeps its own function: its retries and bisection, and a slow or failing fan-out does not
 * hold up the other consumers), and every other record change.
 * A reader of one consumer is that consumer's handler (its mapping's filter is the consumer's own);
 * a reader of several has its own entry, built with `createStreamReader` (stream-reader.ts).
 */
export const streamReaders: StreamReaderDefinition[] = [
  defineStreamReader('event-fanout', 'functions/streams/event-fanout.handler.ts', ['event-fanout']),
  defineStreamReader('record-changes', 'functions/streams/record-changes.handler.ts', [
    'tag-usage',
    'segments',
    'fit-rules',
    'unread-totals',
    'job-dispatch',
  ]),
];
