/**
 * DynamoDB Streams consumers of the table: the single source for the CDK event source mappings
 * (infra/) and the local stream poller (local/). Each consumer is one Lambda function.
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
