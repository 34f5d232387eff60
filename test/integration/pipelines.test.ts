import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stageRemovalSettings } from '../../domain/pipelines/pipelines.service';
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

type Body = Record<string, unknown>;
const act = (token: string, method: string, path: string, body?: Body, headers?: Record<string, string>, query?: Record<string, string>) => {
  stack.clock.advance(1000);
  return stack.api(method, path, { token, body, headers, query });
};
const createPipeline = (token: string, body: Body) => act(token, 'POST', '/v1/pipelines', body);
const stageNames = (pipeline: { stages: { name: string }[] }) => pipeline.stages.map((stage) => stage.name);
const board = async (pipelineId: string) =>
  (await stack.api('GET', `/v1/pipelines/${pipelineId}/board`, { token: acme.owner.token, query: { limit: 100 } })).body as {
    columns: { stage: { id: string }; count: number; sums: Body[]; deals: { id: string }[] }[];
  };
const events = async (entityType: string, entityId: string) =>
  (await stack.api('GET', '/v1/events', { token: acme.owner.token, query: { entityType, entityId, limit: 100 } })).body.items as {
    type: string;
    payload: Body;
  }[];

describe('pipelines', () => {
  it('creates a pipeline (Won and Lost added when not given), lists it after the default, and renames it with If-Match', async () => {
    const res = await createPipeline(acme.admin.token, { name: 'Partners', stages: [{ name: 'Intro' }, { name: 'Pilot' }] });
    expect(res.status).toBe(201);
    expect(res.headers.etag).toBe('"1"');
    expect(res.headers.location).toBe(`/v1/pipelines/${res.body.id}`);
    expect(res.body).toMatchObject({ name: 'Partners', isDefault: false, version: 1 });
    expect(res.body.stages.map((s: { name: string; kind: string }) => `${s.name}:${s.kind}`)).toEqual([
      'Intro:open',
      'Pilot:open',
      'Won:won',
      'Lost:lost',
    ]);
    const listed = await stack.api('GET', '/v1/pipelines', { token: acme.member.token });
    expect(listed.body.items.map((p: { id: string }) => p.id)).toEqual(['pl_default', res.body.id]);
    const renamed = await act(acme.owner.token, 'PATCH', `/v1/pipelines/${res.body.id}`, { name: 'Channel partners' }, { 'if-match': '"1"' });
    expect(renamed.body).toMatchObject({ name: 'Channel partners', version: 2 });
    const stale = await act(acme.owner.token, 'PATCH', `/v1/pipelines/${res.body.id}`, { name: 'Late' }, { 'if-match': '"1"' });
    expect(stale.status).toBe(412);
    const types = (await events('pipeline', res.body.id)).map((e) => e.type);
    expect(types).toEqual(['pipeline.updated', 'pipeline.created']);
  });

  it('pages the pipelines list', async () => {
    const first = await stack.api('GET', '/v1/pipelines', { token: acme.owner.token, query: { limit: 1 } });
    expect(first.body.items).toHaveLength(1);
    const second = await stack.api('GET', '/v1/pipelines', { token: acme.owner.token, query: { limit: 1, cursor: first.body.nextCursor } });
    expect(second.body.items[0].id).not.toBe(first.body.items[0].id);
    const foreign = await stack.api('GET', '/v1/pipelines', { token: globex.owner.token, query: { cursor: first.body.nextCursor } });
    expect(foreign.status).toBe(400);
  });

  it('takes given won and lost stages, and refuses bad stage sets with the field named', async () => {
    const res = await createPipeline(acme.owner.token, {
      name: 'Custom',
      stages: [{ name: 'Signed', kind: 'won' }, { name: 'Talk' }, { name: 'Dropped', kind: 'lost' }],
    });
    expect(stageNames(res.body)).toEqual(['Signed', 'Talk', 'Dropped']);
    for (const stages of [
      [{ name: 'Only won', kind: 'won' }, { name: 'Open' }],
      [{ name: 'W', kind: 'won' }, { name: 'L', kind: 'lost' }],
      [{ name: 'A' }, { name: 'W1', kind: 'won' }, { name: 'W2', kind: 'won' }, { name: 'L', kind: 'lost' }],
      [{ name: 'A', kind: 'closed' }],
      [],
    ]) {
      const bad = await createPipeline(acme.owner.token, { name: 'Bad', stages });
      expect(bad.status, JSON.stringify(stages)).toBe(400);
      expect(bad.body.errors[0].field).toMatch(/^body\.stages/);
    }
    expect((await createPipeline(acme.owner.token, { name: '' })).body.errors[0].field).toBe('body.name');
  });

  it('is managed by owners and admins only', async () => {
    expect((await createPipeline(acme.member.token, { name: 'Mine' })).status).toBe(403);
    expect((await act(acme.member.token, 'PATCH', '/v1/pipelines/pl_default', { name: 'x' })).status).toBe(403);
    expect((await act(acme.member.token, 'POST', '/v1/pipelines/pl_default/stages', { name: 'x' })).status).toBe(403);
    expect((await act(acme.member.token, 'DELETE', '/v1/pipelines/pl_default/stages/st_negotiating')).status).toBe(403);
    expect((await stack.api('GET', '/v1/pipelines/pl_default/board', { token: acme.member.token })).status).toBe(200);
  });

  it('keeps pipelines per workspace', async () => {
    const mine = (await createPipeline(acme.owner.token, { name: 'Secret pipeline' })).body;
    expect((await stack.api('GET', `/v1/pipelines/${mine.id}`, { token: globex.owner.token })).status).toBe(404);
    expect((await act(globex.owner.token, 'POST', `/v1/pipelines/${mine.id}/stages`, { name: 'x' })).status).toBe(404);
    expect((await act(globex.owner.token, 'DELETE', `/v1/pipelines/${mine.id}/stages/${mine.stages[0].id}`)).status).toBe(404);
    const theirs = await stack.api('GET', '/v1/pipelines', { token: globex.owner.token });
    expect(theirs.body.items.map((p: { id: string }) => p.id)).toEqual(['pl_default']);
  });
});

describe('stages', () => {
  it('adds (before won/lost by default, or at a position), renames and reorders stages', async () => {
    const pipeline = (await createPipeline(acme.owner.token, { name: 'Stages', stages: [{ name: 'A' }] })).body;
    const added = await act(acme.owner.token, 'POST', `/v1/pipelines/${pipeline.id}/stages`, { name: 'B' }, { 'if-match': '"1"' });
    expect(stageNames(added.body)).toEqual(['A', 'B', 'Won', 'Lost']);
    const first = await act(acme.owner.token, 'POST', `/v1/pipelines/${pipeline.id}/stages`, { name: 'Zero', position: 0 });
    expect(stageNames(first.body)).toEqual(['Zero', 'A', 'B', 'Won', 'Lost']);
    const b = first.body.stages[2];
    const renamed = await act(acme.owner.token, 'PATCH', `/v1/pipelines/${pipeline.id}/stages/${b.id}`, { name: 'Bee' });
    expect(stageNames(renamed.body)).toEqual(['Zero', 'A', 'Bee', 'Won', 'Lost']);
    expect((await act(acme.owner.token, 'PATCH', `/v1/pipelines/${pipeline.id}/stages/st_00000000000000000000000000`, { name: 'x' })).status).toBe(404);
    const order = [...renamed.body.stages].reverse().map((s: { id: string }) => s.id);
    const reordered = await act(acme.owner.token, 'PUT', `/v1/pipelines/${pipeline.id}/stages`, { stageIds: order }, { 'if-match': `"${renamed.body.version}"` });
    expect(stageNames(reordered.body)).toEqual(['Lost', 'Won', 'Bee', 'A', 'Zero']);
    expect(reordered.body.stages.map((s: { sortIndex: number }) => s.sortIndex)).toEqual([0, 1, 2, 3, 4]);
    const missing = await act(acme.owner.token, 'PUT', `/v1/pipelines/${pipeline.id}/stages`, { stageIds: order.slice(1) });
    expect(missing.body.errors[0].field).toBe('body.stageIds');
    const twice = await act(acme.owner.token, 'PUT', `/v1/pipelines/${pipeline.id}/stages`, { stageIds: [order[0], ...order.slice(0, -1)] });
    expect(twice.body.errors[0].field).toBe('body.stageIds.1');
    const unknown = await act(acme.owner.token, 'PUT', `/v1/pipelines/${pipeline.id}/stages`, { stageIds: ['st_x', ...order.slice(1)] });
    expect(unknown.status).toBe(422);
    expect(unknown.body.errors[0].field).toBe('body.stageIds.0');
    const board = await stack.api('GET', `/v1/pipelines/${pipeline.id}/board`, { token: acme.owner.token });
    expect(board.body.columns.map((c: { stage: { name: string }; count: number }) => `${c.stage.name}:${c.count}`)).toEqual([
      'Lost:0',
      'Won:0',
      'Bee:0',
      'A:0',
      'Zero:0',
    ]);
    const types = (await events('pipeline', pipeline.id)).map((e) => e.type);
    expect(types).toEqual(['pipeline.stages_reordered', 'pipeline.stage_renamed', 'pipeline.stage_added', 'pipeline.stage_added', 'pipeline.created']);
  });

  it('removes an empty stage at once; keeps the won and lost stages', async () => {
    const pipeline = (await createPipeline(acme.owner.token, { name: 'Remove empty', stages: [{ name: 'A' }, { name: 'B' }] })).body;
    const [a, , won, lost] = pipeline.stages;
    const removed = await act(acme.owner.token, 'DELETE', `/v1/pipelines/${pipeline.id}/stages/${a.id}`);
    expect(removed.status).toBe(200);
    expect(removed.body).toMatchObject({ status: 'completed', dealsMoved: 0 });
    expect(stageNames(removed.body.pipeline)).toEqual(['B', 'Won', 'Lost']);
    expect((await act(acme.owner.token, 'DELETE', `/v1/pipelines/${pipeline.id}/stages/${won.id}`)).status).toBe(409);
    expect((await act(acme.owner.token, 'DELETE', `/v1/pipelines/${pipeline.id}/stages/${lost.id}`)).status).toBe(409);
    expect((await act(acme.owner.token, 'DELETE', `/v1/pipelines/${pipeline.id}/stages/${a.id}`)).status).toBe(404);
    // no deal can enter a removed stage
    const deal = await act(acme.owner.token, 'POST', '/v1/deals', { title: 'Late', pipelineId: pipeline.id, stageId: a.id });
    expect(deal.status).toBe(422);
    expect(deal.body).toMatchObject({ code: 'invalid_reference', errors: [{ field: 'body.stageId' }] });
    expect((await board(pipeline.id)).columns).toHaveLength(3);
  });

  it('removes a stage holding deals only by naming where they go, moving them in bounded requests with exact sums', async () => {
    const pipeline = (await createPipeline(acme.owner.token, { name: 'Remove full', stages: [{ name: 'A' }, { name: 'B' }, { name: 'C' }] })).body;
    const [a, b, c, won] = pipeline.stages;
    const deals: string[] = [];
    for (let index = 0; index < 5; index += 1) {
      const res = await act(acme.owner.token, 'POST', '/v1/deals', {
        title: `R${index}`,
        value: 100 * (index + 1),
        currency: index % 2 ? 'EUR' : 'USD',
        pipelineId: pipeline.id,
        stageId: a.id,
      });
      deals.push(res.body.id);
    }
    await act(acme.owner.token, 'POST', '/v1/deals', { title: 'In B', value: 7, currency: 'EUR', pipelineId: pipeline.id, stageId: b.id });

    const refused = await act(acme.owner.token, 'DELETE', `/v1/pipelines/${pipeline.id}/stages/${a.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.errors[0].field).toBe('query.moveDealsTo');
    for (const [target, status] of [[a.id, 400], [won.id, 400], ['st_nope', 422]] as const) {
      const bad = await act(acme.owner.token, 'DELETE', `/v1/pipelines/${pipeline.id}/stages/${a.id}`, undefined, undefined, { moveDealsTo: target });
      expect(bad.status, target).toBe(status);
      expect(bad.body.errors[0].field).toBe('query.moveDealsTo');
    }
    expect((await board(pipeline.id)).columns.find((col) => col.stage.id === a.id)!.count).toBe(5);

    const saved = { ...stageRemovalSettings };
    stageRemovalSettings.dealsPerRequest = 2;
    try {
      const first = await act(acme.owner.token, 'DELETE', `/v1/pipelines/${pipeline.id}/stages/${a.id}`, undefined, undefined, { moveDealsTo: b.id });
      expect(first.status).toBe(202);
      expect(first.body).toMatchObject({ status: 'in_progress', dealsMoved: 2 });
      expect(first.body.pipeline.stages[0]).toMatchObject({ id: a.id, removing: { moveDealsTo: b.id } });
      // while it is being removed, no deal enters it, and it cannot be redirected elsewhere
      const enter = await act(acme.owner.token, 'POST', `/v1/deals/${deals[0]}/stage`, { stageId: a.id });
      expect(enter.status).toBe(409);
      const redirect = await act(acme.owner.token, 'DELETE', `/v1/pipelines/${pipeline.id}/stages/${a.id}`, undefined, undefined, { moveDealsTo: c.id });
      expect(redirect.status).toBe(409);
      const mid = await board(pipeline.id);
      expect(mid.columns.find((col) => col.stage.id === a.id)!.count + mid.columns.find((col) => col.stage.id === b.id)!.count).toBe(6);
      let last = first;
      for (let round = 0; round < 5 && last.status === 202; round += 1) {
        last = await act(acme.owner.token, 'DELETE', `/v1/pipelines/${pipeline.id}/stages/${a.id}`);
      }
      expect(last.status).toBe(200);
      expect(last.body.status).toBe('completed');
      expect(stageNames(last.body.pipeline)).toEqual(['B', 'C', 'Won', 'Lost']);
    } finally {
      Object.assign(stageRemovalSettings, saved);
    }
    const after = await board(pipeline.id);
    const colB = after.columns.find((col) => col.stage.id === b.id)!;
    expect(colB.count).toBe(6);
    expect(colB.sums).toEqual([
      { currency: 'EUR', count: 3, value: 200 + 400 + 7 },
      { currency: 'USD', count: 3, value: 100 + 300 + 500 },
    ]);
    expect(colB.deals).toHaveLength(6);
    const moved = await events('deal', deals[4]!);
    expect(moved[0]).toMatchObject({ type: 'deal.stage_changed', payload: { from: { stageId: a.id }, to: { stageId: b.id } } });
    const types = (await events('pipeline', pipeline.id)).map((e) => e.type);
    expect(types.slice(0, 2)).toEqual(['pipeline.stage_removed', 'pipeline.stage_removing']);
    const listed = await stack.api('GET', '/v1/deals', { token: acme.owner.token, query: { pipelineId: pipeline.id, stageId: b.id } });
    expect(listed.body.items).toHaveLength(6);
  });
});

describe('workspaces created before pipelines existed', () => {
  it('get their default pipeline on first use, once', async () => {
    const legacy = await seedWorkspace(stack, `Legacy ${randomUUID().slice(0, 4)}`);
    const workspaceId = legacy.workspace.id;
    // Take away what workspace creation now writes, as for a workspace made before it did.
    const { entities } = stack.deps.db;
    await entities.pipeline.delete({ workspaceId, pipelineId: 'pl_default' }).go();
    for (const stageId of ['st_open', 'st_negotiating', 'st_won', 'st_lost']) {
      await entities.stageStats.delete({ workspaceId, pipelineId: 'pl_default', stageId, bucket: 'TOTAL' }).go();
    }
    expect((await stack.api('GET', '/v1/pipelines/pl_default', { token: legacy.owner.token })).status).toBe(200);
    const [listed, deal] = await Promise.all([
      stack.api('GET', '/v1/pipelines', { token: legacy.member.token }),
      stack.api('POST', '/v1/deals', { token: legacy.member.token, body: { title: 'First', value: 5, currency: 'EUR' } }),
    ]);
    expect(listed.body.items.map((p: { id: string }) => p.id)).toEqual(['pl_default']);
    expect(deal.body).toMatchObject({ pipelineId: 'pl_default', stageId: 'st_open' });
    const board = await stack.api('GET', '/v1/pipelines/pl_default/board', { token: legacy.member.token });
    expect(board.body.columns[0]).toMatchObject({ count: 1, sums: [{ currency: 'EUR', count: 1, value: 5 }] });
  });

  it('a fresh workspace’s list goes straight to its default pipeline', async () => {
    const fresh = await seedWorkspace(stack, 'Fresh');
    const pipelines = await stack.api('GET', '/v1/pipelines', { token: fresh.owner.token });
    expect(pipelines.body.items).toHaveLength(1);
  });
});
