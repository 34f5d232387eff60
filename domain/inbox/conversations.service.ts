import { createHash } from 'node:crypto';
import { newEvent, type EventRecord } from '../../events/event-log';
import { readContact } from '../contacts/contacts.service';
import { isManager, systemActor, type CallerContext } from '../shared/context';
import { retryLostRaces } from '../shared/retry';
import type { CoreDeps } from '../shared/deps';
import { assertActiveUser } from '../users/active-user';
import { conflict, forbidden, invalid, invalidReference, limitExceeded, lostRace, notFound, stale, unprocessable } from '../shared/errors';

import { checkCursor, type Page, type PageQuery } from '../shared/pagination';
import { claimGuard } from '../store/unique-guard-ops';
import { isConditionFailure, writeTransaction } from '../store/transaction';
import type { TxEntities } from '../store/db';
import {
  allList,
  assigneeList,
  contactConversationsList,
  conversationWrites,
  directList,
  toConversation,
  userIdsOf,
  withChannel,
  withKeys,
  snoozedPartition,
  type ConversationItem,
} from './conversation-record';
import { maxParticipants } from './inbox.entity';
import type {
  AddParticipantInput,
  Conversation,
  ConversationQualification,
  ConversationScore,
  ConversationStatus,
  InboxCounts,
  InboxChannel,
  ListConversationsQuery,
  OpenConversationInput,
  Participant,
  SetStatusInput,
} from './conversations.schemas';
import { canRead } from './conversation-access';
import { conversationStatuses } from './inbox.entity';
import type { AddScoreInput, SetQualificationInput } from '../contacts/scoring.schemas';
import { isNewerManual, type QualificationWriteOptions } from '../contacts/scoring.service';
import { decodeListCursor, electroCursor, encodeListCursor, startKeyOf } from '../store/index-cursor';

const conversationRef = (conversationId: string) => ({ type: 'conversation' as const, id: conversationId });
/** Events about a contact conversation are about its contact too: they appear on its timeline. */
export const aboutOf = (item: Pick<ConversationItem, 'contactId'>) => (item.contactId ? { contactId: item.contactId } : {});

/**
 * The guard of a contact's latest conversation on one channel (whatever its status): opening returns
 * it unless it is resolved, and an inbound message goes to it (reopening it when resolved), in one read.
 */
export const openConversationGuard = (workspaceId: string, contactId: string, channel: InboxChannel) => ({
  workspaceId,
  scope: 'open-conversation',
  value: `${contactId}:${channel}`,
});
/** The guard of the direct conversation of one set of users. */
const directGuard = (workspaceId: string, userIds: string[]) => ({
  workspaceId,
  scope: 'direct-conversation',
  value: createHash('sha256').update([...userIds].sort().join(',')).digest('base64url'),
});

export async function findConversation(deps: CoreDeps, workspaceId: string, conversationId: string, consistent = false) {
  const { data } = await deps.db.entities.conversation.get({ workspaceId, conversationId }).go({ consistent });
  return (data as ConversationItem | null) ?? undefined;
}

/** A conversation the caller may read, or a 404 (another workspace's, or a direct one they are not in). */
export async function readConversation(
  deps: CoreDeps,
  caller: CallerContext,
  conversationId: string,
  consistent = false,
): Promise<ConversationItem> {
  const item = await findConversation(deps, caller.workspaceId, conversationId, consistent);
  if (!item || !canRead(caller, item)) throw notFound('Conversation');
  return item;
}

export { canRead };

/**
 * Seed 000 ownership: owner/admin reply to any contact conversation; a member to the ones assigned to
 * them or in the pool. A direct conversation: its users.
 */
export function assertCanReply(caller: CallerContext, item: ConversationItem): void {
  if (item.kind === 'direct') {
    if (userIdsOf(item).includes(caller.userId)) return;
    throw forbidden('Only the users of a direct conversation write in it');
  }
  if (isManager(caller) || !item.assigneeId || item.assigneeId === caller.userId) return;
  throw forbidden('This conversation is assigned to another user: only they, an owner or an admin can reply or change it');
}

/**
 * Seed 000 ownership: reaching out to a contact (a new conversation, a send to the contact) writes to
 * it, so a member does it only for their own or unclaimed contacts, like `assertCanWrite` on the contact.
 * Replying in a pool conversation that exists stays a member's (`assertCanReply`).
 */
export function assertCanReachContact(caller: CallerContext, contact: { ownerId?: string | null }): void {
  if (isManager(caller) || !contact.ownerId || contact.ownerId === caller.userId) return;
  throw forbidden('This contact is claimed by another user: only they, an owner or an admin can start a conversation with it or send to it');
}

const participant = (actorKind: Participant['actorKind'], id: string, addedBy: string, addedAt: string): Participant => ({
  actorKind,
  id,
  addedBy,
  addedAt,
});

/** Adds a user to the participants when missing (the assignee and whoever writes are always in it). */
export function withUser(participants: Participant[], userId: string, addedBy: string, at: string): Participant[] {
  if (userId === 'system' || participants.some((p) => p.actorKind === 'user' && p.id === userId)) return participants;
  return [...participants, participant('user', userId, addedBy, at)];
}

// ---------------------------------------------------------------------------------------------
// Writing

export interface ConversationChange {
  after: ConversationItem;
  events: EventRecord[];
  /** Further items of the same transaction (a message, receipts, guards...). */
  extraOps?: (tx: TxEntities) => unknown[];
  /** Idempotent follow-up writes too many for the transaction, run once it has committed. */
  afterCommit?: () => Promise<void>;
  /** Counted lists the conversation may arrive on only below a count (an assignment rule's cap). */
  countCaps?: Record<string, number>;
}

/** The version read is gone: the request runs again from its read (412 with If-Match). */
const changedMeanwhile = () => lostRace('The conversation');

/** Writes a conversation change in one transaction with its lists, counts, events and extra items. */
export async function commitConversation(
  deps: CoreDeps,
  before: ConversationItem | undefined,
  change: ConversationChange,
  explain: (failed: number[]) => Error = changedMeanwhile,
): Promise<ConversationItem> {
  const after = withKeys(change.after);
  await writeTransaction(
    deps.db,
    (tx) => [...conversationWrites(tx, before, after, change.events, change.countCaps), ...(change.extraOps?.(tx) ?? [])],
    explain,
  );
  await change.afterCommit?.();
  return after;
}

/**
 * Reads a conversation (consistent), checks If-Match, lets `decide` compute the change (undefined:
 * nothing to do) and commits it.
 */
async function changeConversation(
  deps: CoreDeps,
  caller: CallerContext,
  conversationId: string,
  expectedVersion: number | undefined,
  decide: (before: ConversationItem, at: string) => Promise<ConversationChange | undefined> | ConversationChange | undefined,
): Promise<Conversation> {
  const before = await readConversation(deps, caller, conversationId, true);
  if (expectedVersion !== undefined && expectedVersion !== before.version) throw stale();
  const at = deps.clock.nowIso();
  const change = await decide(before, at);
  if (!change) return toConversation(before);
  const after = await commitConversation(deps, before, {
    ...change,
    after: { ...change.after, version: before.version + 1, updatedAt: at },
  });
  return toConversation(after);
}

/**
 * A new contact conversation (not yet written): used by openForContact and by ingest.
 */
export function newContactConversation(
  deps: CoreDeps,
  caller: CallerContext,
  contactId: string,
  channel: InboxChannel,
  at: string,
  subject?: string,
): { item: ConversationItem; event: EventRecord } {
  const conversationId = deps.newId('cv');
  const item: ConversationItem = {
    workspaceId: caller.workspaceId,
    conversationId,
    kind: 'contact',
    channel,
    contactId,
    ...(subject ? { subject } : {}),
    status: 'open',
    participants: [participant('contact', contactId, caller.userId, at)],
    lastActivityAt: at,
    messageCount: 0,
    lists: [],
    createdBy: caller.userId,
    version: 1,
    createdAt: at,
    updatedAt: at,
  };
  const event = newEvent(
    deps,
    caller,
    'conversation.opened',
    conversationRef(conversationId),
    { kind: 'contact', channel, contactId, userIds: [] },
    { contactId },
  );
  return { item: withKeys(item), event };
}

/**
 * Seed 001 openForContact / openDirect. A contact has at most one conversation per channel that is
 * not resolved, unless `new` asks for another: the existing one is returned (`created: false`). A set
 * of users has one direct conversation. A member opens a new one only with their own or unclaimed
 * contacts (403); the existing one is returned to anyone.
 */
export async function openConversation(
  deps: CoreDeps,
  caller: CallerContext,
  input: OpenConversationInput,
): Promise<{ conversation: Conversation; created: boolean }> {
  const { workspaceId } = caller;
  const at = deps.clock.nowIso();
  if (input.kind === 'contact') {
    const contact = await readContact(deps, workspaceId, input.contactId).catch(() => undefined);
    if (!contact) throw invalidReference('body.contactId', 'No contact with this id in the workspace');
    if (contact.mergedInto) {
      throw conflict('record_merged', 'This contact was merged into another: open the conversation with that one', {
        mergedInto: contact.mergedInto,
      });
    }
    const guard = openConversationGuard(workspaceId, contact.contactId, input.channel);
    const owned = await currentConversationId(deps, guard);
    if (owned && !input.new) {
      const item = await findConversation(deps, workspaceId, owned, true);
      if (item && item.status !== 'resolved') return { conversation: toConversation(item), created: false };
    }
    assertCanReachContact(caller, contact);
    const { item, event } = newContactConversation(deps, caller, contact.contactId, input.channel, at, input.subject);
    await commitConversation(
      deps,
      undefined,
      {
        after: item,
        events: [event],
        extraOps: (tx) => [
          owned
            ? tx.uniqueGuard
                .patch(guard)
                .set({ ownerId: item.conversationId })
                .where((attr, { eq }) => eq(attr.ownerId, owned))
                .commit()
            : claimGuard(tx, guard, item.conversationId, at),
        ],
      },
      // Another conversation was opened meanwhile: run again (it is then the one returned).
      () => lostRace('The contact’s conversations'),
    );
    return { conversation: toConversation(item), created: true };
  }
  const userIds = [...new Set([caller.userId, ...input.userIds])];
  if (userIds.length > maxParticipants) {
    throw limitExceeded('body.userIds', `A conversation holds at most ${maxParticipants} participants`, maxParticipants);
  }
  for (const [index, userId] of input.userIds.entries()) {
    if (userId !== caller.userId) await assertActiveUser(deps, workspaceId, userId, `body.userIds.${index}`);
  }
  const guard = directGuard(workspaceId, userIds);
  const existing = await currentConversationId(deps, guard);
  const found = existing ? await findConversation(deps, workspaceId, existing, true) : undefined;
  // Users added or removed since it was opened: it is no longer this set's, which gets a new one.
  const users = found ? userIdsOf(found) : [];
  if (found && users.length === userIds.length && userIds.every((userId) => users.includes(userId))) {
    return { conversation: toConversation(found), created: false };
  }
  const conversationId = deps.newId('cv');
  const item: ConversationItem = {
    workspaceId,
    conversationId,
    kind: 'direct',
    channel: 'internal',
    ...(input.subject ? { subject: input.subject } : {}),
    status: 'open',
    participants: userIds.map((userId) => participant('user', userId, caller.userId, at)),
    lastActivityAt: at,
    messageCount: 0,
    lists: [],
    createdBy: caller.userId,
    version: 1,
    createdAt: at,
    updatedAt: at,
  };
  const event = newEvent(deps, caller, 'conversation.opened', conversationRef(conversationId), {
    kind: 'direct',
    channel: 'internal',
    contactId: null,
    userIds,
  });
  await commitConversation(
    deps,
    undefined,
    {
      after: item,
      events: [event],
      extraOps: (tx) => [
        existing
          ? tx.uniqueGuard
              .patch(guard)
              .set({ ownerId: conversationId })
              .where((attr, { eq }) => eq(attr.ownerId, existing))
              .commit()
          : claimGuard(tx, guard, conversationId, at),
      ],
    },
    () => lostRace('The direct conversations'),
  );
  return { conversation: toConversation(withKeys(item)), created: true };
}

export async function currentConversationId(deps: CoreDeps, guard: { workspaceId: string; scope: string; value: string }) {
  const { data } = await deps.db.entities.uniqueGuard.get(guard).go({ consistent: true });
  return data?.ownerId;
}

export async function getConversation(deps: CoreDeps, caller: CallerContext, conversationId: string): Promise<Conversation> {
  return toConversation(await readConversation(deps, caller, conversationId));
}

/** The status change of `before` to `status`, with its event (the caller commits it). */
export function statusChange(
  deps: CoreDeps,
  caller: CallerContext,
  before: ConversationItem,
  status: ConversationStatus,
  snoozedUntil: string | undefined,
  cause: 'user' | 'message' | 'schedule',
): ConversationChange {
  const after: ConversationItem = { ...before, status };
  delete after.snoozedUntil;
  if (status === 'snoozed' && snoozedUntil) after.snoozedUntil = snoozedUntil;
  const event = newEvent(
    deps,
    caller,
    'conversation.status_changed',
    conversationRef(before.conversationId),
    { channel: before.channel, from: before.status, to: status, snoozedUntil: after.snoozedUntil ?? null, cause },
    aboutOf(before),
  );
  return { after, events: [event] };
}

/**
 * Seed 001 setStatus: open, pending, snoozed (until a time, or the contact's next message), resolved.
 * Who may reply may change it.
 */
export async function setConversationStatus(
  deps: CoreDeps,
  caller: CallerContext,
  conversationId: string,
  input: SetStatusInput,
  expectedVersion?: number,
): Promise<Conversation> {
  return changeConversation(deps, caller, conversationId, expectedVersion, async (before, at) => {
    assertCanReply(caller, before);
    if (input.snoozedUntil !== undefined && input.snoozedUntil <= at) {
      throw invalidReference('body.snoozedUntil', 'A snooze ends in the future');
    }
    if (before.status === input.status && (before.snoozedUntil ?? undefined) === input.snoozedUntil) return undefined;
    return statusChange(deps, caller, before, input.status, input.snoozedUntil, 'user');
  });
}

/** The assignment of `before` to `assigneeId` (undefined: the pool), with its event and the unread views. */
export async function assignmentChange(
  deps: CoreDeps,
  caller: CallerContext,
  before: ConversationItem,
  assigneeId: string | undefined,
  how: 'claim' | 'release' | 'assign' | 'reply' | 'rule',
  at: string,
  ruleId?: string,
): Promise<ConversationChange> {
  const after: ConversationItem = { ...before };
  if (assigneeId) {
    after.assigneeId = assigneeId;
    after.participants = withUser(before.participants, assigneeId, caller.userId, at);
  } else delete after.assigneeId;
  const event = newEvent(
    deps,
    caller,
    'conversation.assigned',
    conversationRef(before.conversationId),
    { channel: before.channel, from: before.assigneeId ?? null, to: assigneeId ?? null, how, ...(ruleId ? { ruleId } : {}) },
    aboutOf(before),
  );
  // The users' unread counts of this conversation carry its assignee (their views): they follow.
  const { data: counters } = await deps.db.entities.unreadCounter.query
    .byConversation({ workspaceId: before.workspaceId, conversationId: before.conversationId })
    .go({ pages: 'all' });
  // The first ones in the assignment's own transaction; in a large team the rest follow it (each
  // write sets the same value, so a repeat changes nothing), keeping the transaction under its cap.
  const assigneeKey = assigneeId ?? 'none';
  const keyOf = (counter: (typeof counters)[number]) => ({
    workspaceId: counter.workspaceId,
    userId: counter.userId,
    conversationId: counter.conversationId,
  });
  const inline = counters.slice(0, assignmentSettings.countersInTransaction);
  const rest = counters.slice(assignmentSettings.countersInTransaction);
  return {
    after,
    events: [event],
    extraOps: (tx) => inline.map((counter) => tx.unreadCounter.patch(keyOf(counter)).set({ assigneeKey }).commit()),
    ...(rest.length > 0
      ? {
          afterCommit: async () => {
            await Promise.all(
              rest.map((counter) =>
                deps.db.entities.unreadCounter
                  .patch(keyOf(counter))
                  .set({ assigneeKey })
                  .go()
                  .catch((error: unknown) => {
                    // Read down to 0 and dropped meanwhile: nothing to move.
                    if (!isConditionFailure(error)) throw error;
                  }),
              ),
            );
          },
        }
      : {}),
  };
}

/** Unread counters moved in an assignment's own transaction (the rest right after it). */
export const assignmentSettings = { countersInTransaction: 40 };

/** A member (or anyone) takes a conversation from the pool; a taken one is a 409 `already_claimed`. */
export async function claimConversation(
  deps: CoreDeps,
  caller: CallerContext,
  conversationId: string,
  expectedVersion?: number,
): Promise<Conversation> {
  return changeConversation(deps, caller, conversationId, expectedVersion, async (before, at) => {
    assertContactConversation(before);
    if (before.assigneeId === caller.userId) return undefined;
    if (before.assigneeId) {
      throw conflict('already_claimed', 'Another user holds this conversation', { assigneeId: before.assigneeId });
    }
    return assignmentChange(deps, caller, before, caller.userId, 'claim', at);
  });
}

/** The assignee (or an owner/admin) puts a conversation back in the pool. */
export async function releaseConversation(
  deps: CoreDeps,
  caller: CallerContext,
  conversationId: string,
  expectedVersion?: number,
): Promise<Conversation> {
  return changeConversation(deps, caller, conversationId, expectedVersion, async (before, at) => {
    assertContactConversation(before);
    if (!before.assigneeId) return undefined;
    if (!isManager(caller) && before.assigneeId !== caller.userId) {
      throw forbidden('Only the assignee, an owner or an admin can put a conversation back in the pool');
    }
    return assignmentChange(deps, caller, before, undefined, 'release', at);
  });
}

/** Owner/admin give a conversation to any active user (or the pool); a member only takes or hands back their own. */
export async function assignConversation(
  deps: CoreDeps,
  caller: CallerContext,
  conversationId: string,
  assigneeId: string | null,
  expectedVersion?: number,
): Promise<Conversation> {
  if (!isManager(caller)) {
    if (assigneeId === caller.userId) return claimConversation(deps, caller, conversationId, expectedVersion);
    if (assigneeId === null) return releaseConversation(deps, caller, conversationId, expectedVersion);
    throw forbidden('Only an owner or admin can give a conversation to someone else');
  }
  return changeConversation(deps, caller, conversationId, expectedVersion, async (before, at) => {
    assertContactConversation(before);
    if ((assigneeId ?? undefined) === before.assigneeId) return undefined;
    if (assigneeId) await assertActiveUser(deps, caller.workspaceId, assigneeId, 'body.assigneeId');
    return assignmentChange(deps, caller, before, assigneeId ?? undefined, 'assign', at);
  });
}

function assertContactConversation(item: ConversationItem) {
  if (item.kind !== 'contact') throw unprocessable('A direct conversation has no assignee: only contact conversations are claimed and assigned');
}

/** Adds a user or a contact (of the workspace) to a conversation. */
export async function addParticipant(
  deps: CoreDeps,
  caller: CallerContext,
  conversationId: string,
  input: AddParticipantInput,
  expectedVersion?: number,
): Promise<Conversation> {
  return changeConversation(deps, caller, conversationId, expectedVersion, async (before, at) => {
    assertCanReply(caller, before);
    if (before.participants.some((p) => p.actorKind === input.actorKind && p.id === input.id)) return undefined;
    if (before.kind === 'direct' && input.actorKind === 'contact') {
      throw unprocessable('A direct conversation is between users: open a contact conversation to talk with a contact');
    }
    if (before.participants.length >= maxParticipants) {
      throw limitExceeded('body.id', `A conversation holds at most ${maxParticipants} participants`, maxParticipants);
    }
    if (input.actorKind === 'user') await assertActiveUser(deps, caller.workspaceId, input.id, 'body.id');
    else {
      const contact = await readContact(deps, caller.workspaceId, input.id).catch(() => undefined);
      if (!contact || contact.mergedInto) throw invalidReference('body.id', 'No contact with this id in the workspace');
    }
    return participantChange(deps, caller, before, [...before.participants, participant(input.actorKind, input.id, caller.userId, at)], 'conversation.participant_added', input);
  });
}

/** Removes a participant; a contact conversation keeps its contact, a direct one at least one user, the assignee stays. */
export async function removeParticipant(
  deps: CoreDeps,
  caller: CallerContext,
  conversationId: string,
  participantId: string,
  expectedVersion?: number,
): Promise<Conversation> {
  return changeConversation(deps, caller, conversationId, expectedVersion, async (before) => {
    assertCanReply(caller, before);
    const found = before.participants.find((p) => p.id === participantId);
    if (!found) throw notFound('Participant');
    if (found.actorKind === 'contact' && found.id === before.contactId) {
      throw unprocessable('The contact of a contact conversation stays in it');
    }
    if (found.id === before.assigneeId) throw unprocessable('The assignee stays in the conversation: reassign it first');
    const remaining = before.participants.filter((p) => p !== found);
    if (before.kind === 'direct' && userIdsOf({ participants: remaining }).length === 0) {
      throw unprocessable('A direct conversation keeps at least one user');
    }
    return participantChange(deps, caller, before, remaining, 'conversation.participant_removed', found);
  });
}

function participantChange(
  deps: CoreDeps,
  caller: CallerContext,
  before: ConversationItem,
  participants: Participant[],
  type: 'conversation.participant_added' | 'conversation.participant_removed',
  who: { actorKind: 'user' | 'contact'; id: string },
): ConversationChange {
  return {
    after: { ...before, participants },
    events: [
      newEvent(deps, caller, type, conversationRef(before.conversationId), { actorKind: who.actorKind, id: who.id }, aboutOf(before)),
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Views: each page is one Query on one list partition

/** The list partition a view query reads, and the filters left for its entries. */
function listOfView(caller: CallerContext, query: ListConversationsQuery): { list: string; filtered: boolean } {
  if (query.view !== 'all' && query.assigneeId !== undefined) {
    throw invalid('query.assigneeId', '`assigneeId` goes with the view `all` (`mine` is the caller, `unassigned` the pool)');
  }
  if (query.contactId !== undefined) return { list: contactConversationsList(query.contactId), filtered: true };
  if (query.view === 'direct') return { list: directList(caller.userId), filtered: true };
  const base =
    query.view === 'mine'
      ? assigneeList(caller.userId, query.status)
      : query.view === 'unassigned'
        ? assigneeList(undefined, query.status)
        : query.assigneeId
          ? assigneeList(query.assigneeId, query.status)
          : allList(query.status);
  return { list: query.channel ? withChannel(base, query.channel) : base, filtered: false };
}

/**
 * The caller's inbox views (`mine`, `unassigned`, `all`, `direct`), filtered by status, channel,
 * assignee and contact, by latest activity or longest waiting: one Query per page. A contact's or the
 * caller's direct list holds every status and channel: those filters apply to its entries (a page may
 * then come back short, with a cursor).
 */
export async function listConversations(
  deps: CoreDeps,
  caller: CallerContext,
  query: ListConversationsQuery,
): Promise<Page<Conversation>> {
  const { workspaceId } = caller;
  const { list, filtered } = listOfView(caller, query);
  const index = query.sort === 'waiting' ? 'byWaiting' : 'byActivity';
  const fingerprint = `conversations|${list}|${query.sort}|${filtered ? `${query.status}|${query.channel ?? ''}|${query.view}|${query.assigneeId ?? ''}` : ''}`;
  const after = decodeListCursor(query.cursor, fingerprint);
  const partition = `WS#${workspaceId}#CV#${list}`;
  const [pkField, skField] = index === 'byWaiting' ? ['gsi2pk', 'gsi2sk'] : ['gsi1pk', 'gsi1sk'];
  const cursor = after
    ? electroCursor({ pk: partition, sk: after.id, [pkField]: partition, [skField]: after.sortKey })
    : null;
  const entities = deps.db.entities.conversationListEntry;
  const base =
    index === 'byWaiting' ? entities.query.byWaiting({ workspaceId, list }) : entities.query.byActivity({ workspaceId, list });
  const assigneeFilter =
    query.view === 'mine' ? caller.userId : query.view === 'unassigned' ? 'none' : query.assigneeId;
  const read = filtered
    ? base.where((attr: any, { eq }: any) => // eslint-disable-line @typescript-eslint/no-explicit-any -- either index's attributes
        [
          eq(attr.status, query.status),
          query.channel ? eq(attr.channel, query.channel) : '',
          assigneeFilter && query.view !== 'direct' ? eq(attr.assigneeKey, assigneeFilter) : '',
        ]
          .filter(Boolean)
          .join(' AND '),
      )
    : base;
  const result = await read.go({
    order: query.sort === 'waiting' ? 'asc' : 'desc',
    limit: query.limit,
    pages: 1,
    cursor,
  });
  const entries = result.data as { conversation: Conversation }[];
  // Where the Query stopped, not the last entry returned: a filtered page may hold none.
  const stoppedAt = result.cursor ? startKeyOf(result.cursor) : undefined;
  return {
    items: entries.map((entry) => entry.conversation),
    nextCursor: stoppedAt ? encodeListCursor(fingerprint, { id: stoppedAt.sk!, sortKey: stoppedAt[skField]! }) : null,
  };
}

/** How many conversations each of the caller's views holds, per status: one BatchGetItem of count items. */
export async function inboxCounts(deps: CoreDeps, caller: CallerContext): Promise<InboxCounts> {
  const { workspaceId } = caller;
  const views = {
    mine: (status: ConversationStatus) => assigneeList(caller.userId, status),
    unassigned: (status: ConversationStatus) => assigneeList(undefined, status),
    all: (status: ConversationStatus) => allList(status),
  };
  const keys = Object.values(views).flatMap((listOf) => conversationStatuses.map((status) => ({ workspaceId, list: listOf(status) })));
  const { data } = await deps.db.entities.conversationCount.get(keys).go();
  const counts = new Map(data.map((item) => [item.list, item.count]));
  const countsOf = (listOf: (status: ConversationStatus) => string) =>
    Object.fromEntries(conversationStatuses.map((status) => [status, Math.max(0, counts.get(listOf(status)) ?? 0)])) as Record<
      ConversationStatus,
      number
    >;
  return {
    conversations: { mine: countsOf(views.mine), unassigned: countsOf(views.unassigned), all: countsOf(views.all) },
  };
}

// ---------------------------------------------------------------------------------------------
// Score and qualification, each with its history

export async function addConversationScore(
  deps: CoreDeps,
  caller: CallerContext,
  conversationId: string,
  input: AddScoreInput,
): Promise<ConversationScore> {
  const item = {
    workspaceId: caller.workspaceId,
    conversationId,
    scoreId: deps.newId('scr'),
    value: input.value,
    source: input.source,
    userId: caller.userId,
    createdAt: deps.clock.nowIso(),
  };
  await changeConversation(deps, caller, conversationId, undefined, (before) => {
    assertCanReply(caller, before); // as for contacts: a member rates their own and pool conversations
    return {
      after: { ...before, score: { value: item.value, source: item.source, at: item.createdAt } },
      events: [
        newEvent(
          deps,
          caller,
          'conversation.scored',
          conversationRef(conversationId),
          { channel: before.channel, value: item.value, source: item.source },
          aboutOf(before),
        ),
      ],
      extraOps: (tx) => [tx.conversationScore.create(item).commit()],
    };
  });
  return { id: item.scoreId, conversationId, value: item.value, source: item.source, userId: item.userId, createdAt: item.createdAt };
}

/**
 * Seed 001 ConversationQualification: the new qualification becomes the conversation's latest (history
 * item + `qualification` + `conversation.qualified`, one transaction); the last write wins, so a user's
 * manual value overrides the classifier's. With `keepManualSince` (the classifier's writes), a manual
 * qualification written since then is kept instead (`applied: false`), checked on the version written.
 */
export async function setConversationQualification(
  deps: CoreDeps,
  caller: CallerContext,
  conversationId: string,
  input: SetQualificationInput,
  options: QualificationWriteOptions = {},
): Promise<{ qualification: ConversationQualification; applied: boolean }> {
  const item: ConversationQualificationItem = {
    workspaceId: caller.workspaceId,
    conversationId,
    qualificationId: deps.newId('qual'),
    kind: input.kind,
    ...(input.score !== undefined ? { score: input.score } : {}),
    source: input.source,
    ...(input.confidence !== undefined ? { confidence: input.confidence } : {}),
    ...(input.reasons?.length ? { reasons: input.reasons } : {}),
    userId: caller.userId,
    createdAt: deps.clock.nowIso(),
  };
  let kept: ConversationItem['qualification'];
  await changeConversation(deps, caller, conversationId, undefined, (before) => {
    assertCanReply(caller, before);
    if (isNewerManual(before.qualification, options.keepManualSince)) {
      kept = before.qualification;
      return undefined;
    }
    const confidence = input.confidence ?? null;
    return {
      after: {
        ...before,
        qualification: { kind: item.kind, score: input.score ?? null, source: item.source, confidence, at: item.createdAt },
      },
      events: [
        newEvent(
          deps,
          caller,
          'conversation.qualified',
          conversationRef(conversationId),
          {
            channel: before.channel,
            kind: item.kind,
            score: input.score ?? null,
            source: item.source,
            ...(input.confidence !== undefined ? { confidence } : {}),
          },
          aboutOf(before),
        ),
      ],
      extraOps: (tx) => [tx.conversationQualification.create(item).commit()],
    };
  });
  if (kept) return { qualification: await latestConversationQualification(deps, caller.workspaceId, conversationId), applied: false };
  return { qualification: toQualification(item), applied: true };
}

/** A conversation's qualification history item, as stored. */
export interface ConversationQualificationItem {
  workspaceId: string;
  qualificationId: string;
  conversationId: string;
  kind: string;
  score?: number;
  source: 'manual' | 'ai';
  confidence?: number;
  reasons?: string[];
  userId: string;
  createdAt: string;
}

const toQualification = (item: Omit<ConversationQualificationItem, 'workspaceId'>): ConversationQualification => ({
  id: item.qualificationId,
  conversationId: item.conversationId,
  kind: item.kind,
  score: item.score ?? null,
  source: item.source,
  confidence: item.confidence ?? null,
  reasons: item.reasons ?? [],
  userId: item.userId,
  createdAt: item.createdAt,
});

/** The newest item of a conversation's qualification history (one Query of one item). */
async function latestConversationQualification(deps: CoreDeps, workspaceId: string, conversationId: string) {
  const { data } = await deps.db.entities.conversationQualification.query
    .byConversation({ workspaceId, conversationId })
    .go({ order: 'desc', limit: 1, pages: 1 });
  return toQualification(data[0] as ConversationQualificationItem);
}

/** A conversation's scores, newest first: one GetItem (access) and one Query. */
export async function listConversationScores(
  deps: CoreDeps,
  caller: CallerContext,
  conversationId: string,
  query: PageQuery,
): Promise<Page<ConversationScore>> {
  const [, result] = await Promise.all([
    readConversation(deps, caller, conversationId),
    deps.db.entities.conversationScore.query
      .byConversation({ workspaceId: caller.workspaceId, conversationId })
      .go({ order: 'desc', limit: query.limit, pages: 1, cursor: checkCursor(caller.workspaceId, query.cursor) ?? null }),
  ]);
  return {
    items: result.data.map((item) => ({
      id: item.scoreId,
      conversationId,
      value: item.value,
      source: item.source,
      userId: item.userId,
      createdAt: item.createdAt,
    })),
    nextCursor: result.cursor ?? null,
  };
}

export async function listConversationQualifications(
  deps: CoreDeps,
  caller: CallerContext,
  conversationId: string,
  query: PageQuery,
): Promise<Page<ConversationQualification>> {
  const [, result] = await Promise.all([
    readConversation(deps, caller, conversationId),
    deps.db.entities.conversationQualification.query
      .byConversation({ workspaceId: caller.workspaceId, conversationId })
      .go({ order: 'desc', limit: query.limit, pages: 1, cursor: checkCursor(caller.workspaceId, query.cursor) ?? null }),
  ]);
  return { items: result.data.map((item) => toQualification(item)), nextCursor: result.cursor ?? null };
}

// ---------------------------------------------------------------------------------------------
// Snooze wake-up (the schedule)

/**
 * Wakes the snoozed conversations whose time has come, in every workspace: one Query of the snoozed
 * partition (up to `limit`), then one change per conversation (status `open`, cause `schedule`).
 * Returns how many were due, how many woke and the ones that failed (the others go on). A
 * conversation changed meanwhile is read again; one woken by a message is skipped.
 */
export async function wakeSnoozedConversations(
  deps: CoreDeps,
  limit = 100,
): Promise<{ due: number; woken: number; failed: { workspaceId: string; conversationId: string; error: unknown }[] }> {
  const at = deps.clock.nowIso();
  const { data } = await deps.db.entities.conversation.query
    .bySnoozeTime({ snoozeScope: snoozedPartition })
    .lte({ snoozeKey: `${at}#~` })
    .go({ limit, pages: 1 });
  let woken = 0;
  const failed: { workspaceId: string; conversationId: string; error: unknown }[] = [];
  for (const due of data as ConversationItem[]) {
    const caller = systemActor(due.workspaceId);
    try {
      await retryLostRaces(async () => {
        const before = await findConversation(deps, due.workspaceId, due.conversationId, true);
        if (!before || before.status !== 'snoozed' || !before.snoozedUntil || before.snoozedUntil > at) return;
        const change = statusChange(deps, caller, before, 'open', undefined, 'schedule');
        await commitConversation(deps, before, { ...change, after: { ...change.after, version: before.version + 1, updatedAt: at } });
        woken += 1;
      });
    } catch (error) {
      // One conversation that cannot be woken must not hold back the others due with it.
      failed.push({ workspaceId: due.workspaceId, conversationId: due.conversationId, error });
    }
  }
  return { due: data.length, woken, failed };
}
