import { appendEvent, newEvent, storedEvent, type EventRecord } from '../../events/event-log';
import { moveAnchoredRecords } from '../anchors/anchored-records';
import { repointContactDeals } from '../deals/deal-merge-steps';
import { moveContactConversations, repointConversationGuards } from '../inbox/conversation-merge';
import { pinScope } from '../pins/pins.service';
import type { CallerContext } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import { conflict, DomainError, forbidden, invalid, limitExceeded, lostRace, notFound } from '../shared/errors';
import { writeTransaction } from '../store/transaction';
import { distinctTags, maxTagsPerContact, tagKey } from '../tags/tag-names';
import {
  channelScope,
  tokensOf,
  toContact,
  type ChannelItem,
  type ContactItem,
  type MergedFromItem,
} from './contact-record';
import { contactIndexOps, type ContactOp } from './contact-index-ops';
import type { MergeContactsInput } from './contact-merge.schemas';
import { maxChannelsPerContact } from './channels';
import type { Contact } from './contacts.schemas';
import { assertCanWrite } from './contacts.service';
import type { ContactQualificationItem, ContactScoreItem } from './scoring.service';

/** DynamoDB's limit on the items of one transaction. */
const maxTransactionItems = 100;

/** Users whose pins are re-pointed at the same time. */
const pinConcurrency = 8;

/** Rounds of re-asking for the items a batch read or write left unprocessed. */
const maxBatchRounds = 5;

type Op = ContactOp;

/**
 * A kind of record that hangs off a contact and passes to the target before a source is archived.
 * Each step is idempotent (a record already passed is passed again to the same place, or skipped),
 * so a request repeated after a crash runs it again safely; steps run before the sources' final
 * transactions, and only for the sources not merged yet.
 */
interface MergeStep {
  name: string;
  run(deps: CoreDeps, caller: CallerContext, sources: ContactItem[], target: ContactItem): Promise<void>;
}

/**
 * Score history: every item is copied into the target's partition under the same id (ULIDs, so
 * the target's history stays in time order and a repeated copy overwrites itself), marked with the
 * contact it was given to. The source keeps its own history.
 */
const copyScoreHistory: MergeStep = {
  name: 'score history',
  async run(deps, caller, sources, target) {
    for (const source of sources) {
      const { data } = await deps.db.entities.contactScore.query
        .byContact({ workspaceId: caller.workspaceId, contactId: source.contactId })
        .go({ pages: 'all', consistent: true });
      const copies = (data as ContactScoreItem[]).map((item) => ({
        ...item,
        contactId: target.contactId,
        mergedFrom: item.mergedFrom ?? source.contactId,
      }));
      await putAll(copies, (items) => deps.db.entities.contactScore.put(items).go());
    }
  },
};

/** Qualification history: copied like the scores. */
const copyQualificationHistory: MergeStep = {
  name: 'qualification history',
  async run(deps, caller, sources, target) {
    for (const source of sources) {
      const { data } = await deps.db.entities.contactQualification.query
        .byContact({ workspaceId: caller.workspaceId, contactId: source.contactId })
        .go({ pages: 'all', consistent: true });
      const copies = (data as ContactQualificationItem[]).map((item) => ({
        ...item,
        contactId: target.contactId,
        mergedFrom: item.mergedFrom ?? source.contactId,
      }));
      await putAll(copies, (items) => deps.db.entities.contactQualification.put(items).go());
    }
  },
};

/**
 * Pins: a user's pin of a source now pins the target, in the same slot; when that user already pins
 * the target, the source's pin is cleared. Pins are private per user and keyed by user, so they are
 * found through the users: one Query for the workspace's users, then BatchGetItem (100 keys a
 * request) of the guards `pin:<userId>` / <sourceId>, and of `pin:<userId>` / <targetId> for the
 * users found pinning a source. Each change is its own small transaction, conditioned like a pin
 * change (pins.service.ts).
 */
const repointPins: MergeStep = {
  name: 'pins',
  async run(deps, caller, sources, target) {
    const { workspaceId } = caller;
    const { data: users } = await deps.db.entities.user.query.byId({ workspaceId }).go({ pages: 'all' });
    const guardKeys = (userIds: string[], contactIds: string[]) =>
      userIds.flatMap((userId) =>
        contactIds.map((value) => ({ workspaceId, scope: pinScope(userId), value })),
      );
    const slots = await readPinSlots(
      deps,
      guardKeys(
        users.map((user) => user.userId),
        sources.map((source) => source.contactId),
      ),
    );
    const pinning = users.filter((user) =>
      sources.some((source) => slots.has(`${pinScope(user.userId)}|${source.contactId}`)),
    );
    if (pinning.length === 0) return;
    const targetSlots = await readPinSlots(
      deps,
      guardKeys(
        pinning.map((user) => user.userId),
        [target.contactId],
      ),
    );
    for (const [key, slot] of targetSlots) slots.set(key, slot);
    const now = deps.clock.nowIso();
    const work = pinning.map((user) => async () => {
      const scope = pinScope(user.userId);
      let targetPinned = slots.has(`${scope}|${target.contactId}`);
      for (const source of sources) {
        const slotValue = slots.get(`${scope}|${source.contactId}`);
        if (slotValue === undefined) continue;
        const key = { workspaceId, userId: user.userId, slot: Number(slotValue) };
        const sourceGuard = { workspaceId, scope, value: source.contactId };
        const keepTarget = targetPinned;
        await writeTransaction(
          deps.db,
          (tx) => [
            keepTarget
              ? tx.contactPin
                  .delete(key)
                  .where((attr, { eq }) => eq(attr.contactId, source.contactId))
                  .commit()
              : tx.contactPin
                  .patch(key)
                  .set({ contactId: target.contactId, updatedAt: now })
                  .where((attr, { eq }) => eq(attr.contactId, source.contactId))
                  .commit(),
            tx.uniqueGuard
              .delete(sourceGuard)
              .where((attr, { eq }) => eq(attr.ownerId, slotValue))
              .commit(),
            ...(keepTarget
              ? []
              : [
                  tx.uniqueGuard
                    .create({
                      workspaceId,
                      scope,
                      value: target.contactId,
                      ownerId: slotValue,
                      createdAt: now,
                    })
                    .commit(),
                ]),
          ],
          // The user's pins changed meanwhile: the merge runs again from its reads (its steps are idempotent).
          () => lostRace('A user’s pins'),
        );
        targetPinned = true;
      }
    });
    for (let index = 0; index < work.length; index += pinConcurrency) {
      await Promise.all(work.slice(index, index + pinConcurrency).map((run) => run()));
    }
  },
};

/**
 * Notes and tasks anchored to a source move to the target (bounded per request: a 409 asks to repeat
 * the request when more are left; see anchored-records.ts).
 */
const moveNotesAndTasks: MergeStep = {
  name: 'notes and tasks',
  run: (deps, caller, sources, target) =>
    moveAnchoredRecords(
      deps,
      caller,
      sources.map((source) => ({ kind: 'contact', id: source.contactId })),
      { kind: 'contact', id: target.contactId },
    ),
};

/**
 * Conversations of a source move to the target with their messages' authors (bounded per request: a
 * 202 asks to repeat the request when more are left; see conversation-merge.ts); then the target's
 * latest conversation per channel is chosen among the target's and the sources'.
 */
const moveConversations: MergeStep = {
  name: 'conversations',
  async run(deps, caller, sources, target) {
    const sourceIds = sources.map((source) => source.contactId);
    await moveContactConversations(deps, caller, sourceIds, target.contactId);
    await repointConversationGuards(deps, caller.workspaceId, sourceIds, target.contactId);
  },
};

/**
 * After the sources are archived: a conversation opened for a source while this request ran (an inbound
 * message from its address before its channels passed to the target) follows the others. Once the
 * channel guards name the target, no ingest writes for a source any more (it checks the guard it read).
 */
async function sweepConversations(deps: CoreDeps, caller: CallerContext, sourceIds: string[], targetId: string) {
  if ((await moveContactConversations(deps, caller, sourceIds, targetId)) > 0) {
    await repointConversationGuards(deps, caller.workspaceId, sourceIds, targetId);
  }
}

/**
 * The steps, run in order for all pending sources before their final transactions (re-anchoring their
 * records on the target, idempotently, in bounded batches), as `company-merge.service.ts` does for contacts.
 */
const mergeSteps: MergeStep[] = [
  copyScoreHistory,
  copyQualificationHistory,
  repointPins,
  moveNotesAndTasks,
  repointContactDeals,
  moveConversations,
];

/** Text fields the target takes from a source when it has none. */
const fillableFields = ['jobTitle', 'role', 'segment', 'city', 'state', 'country'] as const;

/** One source's final transaction, worked out before anything is written. */
interface SourcePlan {
  source: ContactItem;
  sourceAfter: ContactItem;
  targetBefore: ContactItem;
  targetAfter: ContactItem;
  moved: ChannelItem[];
  tagsAdded: string[];
  events: EventRecord[];
}

/**
 * Seed 001 Contact.merge(): merges up to ten contacts (the same person entered twice) into a target.
 * Per source: its channels pass to the target (their uniqueness guards re-pointed, so inbound
 * messages and look-ups find the target), tags are unioned, fields the target lacks are filled, its
 * score and qualification histories are copied, pins of it pin the target, its notes, tasks, deals and
 * conversations (with their messages' authors) move to the target; then the source is
 * archived with `mergedInto`, in ONE transaction with the target's update. The target keeps
 * `mergedFrom`, a record of what each source brought, and its event list includes the sources' events.
 *
 * Everything is checked before anything is written: ids of the workspace (404), rights on the target
 * and every source (403), an active target and sources not merged elsewhere (409), the tag and
 * channel caps and the transaction size (422). A source already merged into this target is skipped,
 * so a request repeated after a crash finishes the merge, and repeated after success changes nothing.
 */
export async function mergeContacts(
  deps: CoreDeps,
  caller: CallerContext,
  targetId: string,
  input: MergeContactsInput,
): Promise<Contact> {
  const sourceIds = input.sourceContactIds;
  const self = sourceIds.indexOf(targetId);
  if (self >= 0) throw invalid(`body.sourceContactIds.${self}`, 'A contact cannot be merged into itself');

  const found = await readContacts(deps, caller.workspaceId, [targetId, ...sourceIds]);
  const target = found.get(targetId);
  if (!target) throw notFound('Contact');
  const missing = sourceIds.flatMap((id, index) => (found.has(id) ? [] : [{ id, index }]));
  if (missing.length > 0) {
    throw new DomainError(
      'invalid_reference',
      `No contact ${missing.map(({ id }) => id).join(', ')} in this workspace: nothing was merged`,
      {
        fields: missing.map(({ id, index }) => ({
          field: `body.sourceContactIds.${index}`,
          message: `No contact ${id} in this workspace`,
          code: 'invalid_reference',
        })),
      },
    );
  }
  const sources = sourceIds.map((id) => found.get(id)!);

  for (const contact of [target, ...sources]) {
    try {
      assertCanWrite(caller, contact);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      throw forbidden(
        `You cannot merge ${contact.contactId}: it is claimed by another user (only they, an owner or an admin can)`,
      );
    }
  }
  if (target.status !== 'active') {
    throw conflict(
      target.mergedInto ? 'record_merged' : 'record_archived',
      target.mergedInto
        ? `This contact was merged into ${target.mergedInto}: merge into that one`
        : 'This contact is archived: unarchive it before merging into it',
      { mergedInto: target.mergedInto ?? null },
    );
  }
  for (const source of sources) {
    if (source.mergedInto && source.mergedInto !== targetId) {
      throw conflict('record_merged', `The contact ${source.contactId} was already merged into ${source.mergedInto}`, {
        contactId: source.contactId,
        mergedInto: source.mergedInto,
      });
    }
  }

  const pending = sources.filter((source) => source.mergedInto !== targetId);
  if (pending.length === 0) {
    // Merged already: a repeat changes nothing (but moves a conversation a source got meanwhile).
    await sweepConversations(deps, caller, sourceIds, targetId);
    return toContact(target);
  }

  const now = deps.clock.nowIso();
  const plans: SourcePlan[] = [];
  let current = target;
  for (const source of pending) {
    const plan = planSource(deps, caller, current, source, sourceIds.indexOf(source.contactId), now);
    plans.push(plan);
    current = plan.targetAfter;
  }
  const merged = mergedEvent(deps, caller, targetId, plans);
  const transactions = plans.map((plan, index) => opsOf(plan, index === plans.length - 1 ? [merged] : []));
  transactions.forEach((ops, index) => {
    if (ops.length > maxTransactionItems) {
      throw new DomainError(
        'unprocessable',
        `Merging ${plans[index]!.source.contactId} would write ${ops.length} items at once, more than the ${maxTransactionItems} one transaction allows: remove some of its or this contact’s tags or channels first`,
        { contactId: plans[index]!.source.contactId },
      );
    }
  });

  for (const step of mergeSteps) await step.run(deps, caller, pending, target);

  let done = 0;
  try {
    for (const [index, plan] of plans.entries()) {
      await writeTransaction(deps.db, (tx) => transactions[index]!.map((op) => op(tx)), explainFailure(plan));
      done += 1;
    }
  } catch (error) {
    // The sources merged so far are recorded on the target (mergedFrom, their own contact.archived):
    // their contact.merged is appended on its own; a repeated request merges the rest.
    if (done > 0) {
      const partial = mergedEvent(deps, caller, targetId, plans.slice(0, done));
      await deps.db.entities.event
        .create(storedEvent(partial))
        .go()
        .catch(() => undefined);
    }
    throw error;
  }
  await sweepConversations(deps, caller, sourceIds, targetId);
  return toContact(plans[plans.length - 1]!.targetAfter);
}

/** The target and the sources, by one consistent BatchGetItem. */
async function readContacts(deps: CoreDeps, workspaceId: string, contactIds: string[]) {
  const found = new Map<string, ContactItem>();
  let keys = [...new Set(contactIds)].map((contactId) => ({ workspaceId, contactId }));
  for (let round = 0; keys.length > 0; round += 1) {
    if (round === maxBatchRounds) throw new Error(`BatchGetItem left ${keys.length} contacts unprocessed`);
    const { data, unprocessed } = await deps.db.entities.contact.get(keys).go({ consistent: true });
    for (const item of data as ContactItem[]) found.set(item.contactId, item);
    keys = unprocessed as typeof keys;
  }
  return found;
}

/** The slots held by pin guards, by `<scope>|<contactId>`: consistent BatchGetItem, 100 keys a request. */
async function readPinSlots(deps: CoreDeps, keys: { workspaceId: string; scope: string; value: string }[]) {
  const slots = new Map<string, string>();
  let pending = keys;
  for (let round = 0; pending.length > 0; round += 1) {
    if (round === maxBatchRounds)
      throw new Error(`BatchGetItem left ${pending.length} pin guards unprocessed`);
    const { data, unprocessed } = await deps.db.entities.uniqueGuard.get(pending).go({ consistent: true });
    for (const guard of data) slots.set(`${guard.scope}|${guard.value}`, guard.ownerId);
    pending = unprocessed as typeof keys;
  }
  return slots;
}

/** Puts items by BatchWriteItem (25 a request), putting again what the table left unprocessed. */
async function putAll<T>(items: T[], put: (items: T[]) => Promise<{ unprocessed: unknown[] }>) {
  let pending = items;
  for (let round = 0; pending.length > 0; round += 1) {
    if (round === maxBatchRounds) throw new Error(`BatchWriteItem left ${pending.length} items unprocessed`);
    if (round > 0) await new Promise((resolve) => setTimeout(resolve, 50 * round));
    pending = (await put(pending)).unprocessed as T[];
  }
}

const later = <T extends { id: string; at: string }>(a: T | undefined, b: T | undefined) =>
  !a ? b : !b ? a : b.at > a.at || (b.at === a.at && b.id > a.id) ? b : a;

/** The target after taking one source, the source archived into it, and the events of both. */
function planSource(
  deps: CoreDeps,
  caller: CallerContext,
  target: ContactItem,
  source: ContactItem,
  index: number,
  now: string,
): SourcePlan {
  const field = `body.sourceContactIds.${index}`;
  const fields: string[] = [];
  const events: EventRecord[] = [];
  const after: ContactItem = { ...target, customFields: { ...(target.customFields ?? {}) } };

  // Channels: appended; primary only for a kind the target has none of.
  const kinds = new Set(target.channels.map((channel) => channel.kind));
  const moved = source.channels.map((channel) => ({
    ...channel,
    primary: channel.primary && !kinds.has(channel.kind),
  }));
  after.channels = [...target.channels, ...moved];
  if (after.channels.length > maxChannelsPerContact) {
    const message = `A contact has at most ${maxChannelsPerContact} channels: merging ${source.contactId} would give this one ${after.channels.length}. Remove some first`;
    throw limitExceeded(field, message, maxChannelsPerContact);
  }

  // Tags: unioned by key, the target's spelling kept.
  const present = new Set((target.tags ?? []).map(tagKey));
  const tagsAdded = distinctTags(source.tags ?? [])
    .filter((tag) => !present.has(tag.key))
    .map((tag) => tag.name);
  after.tags = [...(target.tags ?? []), ...tagsAdded];
  if (after.tags.length > maxTagsPerContact) {
    const message = `A contact has at most ${maxTagsPerContact} tags: merging ${source.contactId} would give this one ${after.tags.length}. Remove some first`;
    throw limitExceeded(field, message, maxTagsPerContact);
  }

  // Fields the target has none of.
  for (const name of fillableFields) {
    if (!after[name] && source[name]) {
      after[name] = source[name];
      fields.push(name);
    }
  }
  if (!after.companyId && source.companyId) {
    // The company link and its name go together.
    after.companyId = source.companyId;
    fields.push('companyId');
    if (source.companyName && source.companyName !== after.companyName) {
      after.companyName = source.companyName;
      fields.push('companyName');
    }
  } else if (!after.companyName && source.companyName) {
    after.companyName = source.companyName;
    fields.push('companyName');
  }
  for (const [key, value] of Object.entries(source.customFields ?? {})) {
    if (value === null || value === undefined) continue;
    if (after.customFields![key] === undefined || after.customFields![key] === null) {
      after.customFields![key] = value;
      fields.push(`customFields.${key}`);
    }
  }
  if (!after.ownerId && source.ownerId) {
    after.ownerId = source.ownerId;
    fields.push('ownerId');
    events.push(
      newEvent(deps, caller, 'owner.claimed', contactRef(target.contactId), {
        ownerId: source.ownerId,
        previousOwnerId: null,
        assignedBy: source.ownerId === caller.userId ? null : caller.userId,
      }),
    );
  }
  // Someone who asked not to be contacted stays so under any of their records.
  if (source.suppressed && !after.suppressed) {
    after.suppressed = true;
    after.suppressedAt = source.suppressedAt ?? now;
    if (source.suppressedReason) after.suppressedReason = source.suppressedReason;
    fields.push('suppressed');
    events.push(
      newEvent(deps, caller, 'contact.suppressed', contactRef(target.contactId), {
        reason: source.suppressedReason ?? null,
      }),
    );
  }
  // The latest score and qualification of all, by time (their histories are copied by the steps).
  const score = later(after.score, source.score);
  if (score && score !== after.score) {
    after.score = score;
    fields.push('score');
  }
  const qualification = later(after.qualification, source.qualification);
  if (qualification && qualification !== after.qualification) {
    after.qualification = qualification;
    fields.push('qualification');
  }

  const record: MergedFromItem = {
    contactId: source.contactId,
    name: source.name,
    mergedAt: now,
    channels: source.channels.map(({ kind, normalized }) => ({ kind, normalized })),
    tags: source.tags ?? [],
    fields,
    mergedContactIds: (source.mergedFrom ?? []).flatMap((entry) => [
      entry.contactId,
      ...entry.mergedContactIds,
    ]),
  };
  after.mergedFrom = [...(target.mergedFrom ?? []), record];
  after.version = target.version + 1;
  after.updatedAt = now;
  after.searchTokens = tokensOf(after);

  // The source: archived into the target, its channels and tags now the target's (and on its record).
  const sourceAfter: ContactItem = {
    ...source,
    status: 'archived',
    archivedAt: source.archivedAt ?? now,
    mergedInto: target.contactId,
    channels: [],
    tags: [],
    version: source.version + 1,
    updatedAt: now,
  };
  sourceAfter.searchTokens = tokensOf(sourceAfter);
  events.push(
    newEvent(deps, caller, 'contact.archived', contactRef(source.contactId), {
      mergedInto: target.contactId,
    }),
  );
  return { source, sourceAfter, targetBefore: target, targetAfter: after, moved, tagsAdded, events };
}

const contactRef = (contactId: string) => ({ type: 'contact' as const, id: contactId });

function mergedEvent(
  deps: CoreDeps,
  caller: CallerContext,
  targetId: string,
  plans: SourcePlan[],
): EventRecord {
  return newEvent(deps, caller, 'contact.merged', contactRef(targetId), {
    sourceContactIds: plans.map((plan) => plan.source.contactId),
    channels: plans.flatMap((plan) =>
      plan.moved.map(({ kind, normalized }) => ({ kind, normalized, from: plan.source.contactId })),
    ),
    tagsAdded: plans.flatMap((plan) => plan.tagsAdded),
  });
}

/**
 * One source's transaction: both contacts (each conditional on the version read), the re-pointed
 * channel guards (an update, not a delete and a create: one transaction may touch an item once),
 * the list entries and search tokens of both (only what changed), and the events.
 */
function opsOf(plan: SourcePlan, extraEvents: EventRecord[]): Op[] {
  const { source, sourceAfter, targetBefore, targetAfter } = plan;
  const { workspaceId } = targetAfter;
  return [
    (tx) =>
      tx.contact
        .put(targetAfter)
        .where((attr, { eq }) => eq(attr.version, targetBefore.version))
        .commit(),
    (tx) =>
      tx.contact
        .put(sourceAfter)
        .where((attr, { eq }) => eq(attr.version, source.version))
        .commit(),
    ...plan.moved.map<Op>(
      (channel) => (tx) =>
        tx.uniqueGuard
          .patch({ workspaceId, scope: channelScope(channel.kind), value: channel.normalized })
          .set({ ownerId: targetAfter.contactId })
          .where((attr, { eq }) => eq(attr.ownerId, source.contactId))
          .commit(),
    ),
    ...contactIndexOps(targetBefore, targetAfter),
    ...contactIndexOps(source, sourceAfter),
    ...[...plan.events, ...extraEvents].map<Op>((event) => (tx) => appendEvent(tx, event)),
  ];
}

/**
 * Every condition of a source's transaction is on what the merge read (the two versions, the guards
 * the source held): a failed one means a concurrent change, and the merge runs again from its reads.
 */
function explainFailure(plan: SourcePlan) {
  return (failed: number[]) => {
    const index = failed[0]!;
    if (index === 0) return lostRace(`The contact ${plan.targetAfter.contactId}`);
    return lostRace(`The contact ${plan.source.contactId}`);
  };
}
