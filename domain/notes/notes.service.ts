import { appendEvent, newEvent } from '../../events/event-log';
import {
  anchorSubjects,
  resolveAnchor,
  subjectsOf,
  type AnchorKind,
  type AnchorRef,
  type MoveProgress,
} from '../anchors/anchors';
import { isManager, type CallerContext } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import { conflict, forbidden, LostRace, lostRace, notFound, stale } from '../shared/errors';
import { loadMarkdownRenderer } from '../shared/markdown-on-first-use';
import type { Page, PageQuery } from '../shared/pagination';
import { decodeListCursor, electroCursor, encodeListCursor } from '../store/index-cursor';
import { prefixEnd } from '../store/key-range';
import { writeTransaction } from '../store/transaction';
import type { CreateNoteInput, ListNotesQuery, Note, NoteRevision, UpdateNoteInput } from './notes.schemas';

/** The note item as stored. */
export interface NoteItem {
  workspaceId: string;
  noteId: string;
  anchorKind: AnchorKind;
  anchorId: string;
  markdown: string;
  authorId: string;
  updatedBy: string;
  revisions: number;
  deletedAt?: string;
  deletedBy?: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

interface NoteRevisionItem {
  workspaceId: string;
  noteId: string;
  revisionId: string;
  version: number;
  markdown: string;
  writtenBy: string;
  writtenAt: string;
  replacedBy: string;
  replacedAt: string;
}

const noteRef = (noteId: string) => ({ type: 'note' as const, id: noteId });
const anchorOf = (item: NoteItem): AnchorRef => ({ kind: item.anchorKind, id: item.anchorId });
const excerptLength = 200;

export const toNote = async (item: NoteItem): Promise<Note> => ({
  id: item.noteId,
  anchor: anchorOf(item),
  markdown: item.markdown,
  html: (await loadMarkdownRenderer())(item.markdown),
  authorId: item.authorId,
  updatedBy: item.updatedBy,
  revisions: item.revisions,
  version: item.version,
  createdAt: item.createdAt,
  updatedAt: item.updatedAt,
});

const toRevision = async (item: NoteRevisionItem): Promise<NoteRevision> => ({
  id: item.revisionId,
  version: item.version,
  markdown: item.markdown,
  html: (await loadMarkdownRenderer())(item.markdown),
  writtenBy: item.writtenBy,
  writtenAt: item.writtenAt,
  replacedBy: item.replacedBy,
  replacedAt: item.replacedAt,
});

/** A live note of the workspace; a deleted one is not found, for everyone. */
async function readNote(
  deps: CoreDeps,
  workspaceId: string,
  noteId: string,
  consistent = false,
): Promise<NoteItem> {
  const { data } = await deps.db.entities.note.get({ workspaceId, noteId }).go({ consistent });
  if (!data || data.deletedAt !== undefined) throw notFound('Note');
  return data as NoteItem;
}

/** Seed 000 rights: a member edits and deletes only the notes they wrote; owner/admin any. */
function assertCanChangeNote(caller: CallerContext, item: NoteItem, action: string): void {
  if (isManager(caller) || item.authorId === caller.userId) return;
  throw forbidden(`Only the note's author, an owner or an admin can ${action} it`);
}

/**
 * Adds a note to a contact, deal or company of the caller's workspace (404 otherwise; a merged record
 * resolves to the one it was merged into). Anyone in the workspace may note any record: notes are
 * internal comments, not a change of the record. Appends `note.added`, about the anchor.
 */
export async function createNote(
  deps: CoreDeps,
  caller: CallerContext,
  input: CreateNoteInput,
): Promise<Note> {
  const anchor = await resolveAnchor(deps, caller, input.anchor);
  const now = deps.clock.nowIso();
  const noteId = deps.newId('note');
  const item: NoteItem = {
    workspaceId: caller.workspaceId,
    noteId,
    anchorKind: anchor.kind,
    anchorId: anchor.id,
    markdown: input.markdown,
    authorId: caller.userId,
    updatedBy: caller.userId,
    revisions: 0,
    version: 1,
    createdAt: now,
    updatedAt: now,
  };
  const event = newEvent(
    deps,
    caller,
    'note.added',
    noteRef(noteId),
    { anchor: { kind: anchor.kind, id: anchor.id }, excerpt: input.markdown.slice(0, excerptLength) },
    anchor.subjects,
  );
  await writeTransaction(
    deps.db,
    (tx) => [tx.note.create(item).commit(), appendEvent(tx, event)],
    () => conflict('already_exists', 'A note with this id already exists'),
  );
  return toNote(item);
}

export async function getNote(deps: CoreDeps, caller: CallerContext, noteId: string): Promise<Note> {
  return toNote(await readNote(deps, caller.workspaceId, noteId));
}

/**
 * The live notes of one anchor, newest first: one GetItem for the anchor (404 when not in the
 * workspace; a merged record lists the notes of the one it was merged into) and one Query.
 */
export async function listNotes(
  deps: CoreDeps,
  caller: CallerContext,
  query: ListNotesQuery,
): Promise<Page<Note>> {
  const { workspaceId } = caller;
  const anchor = await resolveAnchor(
    deps,
    caller,
    { kind: query.anchorKind, id: query.anchorId },
    'query.anchorId',
  );
  const fingerprint = `notes|${anchor.kind}|${anchor.id}`;
  const after = decodeListCursor(query.cursor, fingerprint);
  const gsi1pk = `WS#${workspaceId}#NOTES#${anchor.kind}#${anchor.id}`;
  const result = await deps.db.entities.note.query
    .byAnchor({ workspaceId, anchorKind: anchor.kind, anchorId: anchor.id })
    .go({
      order: 'desc',
      limit: query.limit,
      cursor: after
        ? electroCursor({ pk: `WS#${workspaceId}#NOTE#${after.id}`, sk: 'NOTE', gsi1pk, gsi1sk: after.id })
        : null,
    });
  const items = result.data as NoteItem[];
  const last = items[items.length - 1];
  return {
    items: await Promise.all(items.map(toNote)),
    nextCursor:
      result.cursor && last ? encodeListCursor(fingerprint, { id: last.noteId, sortKey: last.noteId }) : null,
  };
}

/** A note write whose condition failed: the request runs again from its read (412 then, with If-Match). */
const noteChanged = () => lostRace('The note');

/**
 * Edits a note's text (its author, or owner/admin), conditional on the version read (If-Match when
 * given). The text it replaces is kept as a revision item, in the same transaction as the edit and
 * its `note.updated` event. The same text again changes nothing.
 */
export async function updateNote(
  deps: CoreDeps,
  caller: CallerContext,
  noteId: string,
  input: UpdateNoteInput,
  expectedVersion?: number,
): Promise<Note> {
  const before = await readNote(deps, caller.workspaceId, noteId, true);
  if (expectedVersion !== undefined && expectedVersion !== before.version) throw stale();
  assertCanChangeNote(caller, before, 'edit');
  if (input.markdown === before.markdown) return toNote(before);
  const now = deps.clock.nowIso();
  const revision: NoteRevisionItem = {
    workspaceId: caller.workspaceId,
    noteId,
    revisionId: deps.newId('nrev'),
    version: before.version,
    markdown: before.markdown,
    writtenBy: before.updatedBy,
    writtenAt: before.updatedAt,
    replacedBy: caller.userId,
    replacedAt: now,
  };
  const after: NoteItem = {
    ...before,
    markdown: input.markdown,
    updatedBy: caller.userId,
    revisions: before.revisions + 1,
    version: before.version + 1,
    updatedAt: now,
  };
  const event = newEvent(
    deps,
    caller,
    'note.updated',
    noteRef(noteId),
    { anchor: anchorOf(before), revisionId: revision.revisionId, movedFrom: null },
    await anchorSubjects(deps, caller.workspaceId, anchorOf(before)),
  );
  await writeTransaction(
    deps.db,
    (tx) => [
      tx.note
        .put(after)
        .where(
          (attr, { eq, notExists }) => `${eq(attr.version, before.version)} AND ${notExists(attr.deletedAt)}`,
        )
        .commit(),
      tx.noteRevision.create(revision).commit(),
      appendEvent(tx, event),
    ],
    noteChanged,
  );
  return toNote(after);
}

/**
 * Soft delete (its author, or owner/admin): the note stays in the table with `deletedAt` and
 * `deletedBy`, its history kept, but it leaves its anchor's list (its index keys are dropped) and
 * every read answers 404. Appends `note.deleted`.
 */
export async function deleteNote(
  deps: CoreDeps,
  caller: CallerContext,
  noteId: string,
  expectedVersion?: number,
): Promise<void> {
  const before = await readNote(deps, caller.workspaceId, noteId, true);
  if (expectedVersion !== undefined && expectedVersion !== before.version) throw stale();
  assertCanChangeNote(caller, before, 'delete');
  const now = deps.clock.nowIso();
  const after: NoteItem = {
    ...before,
    deletedAt: now,
    deletedBy: caller.userId,
    version: before.version + 1,
    updatedAt: now,
  };
  const event = newEvent(
    deps,
    caller,
    'note.deleted',
    noteRef(noteId),
    { anchor: anchorOf(before) },
    await anchorSubjects(deps, caller.workspaceId, anchorOf(before)),
  );
  await writeTransaction(
    deps.db,
    (tx) => [
      tx.note
        .put(after)
        .where(
          (attr, { eq, notExists }) => `${eq(attr.version, before.version)} AND ${notExists(attr.deletedAt)}`,
        )
        .commit(),
      appendEvent(tx, event),
    ],
    noteChanged,
  );
}

/** The earlier texts of a live note, newest first (one GetItem and one Query). */
export async function listNoteHistory(
  deps: CoreDeps,
  caller: CallerContext,
  noteId: string,
  page: PageQuery,
): Promise<Page<NoteRevision>> {
  const { workspaceId } = caller;
  await readNote(deps, workspaceId, noteId);
  const fingerprint = `note-history|${noteId}`;
  const after = decodeListCursor(page.cursor, fingerprint);
  const pk = `WS#${workspaceId}#NOTE#${noteId}`;
  const result = await deps.db.entities.noteRevision.query
    .byNote({ workspaceId, noteId })
    .between({ revisionId: '' }, { revisionId: prefixEnd('') })
    .go({
      order: 'desc',
      limit: page.limit,
      cursor: after ? electroCursor({ pk, sk: `REV#${after.id}` }) : null,
    });
  const items = result.data as NoteRevisionItem[];
  const last = items[items.length - 1];
  return {
    items: await Promise.all(items.map(toRevision)),
    nextCursor:
      result.cursor && last
        ? encodeListCursor(fingerprint, { id: last.revisionId, sortKey: last.revisionId })
        : null,
  };
}

/** Concurrent moves within one merge request. */
const moveConcurrency = 8;

/**
 * A merge step: moves up to `budget` live notes of one anchor to another, each in its own
 * transaction with a `note.updated` (`movedFrom`) conditioned on the version read and on the note
 * still being on the source. Notes already moved are not on the source's list any more, so a
 * repeated request goes on where the last one stopped.
 */
export async function reanchorNotes(
  deps: CoreDeps,
  caller: CallerContext,
  from: AnchorRef,
  to: AnchorRef,
  budget: number,
): Promise<MoveProgress> {
  const { workspaceId } = caller;
  const { data } = await deps.db.entities.note.query
    .byAnchor({ workspaceId, anchorKind: from.kind, anchorId: from.id })
    .go({ limit: Math.max(budget, 0) + 1 });
  const found = data as NoteItem[];
  const batch = found.slice(0, Math.max(budget, 0));
  let moved = 0;
  let left = 0;
  const moveOne = async (listed: NoteItem) => {
    // The index may lag the table: on a failed condition the note is read again, once.
    let note: NoteItem | undefined = listed;
    for (let attempt = 0; attempt < 2 && note; attempt += 1) {
      if (note.deletedAt !== undefined || note.anchorKind !== from.kind || note.anchorId !== from.id) return;
      const before: NoteItem = note;
      const after: NoteItem = {
        ...before,
        anchorKind: to.kind,
        anchorId: to.id,
        version: before.version + 1,
      };
      const event = newEvent(
        deps,
        caller,
        'note.updated',
        noteRef(before.noteId),
        { anchor: to, revisionId: null, movedFrom: from },
        subjectsOf(to),
      );
      try {
        await writeTransaction(
          deps.db,
          (tx) => [
            tx.note
              .put(after)
              .where(
                (attr, { eq, notExists }) =>
                  `${eq(attr.version, before.version)} AND ${eq(attr.anchorId, from.id)} AND ${notExists(attr.deletedAt)}`,
              )
              .commit(),
            appendEvent(tx, event),
          ],
          () => lostRace('The note'),
        );
        moved += 1;
        return;
      } catch (error) {
        if (!(error instanceof LostRace)) throw error;
        const { data: fresh } = await deps.db.entities.note
          .get({ workspaceId, noteId: before.noteId })
          .go({ consistent: true });
        note = (fresh as NoteItem | null) ?? undefined;
      }
    }
    if (note && note.anchorId === from.id && note.deletedAt === undefined) left += 1;
  };
  for (let index = 0; index < batch.length; index += moveConcurrency) {
    await Promise.all(batch.slice(index, index + moveConcurrency).map(moveOne));
  }
  return { processed: batch.length, moved, done: found.length <= batch.length && left === 0 };
}
