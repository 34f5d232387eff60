import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listDeals } from '../../domain/deals/deal-lists.service';
import { listDealsQuery } from '../../domain/deals/deals.schemas';
import { createDeal, markLost, markWon } from '../../domain/deals/deals.service';
import type { Deal } from '../../domain/deals/deals.schemas';
import { startDynamoDbLocal, type RunningDynamoDb } from '../../local/emulators';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';

/**
 * Combined filters of `GET /v1/deals`: every combination returns exactly the deals that pass all its
 * filters, in the sort asked for, across pages (checked against the unfiltered list filtered here),
 * and a page costs a bounded number of Queries however rare the combination.
 *
 * 300 deals in one workspace of this file's own: enough that a combination narrowing the unclaimed
 * list (~230 entries) to a handful needs more than one page of bounded reads (3 × 50 entries). They
 * are created through the service (~30 s), so the file runs on a DynamoDB Local of its own rather than
 * hold up the files beside it on the shared one.
 */
let own: RunningDynamoDb;
let stack: TestStack;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;
let pipeline: { id: string; stages: { id: string; kind: string }[] };
const contacts: string[] = [];
const companies: string[] = [];
const dealCount = 300;

type Query = Record<string, string | number>;
const wonStage = () => pipeline.stages.find((stage) => stage.kind === 'won')!.id;
const list = (query: Query, token = ws.member.token) => stack.api('GET', '/v1/deals', { token, query });

/** Every page of a query, checking each costs at most `maxQueries` Queries and nothing else. */
async function walk(query: Query, maxQueries = 3) {
  const deals: Deal[] = [];
  const pages: { size: number; queries: number; more: boolean }[] = [];
  let cursor: string | undefined;
  do {
    stack.calls.reset();
    const res = await list({ ...query, ...(cursor ? { cursor } : {}) });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const calls = { ...stack.calls.counts };
    expect(Object.keys(calls).filter((name) => name !== 'QueryCommand')).toEqual([]);
    expect(calls.QueryCommand).toBeLessThanOrEqual(maxQueries);
    deals.push(...(res.body.items as Deal[]));
    cursor = res.body.nextCursor ?? undefined;
    pages.push({ size: res.body.items.length, queries: calls.QueryCommand ?? 0, more: Boolean(cursor) });
    expect(pages.length).toBeLessThan(200);
  } while (cursor);
  return { deals, pages };
}

const matches = (deal: Deal, query: Query) =>
  (query.contactId === undefined || deal.contactId === query.contactId) &&
  (query.companyId === undefined || deal.companyId === query.companyId) &&
  (query.pipelineId === undefined || deal.pipelineId === query.pipelineId) &&
  (query.stageId === undefined || deal.stageId === query.stageId) &&
  (query.status === undefined || deal.statusKey === query.status) &&
  (query.ownerId === undefined || deal.ownerId === (query.ownerId === 'none' ? null : query.ownerId)) &&
  (query.closeFrom === undefined || (deal.expectedCloseDate !== null && deal.expectedCloseDate >= String(query.closeFrom))) &&
  (query.closeTo === undefined || (deal.expectedCloseDate !== null && deal.expectedCloseDate <= String(query.closeTo)));

beforeAll(async () => {
  own = await startDynamoDbLocal();
  process.env.DYNAMODB_ENDPOINT = own.endpoint; // this file's process only (test files run in forks)
  stack = await createTestStack();
  ws = await seedWorkspace(stack, 'Filters');
  pipeline = (
    await stack.api('POST', '/v1/pipelines', {
      token: ws.owner.token,
      body: { name: 'Second', stages: [{ name: 'Lead' }, { name: 'Demo' }] },
    })
  ).body;
  for (const name of ['Cora', 'Dario']) {
    contacts.push((await stack.api('POST', '/v1/contacts', { token: ws.owner.token, body: { name, channels: [] } })).body.id);
  }
  for (const name of ['Kilo Ltd', 'Lima Inc']) {
    companies.push((await stack.api('POST', '/v1/companies', { token: ws.owner.token, body: { name } })).body.id);
  }
  const caller = { workspaceId: ws.workspace.id, userId: ws.owner.user.id, role: 'owner' as const };
  const open = pipeline.stages.filter((stage) => stage.kind === 'open');
  const indexes = Array.from({ length: dealCount }, (_, index) => index);
  const workers = Array.from({ length: 8 }, async () => {
    for (let i = indexes.shift(); i !== undefined; i = indexes.shift()) {
      stack.clock.advance(1000);
      const second = i % 3 === 0;
      const deal = await createDeal(stack.deps, caller, {
        title: `Deal ${i}`,
        ...(i % 6 === 0 ? {} : { value: ((i * 37) % 40) * 100, currency: 'EUR' }), // ties on value
        ...(i % 4 === 3 ? {} : { expectedCloseDate: new Date(Date.UTC(2026, 0, 1 + ((i * 13) % 90))).toISOString().slice(0, 10) }),
        ...(i % 5 < 2 ? { contactId: contacts[i % 5]! } : {}),
        ...(i % 4 < 2 ? { companyId: companies[i % 4]! } : {}),
        ...(i % 7 === 0 ? { ownerId: ws.member.user.id } : i % 11 === 0 ? { ownerId: ws.admin.user.id } : {}),
        ...(second ? { pipelineId: pipeline.id, stageId: open[i % 2]!.id } : { stageId: i % 2 ? 'st_open' : 'st_negotiating' }),
      });
      stack.clock.advance(1000);
      if (i % 9 === 0) await markWon(stack.deps, caller, deal.id);
      else if (i % 10 === 5) await markLost(stack.deps, caller, deal.id, { reason: 'Budget' });
    }
  });
  await Promise.all(workers);
  // the token and the user are read once and cached
  await list({ limit: 1 });
}, 120_000);
afterAll(async () => {
  await stack?.destroy();
  await own?.stop();
});

describe('combined filters', () => {
  const combinations = (): Query[] => [
    { ownerId: ws.member.user.id, status: 'open' }, // "my open deals"
    { companyId: companies[0]!, status: 'won' }, // "this company's won deals"
    { pipelineId: pipeline.id, status: 'open', ownerId: 'none' }, // "open deals of pipeline X owned by nobody"
    { pipelineId: pipeline.id, stageId: pipeline.stages[1]!.id, ownerId: 'none' },
    { pipelineId: pipeline.id, stageId: wonStage(), companyId: companies[1]! },
    { contactId: contacts[0]!, companyId: companies[0]! },
    { contactId: contacts[1]!, pipelineId: 'pl_default', status: 'open', ownerId: 'none' },
    { ownerId: ws.admin.user.id, pipelineId: 'pl_default' },
    { ownerId: 'none', status: 'lost' },
    { status: 'won', pipelineId: pipeline.id },
    { contactId: contacts[0]!, companyId: companies[0]!, ownerId: ws.member.user.id, pipelineId: 'pl_default', status: 'open' },
  ];
  const sorts: Query[] = [
    { sort: 'updated' },
    { sort: 'value' },
    { sort: 'value', order: 'asc' },
    { sort: 'closeDate' },
    { sort: 'closeDate', order: 'desc' },
  ];

  it('each combination, in each sort, lists exactly the deals matching every filter across pages', async () => {
    for (const sort of sorts) {
      const everything = (await walk({ ...sort, limit: 100 }, 1)).deals;
      expect(everything).toHaveLength(dealCount);
      for (const filters of combinations()) {
        const query = { ...filters, ...sort };
        const expected = everything.filter((deal) => matches(deal, query)).map((deal) => deal.id);
        expect(expected.length, JSON.stringify(filters)).toBeGreaterThan(0);
        for (const limit of [4, 25]) {
          const got = (await walk({ ...query, limit })).deals.map((deal) => deal.id);
          expect(new Set(got).size, JSON.stringify(query)).toBe(got.length);
          expect(got, JSON.stringify({ ...query, limit })).toEqual(expected);
        }
      }
    }
  }, 120_000);

  it('a close-date range with combined filters is a key range, narrowed alike', async () => {
    const closing = (await walk({ sort: 'closeDate', limit: 100 }, 1)).deals;
    for (const filters of combinations().slice(0, 4)) {
      const query = { ...filters, closeFrom: '2026-01-20', closeTo: '2026-02-28' };
      const expected = closing.filter((deal) => matches(deal, query)).map((deal) => deal.id);
      expect(expected.length).toBeGreaterThan(0);
      expect((await walk({ ...query, limit: 3 })).deals.map((deal) => deal.id)).toEqual(expected);
    }
  });

  it('a rare combination over many entries ends, each page at most 3 Queries, short pages carrying a cursor', async () => {
    // Served by the unclaimed list (~230 entries), narrowed to the lost deals of the second pipeline.
    const query = { ownerId: 'none', pipelineId: pipeline.id, status: 'lost' };
    const everything = (await walk({ limit: 100 }, 1)).deals;
    const expected = everything.filter((deal) => matches(deal, query)).map((deal) => deal.id);
    const unclaimed = everything.filter((deal) => deal.ownerId === null).length;
    expect(unclaimed).toBeGreaterThan(150);
    expect(expected.length).toBeLessThan(10);
    const { deals, pages } = await walk({ ...query, limit: 5 });
    expect(deals.map((deal) => deal.id)).toEqual(expected);
    // 50 entries a Query, 3 a page: the unclaimed list takes two pages, the first short with a cursor
    expect(pages.length).toBe(Math.ceil(unclaimed / 150));
    expect(pages[0]).toMatchObject({ queries: 3, more: true });
    expect(pages[0]!.size).toBeLessThan(5);
  });

  it('one filter, or filters one list serves, is one Query per page', async () => {
    const queries: Query[] = [
      { status: 'open' },
      { ownerId: 'none', sort: 'value' },
      { pipelineId: pipeline.id, sort: 'closeDate' },
      { pipelineId: pipeline.id, stageId: pipeline.stages[0]!.id },
      { contactId: contacts[0]! },
      { companyId: companies[1]!, sort: 'value', order: 'asc' },
    ];
    for (const query of queries) {
      const { deals, pages } = await walk({ ...query, limit: 10 }, 1);
      expect(pages.every((page, index) => page.size === 10 || index === pages.length - 1)).toBe(true);
      expect(deals.every((deal) => matches(deal, query))).toBe(true);
    }
  });

  it('a combination where most entries match fills its page in one Query', async () => {
    stack.calls.reset();
    const res = await list({ ownerId: 'none', status: 'open', limit: 20 });
    expect(res.body.items).toHaveLength(20);
    expect(res.body.nextCursor).not.toBeNull();
    expect({ ...stack.calls.counts }).toEqual({ QueryCommand: 1 });
  });

  it('refuses a cursor reused with other filters, sort or order, and a forged one, with 400 query.cursor', async () => {
    const query = { ownerId: 'none', status: 'open', limit: 2 };
    const { nextCursor } = (await list(query)).body;
    expect(nextCursor).toEqual(expect.any(String));
    expect((await list({ ...query, limit: 5, cursor: nextCursor })).status).toBe(200);
    expect((await list({ status: 'open', ownerId: 'none', cursor: nextCursor })).status).toBe(200); // same filters
    const others: Query[] = [
      { ownerId: 'none', limit: 2 },
      { status: 'open', limit: 2 },
      { ...query, status: 'won' },
      { ...query, pipelineId: 'pl_default' },
      { ...query, sort: 'value' },
      { ...query, order: 'asc' },
      { ...query, closeFrom: '2026-01-01' },
    ];
    for (const other of others) {
      const res = await list({ ...other, cursor: nextCursor });
      expect(res.status, JSON.stringify(other)).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.body).toMatchObject({ code: 'invalid_cursor', errors: [{ field: 'query.cursor' }] });
    }
    // A forged cursor never reaches the list: the seal refuses it.
    for (const forged of ['x', Buffer.from(JSON.stringify({ v: 1, f: 'x', id: 'dl_1', s: 'x' })).toString('base64url'), nextCursor.slice(0, -2)]) {
      const res = await list({ ...query, cursor: forged });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'invalid_cursor', errors: [{ field: 'query.cursor' }] });
    }
    // Under the seal, the list still checks its own cursor (position and fingerprint) itself.
    const caller = { workspaceId: ws.workspace.id, userId: ws.member.user.id, role: 'member' as const };
    const direct = (q: Query) => listDeals(stack.deps, caller, listDealsQuery.parse(q));
    const inner = (await direct(query)).nextCursor!;
    const decoded = JSON.parse(Buffer.from(inner, 'base64url').toString('utf8')) as Record<string, unknown>;
    for (const forged of [{ ...decoded, id: '' }, { ...decoded, s: '' }, { ...decoded, s: 'x'.repeat(1100) }, { ...decoded, f: 'x' }]) {
      const cursor = Buffer.from(JSON.stringify(forged)).toString('base64url');
      await expect(direct({ ...query, cursor })).rejects.toMatchObject({ code: 'invalid_cursor' });
    }
    // a ranged query's cursor moved outside its range
    const ranged = { status: 'open', ownerId: 'none', closeFrom: '2026-02-01', limit: 2 };
    const rangedCursor = JSON.parse(Buffer.from((await direct(ranged)).nextCursor!, 'base64url').toString('utf8'));
    const outside = Buffer.from(JSON.stringify({ ...rangedCursor, s: '12026-01-05#dl_x' })).toString('base64url');
    await expect(direct({ ...ranged, cursor: outside })).rejects.toMatchObject({ code: 'invalid_cursor' });
  });

  it('keeps the other validation: stageId needs pipelineId, a range needs sort=closeDate', async () => {
    const stage = await list({ stageId: 'st_open', ownerId: 'none' });
    expect(stage.status).toBe(400);
    expect(stage.body.errors[0].field).toBe('query.stageId');
    const sorted = await list({ status: 'open', ownerId: 'none', closeFrom: '2026-01-01', sort: 'value' });
    expect(sorted.body.errors[0].field).toBe('query.sort');
    expect((await list({ status: 'open', companyId: companies[0]!, closeFrom: '2026-03-01', closeTo: '2026-02-01' })).body.errors[0].field).toBe('query.closeTo');
  });

  it('another workspace’s ids combined are simply empty', async () => {
    const other = await seedWorkspace(stack, 'Other');
    const queries: Query[] = [
      { companyId: companies[0]!, status: 'won' },
      { ownerId: ws.member.user.id, status: 'open' },
      { pipelineId: pipeline.id, ownerId: 'none' },
    ];
    for (const query of queries) {
      const res = await list({ ...query, limit: 100 }, other.member.token);
      expect(res.status).toBe(200);
      expect(res.body.items).toEqual([]);
      expect(res.body.nextCursor).toBeNull();
    }
    // and a cursor of this workspace is refused there
    const { nextCursor } = (await list({ ownerId: 'none', status: 'open', limit: 2 })).body;
    expect((await list({ ownerId: 'none', status: 'open', limit: 2, cursor: nextCursor }, other.member.token)).status).toBe(400);
  });
});
