import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyCounterChanges, readUnreadTotals, type CounterChange } from '../../domain/inbox/unread-totals.service';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';

let stack: TestStack;
let acme: Awaited<ReturnType<typeof seedWorkspace>>;
let globex: Awaited<ReturnType<typeof seedWorkspace>>;

beforeAll(async () => {
  stack = await createTestStack();
  acme = await seedWorkspace(stack, 'Acme');
  globex = await seedWorkspace(stack, 'Globex');
});
afterAll(() => stack?.destroy());

type Counter = NonNullable<CounterChange['after']>;
const counter = (workspaceId: string, userId: string, conversationId: string, unread: number, rest: Partial<Counter> = {}): Counter => ({
  __edb_e__: 'unreadCounter',
  workspaceId,
  userId,
  conversationId,
  unread,
  kind: 'contact',
  assigneeKey: 'none',
  ...rest,
});

describe('unread totals from counter changes', () => {
  it('add each change’s difference per view, exactly once however often a record is delivered', async () => {
    const ws = acme.workspace.id;
    const me = acme.member.user.id;
    const caller = { workspaceId: ws, userId: me, role: 'member' as const };
    let n = 0;
    const change = (before?: Counter, after?: Counter): CounterChange => ({
      eventId: `evt-${++n}`,
      workspaceId: ws,
      userId: me,
      before,
      after,
    });
    const script: CounterChange[] = [
      // Two pool messages in c1, one in a direct conversation, one in c2 assigned to me.
      change(undefined, counter(ws, me, 'c1', 1)),
      change(counter(ws, me, 'c1', 1), counter(ws, me, 'c1', 2)),
      change(undefined, counter(ws, me, 'd1', 1, { kind: 'direct' })),
      change(undefined, counter(ws, me, 'c2', 1, { assigneeKey: me })),
      // c1 is assigned to me: its 2 move from the pool to mine.
      change(counter(ws, me, 'c1', 2), counter(ws, me, 'c1', 2, { assigneeKey: me })),
      // I read c2, and its emptied counter is deleted.
      change(counter(ws, me, 'c2', 1, { assigneeKey: me }), counter(ws, me, 'c2', 0, { assigneeKey: me })),
      change(counter(ws, me, 'c2', 0, { assigneeKey: me }), undefined),
    ];
    const expected = { total: 3, mine: 2, unassigned: 0, all: 2, direct: 1, conversations: 2 };

    expect(await applyCounterChanges(stack.deps, script.slice(0, 4))).toEqual({ applied: 4, duplicates: 0 });
    // A retried batch: the first four again, with the rest.
    expect(await applyCounterChanges(stack.deps, script)).toEqual({ applied: 3, duplicates: 4 });
    expect(await readUnreadTotals(stack.deps, caller)).toEqual(expected);
    // The whole stream delivered once more changes nothing.
    expect(await applyCounterChanges(stack.deps, script)).toEqual({ applied: 0, duplicates: 7 });
    expect(await readUnreadTotals(stack.deps, caller)).toEqual(expected);
    // Nobody else's totals moved: another user, another workspace.
    const zeros = { total: 0, mine: 0, unassigned: 0, all: 0, direct: 0, conversations: 0 };
    expect(await readUnreadTotals(stack.deps, { workspaceId: ws, userId: acme.admin.user.id, role: 'admin' })).toEqual(zeros);
    expect(
      await readUnreadTotals(stack.deps, { workspaceId: globex.workspace.id, userId: me, role: 'member' }),
    ).toEqual(zeros);
  });

  it('apply a batch larger than one transaction, for many users at once', async () => {
    const ws = globex.workspace.id;
    const users = [globex.owner.user.id, globex.admin.user.id, globex.member.user.id];
    const changes: CounterChange[] = [];
    for (const userId of users) {
      for (let i = 0; i < 150; i++) {
        changes.push({ eventId: `big-${userId}-${i}`, workspaceId: ws, userId, after: counter(ws, userId, `c${i}`, 2) });
      }
    }
    expect(await applyCounterChanges(stack.deps, changes)).toEqual({ applied: 450, duplicates: 0 });
    for (const userId of users) {
      expect(await readUnreadTotals(stack.deps, { workspaceId: ws, userId, role: 'member' })).toEqual({
        total: 300,
        mine: 0,
        unassigned: 300,
        all: 300,
        direct: 0,
        conversations: 150,
      });
    }
  });
});
