import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dealMergeSettings } from '../../domain/deals/deal-merge-steps';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';

let stack: TestStack;
let acme: Awaited<ReturnType<typeof seedWorkspace>>;
let globex: Awaited<ReturnType<typeof seedWorkspace>>;

beforeAll(async () => {
  stack = await createTestStack();
  acme = await seedWorkspace(stack, 'Acme');
  globex = await seedWorkspace(stack, 'Globex');
});
afterAll(() => stack.destroy());

let counter = 0;
const unique = () => `u${++counter}`;
type Body = Record<string, unknown>;
const createDeal = (token: string, body: Body, headers?: Record<string, string>) => {
  stack.clock.advance(1000);
  return stack.api('POST', '/v1/deals', { token, body, headers });
};
const act = (token: string, method: string, path: string, body?: Body, headers?: Record<string, string>) => {
  stack.clock.advance(1000);
  return stack.api(method, path, { token, body, headers });
};
const createContact = async (token: string, body: Body) => {
  stack.clock.advance(1000);
  return (await stack.api('POST', '/v1/contacts', { token, body })).body;
};
const createCompany = async (token: string, body: Body) => {
  stack.clock.advance(1000);
  return (await stack.api('POST', '/v1/companies', { token, body })).body;
};
const events = async (token: string, entityType: string, entityId: string) =>
  (await stack.api('GET', '/v1/events', { token, query: { entityType, entityId, limit: 100 } })).body.items as {
    type: string;
    payload: Body;
    contactId: string | null;
    companyId: string | null;
    dealId: string | null;
  }[];
const list = async (token: string, query: Record<string, string | number> = {}) =>
  stack.api('GET', '/v1/deals', { token, query: { limit: 100, ...query } });
const ids = (res: { body: { items: { id: string }[] } }) => res.body.items.map((item) => item.id);
const board = async (token: string, pipelineId: string, limit = 100) =>
  (await stack.api('GET', `/v1/pipelines/${pipelineId}/board`, { token, query: { limit } })).body as {
    columns: { stage: { id: string; name: string }; count: number; sums: Body[]; deals: { id: string }[] }[];
  };
const column = (b: Awaited<ReturnType<typeof board>>, stageId: string) => b.columns.find((c) => c.stage.id === stageId)!;
const newPipeline = async (token: string, name = `P ${unique()}`) =>
  (
    await stack.api('POST', '/v1/pipelines', {
      token,
      body: { name, stages: [{ name: 'Lead' }, { name: 'Demo' }, { name: 'Proposal' }] },
    })
  ).body as { id: string; stages: { id: string; name: string; kind: string }[] };

describe('the default pipeline', () => {
  it('every workspace starts with Open, Negotiating, Won, Lost (won/lost flagged)', async () => {
    const res = await stack.api('GET', '/v1/pipelines', { token: acme.member.token });
    expect(res.status).toBe(200);
    expect(res.body.items).toHaveLength(1);
    expect(res.body.items[0]).toMatchObject({
      id: 'pl_default',
      isDefault: true,
      stages: [
        { id: 'st_open', name: 'Open', kind: 'open', sortIndex: 0 },
        { id: 'st_negotiating', name: 'Negotiating', kind: 'open', sortIndex: 1 },
        { id: 'st_won', name: 'Won', kind: 'won', sortIndex: 2 },
        { id: 'st_lost', name: 'Lost', kind: 'lost', sortIndex: 3 },
      ],
    });
  });
});

describe('create, read, update', () => {
  it('creates a deal in the default pipeline, its company from its contact, with deal.created on every timeline', async () => {
    const company = await createCompany(acme.owner.token, { name: 'Initrode', domains: ['initrode.example'] });
    const contact = await createContact(acme.owner.token, {
      name: 'Bill Lumbergh',
      channels: [{ kind: 'email', value: 'bill@initrode.example' }],
    });
    expect(contact.companyId).toBe(company.id);
    const res = await createDeal(acme.member.token, {
      title: 'TPS reports licence',
      value: 125_000,
      currency: 'EUR',
      expectedCloseDate: '2026-03-31',
      contactId: contact.id,
    });
    expect(res.status).toBe(201);
    expect(res.headers.etag).toBe('"1"');
    expect(res.headers.location).toBe(`/v1/deals/${res.body.id}`);
    expect(res.body).toMatchObject({
      id: expect.stringMatching(/^dl_/),
      title: 'TPS reports licence',
      value: 125_000,
      currency: 'EUR',
      expectedCloseDate: '2026-03-31',
      contactId: contact.id,
      companyId: company.id,
      ownerId: null,
      pipelineId: 'pl_default',
      stageId: 'st_open',
      statusKey: 'open',
      lostReason: null,
      closedAt: null,
      version: 1,
      createdBy: acme.member.user.id,
    });
    const read = await stack.api('GET', `/v1/deals/${res.body.id}`, { token: acme.admin.token });
    expect(read.body).toEqual(res.body);
    const [created] = await events(acme.owner.token, 'deal', res.body.id);
    expect(created).toMatchObject({
      type: 'deal.created',
      dealId: res.body.id,
      contactId: contact.id,
      companyId: company.id,
      payload: { title: 'TPS reports licence', value: 125_000, currency: 'EUR', stageId: 'st_open' },
    });
  });

  it('replays a create with the same Idempotency-Key', async () => {
    const key = unique();
    const first = await createDeal(acme.owner.token, { title: 'Once' }, { 'idempotency-key': key });
    const again = await createDeal(acme.owner.token, { title: 'Once' }, { 'idempotency-key': key });
    expect(again.status).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body.id).toBe(first.body.id);
    expect(ids(await list(acme.owner.token)).filter((id) => id === first.body.id)).toHaveLength(1);
  });

  it('updates with If-Match, clears with null, answers a stale version with 412 and logs deal.updated', async () => {
    const deal = (await createDeal(acme.owner.token, { title: 'Upd', value: 500, currency: 'USD', expectedCloseDate: '2026-05-01' })).body;
    const upd = await act(acme.owner.token, 'PATCH', `/v1/deals/${deal.id}`, { title: 'Updated', value: 700, expectedCloseDate: null }, { 'if-match': '"1"' });
    expect(upd.status).toBe(200);
    expect(upd.headers.etag).toBe('"2"');
    expect(upd.body).toMatchObject({ title: 'Updated', value: 700, currency: 'USD', expectedCloseDate: null, version: 2 });
    const late = await act(acme.admin.token, 'PATCH', `/v1/deals/${deal.id}`, { title: 'Late' }, { 'if-match': '"1"' });
    expect(late.status).toBe(412);
    const [updated] = await events(acme.owner.token, 'deal', deal.id);
    expect(updated).toMatchObject({
      type: 'deal.updated',
      payload: { changes: { title: { from: 'Upd', to: 'Updated' }, value: { from: 500, to: 700 }, expectedCloseDate: { from: '2026-05-01', to: null } } },
    });
    const same = await act(acme.owner.token, 'PATCH', `/v1/deals/${deal.id}`, { title: 'Updated' });
    expect(same.body.version).toBe(2); // nothing changed: nothing written
  });

  it('validates deal custom fields against the workspace’s deal definitions', async () => {
    await stack.api('POST', '/v1/custom-fields', {
      token: acme.owner.token,
      body: { entityType: 'deal', key: 'source', label: 'Source', type: 'select', options: [{ value: 'web', label: 'Web' }, { value: 'event', label: 'Event' }] },
    });
    const ok = await createDeal(acme.owner.token, { title: 'CF', customFields: { source: 'web' } });
    expect(ok.body.customFields).toEqual({ source: 'web' });
    const bad = await createDeal(acme.owner.token, { title: 'CF bad', customFields: { source: 'fax', nope: 1 } });
    expect(bad.status).toBe(400);
    expect(bad.headers['content-type']).toContain('application/problem+json');
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['body.customFields.nope', 'body.customFields.source']);
    const cleared = await act(acme.owner.token, 'PATCH', `/v1/deals/${ok.body.id}`, { customFields: { source: null } });
    expect(cleared.body.customFields).toEqual({});
  });
});

describe('stages and status', () => {
  it('changes stage with from/to, marks won and lost (moving to those stages), reopens, keeping the board exact', async () => {
    const deal = (await createDeal(acme.owner.token, { title: 'Lifecycle', value: 1000, currency: 'GBP' })).body;
    const moved = await act(acme.owner.token, 'POST', `/v1/deals/${deal.id}/stage`, { stageId: 'st_negotiating' }, { 'if-match': '"1"' });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ stageId: 'st_negotiating', statusKey: 'open', version: 2 });
    const stale = await act(acme.owner.token, 'POST', `/v1/deals/${deal.id}/stage`, { stageId: 'st_open' }, { 'if-match': '"1"' });
    expect(stale.status).toBe(412);
    const won = await act(acme.owner.token, 'POST', `/v1/deals/${deal.id}/won`);
    expect(won.body).toMatchObject({ stageId: 'st_won', statusKey: 'won', closedAt: expect.any(String) });
    const lost = await act(acme.owner.token, 'POST', `/v1/deals/${deal.id}/lost`, { reason: 'Budget cut' });
    expect(lost.body).toMatchObject({ stageId: 'st_lost', statusKey: 'lost', lostReason: 'Budget cut' });
    const again = await act(acme.owner.token, 'POST', `/v1/deals/${deal.id}/lost`, { reason: 'Budget cut' });
    expect(again.body.version).toBe(lost.body.version); // already lost: nothing written
    const reopened = await act(acme.owner.token, 'POST', `/v1/deals/${deal.id}/reopen`, { stageId: 'st_negotiating' });
    expect(reopened.body).toMatchObject({ stageId: 'st_negotiating', statusKey: 'open', closedAt: null, lostReason: null });
    const types = (await events(acme.owner.token, 'deal', deal.id)).map((e) => e.type);
    expect(types).toEqual([
      'deal.reopened',
      'deal.stage_changed',
      'deal.lost',
      'deal.stage_changed',
      'deal.won',
      'deal.stage_changed',
      'deal.stage_changed',
      'deal.created',
    ]);
    const [, firstMove] = (await events(acme.owner.token, 'deal', deal.id)).slice(-2).reverse();
    expect(firstMove!.payload).toEqual({
      from: { pipelineId: 'pl_default', stageId: 'st_open', statusKey: 'open' },
      to: { pipelineId: 'pl_default', stageId: 'st_negotiating', statusKey: 'open' },
    });
    const status = await list(acme.owner.token, { status: 'open' });
    expect(ids(status)).toContain(deal.id);
    expect(ids(await list(acme.owner.token, { status: 'lost' }))).not.toContain(deal.id);
  });

  it('moves a deal to another pipeline and refuses a stage that is not in the pipeline', async () => {
    const pipeline = await newPipeline(acme.owner.token);
    const deal = (await createDeal(acme.owner.token, { title: 'Mover', value: 300, currency: 'EUR' })).body;
    const wrong = await act(acme.owner.token, 'POST', `/v1/deals/${deal.id}/stage`, { stageId: pipeline.stages[1]!.id });
    expect(wrong.status).toBe(422);
    expect(wrong.body).toMatchObject({ code: 'invalid_reference', errors: [{ field: 'body.stageId' }] });
    const moved = await act(acme.owner.token, 'POST', `/v1/deals/${deal.id}/stage`, { pipelineId: pipeline.id, stageId: pipeline.stages[1]!.id });
    expect(moved.body).toMatchObject({ pipelineId: pipeline.id, stageId: pipeline.stages[1]!.id });
    const b = await board(acme.owner.token, pipeline.id);
    expect(column(b, pipeline.stages[1]!.id)).toMatchObject({ count: 1, sums: [{ currency: 'EUR', count: 1, value: 300 }] });
    expect(ids(await list(acme.owner.token, { pipelineId: pipeline.id }))).toEqual([deal.id]);
    expect(ids(await list(acme.owner.token, { pipelineId: 'pl_default', stageId: 'st_open' }))).not.toContain(deal.id);
  });
});

describe('the board', () => {
  it('groups deals by stage with counts and sums per currency, and pages each column', async () => {
    const pipeline = await newPipeline(acme.owner.token);
    const [lead, demo] = pipeline.stages;
    const made: string[] = [];
    for (const [value, currency] of [[100, 'EUR'], [250, 'EUR'], [999, 'USD'], [null, null], [5, 'JPY']] as const) {
      made.push((await createDeal(acme.owner.token, { title: `B ${value}`, value, currency, pipelineId: pipeline.id })).body.id);
    }
    await act(acme.owner.token, 'POST', `/v1/deals/${made[4]}/stage`, { stageId: demo!.id });
    const b = await board(acme.member.token, pipeline.id, 2);
    expect(b.columns.map((c) => c.stage.name)).toEqual(['Lead', 'Demo', 'Proposal', 'Won', 'Lost']);
    const first = column(b, lead!.id);
    expect(first.count).toBe(4);
    expect(first.sums).toEqual([
      { currency: 'EUR', count: 2, value: 350 },
      { currency: 'USD', count: 1, value: 999 },
    ]);
    // latest arrival first, two per page
    expect(first.deals.map((d) => d.id)).toEqual([made[3], made[2]]);
    const next = await stack.api('GET', `/v1/pipelines/${pipeline.id}/stages/${lead!.id}/deals`, {
      token: acme.member.token,
      query: { limit: 2, cursor: (first as unknown as { nextCursor: string }).nextCursor },
    });
    expect(ids(next)).toEqual([made[1], made[0]]);
    expect(column(b, demo!.id)).toMatchObject({ count: 1, sums: [{ currency: 'JPY', count: 1, value: 5 }] });
    // a cursor of another column is refused, not passed to DynamoDB
    const foreign = await stack.api('GET', `/v1/pipelines/${pipeline.id}/stages/${demo!.id}/deals`, {
      token: acme.member.token,
      query: { cursor: (first as unknown as { nextCursor: string }).nextCursor },
    });
    expect(foreign.status).toBe(400);
    expect(foreign.body.errors[0].field).toBe('query.cursor');
    // a value change moves the sums between currencies
    await act(acme.owner.token, 'PATCH', `/v1/deals/${made[2]}`, { value: 1, currency: 'EUR' });
    expect(column(await board(acme.owner.token, pipeline.id), lead!.id).sums).toEqual([{ currency: 'EUR', count: 3, value: 351 }]);
  });
});

describe('lists', () => {
  it('filters by pipeline, stage, status, owner, contact, company and close-date range; sorts by value, close date, updated; pages', async () => {
    const pipeline = await newPipeline(acme.owner.token);
    const contact = await createContact(acme.owner.token, { name: `Lister ${unique()}`, channels: [] });
    const company = await createCompany(acme.owner.token, { name: `Listco ${unique()}` });
    const spec = [
      { title: 'L1', value: 900, currency: 'EUR', expectedCloseDate: '2026-02-10', ownerId: acme.member.user.id },
      { title: 'L2', value: 50, currency: 'EUR', expectedCloseDate: '2026-01-20', contactId: contact.id },
      { title: 'L3', value: 10_000, currency: 'USD', expectedCloseDate: '2026-03-05', companyId: company.id },
      { title: 'L4', expectedCloseDate: '2026-02-01' },
    ];
    const made: string[] = [];
    for (const body of spec) made.push((await createDeal(acme.owner.token, { ...body, pipelineId: pipeline.id })).body.id);
    const [l1, l2, l3, l4] = made;
    expect(ids(await list(acme.owner.token, { pipelineId: pipeline.id, sort: 'value' }))).toEqual([l3, l1, l2, l4]);
    expect(ids(await list(acme.owner.token, { pipelineId: pipeline.id, sort: 'value', order: 'asc' }))).toEqual([l4, l2, l1, l3]);
    expect(ids(await list(acme.owner.token, { pipelineId: pipeline.id, sort: 'closeDate' }))).toEqual([l2, l4, l1, l3]);
    expect(ids(await list(acme.owner.token, { pipelineId: pipeline.id }))).toEqual([l4, l3, l2, l1]);
    expect(ids(await list(acme.owner.token, { pipelineId: pipeline.id, closeFrom: '2026-02-01', closeTo: '2026-02-28' }))).toEqual([l4, l1]);
    expect(ids(await list(acme.owner.token, { pipelineId: pipeline.id, stageId: pipeline.stages[0]!.id }))).toHaveLength(4);
    expect(ids(await list(acme.owner.token, { ownerId: acme.member.user.id }))).toEqual([l1]);
    const unclaimed = (await list(acme.owner.token, { ownerId: 'none', sort: 'value' })).body.items as { id: string; ownerId: null; value: number | null }[];
    expect(unclaimed.map((deal) => deal.id)).toEqual(expect.arrayContaining([l2, l3, l4]));
    expect(unclaimed.every((deal) => deal.ownerId === null)).toBe(true);
    const values = unclaimed.map((deal) => deal.value ?? -1);
    expect(values).toEqual([...values].sort((a, b) => b - a));
    expect(ids(await list(acme.owner.token, { contactId: contact.id }))).toEqual([l2]);
    expect(ids(await list(acme.owner.token, { companyId: company.id }))).toEqual([l3]);
    // pages: three of them, no duplicates, in order
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await list(acme.owner.token, { pipelineId: pipeline.id, sort: 'closeDate', limit: 2, ...(cursor ? { cursor } : {}) });
      seen.push(...ids(page));
      cursor = page.body.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual([l2, l4, l1, l3]);
    // ownership change moves it between owner lists
    await act(acme.owner.token, 'PATCH', `/v1/deals/${l1}`, { ownerId: null });
    expect(ids(await list(acme.owner.token, { ownerId: acme.member.user.id }))).toEqual([]);
  });

  it('combines filters; refuses a stage without its pipeline, a range under another sort and a foreign cursor', async () => {
    const two = await list(acme.owner.token, { status: 'open', ownerId: 'none' });
    expect(two.status).toBe(200);
    expect((two.body.items as { statusKey: string; ownerId: string | null }[]).every((deal) => deal.statusKey === 'open' && deal.ownerId === null)).toBe(true);
    expect((await list(acme.owner.token, { stageId: 'st_open' })).body.errors[0].field).toBe('query.stageId');
    expect((await list(acme.owner.token, { closeFrom: '2026-01-01', sort: 'value' })).body.errors[0].field).toBe('query.sort');
    expect((await list(acme.owner.token, { closeFrom: '2026-13-01' })).body.errors[0].field).toBe('query.closeFrom');
    const page = await list(acme.owner.token, { limit: 1 });
    const other = await list(acme.owner.token, { limit: 1, sort: 'value', cursor: page.body.nextCursor });
    expect(other.status).toBe(400);
    expect(other.body.errors[0].field).toBe('query.cursor');
    const foreign = await list(globex.owner.token, { limit: 1, cursor: page.body.nextCursor });
    expect(foreign.status).toBe(400);
  });
});

describe('rights', () => {
  it('a member writes their own and unclaimed deals only; owner/admin write any', async () => {
    const adminsDeal = (await createDeal(acme.admin.token, { title: 'Admin’s', ownerId: acme.admin.user.id })).body;
    const pool = (await createDeal(acme.owner.token, { title: 'Pool' })).body;
    for (const [method, path, body] of [
      ['PATCH', `/v1/deals/${adminsDeal.id}`, { title: 'Mine now' }],
      ['POST', `/v1/deals/${adminsDeal.id}/stage`, { stageId: 'st_negotiating' }],
      ['POST', `/v1/deals/${adminsDeal.id}/won`, undefined],
      ['POST', `/v1/deals/${adminsDeal.id}/lost`, {}],
    ] as const) {
      expect((await act(acme.member.token, method, path, body)).status).toBe(403);
    }
    expect((await act(acme.member.token, 'PATCH', `/v1/deals/${pool.id}`, { ownerId: acme.admin.user.id })).status).toBe(403);
    const claimed = await act(acme.member.token, 'PATCH', `/v1/deals/${pool.id}`, { ownerId: acme.member.user.id });
    expect(claimed.body.ownerId).toBe(acme.member.user.id);
    expect((await act(acme.member.token, 'POST', `/v1/deals/${pool.id}/won`)).status).toBe(200);
    expect((await createDeal(acme.member.token, { title: 'For admin', ownerId: acme.admin.user.id })).status).toBe(403);
    expect((await act(acme.admin.token, 'PATCH', `/v1/deals/${pool.id}`, { title: 'Admin edits' })).status).toBe(200);
    expect((await act(acme.owner.token, 'PATCH', `/v1/deals/${adminsDeal.id}`, { ownerId: acme.member.user.id })).status).toBe(200);
    expect((await act(acme.member.token, 'POST', `/v1/deals/${adminsDeal.id}/won`)).status).toBe(200);
  });
});

describe('workspaces', () => {
  it('keeps another workspace’s deals, pipelines, contacts and companies out of reach (404 / 422)', async () => {
    const pipeline = await newPipeline(acme.owner.token);
    const contact = await createContact(acme.owner.token, { name: 'Private', channels: [] });
    const company = await createCompany(acme.owner.token, { name: `Private Co ${unique()}` });
    const deal = (await createDeal(acme.owner.token, { title: 'Secret', pipelineId: pipeline.id, contactId: contact.id })).body;
    const t = globex.owner.token;
    expect((await stack.api('GET', `/v1/deals/${deal.id}`, { token: t })).status).toBe(404);
    expect((await act(t, 'PATCH', `/v1/deals/${deal.id}`, { title: 'x' })).status).toBe(404);
    expect((await act(t, 'POST', `/v1/deals/${deal.id}/stage`, { stageId: 'st_open' })).status).toBe(404);
    expect((await act(t, 'POST', `/v1/deals/${deal.id}/won`)).status).toBe(404);
    expect((await stack.api('GET', `/v1/pipelines/${pipeline.id}`, { token: t })).status).toBe(404);
    expect((await stack.api('GET', `/v1/pipelines/${pipeline.id}/board`, { token: t })).status).toBe(404);
    expect((await stack.api('GET', `/v1/pipelines/${pipeline.id}/stages/${pipeline.stages[0]!.id}/deals`, { token: t })).status).toBe(404);
    expect((await act(t, 'PATCH', `/v1/pipelines/${pipeline.id}`, { name: 'x' })).status).toBe(404);
    const viaContact = await createDeal(t, { title: 'Steal', contactId: contact.id });
    expect(viaContact.status).toBe(422);
    expect(viaContact.body.errors[0].field).toBe('body.contactId');
    expect((await createDeal(t, { title: 'Steal', companyId: company.id })).body.errors[0].field).toBe('body.companyId');
    expect((await createDeal(t, { title: 'Steal', pipelineId: pipeline.id })).body.errors[0].field).toBe('body.pipelineId');
    expect(ids(await list(t, { contactId: contact.id }))).toEqual([]);
    expect(ids(await list(t, { pipelineId: pipeline.id }))).toEqual([]);
    // globex's own default pipeline has the same id and none of acme's deals
    expect(column(await board(t, 'pl_default'), 'st_open').deals.map((d) => d.id)).not.toContain(deal.id);
  });
});

describe('bad input', () => {
  it('answers problem+json naming the field and writes nothing', async () => {
    const before = await board(acme.owner.token, 'pl_default');
    const total = ids(await list(acme.owner.token)).length;
    // Bad values are 400s; ids naming no record of the workspace are 422 invalid_reference.
    const cases: [Body, string, number?][] = [
      [{ title: '' }, 'body.title'],
      [{ title: 'x', value: 10 }, 'body.currency'],
      [{ title: 'x', value: 10, currency: 'eur' }, 'body.currency'],
      [{ title: 'x', value: -1, currency: 'EUR' }, 'body.value'],
      [{ title: 'x', value: 1.5, currency: 'EUR' }, 'body.value'],
      [{ title: 'x', expectedCloseDate: '2026-02-30' }, 'body.expectedCloseDate'],
      [{ title: 'x', stageId: 'st_won' }, 'body.stageId'],
      [{ title: 'x', stageId: 'st_nope' }, 'body.stageId', 422],
      [{ title: 'x', pipelineId: 'pl_nope' }, 'body.pipelineId', 422],
      [{ title: 'x', ownerId: 'usr_nope' }, 'body.ownerId', 422],
      [{ title: 'x', contactId: 'ct_nope' }, 'body.contactId', 422],
      [{ title: 'x', customFields: { nope: 1 } }, 'body.customFields.nope'],
    ];
    for (const [body, field, status = 400] of cases) {
      const res = await createDeal(acme.owner.token, body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.body.errors.map((e: { field: string }) => e.field), JSON.stringify(body)).toContain(field);
    }
    const deal = (await createDeal(acme.owner.token, { title: 'Valid', value: 10, currency: 'EUR' })).body;
    const badPatch = await act(acme.owner.token, 'PATCH', `/v1/deals/${deal.id}`, { value: 20, currency: 'EURO' });
    expect(badPatch.body.errors[0].field).toBe('body.currency');
    const lostReason = await act(acme.owner.token, 'PATCH', `/v1/deals/${deal.id}`, { lostReason: 'nope' });
    expect(lostReason.body.errors[0].field).toBe('body.lostReason');
    expect((await act(acme.owner.token, 'POST', `/v1/deals/${deal.id}/stage`, {})).body.errors[0].field).toBe('body.stageId');
    expect((await stack.api('POST', '/v1/deals', { token: acme.owner.token, body: '{"title":' })).body.errors[0].field).toBe('body');
    const after = await board(acme.owner.token, 'pl_default');
    expect(column(after, 'st_open').count).toBe(column(before, 'st_open').count + 1);
    expect(ids(await list(acme.owner.token)).length).toBe(total + 1);
    expect((await stack.api('GET', `/v1/deals/${deal.id}`, { token: acme.owner.token })).body.version).toBe(1);
  });
});

describe('concurrency', () => {
  it('concurrent stage changes of one deal without If-Match all land in turn; counts stay exact', async () => {
    const pipeline = await newPipeline(acme.owner.token);
    const deal = (await createDeal(acme.owner.token, { title: 'Race', value: 40, currency: 'EUR', pipelineId: pipeline.id })).body;
    const targets = [pipeline.stages[1]!.id, pipeline.stages[2]!.id, pipeline.stages[1]!.id, pipeline.stages[2]!.id];
    const results = await Promise.all(
      targets.map((stageId) => stack.api('POST', `/v1/deals/${deal.id}/stage`, { token: acme.owner.token, body: { stageId } })),
    );
    // Each loser read the deal again and applied itself on top (or found it already there).
    expect(results.map((res) => res.status)).toEqual([200, 200, 200, 200]);
    const final = (await stack.api('GET', `/v1/deals/${deal.id}`, { token: acme.owner.token })).body;
    const b = await board(acme.owner.token, pipeline.id);
    expect(b.columns.reduce((sum, c) => sum + c.count, 0)).toBe(1);
    expect(column(b, final.stageId)).toMatchObject({ count: 1, sums: [{ currency: 'EUR', count: 1, value: 40 }] });
    const moves = (await events(acme.owner.token, 'deal', deal.id)).filter((e) => e.type === 'deal.stage_changed');
    expect(moves).toHaveLength(final.version - 1);
    // With the same If-Match, exactly one applies and the rest are 412.
    const fenced = await Promise.all(
      targets.map((stageId) =>
        stack.api('POST', `/v1/deals/${deal.id}/stage`, {
          token: acme.owner.token,
          headers: { 'if-match': `"${final.version}"` },
          body: { stageId: stageId === final.stageId ? pipeline.stages[0]!.id : stageId },
        }),
      ),
    );
    expect(fenced.filter((res) => res.status === 200)).toHaveLength(1);
    expect(fenced.filter((res) => res.status === 412)).toHaveLength(3);
  });

  it('many deals moved at once between the same stages: sums equal a recount', async () => {
    const pipeline = await newPipeline(acme.owner.token);
    const stages = pipeline.stages.map((stage) => stage.id);
    const deals: { id: string }[] = [];
    for (let index = 0; index < 16; index += 1) {
      const currency = index % 2 ? 'EUR' : 'USD';
      deals.push((await createDeal(acme.owner.token, { title: `M${index}`, value: 100 + index, currency, pipelineId: pipeline.id })).body);
    }
    // two rounds of parallel moves, each deal to a stage by its index, plus won/lost for some
    for (const round of [1, 2]) {
      const results = await Promise.all(
        deals.map((deal, index) =>
          index % 5 === 0 && round === 2
            ? stack.api('POST', `/v1/deals/${deal.id}/won`, { token: acme.owner.token })
            : stack.api('POST', `/v1/deals/${deal.id}/stage`, {
                token: acme.owner.token,
                body: { stageId: stages[(index + round) % 3]! },
              }),
        ),
      );
      expect(results.map((res) => res.status)).toEqual(results.map(() => 200));
    }
    const b = await board(acme.owner.token, pipeline.id);
    const current = (await Promise.all(deals.map((deal) => stack.api('GET', `/v1/deals/${deal.id}`, { token: acme.owner.token })))).map(
      (res) => res.body,
    );
    for (const col of b.columns) {
      const inColumn = current.filter((deal) => deal.stageId === col.stage.id);
      expect(col.count, col.stage.name).toBe(inColumn.length);
      expect(col.deals.map((d) => d.id).sort()).toEqual(inColumn.map((d) => d.id).sort());
      const recount = new Map<string, { count: number; value: number }>();
      for (const deal of inColumn) {
        const entry = recount.get(deal.currency) ?? { count: 0, value: 0 };
        recount.set(deal.currency, { count: entry.count + 1, value: entry.value + deal.value });
      }
      expect(col.sums).toEqual([...recount].sort(([a], [b]) => a.localeCompare(b)).map(([currency, v]) => ({ currency, ...v })));
    }
  }, 90_000);
});

describe('merges', () => {
  it('a contact merge re-points the sources’ deals to the target, in bounded requests, safely repeated', async () => {
    const target = await createContact(acme.owner.token, { name: 'Merge Target', channels: [] });
    const source = await createContact(acme.owner.token, { name: 'Merge Source', channels: [] });
    const made: string[] = [];
    for (let index = 0; index < 3; index += 1) {
      made.push((await createDeal(acme.owner.token, { title: `CM${index}`, contactId: source.id })).body.id);
    }
    const saved = { ...dealMergeSettings };
    dealMergeSettings.dealsPerRequest = 2;
    try {
      const first = await act(acme.owner.token, 'POST', `/v1/contacts/${target.id}/merge`, { sourceContactIds: [source.id] });
      expect(first.status).toBe(202);
      expect(first.body).toMatchObject({ status: 'in_progress', dealsMoved: 2 });
      const second = await act(acme.owner.token, 'POST', `/v1/contacts/${target.id}/merge`, { sourceContactIds: [source.id] });
      expect(second.status).toBe(200);
    } finally {
      Object.assign(dealMergeSettings, saved);
    }
    expect(ids(await list(acme.owner.token, { contactId: target.id })).sort()).toEqual([...made].sort());
    expect(ids(await list(acme.owner.token, { contactId: source.id }))).toEqual([]);
    const [moved] = await events(acme.owner.token, 'deal', made[0]!);
    expect(moved).toMatchObject({ type: 'deal.updated', payload: { changes: { contactId: { from: source.id, to: target.id } } } });
    // a new deal naming the merged contact goes to the target
    expect((await createDeal(acme.owner.token, { title: 'Late', contactId: source.id })).body.contactId).toBe(target.id);
  });

  it('a company merge moves the source’s deals to the target company', async () => {
    const target = await createCompany(acme.owner.token, { name: `Merge Target Co ${unique()}` });
    const source = await createCompany(acme.owner.token, { name: `Merge Source Co ${unique()}` });
    const made: string[] = [];
    for (let index = 0; index < 3; index += 1) {
      made.push((await createDeal(acme.owner.token, { title: `CoM${index}`, companyId: source.id })).body.id);
    }
    const merged = await act(acme.owner.token, 'POST', `/v1/companies/${target.id}/merge`, { sourceCompanyIds: [source.id] });
    expect(merged.status).toBe(200);
    expect(ids(await list(acme.owner.token, { companyId: target.id })).sort()).toEqual([...made].sort());
    expect(ids(await list(acme.owner.token, { companyId: source.id }))).toEqual([]);
    const again = await act(acme.owner.token, 'POST', `/v1/companies/${target.id}/merge`, { sourceCompanyIds: [source.id] });
    expect(again.status).toBe(200);
  });
});
