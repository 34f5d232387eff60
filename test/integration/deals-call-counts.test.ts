import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dealLists, listEntriesOf, statsDeltas, type DealItem, type StatsDelta } from '../../domain/deals/deal-record';
import { newDealItem } from '../../domain/deals/deals.service';
import { totalBucket } from '../../domain/pipelines/pipeline-record';
import { startDynamoDbLocal, type RunningDynamoDb } from '../../local/emulators';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';

/**
 * What reading a board costs in DynamoDB requests on a pipeline of 10,000 deals: the first page of
 * every column is one Query per column, and the counts and sums of every column come with the pipeline
 * itself (one Query of its partition, which holds the stage stats), whatever the number of deals.
 *
 * The 10k deals are seeded by BatchWriteItem, as `newDealItem` (what createDeal writes) builds them,
 * and their stage stats are the sum of the very deltas createDeal ADDs (`statsDeltas`), applied
 * once per stats item. Of the deals' list entries (`listEntriesOf`, what createDeal writes) only those
 * of the pipeline's list and of one owner's (every 500th deal) are seeded: the list reads measured
 * below touch no other, and every entry would be 50k more items. Not seeded either: `deal.created`
 * events, which no read here touches.
 * The file runs on a DynamoDB Local of its own: 10k writes would otherwise hold up every other test
 * file on the shared one for the length of the seed.
 */
let own: RunningDynamoDb;
let stack: TestStack;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;
let pipeline: { id: string; stages: { id: string; name: string; kind: string }[] };
const dealCount = 10_000;
const currencies = ['EUR', 'USD', 'GBP'];
const expected = new Map<string, { count: number; sums: Map<string, { count: number; value: number }> }>();
let seedSeconds = 0;

beforeAll(async () => {
  own = await startDynamoDbLocal();
  process.env.DYNAMODB_ENDPOINT = own.endpoint; // this file's process only (test files run in forks)
  stack = await createTestStack();
  ws = await seedWorkspace(stack, 'Board');
  pipeline = (
    await stack.api('POST', '/v1/pipelines', {
      token: ws.owner.token,
      body: { name: 'Big', stages: [{ name: 'Lead' }, { name: 'Qualified' }, { name: 'Demo' }, { name: 'Proposal' }] },
    })
  ).body;
  const open = pipeline.stages.filter((stage) => stage.kind === 'open');
  const started = performance.now();
  const deals: DealItem[] = [];
  for (let index = 0; index < dealCount; index += 1) {
    const stage = open[index % open.length]!;
    const valued = index % 10 !== 0;
    deals.push(
      newDealItem({
        workspaceId: ws.workspace.id,
        dealId: stack.deps.newId('dl'),
        title: `Deal ${index}`,
        ...(valued ? { value: 1000 + index, currency: currencies[index % 3]! } : {}),
        ...(index % 500 === 7 ? { ownerId: ws.member.user.id } : {}),
        pipelineId: pipeline.id,
        stageId: stage.id,
        createdBy: ws.owner.user.id,
        now: new Date(Date.parse('2026-01-01T00:00:00Z') + index * 1000).toISOString(),
      }),
    );
  }
  const totals = new Map<string, StatsDelta>();
  for (const deal of deals) {
    for (const delta of statsDeltas(undefined, deal)) {
      const key = `${delta.stageId}|${delta.bucket}`;
      const sum = totals.get(key);
      if (sum) {
        sum.count += delta.count;
        sum.sum += delta.sum;
      } else totals.set(key, { ...delta });
      const column = expected.get(delta.stageId) ?? { count: 0, sums: new Map() };
      expected.set(delta.stageId, column);
      if (delta.bucket === totalBucket) column.count += delta.count;
      else {
        const entry = column.sums.get(delta.bucket) ?? { count: 0, value: 0 };
        column.sums.set(delta.bucket, { count: entry.count + delta.count, value: entry.value + delta.sum });
      }
    }
  }
  const result = await stack.deps.db.entities.deal.put(deals).go({ concurrent: 4 });
  expect(result.unprocessed).toEqual([]);
  const seededLists = new Set([dealLists.pipeline(pipeline.id), dealLists.owner(ws.member.user.id)]);
  const entries = deals.flatMap((deal) => listEntriesOf(deal).filter((entry) => seededLists.has(entry.list)));
  const entryResult = await stack.deps.db.entities.dealListEntry.put(entries).go({ concurrent: 4 });
  expect(entryResult.unprocessed).toEqual([]);
  for (const delta of totals.values()) {
    const key = { workspaceId: ws.workspace.id, pipelineId: delta.pipelineId, stageId: delta.stageId, bucket: delta.bucket };
    const update = stack.deps.db.entities.stageStats;
    await (delta.bucket === totalBucket
      ? update.patch(key).add({ count: delta.count }).go()
      : update.update(key).add({ count: delta.count, sum: delta.sum }).go());
  }
  seedSeconds = (performance.now() - started) / 1000;
  console.log(`seeded ${dealCount} deals in ${seedSeconds.toFixed(1)} s`);
}, 300_000);
afterAll(async () => {
  await stack?.destroy();
  await own?.stop();
});

describe('DynamoDB requests per board read', () => {
  it('one Query per column for the first pages, one Query for every count and sum, at 10,000 deals', async () => {
    const path = `/v1/pipelines/${pipeline.id}/board`;
    await stack.api('GET', path, { token: ws.member.token, query: { limit: 1 } }); // the token is read and cached
    stack.calls.reset();
    const started = performance.now();
    const res = await stack.api('GET', path, { token: ws.member.token, query: { limit: 25 } });
    const elapsedMs = performance.now() - started;
    const calls = { ...stack.calls.counts };
    console.log(`board of ${dealCount} deals: ${JSON.stringify(calls)} in ${elapsedMs.toFixed(0)} ms`);
    expect(res.status).toBe(200);
    const columns = pipeline.stages.length;
    // 1 Query of the pipeline's partition (the pipeline and all its stats items), 1 Query per column;
    // nothing else: the counts and sums cost no read of their own.
    expect(calls).toEqual({ QueryCommand: columns + 1 });

    const board = res.body as {
      columns: { stage: { id: string; kind: string }; count: number; sums: { currency: string; count: number; value: number }[]; deals: unknown[]; nextCursor: string | null }[];
    };
    for (const column of board.columns) {
      const want = expected.get(column.stage.id) ?? { count: 0, sums: new Map() };
      expect(column.count).toBe(want.count);
      expect(column.sums).toEqual(
        [...want.sums].sort(([a], [b]) => a.localeCompare(b)).map(([currency, sum]) => ({ currency, ...sum })),
      );
      expect(column.deals).toHaveLength(Math.min(25, want.count));
      expect(column.nextCursor === null).toBe(want.count <= 25);
    }
    expect(board.columns.reduce((sum, column) => sum + column.count, 0)).toBe(dealCount);

    // The next page of a column: one GetItem (the pipeline) and one Query.
    const lead = board.columns[0]!;
    stack.calls.reset();
    const next = await stack.api('GET', `/v1/pipelines/${pipeline.id}/stages/${lead.stage.id}/deals`, {
      token: ws.member.token,
      query: { limit: 25, cursor: lead.nextCursor! },
    });
    expect(next.body.items).toHaveLength(25);
    expect({ ...stack.calls.counts }).toEqual({ GetItemCommand: 1, QueryCommand: 1 });

    // A deal change keeps the sums exact without reading the column.
    const dealId = (lead.deals[0] as { id: string; value: number | null; currency: string | null }).id;
    stack.calls.reset();
    const moved = await stack.api('POST', `/v1/deals/${dealId}/stage`, { token: ws.owner.token, body: { stageId: pipeline.stages[1]!.id } });
    expect(moved.status).toBe(200);
    // read the deal, the pipeline; one transaction
    expect({ ...stack.calls.counts }).toEqual({ GetItemCommand: 2, TransactWriteItemsCommand: 1 });
    const after = (await stack.api('GET', `/v1/pipelines/${pipeline.id}/board`, { token: ws.member.token, query: { limit: 1 } })).body;
    expect(after.columns[0].count).toBe(lead.count - 1);
    expect(after.columns[1].count).toBe(board.columns[1]!.count + 1);
  });
});

describe('DynamoDB requests per deal list page', () => {
  const read = async (query: Record<string, string | number>) => {
    stack.calls.reset();
    const started = performance.now();
    const res = await stack.api('GET', '/v1/deals', { token: ws.member.token, query });
    const elapsedMs = performance.now() - started;
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const calls = { ...stack.calls.counts };
    console.log(`deals ${JSON.stringify(query)}: ${res.body.items.length} items, ${JSON.stringify(calls)} in ${elapsedMs.toFixed(0)} ms`);
    return { items: res.body.items as { id: string; statusKey: string; ownerId: string | null }[], nextCursor: res.body.nextCursor as string | null, calls };
  };

  it('one filter: one Query per page in every sort, at 10,000 deals in the list', async () => {
    await read({ limit: 1 }); // the token is read and cached
    for (const sort of ['updated', 'value', 'closeDate']) {
      const first = await read({ pipelineId: pipeline.id, sort, limit: 25 });
      expect(first.items).toHaveLength(25);
      expect(first.calls).toEqual({ QueryCommand: 1 });
      const next = await read({ pipelineId: pipeline.id, sort, limit: 25, cursor: first.nextCursor! });
      expect(next.items).toHaveLength(25);
      expect(next.calls).toEqual({ QueryCommand: 1 });
      expect(next.items.map((deal) => deal.id)).not.toContain(first.items[24]!.id);
    }
  });

  it('combined filters: one Query when the narrowest list serves or most entries match; at most 3 when few do', async () => {
    // served by the owner's list (20 deals), narrowed by the pipeline: every entry matches
    const mine = await read({ pipelineId: pipeline.id, ownerId: ws.member.user.id, limit: 25 });
    expect(mine.items).toHaveLength(dealCount / 500);
    expect(mine.nextCursor).toBeNull();
    expect(mine.calls).toEqual({ QueryCommand: 1 });
    // served by the pipeline's list, every deal open: the read-ahead fills the page
    const open = await read({ pipelineId: pipeline.id, status: 'open', limit: 25 });
    expect(open.items).toHaveLength(25);
    expect(open.calls).toEqual({ QueryCommand: 1 });
    // no deal won among 10,000 entries: 3 bounded Queries, an empty page with a cursor to go on
    for (const limit of [25, 100]) {
      let page = await read({ pipelineId: pipeline.id, status: 'won', limit });
      expect(page.items).toEqual([]);
      expect(page.nextCursor).not.toBeNull();
      expect(page.calls).toEqual({ QueryCommand: 3 });
      page = await read({ pipelineId: pipeline.id, status: 'won', limit, cursor: page.nextCursor! });
      expect(page.calls).toEqual({ QueryCommand: 3 });
    }
  });
});
