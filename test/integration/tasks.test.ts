import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';

let stack: TestStack;
let acme: Awaited<ReturnType<typeof seedWorkspace>>;
let globex: Awaited<ReturnType<typeof seedWorkspace>>;
/** A second member of Acme. */
let max: { id: string; token: string };

// The stack's clock starts at 2026-01-15T09:00:00Z.
beforeAll(async () => {
  stack = await createTestStack();
  acme = await seedWorkspace(stack, 'Acme');
  globex = await seedWorkspace(stack, 'Globex');
  const user = await stack.api('POST', '/v1/users', {
    token: acme.owner.token,
    body: { name: 'Max Member', email: 'max@acme.example', role: 'member' },
  });
  const token = await stack.api('POST', '/v1/tokens', {
    token: acme.owner.token,
    body: { userId: user.body.id },
  });
  max = { id: user.body.id, token: token.body.token };
});
afterAll(() => stack.destroy());

interface TaskBody {
  id: string;
  title: string;
  status: string;
  assigneeId: string | null;
  version: number;
  dueAt: string | null;
  overdue: boolean;
  anchor: { kind: string; id: string } | null;
}

const fields = (res: { body: { errors?: { field: string }[] } }) =>
  (res.body.errors ?? []).map((error) => error.field);

const createTask = async (token: string, body: Record<string, unknown>) => {
  const res = await stack.api('POST', '/v1/tasks', { token, body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as TaskBody;
};
const list = async (token: string, path: string, query: Record<string, string | number> = {}) => {
  const res = await stack.api('GET', path, { token, query });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as { items: TaskBody[]; nextCursor: string | null };
};
const ids = (page: { items: TaskBody[] }) => page.items.map((task) => task.id);
const act = (
  token: string,
  taskId: string,
  action: string,
  body?: unknown,
  headers: Record<string, string> = {},
) => stack.api('POST', `/v1/tasks/${taskId}/${action}`, { token, body, headers });
const createContact = async (name: string) => {
  const res = await stack.api('POST', '/v1/contacts', { token: acme.owner.token, body: { name } });
  return res.body as { id: string };
};
const eventsOf = async (taskId: string) =>
  (
    await stack.api('GET', '/v1/events', {
      token: acme.owner.token,
      query: { entityType: 'task', entityId: taskId },
    })
  ).body.items as { type: string; contactId: string | null; payload: Record<string, unknown> }[];

describe('tasks', () => {
  it('creates pool and assigned tasks with the member rules, anchored, with task.created', async () => {
    const contact = await createContact('Tasked Tina');
    const pooled = await createTask(acme.member.token, {
      title: 'Call Tina',
      description: 'Ask about **renewal** <script>x</script>',
      dueAt: '2026-01-20T10:00:00+01:00',
      anchor: { kind: 'contact', id: contact.id },
    });
    expect(pooled).toMatchObject({
      title: 'Call Tina',
      status: 'open',
      priority: 'normal',
      assigneeId: null,
      dueAt: '2026-01-20T09:00:00.000Z',
      overdue: false,
      anchor: { kind: 'contact', id: contact.id },
      descriptionHtml: '<p>Ask about <strong>renewal</strong> &lt;script&gt;x&lt;/script&gt;</p>\n',
      version: 1,
    });
    const [created] = await eventsOf(pooled.id);
    expect(created).toMatchObject({
      type: 'task.created',
      contactId: contact.id,
      payload: { assigneeId: null },
    });

    const own = await createTask(acme.member.token, {
      title: 'Mine',
      assigneeId: acme.member.user.id,
      priority: 'high',
    });
    expect(own).toMatchObject({ assigneeId: acme.member.user.id, anchor: null });
    const forbidden = await stack.api('POST', '/v1/tasks', {
      token: acme.member.token,
      body: { title: 'For Max', assigneeId: max.id },
    });
    expect(forbidden.status).toBe(403);
    const given = await createTask(acme.admin.token, { title: 'For Max', assigneeId: max.id });
    expect(given.assigneeId).toBe(max.id);
    const got = await stack.api('GET', `/v1/tasks/${given.id}`, { token: acme.member.token });
    expect(got.status).toBe(200);
    expect(got.headers.etag).toBe('"1"');
  });

  it('refuses bad input naming the field, and writes nothing', async () => {
    const before = ids(await list(acme.owner.token, '/v1/tasks/pool', { limit: 100 }));
    const cases: [unknown, string[], number][] = [
      [{}, ['body.title'], 400],
      [{ title: '  ' }, ['body.title'], 400],
      [{ title: 'x', dueAt: 'tomorrow' }, ['body.dueAt'], 400],
      [{ title: 'x', priority: 'asap' }, ['body.priority'], 400],
      [{ title: 'x', anchor: { kind: 'deal', id: 'deal_1' } }, ['body.anchor.id'], 422],
      [{ title: 'x', anchor: { kind: 'contact', id: 'ct_nope' } }, ['body.anchor.id'], 422],
      [{ title: 'x', assigneeId: 'usr_nope' }, ['body.assigneeId'], 422],
    ];
    for (const [body, expected, status] of cases) {
      const res = await stack.api('POST', '/v1/tasks', { token: acme.owner.token, body });
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(res.headers['content-type']).toBe('application/problem+json');
      expect(fields(res)).toEqual(expected);
    }
    expect(ids(await list(acme.owner.token, '/v1/tasks/pool', { limit: 100 }))).toEqual(before);
    const badRange = await stack.api('GET', '/v1/tasks/due', {
      token: acme.owner.token,
      query: { from: '2026-02-01T00:00:00Z', to: '2026-01-01T00:00:00Z' },
    });
    expect(badRange.status).toBe(400);
    expect(fields(badRange)).toEqual(['query.to']);
    const patch = await stack.api('PATCH', `/v1/tasks/${before[0] ?? 'x'}`, {
      token: acme.owner.token,
      body: { priority: 'asap' },
    });
    expect(fields(patch)).toEqual(['body.priority']);
  });

  it('serves mine, pool, anchor, overdue and due-between lists from their keys', async () => {
    // A workspace of its own, so other tests' tasks stay out of these lists.
    const ws = await seedWorkspace(stack, 'Listy');
    const contactRes = await stack.api('POST', '/v1/contacts', {
      token: ws.owner.token,
      body: { name: 'Listed Lou' },
    });
    const anchor = { kind: 'contact', id: contactRes.body.id };
    const mk = (title: string, extra: Record<string, unknown> = {}) =>
      createTask(ws.member.token, { title, ...extra });
    const late = await mk('late', { dueAt: '2026-01-14T09:00:00Z', assigneeId: ws.member.user.id, anchor });
    const soon = await mk('soon', { dueAt: '2026-01-16T09:00:00Z', assigneeId: ws.member.user.id });
    const later = await mk('later', { dueAt: '2026-01-30T09:00:00Z', assigneeId: ws.member.user.id, anchor });
    const whenever = await mk('whenever', { assigneeId: ws.member.user.id, anchor });
    const poolLate = await mk('pool late', { dueAt: '2026-01-10T09:00:00Z' });
    const poolOpen = await mk('pool open', { anchor });

    expect(ids(await list(ws.member.token, '/v1/tasks/mine'))).toEqual([
      late.id,
      soon.id,
      later.id,
      whenever.id,
    ]);
    expect(ids(await list(ws.owner.token, '/v1/tasks/mine'))).toEqual([]);
    expect(ids(await list(ws.owner.token, '/v1/tasks/pool'))).toEqual([poolLate.id, poolOpen.id]);
    const overdue = await list(ws.owner.token, '/v1/tasks/overdue');
    expect(ids(overdue)).toEqual([poolLate.id, late.id]);
    expect(overdue.items.every((task) => task.overdue)).toBe(true);
    expect(
      ids(
        await list(ws.owner.token, '/v1/tasks/due', {
          from: '2026-01-14T09:00:00Z',
          to: '2026-01-30T09:00:00Z',
        }),
      ),
    ).toEqual([late.id, soon.id, later.id]);
    expect(
      ids(
        await list(ws.owner.token, '/v1/tasks/due', {
          from: '2026-01-15T00:00:00Z',
          to: '2026-01-17T00:00:00Z',
        }),
      ),
    ).toEqual([soon.id]);
    expect(
      ids(await list(ws.owner.token, '/v1/tasks', { anchorKind: 'contact', anchorId: anchor.id })),
    ).toEqual([late.id, later.id, whenever.id, poolOpen.id]);

    // Paging follows the same order.
    const first = await list(ws.member.token, '/v1/tasks/mine', { limit: 3 });
    const second = await list(ws.member.token, '/v1/tasks/mine', { limit: 3, cursor: first.nextCursor! });
    expect([...ids(first), ...ids(second)]).toEqual([late.id, soon.id, later.id, whenever.id]);
    expect(second.nextCursor).toBeNull();
    const wrongList = await stack.api('GET', '/v1/tasks/pool', {
      token: ws.member.token,
      query: { cursor: first.nextCursor! },
    });
    expect(wrongList.status).toBe(400);

    // Done tasks leave the open lists and head the done lists, newest completion first.
    stack.clock.advance(1000);
    expect((await act(ws.member.token, soon.id, 'complete')).status).toBe(200);
    stack.clock.advance(1000);
    expect((await act(ws.member.token, late.id, 'complete')).status).toBe(200);
    expect(ids(await list(ws.member.token, '/v1/tasks/mine'))).toEqual([later.id, whenever.id]);
    expect(ids(await list(ws.member.token, '/v1/tasks/mine', { status: 'done' }))).toEqual([
      late.id,
      soon.id,
    ]);
    expect(ids(await list(ws.owner.token, '/v1/tasks/overdue'))).toEqual([poolLate.id]);
    expect(
      ids(
        await list(ws.owner.token, '/v1/tasks', {
          anchorKind: 'contact',
          anchorId: anchor.id,
          status: 'done',
        }),
      ),
    ).toEqual([late.id]);
    expect(
      ids(
        await list(ws.owner.token, '/v1/tasks/due', {
          from: '2026-01-01T00:00:00Z',
          to: '2026-02-01T00:00:00Z',
          status: 'done',
        }),
      ),
    ).toEqual([late.id, soon.id]);

    // Moving the due time or the anchor moves the task in its lists.
    const moved = await stack.api('PATCH', `/v1/tasks/${later.id}`, {
      token: ws.member.token,
      body: { dueAt: null, anchor: null },
    });
    expect(moved.status).toBe(200);
    expect(
      ids(await list(ws.owner.token, '/v1/tasks', { anchorKind: 'contact', anchorId: anchor.id })),
    ).toEqual([whenever.id, poolOpen.id]);
    // Both without a due time now: in creation order.
    expect(ids(await list(ws.member.token, '/v1/tasks/mine'))).toEqual([later.id, whenever.id]);
    stack.clock.advance(16 * 24 * 3600 * 1000); // 2026-01-31: poolLate only, `later` lost its due time
    expect(ids(await list(ws.owner.token, '/v1/tasks/overdue'))).toEqual([poolLate.id]);
  });

  it('lets exactly one of two members claim a pool task at once', async () => {
    for (let round = 0; round < 3; round += 1) {
      const task = await createTask(acme.owner.token, { title: `race ${round}` });
      const [a, b] = await Promise.all([
        act(acme.member.token, task.id, 'claim'),
        act(max.token, task.id, 'claim'),
      ]);
      expect([a.status, b.status].sort()).toEqual([200, 409]);
      const winner = a.status === 200 ? acme.member.user.id : max.id;
      const got = await stack.api('GET', `/v1/tasks/${task.id}`, { token: acme.owner.token });
      expect(got.body).toMatchObject({ assigneeId: winner, version: 2 });
      const loser = a.status === 409 ? a : b;
      expect(loser.body.assigneeId).toBe(winner);
      expect((await eventsOf(task.id)).filter((event) => event.type === 'task.assigned')).toHaveLength(1);
    }
  });

  it('applies the assignment rules: claim, hand back, reassign', async () => {
    const task = await createTask(acme.owner.token, { title: 'Handed around' });
    expect((await act(acme.member.token, task.id, 'claim')).body.assigneeId).toBe(acme.member.user.id);
    // Claiming again is a no-op; someone else's claim is a 409.
    expect((await act(acme.member.token, task.id, 'claim')).status).toBe(200);
    expect((await act(max.token, task.id, 'claim')).status).toBe(409);
    // A member cannot give it away or take it from another member.
    expect((await act(acme.member.token, task.id, 'assign', { assigneeId: max.id })).status).toBe(403);
    expect((await act(max.token, task.id, 'assign', { assigneeId: null })).status).toBe(403);
    expect((await act(max.token, task.id, 'assign', { assigneeId: max.id })).status).toBe(409);
    // The assignee hands it back to the pool; then anyone can take it.
    const back = await act(acme.member.token, task.id, 'assign', { assigneeId: null });
    expect(back.status).toBe(200);
    expect(back.body.assigneeId).toBeNull();
    expect((await act(max.token, task.id, 'assign', { assigneeId: max.id })).body.assigneeId).toBe(max.id);
    // An admin gives it to anyone (an active user of the workspace).
    expect(
      (await act(acme.admin.token, task.id, 'assign', { assigneeId: acme.member.user.id })).body.assigneeId,
    ).toBe(acme.member.user.id);
    const unknown = await act(acme.admin.token, task.id, 'assign', { assigneeId: globex.owner.user.id });
    expect(unknown.status).toBe(422);
    expect(fields(unknown)).toEqual(['body.assigneeId']);
    const hows = (await eventsOf(task.id))
      .filter((e) => e.type === 'task.assigned')
      .map((e) => e.payload.how);
    expect(hows).toEqual(['assigned', 'claimed', 'released', 'claimed']);
  });

  it('lets a member change, complete and reopen their own and pool tasks only; If-Match guards writes', async () => {
    const contact = await createContact('Completed Carl');
    const others = await createTask(acme.admin.token, {
      title: 'Max’s',
      assigneeId: max.id,
      anchor: { kind: 'contact', id: contact.id },
    });
    for (const res of [
      await stack.api('PATCH', `/v1/tasks/${others.id}`, {
        token: acme.member.token,
        body: { title: 'nope' },
      }),
      await act(acme.member.token, others.id, 'complete'),
      await act(acme.member.token, others.id, 'reopen'),
    ]) {
      expect(res.status).toBe(403);
    }
    const pooled = await createTask(acme.owner.token, { title: 'Pool job' });
    const edited = await stack.api('PATCH', `/v1/tasks/${pooled.id}`, {
      token: acme.member.token,
      body: { title: 'Pool job, refined', priority: 'urgent', description: 'steps' },
      headers: { 'if-match': '"1"' },
    });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({
      title: 'Pool job, refined',
      priority: 'urgent',
      version: 2,
      descriptionHtml: '<p>steps</p>\n',
    });
    const stale = await stack.api('PATCH', `/v1/tasks/${pooled.id}`, {
      token: acme.member.token,
      body: { title: 'late' },
      headers: { 'if-match': '"1"' },
    });
    expect(stale.status).toBe(412);
    expect(
      (await act(acme.member.token, pooled.id, 'complete', undefined, { 'if-match': '"1"' })).status,
    ).toBe(412);

    const done = await act(max.token, others.id, 'complete');
    expect(done.body).toMatchObject({ status: 'done', completedBy: max.id, version: 2 });
    expect((await act(max.token, others.id, 'complete')).body.version).toBe(2);
    const reopened = await act(acme.admin.token, others.id, 'reopen');
    expect(reopened.body).toMatchObject({ status: 'open', completedAt: null, version: 3 });
    const types = (await eventsOf(others.id)).map((e) => e.type);
    expect(types).toEqual(['task.reopened', 'task.completed', 'task.created']);
    expect((await eventsOf(others.id))[1]).toMatchObject({
      contactId: contact.id,
      payload: { title: 'Max’s' },
    });
    // A done task is not claimable.
    const finished = await createTask(acme.owner.token, { title: 'finished in pool' });
    await act(acme.owner.token, finished.id, 'complete');
    expect((await act(acme.member.token, finished.id, 'claim')).status).toBe(409);
  });

  it('keeps another workspace’s tasks and records out of reach (404; 422 for an anchor in a body)', async () => {
    const contact = await createContact('Hidden Hal');
    const task = await createTask(acme.owner.token, {
      title: 'Acme only',
      anchor: { kind: 'contact', id: contact.id },
    });
    const token = globex.owner.token;
    expect((await stack.api('GET', `/v1/tasks/${task.id}`, { token })).status).toBe(404);
    expect((await stack.api('PATCH', `/v1/tasks/${task.id}`, { token, body: { title: 'x' } })).status).toBe(
      404,
    );
    for (const action of ['claim', 'complete', 'reopen'])
      expect((await act(token, task.id, action)).status).toBe(404);
    expect((await act(token, task.id, 'assign', { assigneeId: null })).status).toBe(404);
    expect(
      (await stack.api('GET', '/v1/tasks', { token, query: { anchorKind: 'contact', anchorId: contact.id } }))
        .status,
    ).toBe(404);
    expect(
      (
        await stack.api('POST', '/v1/tasks', {
          token,
          body: { title: 'x', anchor: { kind: 'contact', id: contact.id } },
        })
      ).status,
    ).toBe(422);
    expect(ids(await list(token, '/v1/tasks/pool', { limit: 100 }))).not.toContain(task.id);
    expect(ids(await list(token, '/v1/tasks/overdue', { limit: 100 }))).not.toContain(task.id);
  });

  it('moves the tasks of merged contacts to the target', async () => {
    const target = await createContact('Task Target');
    const source = await createContact('Task Source');
    const open = await createTask(acme.owner.token, {
      title: 'open on source',
      anchor: { kind: 'contact', id: source.id },
    });
    const done = await createTask(acme.owner.token, {
      title: 'done on source',
      anchor: { kind: 'contact', id: source.id },
    });
    await act(acme.owner.token, done.id, 'complete');
    const merged = await stack.api('POST', `/v1/contacts/${target.id}/merge`, {
      token: acme.owner.token,
      body: { sourceContactIds: [source.id] },
    });
    expect(merged.status).toBe(200);
    expect(
      ids(await list(acme.owner.token, '/v1/tasks', { anchorKind: 'contact', anchorId: target.id })),
    ).toEqual([open.id]);
    expect(
      ids(
        await list(acme.owner.token, '/v1/tasks', {
          anchorKind: 'contact',
          anchorId: target.id,
          status: 'done',
        }),
      ),
    ).toEqual([done.id]);
    expect((await stack.api('GET', `/v1/tasks/${open.id}`, { token: acme.owner.token })).body.anchor).toEqual(
      { kind: 'contact', id: target.id },
    );
    expect((await eventsOf(open.id))[0]).toMatchObject({ type: 'task.updated', contactId: target.id });
  });
});
