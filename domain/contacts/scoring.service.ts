import { newEvent } from '../../events/event-log';
import type { CallerContext } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import { checkCursor, type Page, type PageQuery } from '../shared/pagination';
import type { CurrentQualificationItem } from './contact-record';
import { changeContact, readContact } from './contacts.service';
import type {
  AddScoreInput,
  ContactQualification,
  ContactScore,
  QualificationView,
  SetQualificationInput,
} from './scoring.schemas';
import type { Contact } from './contacts.schemas';

export interface ContactScoreItem {
  workspaceId: string;
  contactId: string;
  scoreId: string;
  value: number;
  source: string;
  userId: string;
  createdAt: string;
  /** On a copy made by a merge: the contact it was given to. */
  mergedFrom?: string;
}

export interface ContactQualificationItem {
  workspaceId: string;
  contactId: string;
  qualificationId: string;
  kind: string;
  score?: number;
  source: 'manual' | 'ai';
  /** A classifier's confidence (0 to 1) and the evidence it gave. */
  confidence?: number;
  reasons?: string[];
  userId: string;
  createdAt: string;
  /** On a copy made by a merge: the contact it was given to. */
  mergedFrom?: string;
}

const toScore = (item: ContactScoreItem): ContactScore => ({
  id: item.scoreId,
  contactId: item.contactId,
  value: item.value,
  source: item.source,
  userId: item.userId,
  createdAt: item.createdAt,
  ...(item.mergedFrom ? { mergedFrom: item.mergedFrom } : {}),
});

const toQualification = (item: ContactQualificationItem): ContactQualification => ({
  id: item.qualificationId,
  contactId: item.contactId,
  kind: item.kind,
  score: item.score ?? null,
  source: item.source,
  confidence: item.confidence ?? null,
  reasons: item.reasons ?? [],
  userId: item.userId,
  createdAt: item.createdAt,
  ...(item.mergedFrom ? { mergedFrom: item.mergedFrom } : {}),
});

const contactRef = (contactId: string) => ({ type: 'contact' as const, id: contactId });

/**
 * Seed 001 Contact.setScore(): records a 1–5 score (history item) and makes it the contact's current
 * `score`, with the `profile.scored` event, in one transaction on the contact's version. Writing
 * follows the contact's write rules (owner/admin any; a member their own or unclaimed ones).
 */
export async function addContactScore(
  deps: CoreDeps,
  caller: CallerContext,
  contactId: string,
  input: AddScoreInput,
): Promise<{ score: ContactScore; contact: Contact }> {
  const at = deps.clock.nowIso();
  const item: ContactScoreItem = {
    workspaceId: caller.workspaceId,
    contactId,
    scoreId: deps.newId('scr'),
    value: input.value,
    source: input.source,
    userId: caller.userId,
    createdAt: at,
  };
  const contact = await changeContact(
    deps,
    caller,
    contactId,
    (before) => ({
      after: { ...before, score: { id: item.scoreId, value: item.value, source: item.source, userId: item.userId, at } },
      events: [
        newEvent(deps, caller, 'profile.scored', contactRef(contactId), {
          scoreId: item.scoreId,
          value: item.value,
          source: item.source,
          previous: before.score ? { value: before.score.value, source: before.score.source } : null,
        }),
      ],
    }),
    { extraOps: [(tx) => tx.contactScore.create(item).commit()] },
  );
  return { score: toScore(item), contact };
}

/**
 * A contact's scores, newest first: one Query. A contact with none is read once more, so a contact
 * that does not exist (or is another workspace's) is a 404 rather than an empty list.
 */
export async function listContactScores(
  deps: CoreDeps,
  caller: CallerContext,
  contactId: string,
  page: PageQuery,
): Promise<Page<ContactScore>> {
  const result = await deps.db.entities.contactScore.query
    .byContact({ workspaceId: caller.workspaceId, contactId })
    .go({ order: 'desc', limit: page.limit, cursor: checkCursor(caller.workspaceId, page.cursor) ?? null });
  if (result.data.length === 0 && !page.cursor) await readContact(deps, caller.workspaceId, contactId);
  return { items: (result.data as ContactScoreItem[]).map(toScore), nextCursor: result.cursor ?? null };
}

const sameQualification = (current: CurrentQualificationItem, input: SetQualificationInput, userId: string) =>
  current.kind === input.kind &&
  (current.score ?? null) === (input.score ?? null) &&
  current.source === input.source &&
  (current.confidence ?? null) === (input.confidence ?? null) &&
  current.userId === userId;

/** How an AI write yields to a user: a manual qualification written at or after `since` is kept. */
export interface QualificationWriteOptions {
  keepManualSince?: string;
}

/** A manual qualification a user wrote at or after `since`: an AI answer asked for before it must not replace it. */
export const isNewerManual = (current: { source: string; at: string } | undefined | null, since: string | undefined) =>
  since !== undefined && current?.source === 'manual' && current.at >= since;

/**
 * Seed 001 Contact.setQualification(): the new qualification becomes the latest (history item + the
 * contact's current `qualification` + `qualification.set`, one transaction). The last write wins
 * whatever its source: a user's manual set overrides the classifier's latest `ai` value, and the AI
 * classifier (the Qualifier port, run as the system) writes with source `ai`. Repeating the same
 * qualification by the same user changes nothing. With `keepManualSince` (the classifier's writes), a
 * manual qualification written since then is kept (`applied: false`): checked on the version written.
 */
export async function setContactQualification(
  deps: CoreDeps,
  caller: CallerContext,
  contactId: string,
  input: SetQualificationInput,
  options: QualificationWriteOptions = {},
): Promise<{ qualification: ContactQualification; contact: Contact; applied: boolean }> {
  const at = deps.clock.nowIso();
  const item: ContactQualificationItem = {
    workspaceId: caller.workspaceId,
    contactId,
    qualificationId: deps.newId('qual'),
    kind: input.kind,
    ...(input.score !== undefined ? { score: input.score } : {}),
    source: input.source,
    ...(input.confidence !== undefined ? { confidence: input.confidence } : {}),
    ...(input.reasons?.length ? { reasons: input.reasons } : {}),
    userId: caller.userId,
    createdAt: at,
  };
  let unchanged: CurrentQualificationItem | undefined;
  let applied = true;
  const contact = await changeContact(
    deps,
    caller,
    contactId,
    (before) => {
      const previous = before.qualification;
      if (previous && sameQualification(previous, input, caller.userId)) {
        unchanged = previous;
        return undefined;
      }
      if (isNewerManual(previous, options.keepManualSince)) {
        unchanged = previous;
        applied = false;
        return undefined;
      }
      const { workspaceId: _ws, contactId: _id, qualificationId: id, createdAt: _at, reasons: _reasons, ...current } = item;
      return {
        after: { ...before, qualification: { id, ...current, at } },
        events: [
          newEvent(deps, caller, 'qualification.set', contactRef(contactId), {
            qualificationId: item.qualificationId,
            kind: item.kind,
            score: item.score ?? null,
            source: item.source,
            ...(item.confidence !== undefined ? { confidence: item.confidence } : {}),
            previous: previous ? { kind: previous.kind, score: previous.score ?? null, source: previous.source } : null,
          }),
        ],
      };
    },
    { extraOps: [(tx) => tx.contactQualification.create(item).commit()] },
  );
  return { qualification: unchanged ? fromCurrent(contactId, unchanged) : toQualification(item), contact, applied };
}

const fromCurrent = (contactId: string, current: CurrentQualificationItem): ContactQualification => ({
  id: current.id,
  contactId,
  kind: current.kind,
  score: current.score ?? null,
  source: current.source,
  confidence: current.confidence ?? null,
  // The contact carries only the latest's summary: its reasons are on its history item.
  reasons: [],
  userId: current.userId,
  createdAt: current.at,
});

/**
 * Seed 001 Contact.getQualification(): the latest qualification and a page of the history, newest
 * first. The first page is one Query (its first item is the latest); a later page also reads the
 * contact for `current`.
 */
export async function getContactQualification(
  deps: CoreDeps,
  caller: CallerContext,
  contactId: string,
  page: PageQuery,
): Promise<QualificationView> {
  const cursor = checkCursor(caller.workspaceId, page.cursor);
  const [result, contact] = await Promise.all([
    deps.db.entities.contactQualification.query
      .byContact({ workspaceId: caller.workspaceId, contactId })
      .go({ order: 'desc', limit: page.limit, cursor: cursor ?? null }),
    cursor ? readContact(deps, caller.workspaceId, contactId) : undefined,
  ]);
  const history = (result.data as ContactQualificationItem[]).map(toQualification);
  if (!cursor && history.length === 0) await readContact(deps, caller.workspaceId, contactId);
  const current = contact
    ? contact.qualification
      ? fromCurrent(contactId, contact.qualification)
      : null
    : (history[0] ?? null);
  return { current, history, nextCursor: result.cursor ?? null };
}
