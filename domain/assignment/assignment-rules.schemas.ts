import * as z from 'zod';
import { inboxChannels } from '../inbox/inbox.entity';
import { recordId } from '../shared/ids';
import { pageQuerySchema } from '../shared/pagination';
import { assignmentTargets } from './assignment-rule.entity';
import { responseSchema, type ResponseOf } from '../shared/response-schema';

/** A workspace holds at most this many rules: each new conversation or contact is matched against them all. */
export const maxAssignmentRules = 50;
/** Users one rule hands out to. */
export const maxRuleUsers = 50;
/** The highest per-user cap a rule may set. */
export const maxCapPerUser = 1000;

const ruleName = z.string().trim().min(1, 'Give the rule a name').max(120, 'At most 120 characters');
const userId = recordId('usr', 'a user');
const userIds = z
  .array(userId)
  .min(1, 'Name at least one user')
  .max(maxRuleUsers, `At most ${maxRuleUsers} users`)
  .refine((ids) => new Set(ids).size === ids.length, 'Each user once')
  .meta({
    description: 'The active users of the workspace handed items in turn (round robin), in this order',
  });
const channels = z
  .array(z.enum(inboxChannels))
  .min(1)
  .refine((list) => new Set(list).size === list.length, 'Each channel once')
  .meta({
    description:
      'A conversations rule takes only conversations on these channels; absent or null: every channel',
  });
const capPerUser = z.number().int().min(1).max(maxCapPerUser).meta({
  description:
    'At most this many `open` conversations assigned to a user (whoever assigned them): when every user is at the cap, new conversations wait and are handed out oldest first as soon as someone is below it',
});
const position = z
  .number()
  .int()
  .min(0)
  .max(1000)
  .meta({
    description:
      'Rules are tried lowest position first (ties: oldest rule first); the first enabled rule that matches takes the item',
  });

export const ruleIdParams = z.object({ ruleId: recordId('asr', 'an assignment rule') });

export const assignmentRuleSchema = responseSchema(() =>
  z
    .object({
      id: z.string(),
      name: z.string(),
      appliesTo: z.enum(assignmentTargets).meta({
        description:
          '`conversations`: new unassigned contact conversations; `contacts`: new contacts with no owner (created through the API, imported, or brought in by an inbound message)',
      }),
      channels: z
        .array(z.enum(inboxChannels))
        .nullable()
        .meta({ description: 'The channels a conversations rule takes; null: every channel' }),
      userIds: z.array(z.string()),
      capPerUser: z
        .number()
        .int()
        .nullable()
        .meta({ description: 'A conversations rule’s cap of open conversations per user; null: none' }),
      enabled: z.boolean(),
      position: z.number().int(),
      createdBy: z.string(),
      createdAt: z.string(),
      updatedAt: z.string(),
      version: z.number().int(),
    })
    .meta({ id: 'AssignmentRule' }),
);
export type AssignmentRule = ResponseOf<typeof assignmentRuleSchema>;

export const listAssignmentRulesQuery = pageQuerySchema;
export type ListAssignmentRulesQuery = z.infer<typeof listAssignmentRulesQuery>;

export const createAssignmentRuleInput = z
  .object({
    name: ruleName,
    appliesTo: z.enum(assignmentTargets),
    channels: channels.optional(),
    userIds,
    capPerUser: capPerUser.optional(),
    enabled: z.boolean().default(true),
    position: position.default(0),
  })
  .strict()
  .superRefine((input, ctx) => {
    if (input.appliesTo === 'contacts' && input.channels !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['channels'],
        message: 'A contacts rule takes every new unowned contact: channels are for conversations rules',
      });
    }
    if (input.appliesTo === 'contacts' && input.capPerUser !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['capPerUser'],
        message: 'The cap counts open conversations: it is for conversations rules',
      });
    }
  })
  .meta({ id: 'CreateAssignmentRuleInput' });
export type CreateAssignmentRuleInput = z.infer<typeof createAssignmentRuleInput>;

export const updateAssignmentRuleInput = z
  .object({
    name: ruleName.optional(),
    channels: channels.nullable().optional(),
    userIds: userIds.optional(),
    capPerUser: capPerUser.nullable().optional(),
    enabled: z.boolean().optional(),
    position: position.optional(),
  })
  .strict()
  .refine((input) => Object.keys(input).length > 0, { message: 'Give at least one field to change' })
  .meta({ id: 'UpdateAssignmentRuleInput', minProperties: 1 });
export type UpdateAssignmentRuleInput = z.infer<typeof updateAssignmentRuleInput>;
