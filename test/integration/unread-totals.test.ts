import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unreadCounts } from '../../domain/inbox/messages.service';
import { applyCounterChanges, readUnreadTotals, type CounterChange } from '../../domain/inbox/unread-totals.service';
import type { CallerContext } from '../../domain/shared/context';
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

describe('the unread counts read', () => {
  const putCounters = (workspaceId: string, userId: string, count: number) =>
    Promise.all(
      Array.from({ length: count }, (_, i) =>
        stack.deps.db.entities.unreadCounter
          .put({ ...counter(workspaceId, userId, `cv-read-${i}`, i + 1), lastUnreadAt: `2026-01-01T00:00:0${i}.000Z` })
          .go(),
      ),
    );
  const pages = async (caller: CallerContext, limit: number) => {
    const seen: Array<{ conversationId: string; unread: number }> = [];
    const totals: number[] = [];
    let cursor: string | undefined;
    let reads = 0;
    do {
      const page = await unreadCounts(stack.deps, caller, { limit, cursor });
      reads += 1;
      totals.push(page.total);
      seen.push(...page.conversations.map(({ conversationId, unread }) => ({ conversationId, unread })));
      cursor = page.nextCursor ?? undefined;
    } while (cursor && reads < 20);
    return { seen, totals };
  };

  it('reads the totals and the first page in one Query, later pages with the totals beside them', async () => {
    const ws = globex.workspace.id;
    // Users of their own: the tests above gave the seeded ones totals.
    const userId = 'usr_unread_reader_1';
    const caller: CallerContext = { workspaceId: ws, userId, role: 'admin' };
    await putCounters(ws, userId, 5);
    // What the stream consumer makes of those five counters.
    await applyCounterChanges(
      stack.deps,
      Array.from({ length: 5 }, (_, i) => ({ eventId: `read-${i}`, workspaceId: ws, userId, after: counter(ws, userId, `cv-read-${i}`, i + 1) })),
    );
    stack.calls.reset();
    const first = await unreadCounts(stack.deps, caller, { limit: 2 });
    expect(stack.calls.counts).toEqual({ QueryCommand: 1 });
    expect(first).toMatchObject({ total: 15, conversationsWithUnread: 5, views: { all: 15, unassigned: 15 } });
    // Latest unread first.
    expect(first.conversations.map((c) => c.conversationId)).toEqual(['cv-read-4', 'cv-read-3']);
    stack.calls.reset();
    await unreadCounts(stack.deps, caller, { limit: 2, cursor: first.nextCursor! });
    expect(stack.calls.counts).toEqual({ QueryCommand: 1, GetItemCommand: 1 });

    const { seen, totals } = await pages(caller, 2);
    expect(seen.map((c) => c.conversationId)).toEqual(['cv-read-4', 'cv-read-3', 'cv-read-2', 'cv-read-1', 'cv-read-0']);
    expect(seen.map((c) => c.unread)).toEqual([5, 4, 3, 2, 1]);
    expect(new Set(totals)).toEqual(new Set([15]));
  });

  it('pages every conversation exactly once before the consumer wrote any totals', async () => {
    const ws = globex.workspace.id;
    const userId = 'usr_unread_reader_2';
    const caller: CallerContext = { workspaceId: ws, userId, role: 'member' };
    await putCounters(ws, userId, 5);
    for (const limit of [1, 2, 4, 5, 6]) {
      const { seen, totals } = await pages(caller, limit);
      expect(seen.map((c) => c.conversationId)).toEqual(['cv-read-4', 'cv-read-3', 'cv-read-2', 'cv-read-1', 'cv-read-0']);
      expect(new Set(totals)).toEqual(new Set([0]));
    }
  });
});
