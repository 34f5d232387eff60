/**
 * `npm run bench`: the raw DynamoDB Local floors, API latencies through the real handlers as ratios to
 * those floors, Lambda bundle sizes and memory. Prints one JSON document on stdout (progress on stderr)
 * and writes it to .bench/latest.json. `BENCH_QUICK=1` cuts iteration counts 10x. See README.md.
 */
import { availableParallelism } from 'node:os';
import {
  BatchGetCommand,
  BatchWriteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { allParties, counterUpdate, sendTransaction } from '../../domain/metrics/counter-store';
import { createWorkspace } from '../../domain/workspaces/workspaces.service';
import { eventTypes } from '../../events/catalogue';
import { positionKey } from '../../events/feed';
import { seedFeedEvents } from '../support/seeded-events';
import { countDynamoCalls } from '../support/dynamo-call-counter';
import { invokeHttp, type InvokeOptions } from '../../local/http-invoke';
import {
  benchMeta,
  bundleSizes,
  iterations,
  measure,
  measureInterleaved,
  processMemory,
  progress,
  quick,
  ratio,
  reserveStdout,
  resourceUsage,
  runConcurrent,
  startBenchStack,
  startMemorySampler,
  startRun,
  summarise,
  writeReport,
  type BenchStack,
  type MeasureResult,
} from './harness';

/** Data set sizes: the same in quick and full runs, so ratios mean the same thing. */
const queryPartitionItems = 300;
const queryPageSize = 25;
/** Events in the bench workspace's change feed (a page is read from the middle). */
const feedEvents = 2_000;
const seededUsers = 100;
const batchSize = 25;
const batchWriters = 4;
const batchWriteItems = iterations(20_000, 1_000);

const payload = 'x'.repeat(64);
/** Counters: a year of days, each with this many event types counted. */
const counterTypesPerDay = 40;
const counterPeriodDays = 90;

async function batchWrite(stack: BenchStack, items: Record<string, unknown>[]): Promise<number> {
  let requests = items.map((Item) => ({ PutRequest: { Item } }));
  let retries = 0;
  for (let attempt = 0; requests.length > 0; attempt++) {
    if (attempt > 0) {
      retries++;
      if (attempt > 8)
        throw new Error(`BatchWriteItem left ${requests.length} items unprocessed after 8 retries`);
      await new Promise((resolve) => setTimeout(resolve, 5 * 2 ** attempt));
    }
    const result = await stack.docClient.send(
      new BatchWriteCommand({ RequestItems: { [stack.tableName]: requests } }),
    );
    requests = (result.UnprocessedItems?.[stack.tableName] ?? []) as typeof requests;
  }
  return retries;
}

/** Writes `total` small items in batches of 25 with `concurrency` writers; items/s over the whole run. */
async function batchWriteThroughput(stack: BenchStack, prefix: string, total: number, concurrency: number) {
  const batches = Math.ceil(total / batchSize);
  const batchMs: number[] = [];
  let retries = 0;
  const start = process.hrtime.bigint();
  await runConcurrent(batches, concurrency, async (batch) => {
    const items = [];
    for (let i = batch * batchSize; i < Math.min(total, (batch + 1) * batchSize); i++) {
      items.push({ pk: `${prefix}#${i % 64}`, sk: `item#${String(i).padStart(8, '0')}`, n: i, payload });
    }
    const t0 = process.hrtime.bigint();
    retries += await batchWrite(stack, items);
    batchMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const perBatch = summarise('batchWriteItem', batchMs);
  return {
    items: total,
    batchSize,
    seconds: Math.round(seconds * 1000) / 1000,
    itemsPerSecond: Math.round(total / seconds),
    concurrency,
    batchP50Ms: perBatch.p50Ms,
    batchP99Ms: perBatch.p99Ms,
    unprocessedRetries: retries,
  };
}

/** Calls the API through the real handler and insists on the expected status (a bench never times errors). */
async function call(
  method: string,
  path: string,
  options: InvokeOptions,
  expected: number,
): Promise<APIGatewayProxyStructuredResultV2> {
  const response = await invokeHttp(method, path, options);
  if (response.statusCode !== expected) {
    throw new Error(
      `${method} ${path}: expected ${expected}, got ${response.statusCode}: ${String(response.body).slice(0, 500)}`,
    );
  }
  return response;
}

async function floorsAndApi(stack: BenchStack) {
  const { docClient, tableName } = stack;

  // Throughput first: it also warms the JVM up; the latency floors and the API then run on the same table.
  progress('batch write: warm-up');
  await batchWriteThroughput(stack, 'bench#bw-warmup', iterations(2_000, 500), batchWriters);
  progress(`batch write: ${batchWriteItems} items, batches of ${batchSize}, ${batchWriters} writers`);
  const batchWriteFloor = await batchWriteThroughput(stack, 'bench#bw', batchWriteItems, batchWriters);

  progress('floors: seeding');
  await docClient.send(
    new PutCommand({
      TableName: tableName,
      Item: { pk: 'bench#get', sk: 'item', name: 'Small item', n: 1, payload },
    }),
  );
  const queryItems = Array.from({ length: queryPartitionItems }, (_, i) => ({
    pk: 'bench#query',
    sk: `item#${String(i).padStart(5, '0')}`,
    name: `Item ${i}`,
    n: i,
    payload,
  }));
  for (let i = 0; i < queryItems.length; i += batchSize)
    await batchWrite(stack, queryItems.slice(i, i + batchSize));

  progress('api: seeding a workspace');
  const created = await createWorkspace(stack.deps, {
    name: 'Bench',
    ownerName: 'Bench Owner',
    ownerEmail: 'owner@bench.example',
  });
  const token = { token: created.token.token };

  progress(`api: POST /v1/users x ${seededUsers} (seeds the user list)`);
  const addUserWarmup = 5;
  const addUser = await measure(
    'POST /v1/users',
    seededUsers - addUserWarmup,
    (n) =>
      call(
        'POST',
        '/v1/users',
        { ...token, body: { name: `Bench User ${n}`, email: `user-${n}@bench.example`, role: 'member' } },
        201,
      ),
    { warmup: addUserWarmup },
  );
  const firstPage = JSON.parse(
    String((await call('GET', '/v1/users', { ...token, query: { limit: queryPageSize } }, 200)).body),
  ) as {
    items: unknown[];
  };
  if (firstPage.items.length !== queryPageSize)
    throw new Error(`GET /v1/users returned ${firstPage.items.length} users`);

  // The reads' own DynamoDB work, raw: the keys and the Query ElectroDB builds for `/v1/me` and the user list.
  const { user: users, workspace: workspaces } = stack.deps.db.entities;
  const meKeys = [
    users.get({ workspaceId: created.workspace.id, userId: created.owner.id }).params().Key,
    workspaces.get({ workspaceId: created.workspace.id }).params().Key,
  ];
  const usersPageQuery = users.query
    .byId({ workspaceId: created.workspace.id })
    .params({ limit: queryPageSize });

  progress(
    `api: a year of counter days (${counterTypesPerDay} event types each), written as the stream consumer writes them`,
  );
  const dayMs = 24 * 3600 * 1000;
  const lastDay = Date.parse('2026-06-30T00:00:00Z');
  const counterDays = Array.from({ length: 365 }, (_, i) =>
    new Date(lastDay - i * dayMs).toISOString().slice(0, 10),
  );
  const typesCounted = eventTypes.slice(0, counterTypesPerDay);
  await runConcurrent(counterDays.length, 8, async (i) => {
    await sendTransaction(stack.deps, [
      counterUpdate(tableName, created.workspace.id, {
        party: allParties,
        day: counterDays[i]!,
        counts: Object.fromEntries(typesCounted.map((type, t) => [type, 1 + ((i * 7 + t) % 50)])),
        figures: {},
        firstResponseSeconds: [],
      }),
    ]);
  });
  const counterPeriod = { from: counterDays[counterPeriodDays - 1]!, to: counterDays[0]! };
  const countersQuery = { ...counterPeriod, granularity: 'week' };
  const calls = countDynamoCalls(stack.rawClient);
  await call('GET', '/v1/metrics/counters', { ...token, query: countersQuery }, 200);
  calls.reset();
  const counters = JSON.parse(
    String((await call('GET', '/v1/metrics/counters', { ...token, query: countersQuery }, 200)).body),
  ) as {
    buckets: unknown[];
  };
  const countersCalls = { ...calls.counts };
  if (counters.buckets.length !== 13 && counters.buckets.length !== 14)
    throw new Error(`counters returned ${counters.buckets.length} weeks`);
  const counterKey = `WS#${created.workspace.id}#COUNTERS#${counterPeriod.to.slice(0, 4)}#${allParties}`;

  // The change feed: events given positions as the `feed` consumer gives them, a page read from the middle.
  progress(`api: ${feedEvents} events in the change feed`);
  const feedWorkspaceId = created.workspace.id;
  await seedFeedEvents(stack.deps, feedWorkspaceId, created.owner.id, feedEvents);
  const feedAfter = String(Math.floor(feedEvents / 2));

  // Floors and API measures in alternating rounds: load from elsewhere hits both alike.
  progress('floors (GetItem, Query) and API (GET /v1/me, GET /v1/users, counters), interleaved in 10 rounds');
  const measured = await measureInterleaved(
    {
      getItem: {
        iterations: iterations(1000),
        warmup: iterations(200),
        fn: async () => {
          const { Item } = await docClient.send(
            new GetCommand({ TableName: tableName, Key: { pk: 'bench#get', sk: 'item' } }),
          );
          if (!Item) throw new Error('GetItem found nothing');
        },
      },
      query: {
        iterations: iterations(500),
        warmup: iterations(100),
        fn: async () => {
          const { Items } = await docClient.send(
            new QueryCommand({
              TableName: tableName,
              KeyConditionExpression: 'pk = :pk',
              ExpressionAttributeValues: { ':pk': 'bench#query' },
              Limit: queryPageSize,
            }),
          );
          if (Items?.length !== queryPageSize) throw new Error(`Query returned ${Items?.length} items`);
        },
      },
      getMe: {
        iterations: iterations(1000),
        warmup: iterations(100),
        fn: () => call('GET', '/v1/me', token, 200),
      },
      // `/v1/me`'s own work, raw: one BatchGetItem of the caller's user and workspace (the token is cached).
      meBatchGet: {
        iterations: iterations(1000),
        warmup: iterations(100),
        fn: async () => {
          const { Responses } = await docClient.send(
            new BatchGetCommand({ RequestItems: { [tableName]: { Keys: meKeys } } }),
          );
          if (Responses?.[tableName]?.length !== 2)
            throw new Error('BatchGetItem did not find the user and the workspace');
        },
      },
      // The user list's own work, raw: the Query of a page of the workspace's users (14 attributes each).
      usersQuery: {
        iterations: iterations(500),
        warmup: iterations(50),
        fn: async () => {
          const { Items } = await docClient.send(new QueryCommand(usersPageQuery));
          if (Items?.length !== queryPageSize) throw new Error(`users Query returned ${Items?.length} users`);
        },
      },
      listUsers: {
        iterations: iterations(500),
        warmup: iterations(50),
        fn: () => call('GET', '/v1/users', { ...token, query: { limit: queryPageSize } }, 200),
      },
      // The floor of the counters read: the same 90 day items by the same key condition, raw.
      counterDaysQuery: {
        iterations: iterations(300),
        warmup: iterations(30),
        fn: async () => {
          const { Items } = await docClient.send(
            new QueryCommand({
              TableName: tableName,
              KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
              ExpressionAttributeValues: {
                ':pk': counterKey,
                ':from': counterPeriod.from,
                ':to': counterPeriod.to,
              },
            }),
          );
          if (Items?.length !== counterPeriodDays)
            throw new Error(`counter Query returned ${Items?.length} days`);
        },
      },
      counters: {
        iterations: iterations(300),
        warmup: iterations(30),
        fn: () => call('GET', '/v1/metrics/counters', { ...token, query: countersQuery }, 200),
      },
      // The floor of a feed page: the same entries by the same key condition, consistent, raw.
      feedQuery: {
        iterations: iterations(500),
        warmup: iterations(50),
        fn: async () => {
          const { Items } = await docClient.send(
            new QueryCommand({
              TableName: tableName,
              KeyConditionExpression: 'pk = :pk AND sk > :after',
              ExpressionAttributeValues: {
                ':pk': `WS#${feedWorkspaceId}#FEED`,
                ':after': positionKey(Number(feedAfter)),
              },
              Limit: queryPageSize,
              ConsistentRead: true,
            }),
          );
          if (Items?.length !== queryPageSize)
            throw new Error(`feed Query returned ${Items?.length} entries`);
        },
      },
      feed: {
        iterations: iterations(500),
        warmup: iterations(50),
        fn: () =>
          call(
            'GET',
            '/v1/events/feed',
            { ...token, query: { after: feedAfter, limit: queryPageSize } },
            200,
          ),
      },
    },
    { rounds: 10 },
  );
  const { getItem, query } = measured;
  const getMe = { ...measured.getMe, name: 'GET /v1/me' };
  const listUsers = { ...measured.listUsers, name: `GET /v1/users?limit=${queryPageSize}` };
  const countersRead = {
    ...measured.counters,
    name: `GET /v1/metrics/counters (${counterPeriodDays} days, by week)`,
  };

  const withRatios = (result: MeasureResult, floor: MeasureResult, floorName: string) => ({
    ...result,
    [`ratioTo${floorName}P50`]: ratio(result, floor, 'p50Ms'),
    [`ratioTo${floorName}P99`]: ratio(result, floor, 'p99Ms'),
  });

  return {
    floors: {
      getItem,
      query: { ...query, pageSize: queryPageSize, partitionItems: queryPartitionItems },
      batchWrite: batchWriteFloor,
      counterDaysQuery: {
        ...measured.counterDaysQuery,
        days: counterPeriodDays,
        typesPerDay: counterTypesPerDay,
      },
    },
    api: {
      getMe: {
        ...withRatios(getMe, getItem, 'GetItem'),
        ...withRatios(getMe, measured.meBatchGet, 'OwnRead'),
        ownRead: measured.meBatchGet,
        dynamoCalls:
          '1 consistent GetItem (token, held 10 s by the auth cache), then 1 BatchGetItem (the user and the workspace)',
      },
      listUsers: {
        ...withRatios(listUsers, query, 'Query'),
        ...withRatios(listUsers, measured.usersQuery, 'OwnRead'),
        ownRead: measured.usersQuery,
        users: seededUsers + 1,
        dynamoCalls: '1 consistent GetItem (token), then 1 Query',
      },
      addUser: {
        ...withRatios(addUser, getItem, 'GetItem'),
        dynamoCalls:
          '1 consistent GetItem (token), then 1 TransactWriteItems of 3 puts (email guard, user, event)',
      },
      feed: {
        ...withRatios(
          { ...measured.feed, name: `GET /v1/events/feed?after=…&limit=${queryPageSize}` },
          measured.feedQuery,
          'FeedQuery',
        ),
        feedEvents,
        floor: measured.feedQuery,
        dynamoCalls: 'the token (1 consistent GetItem, held 10 s by the auth cache), then 1 consistent Query',
      },
      counters: {
        ...withRatios(countersRead, measured.counterDaysQuery, 'CounterDaysQuery'),
        days: counterPeriodDays,
        typesPerDay: counterTypesPerDay,
        dynamoCalls: countersCalls,
      },
    },
  };
}

async function main() {
  const stdout = reserveStdout();
  process.env.LOG_LEVEL ??= 'WARN';
  const run = startRun();
  const stopSampler = startMemorySampler();
  progress(`${quick ? 'quick' : 'full'} run on Node ${process.version}, ${availableParallelism()} CPUs`);

  let stack: BenchStack | undefined;
  let measured: Awaited<ReturnType<typeof floorsAndApi>>;
  let memory: Record<string, unknown>;
  try {
    progress('starting DynamoDB Local (in memory)');
    stack = await startBenchStack();
    measured = await floorsAndApi(stack);
    memory = { benchProcess: resourceUsage(), dynamoDbLocal: processMemory(stack.emulatorPid) };
  } finally {
    if (stack) {
      progress('stopping DynamoDB Local');
      await stack.stop();
    }
  }

  progress('bundling every Lambda entry');
  const bundles = await bundleSizes({ top: 5, importRuns: quick ? 3 : 5 });
  stopSampler();

  const report = { meta: benchMeta(run), ...measured, bundles, memory };
  writeReport('latest', report, stdout);
  progress(`done in ${report.meta.durationSeconds} s; written to .bench/latest.json`);
}

main().then(
  () => {
    // Should anything (a keep-alive socket, a timer of the code under test) hold the loop open, leave anyway.
    setTimeout(() => process.exit(0), 2000).unref();
  },
  (error: unknown) => {
    process.stderr.write(
      `[bench] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 2000).unref();
  },
);
