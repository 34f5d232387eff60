import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceNotFoundException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  type AttributeDefinition,
} from '@aws-sdk/client-dynamodb';
import { tableDefinition } from './table-definition';

export interface EnsureTableOptions {
  /**
   * Told when an index is added to a table that lacks it (one kept by DynamoDB Local's `-dbPath`, e.g.
   * a bench data set or `npm start`'s data): DynamoDB Local indexes every existing item before the index
   * answers, which takes minutes on a table of millions of items.
   */
  onIndexAdded?: (indexName: string, itemCount: number | undefined) => void;
  /** Longest wait for an index being built (default 30 minutes). */
  indexTimeoutMs?: number;
  /** Pause between DescribeTable calls while waiting (default 500 ms). */
  pollMs?: number;
}

/**
 * Creates the table from {@link tableDefinition}, or adds the indexes it lacks and waits until they are
 * built (a Query of an index still CREATING fails on DynamoDB Local). Used by the local runtime, the
 * admin CLI against a local stack, the benches and the test setup; on AWS the CDK app owns the table.
 */
export async function ensureTable(client: DynamoDBClient, tableName: string, options: EnsureTableOptions = {}): Promise<void> {
  const existing = await describe(client, tableName);
  if (!existing) {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: attributeDefinitions(),
        KeySchema: [
          { AttributeName: tableDefinition.partitionKey, KeyType: 'HASH' },
          { AttributeName: tableDefinition.sortKey, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: tableDefinition.globalIndexes.map((index) => ({
          IndexName: index.indexName,
          KeySchema: [
            { AttributeName: index.partitionKey, KeyType: 'HASH' },
            { AttributeName: index.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        })),
        StreamSpecification: { StreamEnabled: true, StreamViewType: tableDefinition.stream },
      }),
    );
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { Enabled: true, AttributeName: tableDefinition.timeToLiveAttribute },
      }),
    );
    return;
  }
  const present = new Set((existing.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
  // One at a time, each built before the next (DynamoDB takes one index creation per table at once).
  await untilIndexesActive(client, tableName, options);
  for (const index of tableDefinition.globalIndexes) {
    if (present.has(index.indexName)) continue;
    options.onIndexAdded?.(index.indexName, existing.ItemCount);
    await client.send(
      new UpdateTableCommand({
        TableName: tableName,
        AttributeDefinitions: attributeDefinitions(),
        GlobalSecondaryIndexUpdates: [
          {
            Create: {
              IndexName: index.indexName,
              KeySchema: [
                { AttributeName: index.partitionKey, KeyType: 'HASH' },
                { AttributeName: index.sortKey, KeyType: 'RANGE' },
              ],
              Projection: { ProjectionType: 'ALL' },
            },
          },
        ],
      }),
    );
    await untilIndexesActive(client, tableName, options);
  }
}

/** Waits until no index of the table is being built (or deleted). */
async function untilIndexesActive(client: DynamoDBClient, tableName: string, options: EnsureTableOptions): Promise<void> {
  const { indexTimeoutMs = 30 * 60_000, pollMs = 500 } = options;
  const deadline = Date.now() + indexTimeoutMs;
  for (;;) {
    const table = await describe(client, tableName);
    const pending = (table?.GlobalSecondaryIndexes ?? []).filter((index) => index.IndexStatus !== 'ACTIVE');
    if (pending.length === 0) return;
    if (Date.now() > deadline) {
      const states = pending.map((index) => `${index.IndexName} ${index.IndexStatus}`).join(', ');
      throw new Error(
        `Table ${tableName}: index ${states} after ${Math.round(indexTimeoutMs / 60_000)} min. DynamoDB Local builds an index ` +
          'from every item of the table; start again to go on waiting, or delete the data directory to start afresh.',
      );
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

function attributeDefinitions(): AttributeDefinition[] {
  const names = [
    tableDefinition.partitionKey,
    tableDefinition.sortKey,
    ...tableDefinition.globalIndexes.flatMap((index) => [index.partitionKey, index.sortKey]),
  ];
  return names.map((name) => ({ AttributeName: name, AttributeType: 'S' }));
}

async function describe(client: DynamoDBClient, tableName: string) {
  try {
    const result = await client.send(new DescribeTableCommand({ TableName: tableName }));
    return result.Table;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
}
