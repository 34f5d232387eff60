import * as z from 'zod';
import { recordId } from '../shared/ids';
import { isoTime } from '../shared/iso-time';
import { allAnchorKinds, anchorInput, anchorQuery, anchorSchema } from '../anchors/anchors';
import { pageQuerySchema } from '../shared/pagination';
import { responseSchema, type ResponseOf } from '../shared/response-schema';

export const taskPriorities = ['low', 'normal', 'high', 'urgent'] as const;
export const taskStatuses = ['open', 'done'] as const;
export type TaskPriority = (typeof taskPriorities)[number];
export type TaskStatus = (typeof taskStatuses)[number];

/** Seed 000: a task hangs off a contact, deal, company or conversation, or nothing. */
export const taskAnchorKinds = allAnchorKinds;

const userId = z.string().min(1).max(64);
const title = z.string().trim().min(1).max(300);
const description = z.string().max(20_000).meta({ description: 'Markdown (rendered like notes)' });
const anchor = anchorInput(taskAnchorKinds, 'TaskAnchorInput');

export const createTaskInput = z
  .object({
    title,
    description: description.optional(),
    dueAt: isoTime.optional(),
    priority: z.enum(taskPriorities).default('normal'),
    assigneeId: userId
      .nullable()
      .optional()
      .meta({ description: 'A user, or null/absent for the pool; a member may only give it to themselves' }),
    anchor: anchor.nullable().optional(),
  })
  .meta({ id: 'CreateTaskInput' });
export type CreateTaskInput = z.infer<typeof createTaskInput>;

export const updateTaskInput = z
  .object({
    title: title.optional(),
    description: description.nullable().optional(),
    dueAt: isoTime.nullable().optional(),
    priority: z.enum(taskPriorities).optional(),
    anchor: anchor.nullable().optional().meta({ description: 'Another anchor, or null to detach the task' }),
  })
  .meta({ id: 'UpdateTaskInput' });
export type UpdateTaskInput = z.infer<typeof updateTaskInput>;

export const assignTaskInput = z
  .object({
    assigneeId: userId
      .nullable()
      .meta({ description: 'The user to give it to, or null to put it back in the pool' }),
  })
  .meta({ id: 'AssignTaskInput' });
export type AssignTaskInput = z.infer<typeof assignTaskInput>;

export const taskIdParams = z.object({ taskId: recordId('task', 'a task') });

const status = z.enum(taskStatuses).default('open').meta({
  description:
    '`open` (by due time, soonest first; no due time last) or `done` (by completion, newest first)',
});

export const listMyTasksQuery = pageQuerySchema.extend({ status });
export type ListMyTasksQuery = z.infer<typeof listMyTasksQuery>;

export const listAnchorTasksQuery = pageQuerySchema.extend({ ...anchorQuery(taskAnchorKinds), status });
export type ListAnchorTasksQuery = z.infer<typeof listAnchorTasksQuery>;

export const listOverdueTasksQuery = pageQuerySchema;

export const listDueTasksQuery = pageQuerySchema
  .extend({
    from: isoTime,
    to: isoTime,
    status: z.enum(taskStatuses).default('open'),
  })
  .refine((query) => query.from <= query.to, { path: ['to'], message: '`to` must not be before `from`' });
export type ListDueTasksQuery = z.infer<typeof listDueTasksQuery>;

export const taskSchema = responseSchema(() =>
  z
    .object({
      id: z.string(),
      title: z.string(),
      description: z.string().nullable(),
      descriptionHtml: z
        .string()
        .nullable()
        .meta({ description: 'The description rendered and sanitised, like a note' }),
      dueAt: z.string().nullable(),
      overdue: z.boolean().meta({ description: 'Open and due before now' }),
      priority: z.enum(taskPriorities),
      status: z.enum(taskStatuses),
      assigneeId: z.string().nullable().meta({ description: 'null: in the pool' }),
      anchor: anchorSchema().nullable(),
      completedAt: z.string().nullable(),
      completedBy: z.string().nullable(),
      createdBy: z.string(),
      version: z.number().int(),
      createdAt: z.string(),
      updatedAt: z.string(),
    })
    .meta({ id: 'Task' }),
);
export type Task = ResponseOf<typeof taskSchema>;
