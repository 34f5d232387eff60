import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DeleteTableCommand, DescribeTableCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureTable } from '../../domain/store/create-table';
import { createDb } from '../../domain/store/db';
import { createDocumentClient, createDynamoClient } from '../../domain/store/dynamo-client';
import { tableDefinition } from '../../domain/store/table-definition';
import { assertLocalEndpoint } from '../support/setup-env';

/**
 * A table kept from before an index was added (a bench data set, `npm start`'s saved data): ensureTable
 * adds the index and returns once DynamoDB Local has built it, so the first Query of it works.
 */
const endpoint = process.env.DYNAMODB_ENDPOINT!;
assertLocalEndpoint(endpoint);
const raw = createDynamoClient({ endpoint });
const tableName = `crm-test-old-${randomUUID().slice(0, 8)}`;

afterAll(async () => {
  await raw.send(new DeleteTableCommand({ TableName: tableName })).catch(() => undefined);
  raw.destroy();
});

describe('ensureTable on a table made before the last index', () => {
  it('adds the missing index, says so, and waits until it answers', async () => {
    // Prepare: the table as the first three indexes made it, with a job listed under gsi4's keys
    const [last, ...earlier] = [...tableDefinition.globalIndexes].reverse();
    const older = earlier.reverse();
    const keys = (names: string[]) => names.map((name) => ({ AttributeName: name, AttributeType: 'S' as const }));
    await raw.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: keys(['pk', 'sk', ...older.flatMap((index) => [index.partitionKey, index.sortKey])]),
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: older.map((index) => ({
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
    const db = createDb(createDocumentClient(raw), tableName);
    const job = {
      workspaceId: 'ws_old',
      jobId: 'job_01JQ0000000000000000000000',
      kind: 'export_contacts',
      status: 'queued' as const,
      createdBy: 'usr_1',
      input: {},
      progress: { processed: 0 },
      dispatchSeq: 1,
      files: {},
      attempts: 0,
      createdAt: '2026-04-01T09:00:00.000Z',
      updatedAt: '2026-04-01T09:00:00.000Z',
      activeShard: 9,
      activeKey: '2026-04-01T09:00:00.000Z#ws_old#job_01JQ0000000000000000000000',
      version: 1,
    };
    await db.entities.job.put(job).go();
    // And items without any gsi4 key, as most are
    for (let n = 0; n < 50; n += 1) {
      await raw.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: `OTHER#${n}` }, sk: { S: 'X' } } }));
    }
    const added: string[] = [];

    // Act
    await ensureTable(raw, tableName, { onIndexAdded: (index) => added.push(index), pollMs: 100 });

    // Assess
    expect(added).toEqual([last!.indexName]);
    const table = (await raw.send(new DescribeTableCommand({ TableName: tableName }))).Table!;
    expect(table.GlobalSecondaryIndexes?.map((index) => [index.IndexName, index.IndexStatus]).sort()).toEqual(
      tableDefinition.globalIndexes.map((index) => [index.indexName, 'ACTIVE']),
    );
    const { data } = await db.entities.job.query.byActivity({ activeShard: 9 }).go();
    expect(data.map((item) => item.jobId)).toEqual([job.jobId]);
    // A second call finds nothing to add
    await ensureTable(raw, tableName, { onIndexAdded: (index) => added.push(index) });
    expect(added).toHaveLength(1);
  }, 180_000);
});
