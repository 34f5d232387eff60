import { newEvent, type EventRecord } from '../../events/event-log';
import { changeContact, readContact } from '../contacts/contacts.service';
import type { ContactItem } from '../contacts/contact-record';
import { assigneeList, arrivalCountIndex, conversationWritesLength, withKeys, type ConversationItem } from '../inbox/conversation-record';
import { assignmentChange, commitConversation, findConversation } from '../inbox/conversations.service';
import { systemActor } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import { DomainError, lostRace } from '../shared/errors';
import { retryLostRaces } from '../shared/retry';
import { batchGetAll } from '../store/batch-get';
import { isConditionFailure, writeTransaction } from '../store/transaction';
import { waitingPartition } from './assignment-rule.entity';
import { readWorkspaceRules, type AssignmentRuleItem } from './assignment-rules.service';

/**
 * Assignment rules at work. How rules combine: a new item is matched against the workspace's enabled
 * rules in order (lowest `position` first, then the oldest rule); the first rule that applies to it
 * (its target, its channels) and still names an active user of the workspace takes it. That rule alone
 * decides: when its users are all at their cap the item waits in the rule's queue (it does not fall
 * through to the next rule), and is handed out oldest first as soon as one of them is below the cap.
 *
 * Round robin: each assignment ADDs 1 to the rule's `turn` and takes the turn's user among the rule's
 * active users (in the rule's order), walking on past users at the cap. The ADD is atomic, so
 * concurrent assignments each get their own turn. Deactivated users and users no longer in the
 * workspace are skipped.
 */

/** The consumer's name in its stream receipts. */
export const assignmentConsumer = 'assignment-rules';
const receiptTtlSeconds = 7 * 24 * 60 * 60;

export type PlaceOutcome = 'assigned' | 'waiting' | 'skipped' | 'duplicate';
/** What became of a conversation, and the rule that took it (or whose queue it waits in). */
export interface Placement {
  outcome: PlaceOutcome;
  ruleId?: string;
}

/** The tunables (tests lower them). */
export const assignmentSettings = {
  /** Waiting conversations one drain of a queue looks at. */
  drainBatch: 25,
  /** Queues the scheduled pass serves per run, and waiting conversations per queue. */
  passQueues: 50,
  passPerQueue: 100,
  /** The pass takes no new queue with less than this left of its run. */
  passReserveMs: 60_000,
};

interface Receipt {
  workspaceId: string;
  eventId: string;
}

interface WaitItem {
  workspaceId: string;
  ruleId: string;
  conversationId: string;
  waitingSince: string;
}

const receiptKey = (receipt: Receipt) => ({ workspaceId: receipt.workspaceId, consumer: assignmentConsumer, eventId: receipt.eventId });
const waitKey = (wait: WaitItem) => ({
  workspaceId: wait.workspaceId,
  ruleId: wait.ruleId,
  waitingSince: wait.waitingSince,
  conversationId: wait.conversationId,
});

async function receiptExists(deps: CoreDeps, receipt: Receipt): Promise<boolean> {
  const { data } = await deps.db.entities.streamReceipt.get(receiptKey(receipt)).go({ consistent: true });
  return Boolean(data);
}

const newReceipt = (deps: CoreDeps, receipt: Receipt) => ({
  ...receiptKey(receipt),
  expiresAt: Math.floor(deps.clock.nowMs() / 1000) + receiptTtlSeconds,
});

/** The event was applied before (its receipt is there): nothing to do. */
class AlreadyApplied extends Error {}
/** A user passed the cap between the read of the counts and the write: pick again. */
class CapTaken extends Error {}

// ---------------------------------------------------------------------------------------------
// Choosing a rule and a user

/** The rule's users who are active users of the workspace, in the rule's order (one BatchGetItem). */
async function activeUsersOf(deps: CoreDeps, rule: AssignmentRuleItem): Promise<string[]> {
  const found = await batchGetAll(
    rule.userIds.map((userId) => ({ workspaceId: rule.workspaceId, userId })),
    (keys) => deps.db.entities.user.get(keys).go({ consistent: true }),
  );
  const active = new Set(found.filter((user) => user.status === 'active').map((user) => user.userId));
  return rule.userIds.filter((userId) => active.has(userId));
}

const appliesToConversation = (rule: AssignmentRuleItem, item: ConversationItem) =>
  rule.enabled && rule.appliesTo === 'conversations' && (!rule.channels || rule.channels.includes(item.channel));

/** The first rule (in order) that applies and names an active user, with those users. */
async function firstRule(
  deps: CoreDeps,
  rules: AssignmentRuleItem[],
  applies: (rule: AssignmentRuleItem) => boolean,
): Promise<{ rule: AssignmentRuleItem; users: string[] } | undefined> {
  for (const rule of rules.filter(applies)) {
    const users = await activeUsersOf(deps, rule);
    if (users.length > 0) return { rule, users };
  }
  return undefined;
}

/** How many open conversations each user holds (one BatchGetItem of their view counts). */
async function openCounts(deps: CoreDeps, workspaceId: string, users: string[]): Promise<Map<string, number>> {
  const found = await batchGetAll(
    users.map((userId) => ({ workspaceId, list: assigneeList(userId, 'open') })),
    (keys) => deps.db.entities.conversationCount.get(keys).go({ consistent: true }),
  );
  const byList = new Map(found.map((count) => [count.list, count.count]));
  return new Map(users.map((userId) => [userId, byList.get(assigneeList(userId, 'open')) ?? 0]));
}

/** Takes the rule's next turn (atomic ADD); a rule deleted meanwhile is a lost race (rules read again). */
async function nextTurn(deps: CoreDeps, rule: AssignmentRuleItem): Promise<number> {
  try {
    const { data } = await deps.db.entities.assignmentRule
      .patch({ workspaceId: rule.workspaceId, ruleId: rule.ruleId })
      .add({ turn: 1 })
      .go({ response: 'updated_new' });
    return (data as { turn: number }).turn;
  } catch (error) {
    if (isConditionFailure(error)) throw lostRace('The assignment rules');
    throw error;
  }
}

/** The user of the next turn among `users`, walking on past those `full` says are at the cap. */
async function pickUser(
  deps: CoreDeps,
  rule: AssignmentRuleItem,
  users: string[],
  full: (userId: string) => boolean = () => false,
): Promise<string | undefined> {
  if (users.every(full)) return undefined; // no turn taken when nobody can take the item
  const turn = await nextTurn(deps, rule);
  for (let step = 0; step < users.length; step += 1) {
    const userId = users[(turn - 1 + step) % users.length]!;
    if (!full(userId)) return userId;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Conversations

/** A contact conversation nobody holds, not resolved: a rule may give it out. */
const needsAssignee = (item: ConversationItem | undefined): item is ConversationItem =>
  item !== undefined && item.kind === 'contact' && !item.assigneeId && item.status !== 'resolved';

const waitOf = (rule: AssignmentRuleItem, item: ConversationItem): WaitItem => ({
  workspaceId: item.workspaceId,
  ruleId: rule.ruleId,
  conversationId: item.conversationId,
  waitingSince: item.createdAt,
});

/** Puts the conversation in the rule's queue (with the event's receipt, in one transaction). */
async function enqueue(deps: CoreDeps, wait: WaitItem, receipt: Receipt | undefined): Promise<void> {
  await writeTransaction(
    deps.db,
    (tx) => [
      tx.assignmentWait
        .put({
          ...waitKey(wait),
          waitScope: waitingPartition,
          waitKey: `${wait.workspaceId}#${wait.ruleId}#${wait.waitingSince}#${wait.conversationId}`,
        })
        .commit(),
      ...(receipt ? [tx.streamReceipt.create(newReceipt(deps, receipt)).commit()] : []),
    ],
    () => new AlreadyApplied(),
  );
}

const leaveQueue = (deps: CoreDeps, wait: WaitItem) => deps.db.entities.assignmentWait.delete(waitKey(wait)).go();

async function queueHasWaiting(deps: CoreDeps, rule: AssignmentRuleItem): Promise<boolean> {
  const { data } = await deps.db.entities.assignmentWait.query
    .byRule({ workspaceId: rule.workspaceId, ruleId: rule.ruleId })
    .go({ limit: 1, pages: 1, consistent: true });
  return data.length > 0;
}

/**
 * Gives the conversation to the rule's next user below the cap, in one transaction with the event's
 * receipt and the removal of its queue entry. 'full' when every user is at the cap.
 */
async function assignToNextUser(
  deps: CoreDeps,
  before: ConversationItem,
  rule: AssignmentRuleItem,
  users: string[],
  origin: { receipt?: Receipt; wait?: WaitItem },
): Promise<'assigned' | 'full'> {
  const cap = rule.capPerUser;
  // The cap counts open conversations: one in another status takes no place under it.
  const capped = cap !== undefined && before.status === 'open';
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const counts = capped ? await openCounts(deps, before.workspaceId, users) : new Map<string, number>();
    const userId = await pickUser(deps, rule, users, (id) => capped && (counts.get(id) ?? 0) >= cap);
    if (!userId) return 'full';
    const at = deps.clock.nowIso();
    const caller = systemActor(before.workspaceId);
    const change = await assignmentChange(deps, caller, before, userId, 'rule', at, rule.ruleId);
    const after = withKeys({ ...change.after, version: before.version + 1, updatedAt: at });
    const capList = assigneeList(userId, 'open');
    const capIndex = capped ? arrivalCountIndex(before, after, capList) : -1;
    const ownStart = conversationWritesLength(before, after, change.events);
    const receiptIndex = origin.receipt ? ownStart : -1;
    try {
      await commitConversation(
        deps,
        before,
        {
          ...change,
          after,
          ...(capped ? { countCaps: { [capList]: cap } } : {}),
          // Ours first, so their places are known; then the unread counters that follow the assignee.
          extraOps: (tx) => [
            ...(origin.receipt ? [tx.streamReceipt.create(newReceipt(deps, origin.receipt)).commit()] : []),
            ...(origin.wait
              ? [
                  tx.assignmentWait
                    .delete(waitKey(origin.wait))
                    .where((attr, { exists }) => exists(attr.conversationId))
                    .commit(),
                ]
              : []),
            ...(change.extraOps?.(tx) ?? []),
          ],
        },
        (failed) => {
          if (failed.includes(receiptIndex)) return new AlreadyApplied();
          if (failed.length === 1 && failed[0] === capIndex) return new CapTaken();
          return lostRace('The conversation');
        },
      );
      return 'assigned';
    } catch (error) {
      if (!(error instanceof CapTaken)) throw error;
    }
  }
  // The cap kept being taken by others: the conversation is read again and placed again.
  throw lostRace('The assignees’ open conversations');
}

/**
 * Places one conversation: a new one (from its `conversation.opened` event, with the event's receipt)
 * or one waiting in a queue. Given to the first matching rule's next user, or queued when that rule's
 * users are all at the cap (new ones also queue behind conversations already waiting, so the queue is
 * served oldest first). A conversation that got an assignee meanwhile, or was resolved, is left alone.
 */
export async function placeConversation(
  deps: CoreDeps,
  workspaceId: string,
  conversationId: string,
  origin: { receipt?: Receipt; wait?: WaitItem },
): Promise<Placement> {
  try {
    return await retryLostRaces(async (): Promise<Placement> => {
      const skipped = async (): Promise<Placement> => {
        if (origin.wait) await leaveQueue(deps, origin.wait);
        return { outcome: 'skipped' };
      };
      // The rules first: a workspace without conversations rules costs one Query per new conversation.
      const rules = (await readWorkspaceRules(deps, workspaceId, true)).filter((rule) => rule.enabled && rule.appliesTo === 'conversations');
      if (rules.length === 0) return skipped();
      if (origin.receipt && (await receiptExists(deps, origin.receipt))) return { outcome: 'duplicate' };
      const item = await findConversation(deps, workspaceId, conversationId, true);
      if (!needsAssignee(item)) return skipped();
      const chosen = await firstRule(deps, rules, (rule) => appliesToConversation(rule, item));
      if (!chosen) return skipped();
      const { rule, users } = chosen;
      const ruleId = rule.ruleId;
      // Waiting in another rule's queue (the rules changed): it moves to this one's.
      const wait = origin.wait?.ruleId === ruleId ? origin.wait : undefined;
      if (origin.wait && !wait) await leaveQueue(deps, origin.wait);
      if (rule.capPerUser !== undefined && !wait && (await queueHasWaiting(deps, rule))) {
        await enqueue(deps, waitOf(rule, item), origin.receipt);
        return { outcome: 'waiting', ruleId };
      }
      const outcome = await assignToNextUser(deps, item, rule, users, { receipt: origin.receipt, wait });
      if (outcome === 'assigned') return { outcome: 'assigned', ruleId };
      if (!wait) await enqueue(deps, waitOf(rule, item), origin.receipt);
      return { outcome: 'waiting', ruleId };
    });
  } catch (error) {
    if (error instanceof AlreadyApplied) return { outcome: 'duplicate' };
    throw error;
  }
}

/**
 * Hands out a rule's waiting conversations, oldest first, while its users have room: stops at the
 * first that must still wait (the younger ones wait behind it). At most `limit` a call.
 */
export async function drainQueue(
  deps: CoreDeps,
  workspaceId: string,
  ruleId: string,
  limit = assignmentSettings.drainBatch,
): Promise<{ assigned: number; stillWaiting: boolean }> {
  const { data } = await deps.db.entities.assignmentWait.query
    .byRule({ workspaceId, ruleId })
    .go({ limit, pages: 1, consistent: true });
  let assigned = 0;
  for (const wait of data as WaitItem[]) {
    const placed = await placeConversation(deps, workspaceId, wait.conversationId, { wait });
    if (placed.outcome === 'assigned') assigned += 1;
    // Still in this queue: the rule's users are all at the cap, and the younger ones wait behind it.
    if (placed.outcome === 'waiting' && placed.ruleId === ruleId) return { assigned, stillWaiting: true };
  }
  return { assigned, stillWaiting: data.length === limit };
}

/**
 * A user's open conversations went down (one was resolved, snoozed, set pending, or taken from them):
 * the queues of the capped rules naming them are served at once, without waiting for the schedule.
 */
export async function drainQueuesOfUser(
  deps: CoreDeps,
  workspaceId: string,
  user: string | (() => Promise<string | undefined>),
): Promise<number> {
  const capped = (await readWorkspaceRules(deps, workspaceId)).filter((rule) => rule.appliesTo === 'conversations' && rule.capPerUser !== undefined);
  // Read who it is only when some rule has a cap (most workspaces: none).
  const userId = capped.length === 0 ? undefined : typeof user === 'string' ? user : await user();
  let assigned = 0;
  for (const rule of capped) {
    if (userId === undefined || !rule.userIds.includes(userId)) continue;
    assigned += (await drainQueue(deps, workspaceId, rule.ruleId)).assigned;
  }
  return assigned;
}

// ---------------------------------------------------------------------------------------------
// Contacts

/**
 * Gives a new contact with no owner to the first contacts rule's next user (`owner.claimed`, actor
 * `system`, with the rule's id), with the event's receipt in the same transaction. A contact that got
 * an owner meanwhile (a claim, an assignment) is left alone.
 */
export async function placeContact(deps: CoreDeps, workspaceId: string, contactId: string, receipt: Receipt): Promise<PlaceOutcome> {
  return retryLostRaces(async () => {
    // The rules first: a workspace without contacts rules costs one Query per new contact (an import's too).
    const rules = (await readWorkspaceRules(deps, workspaceId, true)).filter((rule) => rule.enabled && rule.appliesTo === 'contacts');
    if (rules.length === 0) return 'skipped';
    if (await receiptExists(deps, receipt)) return 'duplicate';
    const contact = await readContact(deps, workspaceId, contactId, true).catch((error: unknown) => {
      if (error instanceof DomainError && error.code === 'not_found') return undefined;
      throw error;
    });
    if (!contact || contact.ownerId || contact.status !== 'active') return 'skipped';
    const chosen = await firstRule(deps, rules, () => true);
    if (!chosen) return 'skipped';
    const ownerId = await pickUser(deps, chosen.rule, chosen.users);
    if (!ownerId) return 'skipped';
    const caller = systemActor(workspaceId);
    let outcome: PlaceOutcome = 'skipped';
    await changeContact(
      deps,
      caller,
      contactId,
      (before: ContactItem) => {
        if (before.ownerId || before.status !== 'active') return undefined;
        outcome = 'assigned';
        return {
          after: { ...before, ownerId },
          events: [
            newEvent(deps, caller, 'owner.claimed', { type: 'contact', id: contactId }, {
              ownerId,
              previousOwnerId: null,
              assignedBy: caller.userId,
              ruleId: chosen.rule.ruleId,
            }),
          ],
        };
      },
      // A replayed event's receipt fails the transaction: a lost race, and the next run finds the receipt.
      { extraOps: [(tx) => tx.streamReceipt.create(newReceipt(deps, receipt)).commit()] },
    );
    return outcome;
  });
}

// ---------------------------------------------------------------------------------------------
// The fan-out consumer

/**
 * The events the consumer acts on: new items; and what may give a queue room: a user's open
 * conversations going down, a user made active again, a rule changed or deleted.
 */
export function acceptsAssignmentEvent(event: EventRecord): boolean {
  const payload = event.payload as Record<string, unknown> | null;
  switch (event.type) {
    case 'assignment_rule.updated':
    case 'assignment_rule.deleted':
      return true;
    case 'user.updated':
      return (payload?.changes as Record<string, { to?: unknown }> | undefined)?.status?.to === 'active';
    case 'conversation.opened':
      return payload?.kind === 'contact';
    case 'contact.created':
      return payload?.ownerId === null;
    case 'conversation.status_changed':
      return payload?.from === 'open' && payload.to !== 'open';
    case 'conversation.assigned':
      return typeof payload?.from === 'string' && payload.how !== 'rule';
    default:
      return false;
  }
}

/** The `assignment-rules` fan-out consumer: idempotent per event (a receipt with each assignment). */
export async function applyAssignmentEvent(deps: CoreDeps, event: EventRecord): Promise<unknown> {
  if (!acceptsAssignmentEvent(event)) return 'ignored';
  const receipt = { workspaceId: event.workspaceId, eventId: event.eventId };
  switch (event.type) {
    case 'contact.created':
      return placeContact(deps, event.workspaceId, event.entityId, receipt);
    case 'conversation.opened': {
      const placed = await placeConversation(deps, event.workspaceId, event.entityId, { receipt });
      // Queued behind others: serve the queue now, in case someone has room.
      if (placed.outcome === 'waiting' && placed.ruleId) await drainQueue(deps, event.workspaceId, placed.ruleId);
      return placed.outcome;
    }
    case 'conversation.assigned':
      return drainQueuesOfUser(deps, event.workspaceId, (event.payload as { from: string }).from);
    case 'user.updated':
      return drainQueuesOfUser(deps, event.workspaceId, event.entityId);
    case 'assignment_rule.updated':
    case 'assignment_rule.deleted':
      // A raised cap, new users, or waiting conversations to match again (a deleted or disabled rule's).
      return (await drainQueue(deps, event.workspaceId, event.entityId)).assigned;
    case 'conversation.status_changed':
      return drainQueuesOfUser(deps, event.workspaceId, async () => (await findConversation(deps, event.workspaceId, event.entityId))?.assigneeId);
    default:
      return 'ignored';
  }
}

// ---------------------------------------------------------------------------------------------
// The scheduled pass

const passScope = 'ASSIGNPASS';

/**
 * Serves the queues of every workspace: up to `passQueues` queues a run, `passPerQueue` conversations
 * each, oldest first. It goes on from the queue after the one it served last (saved between runs), and
 * back to the first at the end, so a long queue that cannot move never starves the others.
 */
export async function runAssignmentPass(
  deps: CoreDeps,
  /** Time left to the run (the Lambda's remaining time): it stops taking queues when little is left. */
  timeLeftMs: () => number = () => Number.POSITIVE_INFINITY,
): Promise<{ queues: number; assigned: number; failed: { workspaceId: string; ruleId: string; error: unknown }[] }> {
  const state = await deps.db.entities.assignmentPassState.get({ scope: passScope }).go({ consistent: true });
  let after = state.data?.after ?? '';
  const visited = new Set<string>();
  let assigned = 0;
  const failed: { workspaceId: string; ruleId: string; error: unknown }[] = [];
  let wrapped = after === '';
  while (visited.size < assignmentSettings.passQueues && timeLeftMs() > assignmentSettings.passReserveMs) {
    const query = deps.db.entities.assignmentWait.query.everyWorkspace({ waitScope: waitingPartition });
    const { data } = await (after ? query.gt({ waitKey: `${after}#~` }) : query).go({ limit: 1, pages: 1 });
    const next = data[0] as (WaitItem & { waitKey: string }) | undefined;
    if (!next) {
      if (wrapped) break;
      wrapped = true;
      after = '';
      continue;
    }
    const queue = `${next.workspaceId}#${next.ruleId}`;
    if (visited.has(queue)) break;
    visited.add(queue);
    try {
      assigned += (await drainQueue(deps, next.workspaceId, next.ruleId, assignmentSettings.passPerQueue)).assigned;
    } catch (error) {
      // One queue that fails must not hold back the others: the next run serves it again.
      failed.push({ workspaceId: next.workspaceId, ruleId: next.ruleId, error });
    }
    after = queue;
  }
  await deps.db.entities.assignmentPassState.put({ scope: passScope, after, updatedAt: deps.clock.nowIso() }).go();
  return { queues: visited.size, assigned, failed };
}
