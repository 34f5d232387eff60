/**
 * Assignment rules (seed 000: the owner set "by the assign-owner automation node").
 *
 * - A rule: pk WS#<ws>#ASSIGNRULES, sk RULE#<ruleId>. Every rule of a workspace is one Query (≤ 50):
 *   the consumer reads them all to find the first that matches a new item. `turn` is the round robin's
 *   position, advanced by an atomic ADD per assignment (never by the rule's own writes, which patch
 *   the fields they change), so concurrent assignments each get their own turn.
 * - An item waiting for a capped rule (every user at the cap): pk WS#<ws>#ASSIGNWAIT#<ruleId>, sk
 *   <waitingSince>#<conversationId>: the rule's queue, oldest first (one Query). On gsi3, pk ASSIGNWAIT,
 *   sk <ws>#<ruleId>#<waitingSince>#<conversationId>: the scheduled pass finds the rules with a queue in
 *   every workspace (sparse; one of the few keys outside a workspace, like SNOOZED: a schedule serves
 *   all workspaces).
 * - Where the scheduled pass stopped: pk ASSIGNPASS, sk STATE (one GetItem; the next run goes on after it).
 */
export const assignmentTargets = ['conversations', 'contacts'] as const;
export type AssignmentTarget = (typeof assignmentTargets)[number];

export const assignmentRuleSchema = {
  model: { service: 'crm', entity: 'assignmentRule', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    ruleId: { type: 'string', required: true, readOnly: true },
    name: { type: 'string', required: true },
    appliesTo: { type: assignmentTargets, required: true, readOnly: true },
    /** A conversations rule limited to these channels; absent: every channel. */
    channels: { type: 'list', items: { type: 'string' } },
    userIds: { type: 'list', required: true, items: { type: 'string' } },
    /** A conversations rule's cap of open conversations per user; absent: none. */
    capPerUser: { type: 'number' },
    enabled: { type: 'boolean', required: true },
    /** Rules are tried in position order (ties: creation order). */
    position: { type: 'number', required: true },
    /** The round robin's turns taken (ADD 1 per assignment). */
    turn: { type: 'number', required: true },
    /** Its slot under the workspace's cap of rules (a guard item goes with the rule). */
    slot: { type: 'number', required: true, readOnly: true },
    createdBy: { type: 'string', required: true, readOnly: true },
    version: { type: 'number', required: true },
    createdAt: { type: 'string', required: true, readOnly: true },
    updatedAt: { type: 'string', required: true },
  },
  indexes: {
    byWorkspace: {
      pk: { field: 'pk', composite: ['workspaceId'], template: 'WS#${workspaceId}#ASSIGNRULES', casing: 'none' },
      sk: { field: 'sk', composite: ['ruleId'], template: 'RULE#${ruleId}', casing: 'none' },
    },
  },
} as const;

/** The partition of every workspace's waiting items on gsi3 (the scheduled pass reads it). */
export const waitingPartition = 'ASSIGNWAIT';

export const assignmentWaitSchema = {
  model: { service: 'crm', entity: 'assignmentWait', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    ruleId: { type: 'string', required: true, readOnly: true },
    conversationId: { type: 'string', required: true, readOnly: true },
    /** When the conversation arrived: the queue is served oldest first. */
    waitingSince: { type: 'string', required: true, readOnly: true },
    waitScope: { type: 'string', required: true, readOnly: true },
    waitKey: { type: 'string', required: true, readOnly: true },
  },
  indexes: {
    byRule: {
      pk: {
        field: 'pk',
        composite: ['workspaceId', 'ruleId'],
        template: 'WS#${workspaceId}#ASSIGNWAIT#${ruleId}',
        casing: 'none',
      },
      sk: { field: 'sk', composite: ['waitingSince', 'conversationId'], template: '${waitingSince}#${conversationId}', casing: 'none' },
    },
    everyWorkspace: {
      index: 'gsi3',
      pk: { field: 'gsi3pk', composite: ['waitScope'], template: '${waitScope}', casing: 'none' },
      sk: { field: 'gsi3sk', composite: ['waitKey'], template: '${waitKey}', casing: 'none' },
    },
  },
} as const;

/** Where the scheduled pass stopped: the `<ws>#<ruleId>` of the last queue it served. */
export const assignmentPassStateSchema = {
  model: { service: 'crm', entity: 'assignmentPassState', version: '1' },
  attributes: {
    scope: { type: 'string', required: true, readOnly: true },
    after: { type: 'string', required: true },
    updatedAt: { type: 'string', required: true },
  },
  indexes: {
    byScope: {
      pk: { field: 'pk', composite: ['scope'], template: '${scope}', casing: 'none' },
      sk: { field: 'sk', composite: [], template: 'STATE', casing: 'none' },
    },
  },
} as const;
