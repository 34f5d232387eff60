/**
 * A task (seed 000 CustomerTask): a to-do, assigned to a user or waiting in the pool, optionally
 * anchored to a contact, deal, company or conversation. Every list is an index of the task item
 * itself (one key per task and list), so a task's lists change in the same write as the task.
 * Access patterns:
 * - get a task: pk WS#<workspaceId>#TASK#<taskId>, sk TASK (one GetItem)
 * - one assignee's tasks ("mine"), or the pool (`assignee` = pool), open by due time (no due time last)
 *   or done by completion time: gsi1 pk WS#<workspaceId>#TASKS#<status>#<userId or pool>,
 *   sk <listKey> = <dueAt or ~>#<taskId> (open) / <completedAt>#<taskId> (done)
 * - an anchor's tasks, open by due time or done by completion: gsi2
 *   pk WS#<workspaceId>#TASKS#ANCHOR#<anchorKind>#<anchorId>, sk <status>#<listKey>
 *   (sparse: only anchored tasks)
 * - the workspace's tasks by due time, open or done (overdue = open with due < now; due between two
 *   times = a key range): gsi3 pk WS#<workspaceId>#TASKS#DUE#<status>, sk <dueAt>#<taskId>
 *   (sparse: only tasks with a due time)
 */
export const taskSchema = {
  model: { service: 'crm', entity: 'task', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    taskId: { type: 'string', required: true, readOnly: true },
    title: { type: 'string', required: true },
    description: { type: 'string' },
    dueAt: { type: 'string' },
    priority: { type: ['low', 'normal', 'high', 'urgent'] as const, required: true },
    status: { type: ['open', 'done'] as const, required: true },
    assigneeId: { type: 'string' },
    /** `assigneeId`, or `pool`: the partition of the assignee list. */
    assigneeKey: { type: 'string', required: true },
    anchorKind: { type: 'string' },
    anchorId: { type: 'string' },
    /** Sort key of the assignee and anchor lists (see above). */
    listKey: { type: 'string', required: true },
    /**
     * The sparse lists' partitions, set only when the task is on them: `<workspaceId>#TASKS#ANCHOR#<kind>#<id>`
     * when anchored, `<workspaceId>#TASKS#DUE#<status>` when it has a due time. One composite each, so
     * a task without them simply has no such index keys (a partial composite would be an ElectroDB error).
     */
    anchorScope: { type: 'string' },
    dueScope: { type: 'string' },
    /** `<status>#<listKey>`, when the task has an anchor: the sort key of the anchor list. */
    anchorListKey: { type: 'string' },
    /** `<dueAt>#<taskId>`, when the task has a due time. */
    dueKey: { type: 'string' },
    completedAt: { type: 'string' },
    completedBy: { type: 'string' },
    createdBy: { type: 'string', required: true, readOnly: true },
    version: { type: 'number', required: true },
    createdAt: { type: 'string', required: true, readOnly: true },
    updatedAt: { type: 'string', required: true },
  },
  indexes: {
    byId: {
      pk: {
        field: 'pk',
        composite: ['workspaceId', 'taskId'],
        template: 'WS#${workspaceId}#TASK#${taskId}',
        casing: 'none',
      },
      sk: { field: 'sk', composite: [], template: 'TASK', casing: 'none' },
    },
    byAssignee: {
      index: 'gsi1',
      pk: {
        field: 'gsi1pk',
        composite: ['workspaceId', 'status', 'assigneeKey'],
        template: 'WS#${workspaceId}#TASKS#${status}#${assigneeKey}',
        casing: 'none',
      },
      sk: { field: 'gsi1sk', composite: ['listKey'], template: '${listKey}', casing: 'none' },
    },
    byAnchor: {
      index: 'gsi2',
      pk: {
        field: 'gsi2pk',
        composite: ['anchorScope'],
        template: 'WS#${anchorScope}',
        casing: 'none',
      },
      sk: { field: 'gsi2sk', composite: ['anchorListKey'], template: '${anchorListKey}', casing: 'none' },
    },
    byDue: {
      index: 'gsi3',
      pk: {
        field: 'gsi3pk',
        composite: ['dueScope'],
        template: 'WS#${dueScope}',
        casing: 'none',
      },
      sk: { field: 'gsi3sk', composite: ['dueKey'], template: '${dueKey}', casing: 'none' },
    },
  },
} as const;
