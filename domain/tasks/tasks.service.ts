import { appendEvent, newEvent, type EventRecord, type EventSubjects } from '../../events/event-log';
import {
  anchorSubjects,
  resolveAnchor,
  subjectsOf,
  type AnchorKind,
  type AnchorRef,
  type MoveProgress,
} from '../anchors/anchors';
import { isManager, type CallerContext } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import { assertActiveUser } from '../users/active-user';
import { conflict, forbidden, LostRace, lostRace, notFound, stale } from '../shared/errors';
import { loadMarkdownRenderer } from '../shared/markdown-on-first-use';
import type { Page } from '../shared/pagination';
import { decodeListCursor, electroCursor, encodeListCursor } from '../store/index-cursor';
import { prefixEnd } from '../store/key-range';
import { writeTransaction } from '../store/transaction';
import type {
  AssignTaskInput,
  CreateTaskInput,
  ListAnchorTasksQuery,
  ListDueTasksQuery,
  ListMyTasksQuery,
  Task,
  TaskPriority,
  TaskStatus,
  UpdateTaskInput,
} from './tasks.schemas';

/** The task item as stored. */
export interface TaskItem {
  workspaceId: string;
  taskId: string;
  title: string;
  description?: string;
  dueAt?: string;
  priority: TaskPriority;
  status: TaskStatus;
  assigneeId?: string;
  assigneeKey: string;
  anchorKind?: AnchorKind;
  anchorId?: string;
  listKey: string;
  anchorScope?: string;
  anchorListKey?: string;
  dueScope?: string;
  dueKey?: string;
  completedAt?: string;
  completedBy?: string;
  createdBy: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** The assignee list partition of the pool. User ids never take this value (they are `usr_…`). */
const pool = 'pool';
/** Sorts after every ISO time: open tasks without a due time come last. */
const noDue = '~';

const taskRef = (taskId: string) => ({ type: 'task' as const, id: taskId });
const anchorOf = (item: Pick<TaskItem, 'anchorKind' | 'anchorId'>): AnchorRef | undefined =>
  item.anchorKind && item.anchorId ? { kind: item.anchorKind, id: item.anchorId } : undefined;

const anchorScopeOf = (workspaceId: string, anchor: AnchorRef) =>
  `${workspaceId}#TASKS#ANCHOR#${anchor.kind}#${anchor.id}`;
const dueScopeOf = (workspaceId: string, status: TaskStatus) => `${workspaceId}#TASKS#DUE#${status}`;

/** Recomputes the list keys from the task's fields: call before every write. */
function withKeys(item: TaskItem): TaskItem {
  const { anchorScope: _as, anchorListKey: _al, dueScope: _ds, dueKey: _dk, ...rest } = item;
  const listKey =
    item.status === 'open' ? `${item.dueAt ?? noDue}#${item.taskId}` : `${item.completedAt}#${item.taskId}`;
  const anchor = anchorOf(item);
  return {
    ...rest,
    assigneeKey: item.assigneeId ?? pool,
    listKey,
    ...(anchor
      ? { anchorScope: anchorScopeOf(item.workspaceId, anchor), anchorListKey: `${item.status}#${listKey}` }
      : {}),
    ...(item.dueAt
      ? { dueScope: dueScopeOf(item.workspaceId, item.status), dueKey: `${item.dueAt}#${item.taskId}` }
      : {}),
  };
}

export async function toTask(item: TaskItem, nowIso: string): Promise<Task> {
  const descriptionHtml = item.description !== undefined ? (await loadMarkdownRenderer())(item.description) : null;
  return {
    id: item.taskId,
    title: item.title,
    description: item.description ?? null,
    descriptionHtml,
    dueAt: item.dueAt ?? null,
    overdue: item.status === 'open' && item.dueAt !== undefined && item.dueAt < nowIso,
    priority: item.priority,
    status: item.status,
    assigneeId: item.assigneeId ?? null,
    anchor: anchorOf(item) ?? null,
    completedAt: item.completedAt ?? null,
    completedBy: item.completedBy ?? null,
    createdBy: item.createdBy,
    version: item.version,
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
  };
}

async function findTask(deps: CoreDeps, workspaceId: string, taskId: string, consistent = false) {
  const { data } = await deps.db.entities.task.get({ workspaceId, taskId }).go({ consistent });
  return (data as TaskItem | null) ?? undefined;
}

async function readTask(deps: CoreDeps, workspaceId: string, taskId: string, consistent = false): Promise<TaskItem> {
  const item = await findTask(deps, workspaceId, taskId, consistent);
  if (!item) throw notFound('Task');
  return item;
}

// ---------------------------------------------------------------------------------------------
// Rules

/** Seed 000: owner/admin change any task; a member their own (assigned to them) or the pool's. */
function assertCanWriteTask(caller: CallerContext, item: TaskItem): void {
  if (isManager(caller) || !item.assigneeId || item.assigneeId === caller.userId) return;
  throw forbidden('This task is assigned to another user: only they, an owner or an admin can change it');
}

const now = (deps: CoreDeps) => deps.clock.nowIso();

// ---------------------------------------------------------------------------------------------
// Writing

/**
 * Writes a task change in one transaction with its events, conditional on the version read (and on
 * `extra`, e.g. "still in the pool"). The task's lists are its own index keys, so they follow in the
 * same write.
 */
async function commitTask(
  deps: CoreDeps,
  before: TaskItem | undefined,
  after: TaskItem,
  events: EventRecord[],
  explain: () => Error,
): Promise<void> {
  await writeTransaction(
    deps.db,
    (tx) => [
      before
        ? tx.task
            .put(after)
            .where((attr, { eq }) => eq(attr.version, before.version))
            .commit()
        : tx.task.create(after).commit(),
      ...events.map((event) => appendEvent(tx, event)),
    ],
    explain,
  );
}

/** The version read is gone: the request runs again from its read (412 then, with If-Match). */
const changedMeanwhile = () => lostRace('The task');

/**
 * Creates a task, in the pool or assigned (a member may only take it themselves; owner/admin give it
 * to any active user), anchored to a record of the workspace or to nothing. Appends `task.created`,
 * about the anchor.
 */
export async function createTask(
  deps: CoreDeps,
  caller: CallerContext,
  input: CreateTaskInput,
): Promise<Task> {
  const { workspaceId } = caller;
  const assigneeId = input.assigneeId ?? undefined;
  if (assigneeId !== undefined) {
    if (!isManager(caller) && assigneeId !== caller.userId) {
      throw forbidden('A member can only assign a task to themselves or leave it in the pool');
    }
    await assertActiveUser(deps, workspaceId, assigneeId, 'body.assigneeId');
  }
  const anchor = input.anchor ? await resolveAnchor(deps, caller, input.anchor) : undefined;
  const at = now(deps);
  const taskId = deps.newId('task');
  const item = withKeys({
    workspaceId,
    taskId,
    title: input.title,
    ...(input.description !== undefined && input.description !== ''
      ? { description: input.description }
      : {}),
    ...(input.dueAt ? { dueAt: input.dueAt } : {}),
    priority: input.priority,
    status: 'open',
    ...(assigneeId ? { assigneeId } : {}),
    assigneeKey: pool,
    ...(anchor ? { anchorKind: anchor.kind, anchorId: anchor.id } : {}),
    listKey: '',
    createdBy: caller.userId,
    version: 1,
    createdAt: at,
    updatedAt: at,
  });
  const event = newEvent(
    deps,
    caller,
    'task.created',
    taskRef(taskId),
    {
      title: item.title,
      anchor: anchor ? { kind: anchor.kind, id: anchor.id } : null,
      assigneeId: item.assigneeId ?? null,
      dueAt: item.dueAt ?? null,
      priority: item.priority,
    },
    anchor?.subjects ?? {},
  );
  await commitTask(deps, undefined, item, [event], () => conflict('already_exists', 'A task with this id already exists'));
  return toTask(item, at);
}

export async function getTask(deps: CoreDeps, caller: CallerContext, taskId: string): Promise<Task> {
  return toTask(await readTask(deps, caller.workspaceId, taskId), now(deps));
}

const changeFields = ['title', 'description', 'dueAt', 'priority', 'anchorKind', 'anchorId'] as const;

/** Changes a task's title, description, due time, priority or anchor (null clears). Appends `task.updated`. */
export async function updateTask(
  deps: CoreDeps,
  caller: CallerContext,
  taskId: string,
  input: UpdateTaskInput,
  expectedVersion?: number,
): Promise<Task> {
  const { workspaceId } = caller;
  const before = await readTask(deps, workspaceId, taskId, true);
  if (expectedVersion !== undefined && expectedVersion !== before.version) throw stale();
  assertCanWriteTask(caller, before);
  const next: TaskItem = { ...before };
  if (input.title !== undefined) next.title = input.title;
  if (input.priority !== undefined) next.priority = input.priority;
  if (input.description !== undefined) {
    if (input.description === null || input.description === '') delete next.description;
    else next.description = input.description;
  }
  if (input.dueAt !== undefined) {
    if (input.dueAt === null) delete next.dueAt;
    else next.dueAt = input.dueAt;
  }
  let subjects: EventSubjects | undefined;
  if (input.anchor !== undefined) {
    delete next.anchorKind;
    delete next.anchorId;
    subjects = {};
    if (input.anchor !== null) {
      const anchor = await resolveAnchor(deps, caller, input.anchor);
      next.anchorKind = anchor.kind;
      next.anchorId = anchor.id;
      subjects = anchor.subjects;
    }
  }
  const changes: Record<string, { from: unknown; to: unknown }> = {};
  for (const field of changeFields) {
    const from = before[field] ?? null;
    const to = next[field] ?? null;
    if (from !== to) changes[field] = { from, to };
  }
  if (Object.keys(changes).length === 0) return toTask(before, now(deps));
  const after = withKeys({ ...next, version: before.version + 1, updatedAt: now(deps) });
  const event = newEvent(
    deps,
    caller,
    'task.updated',
    taskRef(taskId),
    { changes },
    subjects ?? (await anchorSubjects(deps, workspaceId, anchorOf(after))),
  );
  await commitTask(deps, before, after, [event], changedMeanwhile);
  return toTask(after, after.updatedAt);
}

/** The 409 for a task someone else holds. */
const heldBy = (item: TaskItem) =>
  conflict('already_claimed', `This task is assigned to ${item.assigneeId}: it is not in the pool`, {
    assigneeId: item.assigneeId ?? null,
  });

/**
 * Takes a task from the pool: a write conditional on the task still being in the pool (and on the
 * version read), so of two users claiming at once one wins and the other gets 409. Claiming a task
 * one already holds changes nothing; a done task cannot be claimed (409).
 */
export async function claimTask(
  deps: CoreDeps,
  caller: CallerContext,
  taskId: string,
  expectedVersion?: number,
): Promise<Task> {
  const { workspaceId } = caller;
  const before = await readTask(deps, workspaceId, taskId, true);
  if (expectedVersion !== undefined && expectedVersion !== before.version) throw stale();
  if (before.assigneeId === caller.userId) return toTask(before, now(deps));
  if (before.assigneeId) throw heldBy(before);
  if (before.status === 'done') throw conflict('task_done', 'This task is done: reopen it before claiming it');
  const at = now(deps);
  const after = withKeys({
    ...before,
    assigneeId: caller.userId,
    version: before.version + 1,
    updatedAt: at,
  });
  const event = newEvent(
    deps,
    caller,
    'task.assigned',
    taskRef(taskId),
    { assigneeId: caller.userId, previousAssigneeId: null, how: 'claimed' },
    await anchorSubjects(deps, caller.workspaceId, anchorOf(before)),
  );
  await writeTransaction(
    deps.db,
    (tx) => [
      tx.task
        .put(after)
        .where(
          (attr, { eq, notExists }) =>
            `${eq(attr.version, before.version)} AND ${notExists(attr.assigneeId)}`,
        )
        .commit(),
      appendEvent(tx, event),
    ],
    // Claimed or changed meanwhile: the request runs again from its read, and then finds the task
    // held by the winner (409 already_claimed), or claims it on top of the other change.
    changedMeanwhile,
  );
  return toTask(after, at);
}

/**
 * Gives a task to a user or puts it back in the pool (`assigneeId` null). Owner/admin: any task, to
 * any active user. A member: hands back a task they hold, or takes one from the pool (as a claim).
 */
export async function assignTask(
  deps: CoreDeps,
  caller: CallerContext,
  taskId: string,
  input: AssignTaskInput,
  expectedVersion?: number,
): Promise<Task> {
  const { workspaceId } = caller;
  const target = input.assigneeId ?? undefined;
  if (!isManager(caller) && target === caller.userId) return claimTask(deps, caller, taskId, expectedVersion);
  const before = await readTask(deps, workspaceId, taskId, true);
  if (expectedVersion !== undefined && expectedVersion !== before.version) throw stale();
  if (!isManager(caller)) {
    if (target !== undefined) throw forbidden('Only an owner or admin can give a task to someone else');
    if (before.assigneeId !== caller.userId) {
      throw forbidden('Only the assignee, an owner or an admin can put a task back in the pool');
    }
  }
  if (target === before.assigneeId) return toTask(before, now(deps));
  if (target !== undefined) await assertActiveUser(deps, workspaceId, target, 'body.assigneeId');
  const at = now(deps);
  const next: TaskItem = { ...before, version: before.version + 1, updatedAt: at };
  if (target === undefined) delete next.assigneeId;
  else next.assigneeId = target;
  const after = withKeys(next);
  const event = newEvent(
    deps,
    caller,
    'task.assigned',
    taskRef(taskId),
    {
      assigneeId: target ?? null,
      previousAssigneeId: before.assigneeId ?? null,
      how: target === undefined ? 'released' : 'assigned',
    },
    await anchorSubjects(deps, caller.workspaceId, anchorOf(before)),
  );
  await commitTask(deps, before, after, [event], changedMeanwhile);
  return toTask(after, at);
}

/** Marks a task done (seed 000 "Task completed"); completing a done task changes nothing. */
export async function completeTask(
  deps: CoreDeps,
  caller: CallerContext,
  taskId: string,
  expectedVersion?: number,
): Promise<Task> {
  const before = await readTask(deps, caller.workspaceId, taskId, true);
  if (expectedVersion !== undefined && expectedVersion !== before.version) throw stale();
  assertCanWriteTask(caller, before);
  const at = now(deps);
  if (before.status === 'done') return toTask(before, at);
  const after = withKeys({
    ...before,
    status: 'done',
    completedAt: at,
    completedBy: caller.userId,
    version: before.version + 1,
    updatedAt: at,
  });
  const event = newEvent(
    deps,
    caller,
    'task.completed',
    taskRef(taskId),
    { title: before.title, anchor: anchorOf(before) ?? null, assigneeId: before.assigneeId ?? null },
    await anchorSubjects(deps, caller.workspaceId, anchorOf(before)),
  );
  await commitTask(deps, before, after, [event], changedMeanwhile);
  return toTask(after, at);
}

/** Opens a done task again; reopening an open task changes nothing. */
export async function reopenTask(
  deps: CoreDeps,
  caller: CallerContext,
  taskId: string,
  expectedVersion?: number,
): Promise<Task> {
  const before = await readTask(deps, caller.workspaceId, taskId, true);
  if (expectedVersion !== undefined && expectedVersion !== before.version) throw stale();
  assertCanWriteTask(caller, before);
  const at = now(deps);
  if (before.status === 'open') return toTask(before, at);
  const { completedAt: _c, completedBy: _b, ...rest } = before;
  const after = withKeys({ ...rest, status: 'open', version: before.version + 1, updatedAt: at });
  const subjects = await anchorSubjects(deps, caller.workspaceId, anchorOf(before));
  const event = newEvent(deps, caller, 'task.reopened', taskRef(taskId), {}, subjects);
  await commitTask(deps, before, after, [event], changedMeanwhile);
  return toTask(after, at);
}

// ---------------------------------------------------------------------------------------------
// Lists: each one Query on one index partition

const tableKey = (workspaceId: string, taskId: string) => ({
  pk: `WS#${workspaceId}#TASK#${taskId}`,
  sk: 'TASK',
});

async function page(
  deps: CoreDeps,
  result: { data: unknown[]; cursor: string | null },
  fingerprint: string,
  sortKeyOf: (item: TaskItem) => string,
): Promise<Page<Task>> {
  const items = result.data as TaskItem[];
  const last = items[items.length - 1];
  const at = now(deps);
  return {
    items: await Promise.all(items.map((item) => toTask(item, at))),
    nextCursor:
      result.cursor && last
        ? encodeListCursor(fingerprint, { id: last.taskId, sortKey: sortKeyOf(last) })
        : null,
  };
}

/** Open: soonest due first (no due time last); done: most recently completed first. */
const orderOf = (status: TaskStatus) => (status === 'open' ? 'asc' : 'desc');

async function listByAssignee(
  deps: CoreDeps,
  caller: CallerContext,
  assigneeKey: string,
  query: ListMyTasksQuery,
): Promise<Page<Task>> {
  const { workspaceId } = caller;
  const fingerprint = `tasks|assignee|${assigneeKey}|${query.status}`;
  const after = decodeListCursor(query.cursor, fingerprint);
  const gsi1pk = `WS#${workspaceId}#TASKS#${query.status}#${assigneeKey}`;
  const result = await deps.db.entities.task.query
    .byAssignee({ workspaceId, status: query.status, assigneeKey })
    .go({
      order: orderOf(query.status),
      limit: query.limit,
      cursor: after
        ? electroCursor({ ...tableKey(workspaceId, after.id), gsi1pk, gsi1sk: after.sortKey })
        : null,
    });
  return page(deps, result, fingerprint, (item) => item.listKey);
}

/** The caller's tasks ("mine"): open by due time, or done by completion. */
export const listMyTasks = (deps: CoreDeps, caller: CallerContext, query: ListMyTasksQuery) =>
  listByAssignee(deps, caller, caller.userId, query);

/** The pool: tasks nobody holds, open by due time, or done by completion. */
export const listPoolTasks = (deps: CoreDeps, caller: CallerContext, query: ListMyTasksQuery) =>
  listByAssignee(deps, caller, pool, query);

/**
 * The tasks of one anchor (404 when it is not in the workspace; a merged contact or company lists
 * the tasks of the one it was merged into): one GetItem and one Query on the anchor's partition,
 * on the key range of the status.
 */
export async function listAnchorTasks(
  deps: CoreDeps,
  caller: CallerContext,
  query: ListAnchorTasksQuery,
): Promise<Page<Task>> {
  const { workspaceId } = caller;
  const anchor = await resolveAnchor(
    deps,
    caller,
    { kind: query.anchorKind, id: query.anchorId },
    'query.anchorId',
  );
  const fingerprint = `tasks|anchor|${anchor.kind}|${anchor.id}|${query.status}`;
  const after = decodeListCursor(query.cursor, fingerprint);
  const anchorScope = anchorScopeOf(workspaceId, anchor);
  const gsi2pk = `WS#${anchorScope}`;
  const prefix = `${query.status}#`;
  const result = await deps.db.entities.task.query
    .byAnchor({ anchorScope })
    .between({ anchorListKey: prefix }, { anchorListKey: prefixEnd(prefix) })
    .go({
      order: orderOf(query.status),
      limit: query.limit,
      cursor: after
        ? electroCursor({ ...tableKey(workspaceId, after.id), gsi2pk, gsi2sk: after.sortKey })
        : null,
    });
  return page(deps, result, fingerprint, (item) => item.anchorListKey ?? '');
}

async function listByDue(
  deps: CoreDeps,
  caller: CallerContext,
  status: TaskStatus,
  range: { from?: string; before: string },
  pageQuery: { limit: number; cursor?: string },
): Promise<Page<Task>> {
  const { workspaceId } = caller;
  const fingerprint = `tasks|due|${status}|${range.from ?? ''}|${range.before}`;
  const after = decodeListCursor(pageQuery.cursor, fingerprint);
  const dueScope = dueScopeOf(workspaceId, status);
  const gsi3pk = `WS#${dueScope}`;
  const base = deps.db.entities.task.query.byDue({ dueScope });
  const query =
    range.from !== undefined
      ? base.between({ dueKey: range.from }, { dueKey: range.before })
      : base.lt({ dueKey: range.before });
  const result = await query.go({
    limit: pageQuery.limit,
    cursor: after
      ? electroCursor({ ...tableKey(workspaceId, after.id), gsi3pk, gsi3sk: after.sortKey })
      : null,
  });
  return page(deps, result, fingerprint, (item) => item.dueKey ?? '');
}

/** Open tasks due before now, the most overdue first, whoever holds them: one Query. */
export const listOverdueTasks = (
  deps: CoreDeps,
  caller: CallerContext,
  pageQuery: { limit: number; cursor?: string },
) => listByDue(deps, caller, 'open', { before: now(deps) }, pageQuery);

/** Tasks due between two times (both included), soonest first, open (default) or done: one Query. */
export const listDueTasks = (deps: CoreDeps, caller: CallerContext, query: ListDueTasksQuery) =>
  listByDue(deps, caller, query.status, { from: query.from, before: `${query.to}#${prefixEnd('')}` }, query);

// ---------------------------------------------------------------------------------------------
// Merges

const moveConcurrency = 8;

/**
 * A merge step: moves up to `budget` tasks (open and done) of one anchor to another, each in its own
 * transaction with a `task.updated` (anchor changed), conditioned on the version read and on the task
 * still being on the source. Moved tasks leave the source's partition, so a repeated request goes on
 * where the last one stopped.
 */
export async function reanchorTasks(
  deps: CoreDeps,
  caller: CallerContext,
  from: AnchorRef,
  to: AnchorRef,
  budget: number,
): Promise<MoveProgress> {
  const { workspaceId } = caller;
  const { data } = await deps.db.entities.task.query
    .byAnchor({ anchorScope: anchorScopeOf(workspaceId, from) })
    .go({ limit: Math.max(budget, 0) + 1 });
  const found = data as TaskItem[];
  const batch = found.slice(0, Math.max(budget, 0));
  let moved = 0;
  let left = 0;
  const onSource = (item: TaskItem | undefined) =>
    item?.anchorKind === from.kind && item.anchorId === from.id;
  const moveOne = async (listed: TaskItem) => {
    // The index may lag the table: on a failed condition the task is read again, once.
    let task: TaskItem | undefined = listed;
    for (let attempt = 0; attempt < 2 && onSource(task); attempt += 1) {
      const before = task!;
      const after = withKeys({
        ...before,
        anchorKind: to.kind,
        anchorId: to.id,
        version: before.version + 1,
      });
      const event = newEvent(
        deps,
        caller,
        'task.updated',
        taskRef(before.taskId),
        { changes: { anchorKind: { from: from.kind, to: to.kind }, anchorId: { from: from.id, to: to.id } } },
        subjectsOf(to),
      );
      try {
        await writeTransaction(
          deps.db,
          (tx) => [
            tx.task
              .put(after)
              .where(
                (attr, { eq }) => `${eq(attr.version, before.version)} AND ${eq(attr.anchorId, from.id)}`,
              )
              .commit(),
            appendEvent(tx, event),
          ],
          () => lostRace('The task'),
        );
        moved += 1;
        return;
      } catch (error) {
        if (!(error instanceof LostRace)) throw error;
        task = await findTask(deps, workspaceId, before.taskId, true);
      }
    }
    if (onSource(task)) left += 1;
  };
  for (let index = 0; index < batch.length; index += moveConcurrency) {
    await Promise.all(batch.slice(index, index + moveConcurrency).map(moveOne));
  }
  return { processed: batch.length, moved, done: found.length <= batch.length && left === 0 };
}
