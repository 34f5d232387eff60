import {
  assignmentRuleSchema,
  createAssignmentRuleInput,
  listAssignmentRulesQuery,
  maxAssignmentRules,
  ruleIdParams,
  updateAssignmentRuleInput,
} from '../../../domain/assignment/assignment-rules.schemas';
import { pageOf, route, type RouteDefinition } from '../route-definition';

const howRulesWork =
  'A new unassigned contact conversation (`appliesTo: conversations`) or a new contact with no owner (`contacts`: created through the API, imported, or brought in by an inbound message) is matched against the enabled rules, lowest `position` first (ties: the oldest rule); the first that applies to it and names an active user takes it, and gives it to its users in turn (round robin; deactivated users skipped). This happens in the background within moments, from the event stream: `conversation.assigned` (`how: rule`) or `owner.claimed`, actor `system`, with the `ruleId`. An item someone took meanwhile is left alone. With `capPerUser`, a user holding that many `open` conversations is skipped; when all are, the conversation waits in the rule’s queue and is handed out oldest first as soon as one is below the cap (when one of theirs is resolved, or by the pass every 5 minutes).';

const managersOnly = 'a member (owner/admin manage assignment rules)';

export const assignmentRulesRoutes = {
  listAssignmentRules: route({
    method: 'GET',
    path: '/v1/assignment-rules',
    group: 'assignment-rules',
    tag: 'Assignment rules',
    summary: 'The workspace’s assignment rules, oldest first',
    description: `Everyone in the workspace reads them. ${howRulesWork}`,
    auth: true,
    query: listAssignmentRulesQuery,
    response: {
      status: 200,
      description: 'A page of rules',
      schema: pageOf(assignmentRuleSchema, 'AssignmentRulePage'),
    },
  }),
  createAssignmentRule: route({
    method: 'POST',
    path: '/v1/assignment-rules',
    group: 'assignment-rules',
    tag: 'Assignment rules',
    summary: 'Create an assignment rule (owner/admin)',
    description: `Each of \`userIds\` must be an active user of the workspace (a 422 names \`body.userIds.<i>\`). At most ${maxAssignmentRules} rules per workspace. ${howRulesWork}`,
    auth: true,
    creates: true,
    versioned: true,
    body: createAssignmentRuleInput,
    refusals: {
      403: managersOnly,
      422: `\`invalid_reference\`: a user id names no active user of the workspace; \`limit_exceeded\`: the workspace has ${maxAssignmentRules} rules`,
    },
    response: { status: 201, description: 'The new rule', schema: assignmentRuleSchema },
  }),
  getAssignmentRule: route({
    method: 'GET',
    path: '/v1/assignment-rules/{ruleId}',
    group: 'assignment-rules',
    tag: 'Assignment rules',
    summary: 'One assignment rule',
    auth: true,
    versioned: true,
    params: ruleIdParams,
    response: { status: 200, description: 'The rule', schema: assignmentRuleSchema },
  }),
  updateAssignmentRule: route({
    method: 'PATCH',
    path: '/v1/assignment-rules/{ruleId}',
    group: 'assignment-rules',
    tag: 'Assignment rules',
    summary: 'Change an assignment rule (owner/admin)',
    description:
      'Only the fields given change (`channels` and `capPerUser` null clear them); `appliesTo` never changes. The round robin goes on from where it was. Conversations already waiting stay in the queue and follow the new cap.',
    auth: true,
    versioned: true,
    params: ruleIdParams,
    body: updateAssignmentRuleInput,
    refusals: {
      403: managersOnly,
      422: '`invalid_reference`: a user id names no active user of the workspace',
    },
    response: { status: 200, description: 'The rule', schema: assignmentRuleSchema },
  }),
  deleteAssignmentRule: route({
    method: 'DELETE',
    path: '/v1/assignment-rules/{ruleId}',
    group: 'assignment-rules',
    tag: 'Assignment rules',
    summary: 'Delete an assignment rule (owner/admin)',
    description:
      'It takes no new items. Conversations waiting in its queue are matched again by the next pass: another rule may take them, else they stay in the pool.',
    auth: true,
    versioned: true,
    params: ruleIdParams,
    refusals: { 403: managersOnly },
    response: { status: 204, description: 'The rule is deleted' },
  }),
} as const satisfies Record<string, RouteDefinition>;
