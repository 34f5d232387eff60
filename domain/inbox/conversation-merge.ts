import { newEvent } from '../../events/event-log';
import type { CallerContext } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import { LostRace, lostRace, WorkInProgress } from '../shared/errors';
import { batchGetAll } from '../store/batch-get';
import { electroCursor } from '../store/index-cursor';
import { isConditionFailure } from '../store/transaction';
import { contactConversationsList, type ConversationItem } from './conversation-record';
import type { Participant } from './conversations.schemas';
import { commitConversation, findConversation, openConversationGuard } from './conversations.service';
import { inboxChannels } from './inbox.entity';
import type { MessageItem } from './messages.service';

/**
 * How much conversation work one contact merge request does: records looked at (a conversation, a
 * message), whatever the conversations hold; the rest is done by repeating the request. Tests lower it.
 */
export const conversationMergeSettings = { recordsPerRequest: 500, concurrency: 8 };

/** A consistent Query of a source's conversation list reads this many entries at a time. */
const conversationsPerPage = 25;
/** A consistent Query of a conversation's messages reads at most this many at a time. */
const messagesPerPage = 100;
/** A conversation that keeps changing while it is moved (new messages) is left for the next request. */
const maxMoveAttempts = 5;

interface Budget {
  left: number;
  conversationsMoved: number;
  messagesRepointed: number;
}

/**
 * Contact merge step (contact-merge.service.ts): every conversation of the sources (their
 * `contact:<id>` lists, read by consistent Queries) moves to the target. Per conversation, first the
 * authors of its messages: each message a source wrote gets the target as `authorContactId`, keeping
 * the source in `mergedFromContactId` (a conditional update per message, paged oldest first, the
 * progress saved in the conversation's partition so a repeated request goes on where this one
 * stopped); then, in one transaction conditioned on the version read before the messages were paged
 * (a message arriving meanwhile makes it run again from the progress), the conversation gets the
 * target as its contact and contact participant (who added it kept), lists the source in `mergedFrom`,
 * changes list (`contact:<source>` to `contact:<target>`), and appends `conversation.moved` about the
 * target. Read state (receipts, unread counters) is keyed by conversation and user: nothing moves there.
 *
 * Bounded: at most `recordsPerRequest` records per request; with work left it throws WorkInProgress
 * (the merge answers 202 and the client repeats the request). Idempotent: a moved conversation leaves
 * the source's list, a re-pointed message no longer names the source. Returns how many conversations
 * this call moved.
 */
export async function moveContactConversations(
  deps: CoreDeps,
  caller: CallerContext,
  sourceIds: string[],
  targetId: string,
): Promise<number> {
  const { workspaceId } = caller;
  const budget: Budget = {
    left: conversationMergeSettings.recordsPerRequest,
    conversationsMoved: 0,
    messagesRepointed: 0,
  };
  const sources = new Set(sourceIds);
  const workLeft = () =>
    new WorkInProgress(
      `Moved ${budget.conversationsMoved} conversations and re-pointed the authors of ${budget.messagesRepointed} messages to the target; more are left: repeat the same request to go on`,
      { conversationsMoved: budget.conversationsMoved, messagesRepointed: budget.messagesRepointed },
    );
  let unfinished = false;
  for (const sourceId of sourceIds) {
    let cursor: string | null = null;
    do {
      const result: { data: { conversationId: string }[]; cursor: string | null } =
        await deps.db.entities.conversationListEntry.query
          .byList({ workspaceId, list: contactConversationsList(sourceId) })
          .go({ limit: conversationsPerPage, pages: 1, consistent: true, cursor });
      for (const { conversationId } of result.data) {
        if (budget.left <= 0) throw workLeft();
        const done = await moveConversation(
          deps,
          caller,
          conversationId,
          sourceId,
          targetId,
          sources,
          budget,
        );
        unfinished ||= !done;
      }
      cursor = result.cursor;
    } while (cursor);
  }
  // Conversations that kept changing under the move, or whose messages were not all looked at.
  if (unfinished) throw workLeft();
  return budget.conversationsMoved;
}

async function moveConversation(
  deps: CoreDeps,
  caller: CallerContext,
  conversationId: string,
  sourceId: string,
  targetId: string,
  sources: Set<string>,
  budget: Budget,
): Promise<boolean> {
  const { workspaceId } = caller;
  for (let attempt = 1; attempt <= maxMoveAttempts; attempt += 1) {
    const before = await findConversation(deps, workspaceId, conversationId, true);
    if (!before || before.contactId !== sourceId) return true; // moved meanwhile
    budget.left -= 1;
    if (!(await repointAuthors(deps, before, sourceId, targetId, budget))) return false;
    const at = deps.clock.nowIso();
    const after: ConversationItem = {
      ...before,
      contactId: targetId,
      participants: repointParticipants(before.participants, sources, targetId),
      mergedFrom: [...(before.mergedFrom ?? []), sourceId],
      version: before.version + 1,
      updatedAt: at,
    };
    const event = newEvent(
      deps,
      caller,
      'conversation.moved',
      { type: 'conversation', id: conversationId },
      { channel: before.channel, fromContactId: sourceId, toContactId: targetId },
      { contactId: targetId },
    );
    try {
      await commitConversation(deps, before, {
        after,
        events: [event],
        extraOps: (tx) => [
          tx.messageAuthorMove.delete({ workspaceId, conversationId, fromContactId: sourceId }).commit(),
        ],
      });
      budget.conversationsMoved += 1;
      return true;
    } catch (error) {
      // A message arrived (or another change) since the read: again, the authors from the saved progress.
      if (!(error instanceof LostRace)) throw error;
    }
  }
  return false;
}

/**
 * The contact participants that are merge sources become the target (who added them, and when, kept);
 * the target appears once.
 */
function repointParticipants(
  participants: Participant[],
  sources: Set<string>,
  targetId: string,
): Participant[] {
  const seen = new Set<string>();
  return participants.flatMap((participant) => {
    const now =
      participant.actorKind === 'contact' && sources.has(participant.id)
        ? { ...participant, id: targetId }
        : participant;
    const key = `${now.actorKind}:${now.id}`;
    if (seen.has(key)) return [];
    seen.add(key);
    return [now];
  });
}

/**
 * A message to re-point: written by the source, or re-pointed from it by an earlier merge of the same
 * source that was never finished (its conversation still the source's) to another contact.
 */
const writtenBySource = (message: MessageItem, sourceId: string, targetId: string) =>
  message.authorKind === 'contact' &&
  (message.authorContactId === sourceId ||
    (message.mergedFromContactId === sourceId && message.authorContactId !== targetId));

/**
 * Re-points the authors of the conversation's messages from the source to the target, oldest first,
 * from where an earlier request stopped. True when every message was looked at; false when the budget
 * ran out first (the progress is saved).
 */
async function repointAuthors(
  deps: CoreDeps,
  conversation: ConversationItem,
  sourceId: string,
  targetId: string,
  budget: Budget,
): Promise<boolean> {
  const { workspaceId, conversationId } = conversation;
  const progressKey = { workspaceId, conversationId, fromContactId: sourceId };
  const { data: progress } = await deps.db.entities.messageAuthorMove
    .get(progressKey)
    .go({ consistent: true });
  const from = progress?.toContactId === targetId ? progress.afterMessageId : undefined;
  const pk = `WS#${workspaceId}#CONV#${conversationId}`;
  let cursor: string | null = from ? electroCursor({ pk, sk: `MSG#${from}` }) : null;
  const at = deps.clock.nowIso();
  for (;;) {
    if (budget.left <= 0) return false;
    const result = await deps.db.entities.message.query.byConversation({ workspaceId, conversationId }).go({
      limit: Math.min(messagesPerPage, budget.left),
      pages: 1,
      consistent: true,
      cursor,
      attributes: ['messageId', 'authorKind', 'authorContactId', 'mergedFromContactId'],
    });
    const page = result.data as MessageItem[];
    budget.left -= Math.max(1, page.length);
    const stale = page.filter((message) => writtenBySource(message, sourceId, targetId));
    for (let index = 0; index < stale.length; index += conversationMergeSettings.concurrency) {
      const chunk = stale.slice(index, index + conversationMergeSettings.concurrency);
      await Promise.all(
        chunk.map((message) => repointAuthor(deps, conversation, message, sourceId, targetId, at, budget)),
      );
    }
    if (!result.cursor) return true;
    cursor = result.cursor;
    const last = page[page.length - 1];
    if (last) {
      await deps.db.entities.messageAuthorMove
        .put({ ...progressKey, toContactId: targetId, afterMessageId: last.messageId, updatedAt: at })
        .go();
    }
  }
}

/** One message's author, conditional on the author read (a concurrent request may have re-pointed it). */
async function repointAuthor(
  deps: CoreDeps,
  conversation: ConversationItem,
  message: MessageItem,
  sourceId: string,
  targetId: string,
  at: string,
  budget: Budget,
): Promise<void> {
  const { workspaceId, conversationId } = conversation;
  try {
    await deps.db.entities.message
      .patch({ workspaceId, conversationId, messageId: message.messageId })
      .set({
        authorContactId: targetId,
        mergedFromContactId: message.mergedFromContactId ?? sourceId,
        updatedAt: at,
      })
      .where((attr, { eq }) => eq(attr.authorContactId, message.authorContactId!))
      .go();
    budget.messagesRepointed += 1;
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
}

/**
 * Contact merge: the target's guard of its latest conversation per channel (`openConversationGuard`)
 * names the most recent conversation that is not resolved among the target's and the sources' (moved
 * to the target by now), else the most recent one: an inbound message from any of their addresses then
 * lands in it (and opening a conversation on that channel returns it) rather than in a new one. The
 * target may then hold more than one open conversation on a channel (a merge does not join them).
 * Reads: one consistent BatchGetItem of the guards (5 channels × the contacts), one of the
 * conversations they name; a guard changed meanwhile makes the merge run again.
 */
export async function repointConversationGuards(
  deps: CoreDeps,
  workspaceId: string,
  sourceIds: string[],
  targetId: string,
): Promise<void> {
  const contactIds = [targetId, ...sourceIds];
  const keys = contactIds.flatMap((contactId) =>
    inboxChannels.map((channel) => openConversationGuard(workspaceId, contactId, channel)),
  );
  const guards = await batchGetAll(keys, (batch) =>
    deps.db.entities.uniqueGuard.get(batch).go({ consistent: true }),
  );
  const owners = new Map(guards.map((guard) => [guard.value, guard.ownerId]));
  const conversationIds = [...new Set(owners.values())];
  if (conversationIds.length === 0) return;
  const items = (await batchGetAll(
    conversationIds.map((conversationId) => ({ workspaceId, conversationId })),
    (batch) => deps.db.entities.conversation.get(batch).go({ consistent: true }),
  )) as ConversationItem[];
  const byId = new Map(items.map((item) => [item.conversationId, item]));
  const now = deps.clock.nowIso();
  for (const channel of inboxChannels) {
    const current = owners.get(`${targetId}:${channel}`);
    const best = contactIds
      .map((contactId) => byId.get(owners.get(`${contactId}:${channel}`) ?? ''))
      .filter((item): item is ConversationItem => item?.contactId === targetId && item.channel === channel)
      .reduce<ConversationItem | undefined>(
        (found, item) => (!found || isLater(item, found) ? item : found),
        undefined,
      );
    if (!best || best.conversationId === current) continue;
    const guard = openConversationGuard(workspaceId, targetId, channel);
    try {
      if (current) {
        await deps.db.entities.uniqueGuard
          .patch(guard)
          .set({ ownerId: best.conversationId })
          .where((attr, { eq }) => eq(attr.ownerId, current))
          .go();
      } else {
        await deps.db.entities.uniqueGuard
          .create({ ...guard, ownerId: best.conversationId, createdAt: now })
          .go();
      }
    } catch (error) {
      // A conversation was opened for the target meanwhile: the merge runs again from its reads.
      if (isConditionFailure(error)) throw lostRace('The contact’s conversations');
      throw error;
    }
  }
}

/** Not resolved before resolved, then the latest activity. */
const isLater = (a: ConversationItem, b: ConversationItem) => {
  const open = (item: ConversationItem) => (item.status === 'resolved' ? 0 : 1);
  if (open(a) !== open(b)) return open(a) > open(b);
  return `${a.lastActivityAt}#${a.conversationId}` > `${b.lastActivityAt}#${b.conversationId}`;
};

