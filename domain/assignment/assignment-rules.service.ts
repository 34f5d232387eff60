import { appendEvent, newEvent } from '../../events/event-log';
import { requireManager, type CallerContext } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import { invalid, invalidReference, limitExceeded, lostRace, notFound, stale } from '../shared/errors';
import { checkCursor, type Page } from '../shared/pagination';
import { retryLostRaces } from '../shared/retry';
import { batchGetAll } from '../store/batch-get';
import { writeTransaction } from '../store/transaction';
import type { AssignmentTarget } from './assignment-rule.entity';
import {
  maxAssignmentRules,
  type AssignmentRule,
  type CreateAssignmentRuleInput,
  type ListAssignmentRulesQuery,
  type UpdateAssignmentRuleInput,
} from './assignment-rules.schemas';

/** A rule as stored. */
export interface AssignmentRuleItem {
  workspaceId: string;
  ruleId: string;
  name: string;
  appliesTo: AssignmentTarget;
  channels?: string[];
  userIds: string[];
  capPerUser?: number;
  enabled: boolean;
  position: number;
  turn: number;
  slot: number;
  createdBy: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export function toAssignmentRule(item: AssignmentRuleItem): AssignmentRule {
  return {
    id: item.ruleId,
    name: item.name,
    appliesTo: item.appliesTo,
    channels: (item.channels as AssignmentRule['channels']) ?? null,
    userIds: item.userIds,
    capPerUser: item.capPerUser ?? null,
    enabled: item.enabled,
    position: item.position,
    createdBy: item.createdBy,
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
    version: item.version,
  };
}

const ruleRef = (ruleId: string) => ({ type: 'assignment_rule' as const, id: ruleId });

/** The cap of rules per workspace (a test lowers it). */
export const assignmentRuleSettings = { maxAssignmentRules };

/** The guard scope of the slots that cap a workspace's rules. */
const slotScope = 'assignment-rule-slot';
const slotGuardKey = (workspaceId: string, slot: number) => ({ workspaceId, scope: slotScope, value: String(slot) });

export async function findAssignmentRule(deps: CoreDeps, workspaceId: string, ruleId: string, consistent = false) {
  const { data } = await deps.db.entities.assignmentRule.get({ workspaceId, ruleId }).go({ consistent });
  return (data as AssignmentRuleItem | null) ?? undefined;
}

async function readRule(deps: CoreDeps, caller: CallerContext, ruleId: string, consistent = false): Promise<AssignmentRuleItem> {
  const item = await findAssignmentRule(deps, caller.workspaceId, ruleId, consistent);
  if (!item) throw notFound('Assignment rule');
  return item;
}

/** Every rule of a workspace (one Query: at most `maxAssignmentRules`), in the order they are tried. */
export async function readWorkspaceRules(deps: CoreDeps, workspaceId: string, consistent = false): Promise<AssignmentRuleItem[]> {
  const { data } = await deps.db.entities.assignmentRule.query.byWorkspace({ workspaceId }).go({ pages: 'all', consistent });
  return (data as AssignmentRuleItem[]).sort((a, b) => a.position - b.position || a.ruleId.localeCompare(b.ruleId));
}

/** The workspace's rules in creation order, one Query per page (everyone in the workspace reads them). */
export async function listAssignmentRules(
  deps: CoreDeps,
  caller: CallerContext,
  query: ListAssignmentRulesQuery,
): Promise<Page<AssignmentRule>> {
  const page = await deps.db.entities.assignmentRule.query
    .byWorkspace({ workspaceId: caller.workspaceId })
    .go({ limit: query.limit, cursor: checkCursor(caller.workspaceId, query.cursor) ?? null });
  return { items: (page.data as AssignmentRuleItem[]).map(toAssignmentRule), nextCursor: page.cursor ?? null };
}

export async function getAssignmentRule(deps: CoreDeps, caller: CallerContext, ruleId: string): Promise<AssignmentRule> {
  return toAssignmentRule(await readRule(deps, caller, ruleId));
}

/** Every user a rule names must be an active user of the workspace: a 422 naming `body.userIds.<i>` otherwise. */
async function assertActiveUsers(deps: CoreDeps, workspaceId: string, userIds: string[]): Promise<void> {
  const found = await batchGetAll(
    userIds.map((userId) => ({ workspaceId, userId })),
    (keys) => deps.db.entities.user.get(keys).go(),
  );
  const active = new Set(found.filter((user) => user.status === 'active').map((user) => user.userId));
  const index = userIds.findIndex((userId) => !active.has(userId));
  if (index >= 0) throw invalidReference(`body.userIds.${index}`, 'No active user with this id in the workspace');
}

/**
 * Creates a rule (owner/admin): its users checked, under the workspace's cap of rules. Each rule holds
 * its slot's guard item, so concurrent creates never pass the cap.
 */
export async function createAssignmentRule(
  deps: CoreDeps,
  caller: CallerContext,
  input: CreateAssignmentRuleInput,
): Promise<AssignmentRule> {
  requireManager(caller, 'create assignment rules');
  await assertActiveUsers(deps, caller.workspaceId, input.userIds);
  return retryLostRaces(async () => {
    const rules = await readWorkspaceRules(deps, caller.workspaceId, true);
    const cap = assignmentRuleSettings.maxAssignmentRules;
    const held = new Set(rules.map((rule) => rule.slot));
    let slot = 0;
    for (let candidate = 1; candidate <= cap && rules.length < cap; candidate += 1) {
      if (!held.has(candidate)) {
        slot = candidate;
        break;
      }
    }
    if (slot === 0) throw limitExceeded('body', `A workspace holds at most ${cap} assignment rules`, cap);
    const now = deps.clock.nowIso();
    const ruleId = deps.newId('asr');
    const item: AssignmentRuleItem = {
      workspaceId: caller.workspaceId,
      ruleId,
      name: input.name,
      appliesTo: input.appliesTo,
      ...(input.channels ? { channels: input.channels } : {}),
      userIds: input.userIds,
      ...(input.capPerUser !== undefined ? { capPerUser: input.capPerUser } : {}),
      enabled: input.enabled,
      position: input.position,
      turn: 0,
      slot,
      createdBy: caller.userId,
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
    const event = newEvent(deps, caller, 'assignment_rule.created', ruleRef(ruleId), {
      name: item.name,
      appliesTo: item.appliesTo,
      userIds: item.userIds,
      capPerUser: item.capPerUser ?? null,
    });
    await writeTransaction(
      deps.db,
      (tx) => [
        tx.assignmentRule.create(item).commit(),
        appendEvent(tx, event),
        tx.uniqueGuard.create({ ...slotGuardKey(caller.workspaceId, slot), ownerId: ruleId, createdAt: now }).commit(),
      ],
      () => lostRace('The assignment rules'),
    );
    return toAssignmentRule(item);
  });
}

const changeableFields = ['name', 'channels', 'userIds', 'capPerUser', 'enabled', 'position'] as const;

/**
 * Changes a rule (owner/admin; If-Match honoured). Only the fields given are written (a patch on the
 * version read), so the round robin's turn, advanced by assignments meanwhile, is never written back.
 */
export async function updateAssignmentRule(
  deps: CoreDeps,
  caller: CallerContext,
  ruleId: string,
  input: UpdateAssignmentRuleInput,
  expectedVersion?: number,
): Promise<AssignmentRule> {
  requireManager(caller, 'change assignment rules');
  if (input.userIds) await assertActiveUsers(deps, caller.workspaceId, input.userIds);
  return retryLostRaces(async () => {
    const before = await readRule(deps, caller, ruleId, true);
    if (expectedVersion !== undefined && expectedVersion !== before.version) throw stale();
    if (before.appliesTo === 'contacts' && input.channels) {
      throw invalid('body.channels', 'A contacts rule takes every new unowned contact: channels are for conversations rules');
    }
    if (before.appliesTo === 'contacts' && typeof input.capPerUser === 'number') {
      throw invalid('body.capPerUser', 'The cap counts open conversations: it is for conversations rules');
    }
    const changes: Record<string, { from: unknown; to: unknown }> = {};
    const set: Record<string, unknown> = {};
    const remove: ('channels' | 'capPerUser')[] = [];
    for (const field of changeableFields) {
      const value = input[field];
      if (value === undefined) continue;
      const from = before[field] ?? null;
      if (JSON.stringify(from) === JSON.stringify(value)) continue;
      changes[field] = { from, to: value };
      if (value === null) remove.push(field as 'channels' | 'capPerUser');
      else set[field] = value;
    }
    if (Object.keys(changes).length === 0) return toAssignmentRule(before);
    const now = deps.clock.nowIso();
    const event = newEvent(deps, caller, 'assignment_rule.updated', ruleRef(ruleId), { changes });
    await writeTransaction(
      deps.db,
      (tx) => {
        const patch = tx.assignmentRule.patch({ workspaceId: caller.workspaceId, ruleId }).set({ ...set, version: before.version + 1, updatedAt: now });
        return [
          (remove.length > 0 ? patch.remove(remove) : patch).where((attr, { eq }) => eq(attr.version, before.version)).commit(),
          appendEvent(tx, event),
        ];
      },
      () => lostRace('The assignment rule'),
    );
    const after = { ...before, ...set, version: before.version + 1, updatedAt: now } as AssignmentRuleItem;
    for (const field of remove) delete after[field];
    return toAssignmentRule(after);
  });
}

/**
 * Deletes a rule (owner/admin; If-Match honoured): it takes no new items. Conversations waiting in its
 * queue are matched again by the next pass (another rule may take them; else they stay in the pool).
 */
export async function deleteAssignmentRule(deps: CoreDeps, caller: CallerContext, ruleId: string, expectedVersion?: number): Promise<void> {
  requireManager(caller, 'delete assignment rules');
  await retryLostRaces(async () => {
    const before = await readRule(deps, caller, ruleId, true);
    if (expectedVersion !== undefined && expectedVersion !== before.version) throw stale();
    const event = newEvent(deps, caller, 'assignment_rule.deleted', ruleRef(ruleId), { name: before.name });
    await writeTransaction(
      deps.db,
      (tx) => [
        tx.assignmentRule
          .delete({ workspaceId: caller.workspaceId, ruleId })
          .where((attr, { eq }) => eq(attr.version, before.version))
          .commit(),
        appendEvent(tx, event),
        tx.uniqueGuard.delete(slotGuardKey(caller.workspaceId, before.slot)).commit(),
      ],
      () => lostRace('The assignment rule'),
    );
  });
}
