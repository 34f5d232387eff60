import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  abandonIdempotentRequest,
  idempotencyWaitSettings,
  requestFingerprint,
} from '../../domain/idempotency/idempotency.service';
import { stageRemovalSettings } from '../../domain/pipelines/pipelines.service';
import { tagLibrarySettings } from '../../domain/tags/tag-library.service';
import { honoursIfMatch, routeList, type OperationId } from '../../functions/http/routes';
import { logger } from '../../functions/shared/logger';
import { createTestStack, seedWorkspace, type ApiResponse, type TestStack } from '../support/test-stack';

/*
 * "The API keeps its own contract": one conflict rule for every write (DESIGN §5), through the real
 * handlers on DynamoDB Local.
 * - Without If-Match, a write that loses a race reads again and applies itself on top, so concurrent
 *   changes to different parts of one record all land.
 * - With If-Match, a stale version is a 412, whether it was stale when read or lost the race.
 * - Idempotency-Key under concurrency: one request runs, the others wait and replay its answer.
 */

let stack: TestStack;
let acme: Awaited<ReturnType<typeof seedWorkspace>>;

beforeAll(async () => {
  stack = await createTestStack();
  acme = await seedWorkspace(stack, 'Acme');
});
afterAll(() => stack.destroy());

let counter = 0;
const unique = (prefix: string) => `${prefix}${(counter += 1)}x${Date.now().toString(36)}`;

const api = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
  stack.api(method, path, { token: acme.owner.token, ...(body !== undefined ? { body } : {}), ...(headers ? { headers } : {}) });

const created = async (path: string, body: unknown) => {
  const res = await api('POST', path, body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
};

const eventsOf = async (entityType: string, entityId: string) =>
  (await api('GET', `/v1/events?entityType=${entityType}&entityId=${entityId}&limit=100`)).body.items as {
    type: string;
    payload: Record<string, unknown>;
  }[];

/**
 * Measures `work`: the transactions sent (each lost race costs one more than the writes made), the
 * most attempts a request needed (the handler puts `attempts` on its log lines when it ran again).
 */
async function measured<T>(work: () => Promise<T>) {
  const before = stack.calls.counts.TransactWriteItemsCommand ?? 0;
  const spy = vi.spyOn(logger, 'appendKeys');
  const started = performance.now();
  try {
    const result = await work();
    const attempts = spy.mock.calls.map(([keys]) => (keys as { attempts?: number }).attempts ?? 1);
    return {
      result,
      transactions: (stack.calls.counts.TransactWriteItemsCommand ?? 0) - before,
      maxAttempts: Math.max(1, ...attempts),
      ms: Math.round(performance.now() - started),
    };
  } finally {
    spy.mockRestore();
  }
}

const statuses = (responses: ApiResponse[]) =>
  responses.reduce<Record<number, number>>((counts, res) => ({ ...counts, [res.status]: (counts[res.status] ?? 0) + 1 }), {});

describe('without If-Match, concurrent changes to one record all land', () => {
  it('20 parallel additions of different tags to one contact: 20 × 200, 20 tags, 20 tag.added events', async () => {
    const contact = await created('/v1/contacts', { name: 'Tag Race' });
    const tags = Array.from({ length: 20 }, (_, index) => `race-${index}`);
    // The library items exist already, so the race is on the contact alone.
    await Promise.all(tags.map((name) => created('/v1/tags', { name })));
    const latencies: number[] = [];
    const timed = async (tag: string) => {
      const started = performance.now();
      const res = await api('POST', `/v1/contacts/${contact.id}/tags`, { tags: [tag] });
      latencies.push(Math.round(performance.now() - started));
      return res;
    };
    const { result: responses, transactions, maxAttempts, ms } = await measured(() => Promise.all(tags.map(timed)));
    expect(statuses(responses)).toEqual({ 200: 20 });
    const read = (await api('GET', `/v1/contacts/${contact.id}`)).body;
    expect([...read.tags].sort()).toEqual([...tags].sort());
    expect(read.version).toBe(21);
    const added = (await eventsOf('contact', contact.id)).filter((event) => event.type === 'tag.added');
    expect(added.map((event) => event.payload.tag).sort()).toEqual([...tags].sort());
    latencies.sort((a, b) => a - b);
    console.info(
      `20 parallel tag additions: ${transactions} transactions for 20 writes (${transactions - 20} lost races, ` +
        `at most ${maxAttempts} attempts for one request); ` +
        `${ms} ms in all, per request median ${latencies[9]} ms, max ${latencies[19]} ms`,
    );
  });
});

describe('without If-Match, concurrent changes to different fields all land', () => {
  it('a deal: title, value, close date, owner and stage changed at once', async () => {
    const pipeline = await created('/v1/pipelines', { name: unique('Race pipeline '), stages: [{ name: 'A' }, { name: 'B' }] });
    const deal = await created('/v1/deals', { title: 'Deal race', pipelineId: pipeline.id });
    const writes = [
      () => api('PATCH', `/v1/deals/${deal.id}`, { title: 'Deal race, renamed' }),
      () => api('PATCH', `/v1/deals/${deal.id}`, { value: 1200, currency: 'EUR' }),
      () => api('PATCH', `/v1/deals/${deal.id}`, { expectedCloseDate: '2026-06-30' }),
      () => api('PATCH', `/v1/deals/${deal.id}`, { ownerId: acme.admin.user.id }),
      () => api('POST', `/v1/deals/${deal.id}/stage`, { stageId: pipeline.stages[1].id }),
    ];
    const { result: responses, transactions } = await measured(() => Promise.all(writes.map((write) => write())));
    expect(statuses(responses)).toEqual({ 200: 5 });
    expect(transactions).toBeGreaterThanOrEqual(5);
    const read = (await api('GET', `/v1/deals/${deal.id}`)).body;
    expect(read).toMatchObject({
      title: 'Deal race, renamed',
      value: 1200,
      currency: 'EUR',
      expectedCloseDate: '2026-06-30',
      ownerId: acme.admin.user.id,
      stageId: pipeline.stages[1].id,
      version: 6,
    });
    // The stage's count and sum follow the deal as it is now, not as any one writer read it.
    const board = (await api('GET', `/v1/pipelines/${pipeline.id}/board`)).body;
    const column = board.columns.find((c: { stage: { id: string } }) => c.stage.id === pipeline.stages[1].id);
    expect(column).toMatchObject({ count: 1, sums: [{ currency: 'EUR', count: 1, value: 1200 }] });
  });

  it('a task: title, priority, due time, description and assignee changed at once', async () => {
    const task = await created('/v1/tasks', { title: 'Task race' });
    const writes = [
      () => api('PATCH', `/v1/tasks/${task.id}`, { title: 'Task race, renamed' }),
      () => api('PATCH', `/v1/tasks/${task.id}`, { priority: 'urgent' }),
      () => api('PATCH', `/v1/tasks/${task.id}`, { dueAt: '2026-02-01T10:00:00.000Z' }),
      () => api('PATCH', `/v1/tasks/${task.id}`, { description: 'All of it' }),
      () => api('POST', `/v1/tasks/${task.id}/assign`, { assigneeId: acme.member.user.id }),
    ];
    const responses = await Promise.all(writes.map((write) => write()));
    expect(statuses(responses)).toEqual({ 200: 5 });
    expect((await api('GET', `/v1/tasks/${task.id}`)).body).toMatchObject({
      title: 'Task race, renamed',
      priority: 'urgent',
      dueAt: '2026-02-01T10:00:00.000Z',
      description: 'All of it',
      assigneeId: acme.member.user.id,
      version: 6,
    });
  });
});

describe('with If-Match, a stale version is a 412', () => {
  it('50 parallel PATCHes of one contact with its current ETag: exactly 1 × 200 and 49 × 412', async () => {
    const contact = await created('/v1/contacts', { name: 'Fenced Fran' });
    const etag = `"${contact.version}"`;
    const { result: responses } = await measured(() =>
      Promise.all(
        Array.from({ length: 50 }, (_, index) =>
          api('PATCH', `/v1/contacts/${contact.id}`, { city: `City ${index}` }, { 'if-match': etag }),
        ),
      ),
    );
    expect(statuses(responses)).toEqual({ 200: 1, 412: 49 });
    const winner = responses.find((res) => res.status === 200)!;
    expect(responses.filter((res) => res.status === 412).every((res) => res.body.code === 'precondition_failed')).toBe(true);
    const read = (await api('GET', `/v1/contacts/${contact.id}`)).body;
    expect(read).toMatchObject({ city: winner.body.city, version: contact.version + 1 });
    expect((await eventsOf('contact', contact.id)).filter((event) => event.type === 'contact.updated')).toHaveLength(1);
  });

  it('compares If-Match strongly (RFC 9110): the current version as a weak ETag is a 412', async () => {
    const contact = await created('/v1/contacts', { name: 'Weak Wanda' });
    const weak = await api('PATCH', `/v1/contacts/${contact.id}`, { city: 'Oslo' }, { 'if-match': `W/"${contact.version}"` });
    expect(weak.status).toBe(412);
    expect((await api('GET', `/v1/contacts/${contact.id}`)).body).toMatchObject({ city: null, version: contact.version });
    const strong = await api('PATCH', `/v1/contacts/${contact.id}`, { city: 'Oslo' }, { 'if-match': `"${contact.version}"` });
    expect(strong.status).toBe(200);
  });

  it('every versioned write route answers If-Match "999" with 412 and changes nothing', async () => {
    // A creating POST has no version to match: it takes no If-Match (the document declares none).
    const routes = routeList.filter((route) => honoursIfMatch(route));
    // A new versioned write route needs its case here.
    expect(Object.keys(staleCases).sort()).toEqual(routes.map((route) => route.operationId).sort());
    for (const route of routes) {
      const { path, body, snapshot } = await staleCases[route.operationId]!();
      const before = await snapshot();
      const res = await stack.api(route.method, path, {
        token: acme.owner.token,
        headers: { 'if-match': '"999"' },
        ...(body !== undefined ? { body } : {}),
      });
      expect(res.status, `${route.operationId}: ${JSON.stringify(res.body)}`).toBe(412);
      expect(res.body.code, route.operationId).toBe('precondition_failed');
      expect(await snapshot(), route.operationId).toEqual(before);
    }
  }, 120_000);
});

describe('Idempotency-Key under concurrency', () => {
  const contactsNamed = async (name: string) =>
    ((await get(`/v1/contacts/search?q=${encodeURIComponent(name)}`)).items as { id: string; name: string }[]).filter(
      (hit) => hit.name === name,
    );

  it('20 parallel creates with one key: one contact, twenty 201s with the same body, 19 replayed', async () => {
    const name = unique('Once Only ');
    const body = { name, channels: [{ kind: 'email', value: `${unique('once')}@idem.example` }] };
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => api('POST', '/v1/contacts', body, { 'idempotency-key': `race-${name.replaceAll(' ', '-')}` })),
    );
    expect(statuses(responses)).toEqual({ 201: 20 });
    const [first] = responses;
    expect(responses.every((res) => JSON.stringify(res.body) === JSON.stringify(first!.body))).toBe(true);
    expect(responses.filter((res) => res.headers['idempotent-replayed'] === 'true')).toHaveLength(19);
    expect(new Set(responses.map((res) => res.headers.location))).toEqual(new Set([`/v1/contacts/${first!.body.id}`]));
    expect((await contactsNamed(name)).map((hit) => hit.id)).toEqual([first!.body.id]);
    expect((await eventsOf('contact', first!.body.id)).filter((event) => event.type === 'contact.created')).toHaveLength(1);
  });

  /** Holds a key as a first request that is still running would (its record `in_progress`). */
  const holdKey = async (key: string, body: unknown, createdAt = stack.clock.nowIso()) => {
    await stack.deps.db.entities.idempotencyRecord
      .create({
        workspaceId: acme.workspace.id,
        userId: acme.owner.user.id,
        key,
        requestHash: requestFingerprint('POST', '/v1/contacts', JSON.stringify(body)).bytes,
        state: 'in_progress',
        createdAt,
        expiresAt: Math.floor(stack.clock.nowMs() / 1000) + 3600,
      })
      .go();
  };
  const caller = () => ({ workspaceId: acme.workspace.id, userId: acme.owner.user.id, role: 'owner' as const });

  it('a first request still running after the wait: 409 idempotency_in_progress with Retry-After, nothing created', async () => {
    const name = unique('Held ');
    const body = { name };
    await holdKey(`held-${name.replaceAll(' ', '-')}`, body);
    const saved = { ...idempotencyWaitSettings };
    const waits: number[] = [];
    idempotencyWaitSettings.sleep = async (ms) => void waits.push(ms);
    try {
      const res = await api('POST', '/v1/contacts', body, { 'idempotency-key': `held-${name.replaceAll(' ', '-')}` });
      expect(res.status).toBe(409);
      expect(res.body.code).toBe('idempotency_in_progress');
      expect(res.headers['retry-after']).toBe('1');
    } finally {
      Object.assign(idempotencyWaitSettings, saved);
    }
    // It waited, bounded: 25 ms doubling to 400 ms, about 3 s in all.
    expect(waits.slice(0, 5)).toEqual([25, 50, 100, 200, 400]);
    const waited = waits.reduce((sum, ms) => sum + ms, 0);
    expect(waited).toBeGreaterThanOrEqual(idempotencyWaitSettings.maxWaitMs);
    expect(waited).toBeLessThan(idempotencyWaitSettings.maxWaitMs + idempotencyWaitSettings.maxDelayMs);
    expect(await contactsNamed(name)).toEqual([]);
  });

  it('a first request that fails releases its key: a waiting repeat then runs itself', async () => {
    const name = unique('Released ');
    const body = { name };
    const key = `released-${name.replaceAll(' ', '-')}`;
    await holdKey(key, body);
    const waiting = api('POST', '/v1/contacts', body, { 'idempotency-key': key });
    await new Promise((resolve) => setTimeout(resolve, 150));
    await abandonIdempotentRequest(stack.deps, caller(), key); // what the handler does when the first fails
    const res = await waiting;
    expect(res.status).toBe(201);
    expect(res.headers['idempotent-replayed']).toBeUndefined();
    expect((await contactsNamed(name)).map((hit) => hit.id)).toEqual([res.body.id]);
    // From then on the key replays that answer.
    const again = await api('POST', '/v1/contacts', body, { 'idempotency-key': key });
    expect(again).toMatchObject({ status: 201, body: res.body, headers: { 'idempotent-replayed': 'true' } });
  });

  it('a first request that died without an answer (still running two minutes on) is taken over', async () => {
    const name = unique('Orphan ');
    const body = { name };
    const key = `orphan-${name.replaceAll(' ', '-')}`;
    await holdKey(key, body, new Date(stack.clock.nowMs() - 121_000).toISOString());
    const res = await api('POST', '/v1/contacts', body, { 'idempotency-key': key });
    expect(res.status).toBe(201);
    expect((await contactsNamed(name)).map((hit) => hit.id)).toEqual([res.body.id]);
  });
});

describe('caps hold on every path', () => {
  const emails = (count: number) =>
    Array.from({ length: count }, () => ({ kind: 'email', value: `${unique('cap')}@caps.example` }));

  it('channels: an 11th added one at a time is a 422 naming body.value; two adds racing for the 10th slot: one lands', async () => {
    const contact = await created('/v1/contacts', { name: 'Ten Channels', channels: emails(10) });
    const eleventh = await api('POST', `/v1/contacts/${contact.id}/channels`, emails(1)[0]);
    expect(eleventh.status).toBe(422);
    expect(eleventh.body).toMatchObject({ code: 'limit_exceeded', limit: 10, errors: [{ field: 'body.value' }] });
    expect((await get(`/v1/contacts/${contact.id}`)).version).toBe(contact.version);
    // A whole set over the cap does not match the body's schema: 400 naming body.channels.
    const patched = await api('PATCH', `/v1/contacts/${contact.id}`, { channels: emails(11) });
    expect(patched.status).toBe(400);
    expect(patched.body.errors[0].field).toBe('body.channels');

    const nine = await created('/v1/contacts', { name: 'Nine Channels', channels: emails(9) });
    const racing = await Promise.all(emails(2).map((channel) => api('POST', `/v1/contacts/${nine.id}/channels`, channel)));
    expect(statuses(racing)).toEqual({ 200: 1, 422: 1 });
    expect((await get(`/v1/contacts/${nine.id}`)).channels).toHaveLength(10);
  });

  it('tags: past 20 by adding, in bulk, or racing is a 422 naming body.tags (bulk: that contact is invalid)', async () => {
    const tags = Array.from({ length: 19 }, (_, index) => `cap-${index}`);
    const contact = await created('/v1/contacts', { name: 'Nineteen Tags' });
    expect((await api('POST', `/v1/contacts/${contact.id}/tags`, { tags })).status).toBe(200);
    const over = await api('POST', `/v1/contacts/${contact.id}/tags`, { tags: ['cap-a', 'cap-b'] });
    expect(over.status).toBe(422);
    expect(over.body).toMatchObject({ code: 'limit_exceeded', errors: [{ field: 'body.tags' }] });
    const bulk = await api('POST', '/v1/contacts/bulk', { action: 'tag', contactIds: [contact.id], tags: ['cap-a', 'cap-b'] });
    expect(bulk.body.results).toEqual([expect.objectContaining({ contactId: contact.id, outcome: 'invalid' })]);
    const racing = await Promise.all(['cap-x', 'cap-y'].map((tag) => api('POST', `/v1/contacts/${contact.id}/tags`, { tags: [tag] })));
    expect(statuses(racing)).toEqual({ 200: 1, 422: 1 });
    expect((await get(`/v1/contacts/${contact.id}`)).tags).toHaveLength(20);
  });

  it('stages: a 31st is a 422 naming body.name', async () => {
    const stages = Array.from({ length: 28 }, (_, index) => ({ name: `S${index}` }));
    const pipeline = await created('/v1/pipelines', { name: unique('Full '), stages });
    expect(pipeline.stages).toHaveLength(30);
    const extra = await api('POST', `/v1/pipelines/${pipeline.id}/stages`, { name: 'One too many' });
    expect(extra.status).toBe(422);
    expect(extra.body).toMatchObject({ code: 'limit_exceeded', limit: 30, errors: [{ field: 'body.name' }] });
    const tooLong = await api('POST', '/v1/pipelines', { name: unique('Too long '), stages: [...stages, { name: 'S28' }] });
    expect(tooLong.status).toBe(422);
    expect(tooLong.body.errors[0].field).toBe('body.stages');
  });

  it('tokens: a user holds at most 20, also when creates race', async () => {
    const user = await created('/v1/users', { name: 'Token Tom', email: `${unique('tokens')}@acme.example` });
    for (let index = 0; index < 19; index += 1) await created('/v1/tokens', { userId: user.id, name: `t${index}` });
    const racing = await Promise.all(['a', 'b'].map((name) => api('POST', '/v1/tokens', { userId: user.id, name })));
    expect(statuses(racing)).toEqual({ 201: 1, 422: 1 });
    expect(racing.find((res) => res.status === 422)!.body).toMatchObject({ code: 'limit_exceeded', limit: 20 });
    expect((await get(`/v1/tokens?userId=${user.id}&limit=100`)).items).toHaveLength(20);
  });

  it('company domains: a merge that would pass 20 is a 422 naming body.sourceCompanyIds', async () => {
    const domains = (prefix: string, count: number) => Array.from({ length: count }, (_, index) => `${prefix}${index}.example`);
    const target = await created('/v1/companies', { name: unique('Domains A '), domains: domains(unique('a'), 15) });
    const source = await created('/v1/companies', { name: unique('Domains B '), domains: domains(unique('b'), 6) });
    const res = await api('POST', `/v1/companies/${target.id}/merge`, { sourceCompanyIds: [source.id] });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ code: 'limit_exceeded', limit: 20, errors: [{ field: 'body.sourceCompanyIds' }] });
    expect((await get(`/v1/companies/${source.id}`)).status).toBe('active');
  });
});

describe('references to missing records are a 422 naming the field, never a silent 200', () => {
  it('reopening a deal into an unknown stage: 422 for a won deal and for an open one, nothing changed', async () => {
    const won = await created('/v1/deals', { title: 'Won deal' });
    await api('POST', `/v1/deals/${won.id}/won`);
    const open = await created('/v1/deals', { title: 'Open deal' });
    for (const deal of [won, open]) {
      const before = await get(`/v1/deals/${deal.id}`);
      const res = await api('POST', `/v1/deals/${deal.id}/reopen`, { stageId: 'st_nope' });
      expect(res.status).toBe(422);
      expect(res.body).toMatchObject({ code: 'invalid_reference', errors: [{ field: 'body.stageId' }] });
      expect(await get(`/v1/deals/${deal.id}`)).toEqual(before);
    }
  });

  it('every write that names another record', async () => {
    const contact = await created('/v1/contacts', { name: 'Referrer' });
    const company = await created('/v1/companies', { name: unique('Referred Co ') });
    const deal = await created('/v1/deals', { title: 'Referring deal' });
    const task = await created('/v1/tasks', { title: 'Referring task' });
    const pipeline = await created('/v1/pipelines', { name: unique('Referring pipeline ') });
    const cases: [string, string, unknown, string][] = [
      ['POST', '/v1/contacts', { name: 'x', ownerId: 'usr_nope' }, 'body.ownerId'],
      ['POST', '/v1/contacts', { name: 'x', companyId: 'co_nope' }, 'body.companyId'],
      ['PATCH', `/v1/contacts/${contact.id}`, { companyId: 'co_nope' }, 'body.companyId'],
      ['POST', `/v1/contacts/${contact.id}/assign`, { ownerId: 'usr_nope' }, 'body.ownerId'],
      ['POST', '/v1/contacts/bulk', { action: 'assign', contactIds: [contact.id], ownerId: 'usr_nope' }, 'body.ownerId'],
      ['POST', `/v1/contacts/${contact.id}/merge`, { sourceContactIds: ['ct_nope'] }, 'body.sourceContactIds.0'],
      ['PATCH', `/v1/companies/${company.id}`, { ownerId: 'usr_nope' }, 'body.ownerId'],
      ['POST', `/v1/companies/${company.id}/merge`, { sourceCompanyIds: ['co_nope'] }, 'body.sourceCompanyIds.0'],
      ['POST', '/v1/deals', { title: 'x', pipelineId: 'pl_nope' }, 'body.pipelineId'],
      ['POST', '/v1/deals', { title: 'x', stageId: 'st_nope' }, 'body.stageId'],
      ['POST', '/v1/deals', { title: 'x', contactId: 'ct_nope' }, 'body.contactId'],
      ['POST', '/v1/deals', { title: 'x', companyId: 'co_nope' }, 'body.companyId'],
      ['POST', '/v1/deals', { title: 'x', ownerId: 'usr_nope' }, 'body.ownerId'],
      ['PATCH', `/v1/deals/${deal.id}`, { contactId: 'ct_nope' }, 'body.contactId'],
      ['PATCH', `/v1/deals/${deal.id}`, { companyId: 'co_nope' }, 'body.companyId'],
      ['PATCH', `/v1/deals/${deal.id}`, { ownerId: 'usr_nope' }, 'body.ownerId'],
      ['POST', `/v1/deals/${deal.id}/stage`, { stageId: 'st_nope' }, 'body.stageId'],
      ['POST', `/v1/deals/${deal.id}/stage`, { stageId: 'st_open', pipelineId: 'pl_nope' }, 'body.pipelineId'],
      ['POST', '/v1/tasks', { title: 'x', assigneeId: 'usr_nope' }, 'body.assigneeId'],
      ['POST', '/v1/tasks', { title: 'x', anchor: { kind: 'contact', id: 'ct_nope' } }, 'body.anchor.id'],
      ['PATCH', `/v1/tasks/${task.id}`, { anchor: { kind: 'deal', id: 'dl_nope' } }, 'body.anchor.id'],
      ['POST', `/v1/tasks/${task.id}/assign`, { assigneeId: 'usr_nope' }, 'body.assigneeId'],
      ['POST', '/v1/notes', { anchor: { kind: 'company', id: 'co_nope' }, markdown: 'x' }, 'body.anchor.id'],
      ['PUT', '/v1/pins/1', { contactId: 'ct_nope' }, 'body.contactId'],
      ['POST', '/v1/tokens', { userId: 'usr_nope', name: 'x' }, 'body.userId'],
      ['PUT', `/v1/pipelines/${pipeline.id}/stages`, { stageIds: ['st_nope', ...pipeline.stages.slice(1).map((s: { id: string }) => s.id)] }, 'body.stageIds.0'],
      ['DELETE', `/v1/pipelines/${pipeline.id}/stages/${pipeline.stages[0].id}?moveDealsTo=st_nope`, undefined, 'query.moveDealsTo'],
    ];
    for (const [method, path, body, field] of cases) {
      const res = await api(method, path, body);
      const label = `${method} ${path} ${JSON.stringify(body)}`;
      expect(res.status, label).toBe(422);
      expect(res.body.code, label).toBe('invalid_reference');
      expect(res.body.errors.map((error: { field: string }) => error.field), label).toContain(field);
    }
    expect((await get(`/v1/deals/${deal.id}`)).version).toBe(deal.version);
    expect((await get(`/v1/tasks/${task.id}`)).version).toBe(task.version);
    expect((await get(`/v1/contacts/${contact.id}`)).version).toBe(contact.version);
    expect((await get(`/v1/pipelines/${pipeline.id}`)).version).toBe(pipeline.version);
  });
});

describe('every 409 says what it conflicts with in its code', () => {
  const conflictOf = async (res: Promise<ApiResponse>, code: string) => {
    const answer = await res;
    expect(answer.status, JSON.stringify(answer.body)).toBe(409);
    expect(answer.body).toMatchObject({ code, status: 409, type: `https://crm.dev/problems/${code.replaceAll('_', '-')}` });
    return answer.body;
  };

  it('values that belong to another record', async () => {
    const email = `${unique('taken')}@taken.example`;
    const holder = await created('/v1/contacts', { name: 'Holder', channels: [{ kind: 'email', value: email }] });
    const taken = await conflictOf(api('POST', '/v1/contacts', { name: 'Taker', channels: [{ kind: 'email', value: email }] }), 'channel_taken');
    expect(taken.conflictingContactId).toBe(holder.id);
    const domain = `${unique('taken')}.example`;
    await created('/v1/companies', { name: unique('Domain Holder '), domains: [domain] });
    await conflictOf(api('POST', '/v1/companies', { name: unique('Domain Taker '), domains: [domain] }), 'domain_taken');
    await conflictOf(api('POST', '/v1/users', { name: 'Twin', email: acme.member.user.email }), 'email_taken');
    const tag = await created('/v1/tags', { name: unique('taken-tag-') });
    await conflictOf(api('POST', '/v1/tags', { name: tag.name.toUpperCase() }), 'tag_exists');
    const key = unique('taken_').toLowerCase();
    await created('/v1/custom-fields', { entityType: 'contact', key, label: 'Taken', type: 'text' });
    await conflictOf(api('POST', '/v1/custom-fields', { entityType: 'contact', key, label: 'Again', type: 'text' }), 'already_exists');
  });

  it('states of the record: merged, archived, claimed, done, its type and options', async () => {
    const target = await created('/v1/contacts', { name: 'Merge Target' });
    const source = await created('/v1/contacts', { name: 'Merge Source' });
    expect((await api('POST', `/v1/contacts/${target.id}/merge`, { sourceContactIds: [source.id] })).status).toBe(200);
    await conflictOf(api('POST', `/v1/contacts/${source.id}/unarchive`), 'record_merged');
    const archived = await created('/v1/contacts', { name: 'Archived Target' });
    await api('POST', `/v1/contacts/${archived.id}/archive`);
    await conflictOf(api('POST', `/v1/contacts/${archived.id}/merge`, { sourceContactIds: [target.id] }), 'record_archived');

    const owned = await created('/v1/contacts', { name: 'Owned', ownerId: acme.admin.user.id });
    await conflictOf(stack.api('POST', `/v1/contacts/${owned.id}/claim`, { token: acme.member.token }), 'already_claimed');
    const held = await created('/v1/tasks', { title: 'Held', assigneeId: acme.admin.user.id });
    const claimed = await conflictOf(stack.api('POST', `/v1/tasks/${held.id}/claim`, { token: acme.member.token }), 'already_claimed');
    expect(claimed.assigneeId).toBe(acme.admin.user.id);
    const done = await created('/v1/tasks', { title: 'Done' });
    await api('POST', `/v1/tasks/${done.id}/complete`);
    await conflictOf(stack.api('POST', `/v1/tasks/${done.id}/claim`, { token: acme.member.token }), 'task_done');

    const key = unique('select_').toLowerCase();
    const options = [{ value: 'a', label: 'A' }, { value: 'b', label: 'B' }];
    await created('/v1/custom-fields', { entityType: 'deal', key, label: 'Select', type: 'select', options });
    await conflictOf(api('PATCH', `/v1/custom-fields/deal/${key}`, { type: 'text' }), 'type_immutable');
    await conflictOf(api('PATCH', `/v1/custom-fields/deal/${key}`, { options: options.slice(0, 1) }), 'option_removed');

    await conflictOf(api('PATCH', `/v1/users/${acme.owner.user.id}`, { role: 'admin' }), 'last_owner');
    const leaver = await created('/v1/users', { name: 'Leaver', email: `${unique('leaver')}@acme.example` });
    await api('PATCH', `/v1/users/${leaver.id}`, { status: 'deactivated' });
    await conflictOf(api('POST', '/v1/tokens', { userId: leaver.id, name: 'x' }), 'user_deactivated');
  });

  it('work under way: a tag being renamed or deleted, a stage being removed or holding deals', async () => {
    const saved = { tags: { ...tagLibrarySettings }, stages: { ...stageRemovalSettings } };
    tagLibrarySettings.contactsPerRequest = 1;
    stageRemovalSettings.dealsPerRequest = 1;
    try {
      const tagged = async (tag: string) => {
        for (const name of ['One', 'Two']) {
          const contact = await created('/v1/contacts', { name: `${name} ${tag}` });
          await api('POST', `/v1/contacts/${contact.id}/tags`, { tags: [tag] });
        }
      };
      const deleting = unique('deleting-');
      await tagged(deleting);
      expect((await api('DELETE', `/v1/tags/${deleting}`)).status).toBe(202);
      const someone = await created('/v1/contacts', { name: 'Late Tagger' });
      await conflictOf(api('POST', `/v1/contacts/${someone.id}/tags`, { tags: [deleting] }), 'tag_deleting');
      await conflictOf(api('PATCH', `/v1/tags/${deleting}`, { color: '#000000' }), 'tag_deleting');

      const renaming = unique('renaming-');
      await tagged(renaming);
      expect((await api('PATCH', `/v1/tags/${renaming}`, { name: `${renaming}-new` })).status).toBe(202);
      await conflictOf(api('DELETE', `/v1/tags/${renaming}`), 'tag_renaming');
      await conflictOf(api('PATCH', `/v1/tags/${renaming}`, { name: `${renaming}-other` }), 'tag_renaming');

      const pipeline = await created('/v1/pipelines', { name: unique('Removing '), stages: [{ name: 'A' }, { name: 'B' }] });
      const [a, b, won] = pipeline.stages;
      for (const title of ['D1', 'D2']) await created('/v1/deals', { title, pipelineId: pipeline.id, stageId: a.id });
      await conflictOf(api('DELETE', `/v1/pipelines/${pipeline.id}/stages/${won.id}`), 'stage_required');
      const holding = await conflictOf(api('DELETE', `/v1/pipelines/${pipeline.id}/stages/${a.id}`), 'stage_not_empty');
      expect(holding.errors[0].field).toBe('query.moveDealsTo');
      expect((await api('DELETE', `/v1/pipelines/${pipeline.id}/stages/${a.id}?moveDealsTo=${b.id}`)).status).toBe(202);
      await conflictOf(api('POST', '/v1/deals', { title: 'Late', pipelineId: pipeline.id, stageId: a.id }), 'stage_removing');
    } finally {
      Object.assign(tagLibrarySettings, saved.tags);
      Object.assign(stageRemovalSettings, saved.stages);
    }
  });
});

/** What a stale-If-Match case sends, and a read of everything the request could change. */
interface StaleCase {
  path: string;
  body?: unknown;
  snapshot: () => Promise<unknown>;
}

const get = async (path: string) => {
  const res = await api('GET', path);
  expect(res.status, path).toBe(200);
  return res.body;
};
/** A record as GET shows it, with its event log. */
const recordOf = (path: string, entityType: string, id: string) => async () => ({
  record: await get(path),
  events: await eventsOf(entityType, id),
});
const connectionCase = async () => {
  const connection = await created('/v1/channels', { kind: 'telegram', name: unique('Stale bot '), secrets: { botToken: '123456789:AAHstaleBotTokenForTheConflictTest' } });
  return { id: connection.id as string, snapshot: recordOf(`/v1/channels/${connection.id}`, 'channel_connection', connection.id) };
};
const contactCase = async (setup: (contact: { id: string }) => Promise<unknown> = async () => undefined) => {
  const contact = await created('/v1/contacts', {
    name: unique('Stale '),
    channels: [{ kind: 'email', value: `${unique('stale')}@stale.example` }],
  });
  await setup(contact);
  return { id: contact.id as string, snapshot: recordOf(`/v1/contacts/${contact.id}`, 'contact', contact.id) };
};
const companyCase = async (archived = false) => {
  const company = await created('/v1/companies', { name: unique('Stale Co ') });
  if (archived) await api('POST', `/v1/companies/${company.id}/archive`);
  return { id: company.id as string, snapshot: recordOf(`/v1/companies/${company.id}`, 'company', company.id) };
};
const noteCase = async () => {
  const contact = await created('/v1/contacts', { name: unique('Noted ') });
  const note = await created('/v1/notes', { anchor: { kind: 'contact', id: contact.id }, markdown: 'First' });
  return { id: note.id as string, snapshot: recordOf(`/v1/notes/${note.id}`, 'note', note.id) };
};
const taskCase = async (setup: (id: string) => Promise<unknown> = async () => undefined) => {
  const task = await created('/v1/tasks', { title: unique('Stale task ') });
  await setup(task.id);
  return { id: task.id as string, snapshot: recordOf(`/v1/tasks/${task.id}`, 'task', task.id) };
};
const pipelineCase = async () => {
  const pipeline = await created('/v1/pipelines', { name: unique('Stale pipeline ') });
  return {
    pipeline,
    snapshot: recordOf(`/v1/pipelines/${pipeline.id}`, 'pipeline', pipeline.id),
  };
};
const conversationCase = async (setup: (id: string) => Promise<unknown> = async () => undefined) => {
  const contact = await created('/v1/contacts', { name: unique('Talker '), channels: [{ kind: 'email', value: `${unique('talk')}@stale.example` }] });
  const conversation = await created('/v1/conversations', { kind: 'contact', contactId: contact.id, channel: 'email' });
  await setup(conversation.id);
  return {
    id: conversation.id as string,
    snapshot: recordOf(`/v1/conversations/${conversation.id}`, 'conversation', conversation.id),
  };
};
const callCase = async () => {
  const { id } = await conversationCase();
  const call = await created(`/v1/conversations/${id}/calls`, { kind: 'voice' });
  const path = `/v1/conversations/${id}/calls/${call.id}`;
  return { path, snapshot: recordOf(path, 'call', call.id) };
};
const dealCase = async (setup: (id: string) => Promise<unknown> = async () => undefined) => {
  const deal = await created('/v1/deals', { title: unique('Stale deal ') });
  await setup(deal.id);
  return { id: deal.id as string, snapshot: recordOf(`/v1/deals/${deal.id}`, 'deal', deal.id) };
};
const staleCases: Partial<Record<OperationId, () => Promise<StaleCase>>> = {
  updateWorkspace: async () => ({
    path: '/v1/workspace',
    body: { name: 'Acme renamed' },
    snapshot: recordOf('/v1/workspace', 'workspace', acme.workspace.id),
  }),
  updateUser: async () => {
    const user = await created('/v1/users', { name: 'Stale User', email: `${unique('user')}@acme.example` });
    return { path: `/v1/users/${user.id}`, body: { name: 'Renamed' }, snapshot: recordOf(`/v1/users/${user.id}`, 'user', user.id) };
  },
  updateCustomField: async () => {
    const key = unique('stale_').toLowerCase();
    await created('/v1/custom-fields', { entityType: 'deal', key, label: 'Stale', type: 'text' });
    return {
      path: `/v1/custom-fields/deal/${key}`,
      body: { label: 'Relabelled' },
      snapshot: async () => ({
        fields: (await get('/v1/custom-fields?entityType=deal&includeArchived=true')).items,
        events: await eventsOf('custom_field', `deal.${key}`),
      }),
    };
  },
  updateContact: async () => {
    const { id, snapshot } = await contactCase();
    return { path: `/v1/contacts/${id}`, body: { city: 'Oslo' }, snapshot };
  },
  addContactChannel: async () => {
    const { id, snapshot } = await contactCase();
    return { path: `/v1/contacts/${id}/channels`, body: { kind: 'email', value: `${unique('more')}@stale.example` }, snapshot };
  },
  removeContactChannel: async () => {
    const { id, snapshot } = await contactCase();
    const channelId = (await get(`/v1/contacts/${id}`)).channels[0].id;
    return { path: `/v1/contacts/${id}/channels/${channelId}`, snapshot };
  },
  archiveContact: async () => {
    const { id, snapshot } = await contactCase();
    return { path: `/v1/contacts/${id}/archive`, snapshot };
  },
  unarchiveContact: async () => {
    const { id, snapshot } = await contactCase((contact) => api('POST', `/v1/contacts/${contact.id}/archive`));
    return { path: `/v1/contacts/${id}/unarchive`, snapshot };
  },
  suppressContact: async () => {
    const { id, snapshot } = await contactCase();
    return { path: `/v1/contacts/${id}/suppress`, body: { reason: 'asked' }, snapshot };
  },
  unsuppressContact: async () => {
    const { id, snapshot } = await contactCase((contact) => api('POST', `/v1/contacts/${contact.id}/suppress`, {}));
    return { path: `/v1/contacts/${id}/unsuppress`, snapshot };
  },
  claimContact: async () => {
    const { id, snapshot } = await contactCase();
    return { path: `/v1/contacts/${id}/claim`, snapshot };
  },
  releaseContact: async () => {
    const { id, snapshot } = await contactCase((contact) => api('POST', `/v1/contacts/${contact.id}/claim`));
    return { path: `/v1/contacts/${id}/release`, snapshot };
  },
  assignContactOwner: async () => {
    const { id, snapshot } = await contactCase();
    return { path: `/v1/contacts/${id}/assign`, body: { ownerId: acme.member.user.id }, snapshot };
  },
  addContactTags: async () => {
    const { id, snapshot } = await contactCase();
    return { path: `/v1/contacts/${id}/tags`, body: { tags: ['stale-tag'] }, snapshot };
  },
  removeContactTag: async () => {
    const { id, snapshot } = await contactCase((contact) => api('POST', `/v1/contacts/${contact.id}/tags`, { tags: ['kept'] }));
    return { path: `/v1/contacts/${id}/tags/kept`, snapshot };
  },
  updateCompany: async () => {
    const { id, snapshot } = await companyCase();
    return { path: `/v1/companies/${id}`, body: { industry: 'Retail' }, snapshot };
  },
  archiveCompany: async () => {
    const { id, snapshot } = await companyCase();
    return { path: `/v1/companies/${id}/archive`, snapshot };
  },
  unarchiveCompany: async () => {
    const { id, snapshot } = await companyCase(true);
    return { path: `/v1/companies/${id}/unarchive`, snapshot };
  },
  updateNote: async () => {
    const { id, snapshot } = await noteCase();
    return { path: `/v1/notes/${id}`, body: { markdown: 'Second' }, snapshot };
  },
  deleteNote: async () => {
    const { id, snapshot } = await noteCase();
    return { path: `/v1/notes/${id}`, snapshot };
  },
  updateChannelConnection: async () => {
    const { id, snapshot } = await connectionCase();
    return { path: `/v1/channels/${id}`, body: { kind: 'telegram', name: 'Renamed bot' }, snapshot };
  },
  disconnectChannelConnection: async () => {
    const { id, snapshot } = await connectionCase();
    return { path: `/v1/channels/${id}/disconnect`, snapshot };
  },
  reconnectChannelConnection: async () => {
    const { id, snapshot } = await connectionCase();
    await api('POST', `/v1/channels/${id}/disconnect`);
    return { path: `/v1/channels/${id}/reconnect`, snapshot };
  },
  updateTask: async () => {
    const { id, snapshot } = await taskCase();
    return { path: `/v1/tasks/${id}`, body: { title: 'Renamed' }, snapshot };
  },
  claimTask: async () => {
    const { id, snapshot } = await taskCase();
    return { path: `/v1/tasks/${id}/claim`, snapshot };
  },
  assignTask: async () => {
    const { id, snapshot } = await taskCase();
    return { path: `/v1/tasks/${id}/assign`, body: { assigneeId: acme.member.user.id }, snapshot };
  },
  completeTask: async () => {
    const { id, snapshot } = await taskCase();
    return { path: `/v1/tasks/${id}/complete`, snapshot };
  },
  reopenTask: async () => {
    const { id, snapshot } = await taskCase((taskId) => api('POST', `/v1/tasks/${taskId}/complete`));
    return { path: `/v1/tasks/${id}/reopen`, snapshot };
  },
  renamePipeline: async () => {
    const { pipeline, snapshot } = await pipelineCase();
    return { path: `/v1/pipelines/${pipeline.id}`, body: { name: 'Renamed' }, snapshot };
  },
  addStage: async () => {
    const { pipeline, snapshot } = await pipelineCase();
    return { path: `/v1/pipelines/${pipeline.id}/stages`, body: { name: 'Extra' }, snapshot };
  },
  reorderStages: async () => {
    const { pipeline, snapshot } = await pipelineCase();
    const stageIds = pipeline.stages.map((stage: { id: string }) => stage.id).reverse();
    return { path: `/v1/pipelines/${pipeline.id}/stages`, body: { stageIds }, snapshot };
  },
  renameStage: async () => {
    const { pipeline, snapshot } = await pipelineCase();
    return { path: `/v1/pipelines/${pipeline.id}/stages/${pipeline.stages[0].id}`, body: { name: 'Renamed' }, snapshot };
  },
  updateDeal: async () => {
    const { id, snapshot } = await dealCase();
    return { path: `/v1/deals/${id}`, body: { title: 'Renamed' }, snapshot };
  },
  changeDealStage: async () => {
    const { id, snapshot } = await dealCase();
    return { path: `/v1/deals/${id}/stage`, body: { stageId: 'st_negotiating' }, snapshot };
  },
  markDealWon: async () => {
    const { id, snapshot } = await dealCase();
    return { path: `/v1/deals/${id}/won`, snapshot };
  },
  markDealLost: async () => {
    const { id, snapshot } = await dealCase();
    return { path: `/v1/deals/${id}/lost`, body: { reason: 'price' }, snapshot };
  },
  reopenDeal: async () => {
    const { id, snapshot } = await dealCase((dealId) => api('POST', `/v1/deals/${dealId}/won`));
    return { path: `/v1/deals/${id}/reopen`, body: {}, snapshot };
  },
  updateSegment: async () => {
    const segment = await created('/v1/segments', { name: unique('Stale segment '), kind: 'static' });
    return { path: `/v1/segments/${segment.id}`, body: { name: 'Renamed' }, snapshot: recordOf(`/v1/segments/${segment.id}`, 'segment', segment.id) };
  },
  deleteSegment: async () => {
    const segment = await created('/v1/segments', { name: unique('Stale segment '), kind: 'static' });
    return { path: `/v1/segments/${segment.id}`, snapshot: recordOf(`/v1/segments/${segment.id}`, 'segment', segment.id) };
  },
  updateAssignmentRule: async () => {
    const rule = await created('/v1/assignment-rules', { name: unique('Stale rule '), appliesTo: 'conversations', userIds: [acme.owner.user.id], enabled: false });
    const path = `/v1/assignment-rules/${rule.id}`;
    return { path, body: { name: 'Renamed', capPerUser: 3 }, snapshot: recordOf(path, 'assignment_rule', rule.id) };
  },
  deleteAssignmentRule: async () => {
    const rule = await created('/v1/assignment-rules', { name: unique('Stale rule '), appliesTo: 'contacts', userIds: [acme.owner.user.id], enabled: false });
    const path = `/v1/assignment-rules/${rule.id}`;
    return { path, snapshot: recordOf(path, 'assignment_rule', rule.id) };
  },
  updateWebhook: async () => {
    const hook = await created('/v1/webhooks', { url: 'http://127.0.0.1:9/stale', eventTypes: ['contact.*'] });
    return { path: `/v1/webhooks/${hook.id}`, body: { eventTypes: ['*'] }, snapshot: recordOf(`/v1/webhooks/${hook.id}`, 'webhook', hook.id) };
  },
  deleteWebhook: async () => {
    const hook = await created('/v1/webhooks', { url: 'http://127.0.0.1:9/stale', eventTypes: ['contact.*'] });
    return { path: `/v1/webhooks/${hook.id}`, snapshot: recordOf(`/v1/webhooks/${hook.id}`, 'webhook', hook.id) };
  },
  rotateWebhookSecret: async () => {
    const hook = await created('/v1/webhooks', { url: 'http://127.0.0.1:9/stale', eventTypes: ['contact.*'] });
    return { path: `/v1/webhooks/${hook.id}/rotate-secret`, snapshot: recordOf(`/v1/webhooks/${hook.id}`, 'webhook', hook.id) };
  },
  putBotSettings: async () => ({
    path: '/v1/bot',
    body: { enabled: true, rules: [{ name: 'Pricing', keywords: ['price'], template: 'Hi {{contact.firstName}}' }] },
    snapshot: recordOf('/v1/bot', 'workspace', acme.workspace.id),
  }),
  updateProduct: async () => {
    const product = await created('/v1/products', { name: unique('Stale product ') });
    return { path: `/v1/products/${product.id}`, body: { name: 'Renamed' }, snapshot: recordOf(`/v1/products/${product.id}`, 'product', product.id) };
  },
  updateTag: async () => {
    const tag = await created('/v1/tags', { name: unique('stale-tag-') });
    return {
      path: `/v1/tags/${encodeURIComponent(tag.key)}`,
      body: { color: '#112233', name: `${tag.name}-renamed` },
      snapshot: recordOf(`/v1/tags/${encodeURIComponent(tag.key)}`, 'tag', tag.key),
    };
  },
  setConversationStatus: async () => {
    const { id, snapshot } = await conversationCase();
    return { path: `/v1/conversations/${id}/status`, body: { status: 'resolved' }, snapshot };
  },
  claimConversation: async () => {
    const { id, snapshot } = await conversationCase();
    return { path: `/v1/conversations/${id}/claim`, snapshot };
  },
  releaseConversation: async () => {
    const { id, snapshot } = await conversationCase((conversationId) => api('POST', `/v1/conversations/${conversationId}/claim`));
    return { path: `/v1/conversations/${id}/release`, snapshot };
  },
  assignConversation: async () => {
    const { id, snapshot } = await conversationCase();
    return { path: `/v1/conversations/${id}/assign`, body: { assigneeId: acme.admin.user.id }, snapshot };
  },
  addConversationParticipant: async () => {
    const { id, snapshot } = await conversationCase();
    return { path: `/v1/conversations/${id}/participants`, body: { actorKind: 'user', id: acme.admin.user.id }, snapshot };
  },
  removeConversationParticipant: async () => {
    const { id, snapshot } = await conversationCase((conversationId) =>
      api('POST', `/v1/conversations/${conversationId}/participants`, { actorKind: 'user', id: acme.admin.user.id }),
    );
    return { path: `/v1/conversations/${id}/participants/${acme.admin.user.id}`, snapshot };
  },
  updateCallStatus: async () => {
    const { path, snapshot } = await callCase();
    return { path: `${path}/status`, body: { status: 'ringing' }, snapshot };
  },
  endCall: async () => {
    const { path, snapshot } = await callCase();
    return { path: `${path}/end`, body: {}, snapshot };
  },
};
