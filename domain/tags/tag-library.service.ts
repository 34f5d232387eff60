import { appendEvent, newEvent, type EventRecord } from '../../events/event-log';
import { removeTags } from '../contacts/contact-tags.service';
import { tagList } from '../contacts/contact-record';
import { changeContact } from '../contacts/contacts.service';
import { requireManager, type CallerContext } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import { conflict, DomainError, isConflict, lostRace, notFound, stale } from '../shared/errors';
import { retryLostRaces } from '../shared/retry';
import { checkCursor, type Page } from '../shared/pagination';
import { prefixEnd } from '../store/key-range';
import { writeTransaction } from '../store/transaction';
import {
  assertMayTouch,
  assertNotReserved,
  createdEvent,
  findTag,
  insertTag,
  newTagItem,
  readTag,
  tagRef,
  TagExists,
  toTag,
  type PendingOperation,
  type Position,
  type TagItem,
} from './tag-record';
import { tagDisplay, tagKey } from './tag-names';
import type { CreateTagInput, ListTagsQuery, Tag, TagProgress, UpdateTagInput } from './tags.schemas';

/**
 * How much one rename or delete request does: at most `contactsPerRequest` tagged contacts, so a
 * request stays well inside an API Gateway timeout whatever the tag's size; the client repeats the
 * request until it is done. Tests lower it.
 */
export const tagLibrarySettings = { contactsPerRequest: 100, concurrency: 8 };

// ---------------------------------------------------------------------------------------------
// Reading

/** The library by key, with usage counts: one Query per page; `q` is a key range. */
export async function listTags(deps: CoreDeps, caller: CallerContext, query: ListTagsQuery): Promise<Page<Tag>> {
  const partition = deps.db.entities.tag.query.byKey({ workspaceId: caller.workspaceId });
  const prefix = query.q === undefined ? undefined : tagKey(query.q);
  const ranged = prefix === undefined ? partition : partition.between({ key: prefix }, { key: prefixEnd(prefix) });
  const page = await ranged.go({ limit: query.limit, cursor: checkCursor(caller.workspaceId, query.cursor) ?? null });
  return { items: (page.data as TagItem[]).map(toTag), nextCursor: page.cursor ?? null };
}

/** One tag, addressed by its key or any spelling of its name. */
export async function getTag(deps: CoreDeps, caller: CallerContext, keyOrName: string): Promise<Tag> {
  const item = await findTag(deps, caller.workspaceId, tagKey(keyOrName));
  if (!item) throw notFound('Tag');
  return toTag(item);
}

// ---------------------------------------------------------------------------------------------
// Creating

/**
 * Adds a tag to the library with a colour and description. Members may (using a tag creates it
 * anyway); `bot:` tags are owner/admin only. A key already in the library is a 409.
 */
export async function createTag(deps: CoreDeps, caller: CallerContext, input: CreateTagInput): Promise<Tag> {
  assertMayTouch(caller, input.name);
  assertNotReserved(caller, [input.name], 'body.name');
  const item = newTagItem(deps, caller, input.name, { color: input.color, description: input.description });
  try {
    await insertTag(deps, item, createdEvent(deps, caller, item, false));
  } catch (error) {
    if (!(error instanceof TagExists)) throw error;
    const existing = await findTag(deps, caller.workspaceId, item.key, true);
    throw conflict('tag_exists', `The library already has this tag${existing ? `: ${existing.name}` : ''}`, {
      key: item.key,
      fields: [{ field: 'body.name', message: `A tag with the key "${item.key}" exists` }],
    });
  }
  return toTag(item);
}

// ---------------------------------------------------------------------------------------------
// Changing, renaming, deleting

type Outcome<T> = { done: true; tag: T } | { done: false; progress: TagProgress };

/**
 * The tag item changed since it was read (another change, or the same rename or delete continued by
 * a concurrent request): the request runs again from its read, and goes on from where that one got.
 */
const tagChanged = () => lostRace('The tag');

/**
 * Changes a tag (owner/admin): colour and description at once; a new name makes every tagged contact
 * follow, a bounded number per request (`done: false` with progress until the last request). A new
 * name with the same key (a change of case or spacing) rewrites the library item and the contacts'
 * spelling; a new key moves every contact's tag to a new library item (created at once, so the library
 * shows it and new uses land on it), then removes the old one. Renaming onto another existing tag is a
 * 409: a merge of two tags cannot be undone, so it is not done by accident. Safe to repeat, and to
 * resume after a failure: the rename under way is saved on the old item. If-Match is checked when a
 * change starts, not on the requests that continue it.
 */
export async function updateTag(
  deps: CoreDeps,
  caller: CallerContext,
  keyOrName: string,
  input: UpdateTagInput,
  expectedVersion?: number,
): Promise<Outcome<Tag>> {
  requireManager(caller, 'change, rename or delete tags in the library');
  const key = tagKey(keyOrName);
  const newName = input.name === undefined ? undefined : tagDisplay(input.name);
  let item = await findTag(deps, caller.workspaceId, key, true);
  if (!item) {
    // A repeat of a finished rename: the old key is gone and the new tag remembers it.
    if (newName !== undefined) {
      const renamed = await findTag(deps, caller.workspaceId, tagKey(newName), true);
      if (renamed?.previousKeys?.includes(key)) return { done: true, tag: toTag(renamed) };
    }
    throw notFound('Tag');
  }
  if (item.pending?.kind === 'delete') {
    throw conflict('tag_deleting', 'This tag is being deleted: repeat the DELETE to finish it');
  }
  if (item.pending?.kind === 'rename') {
    if (newName === undefined || tagKey(newName) !== item.pending.toKey || (input.color ?? input.description) !== undefined) {
      throw conflict(
        'tag_renaming',
        `A rename to "${item.pending.toName}" is under way: repeat that request (with only the name) to finish it`,
        { renamingTo: item.pending.toKey ?? null },
      );
    }
    return continueRename(deps, caller, item);
  }
  if (expectedVersion !== undefined && expectedVersion !== item.version) throw stale();
  if (newName !== undefined && newName !== item.name) {
    assertMayTouch(caller, item.name, newName);
    assertNotReserved(caller, [newName], 'body.name');
  }

  const now = deps.clock.nowIso();
  const changes: Record<string, { from: unknown; to: unknown }> = {};
  const after: TagItem = { ...item, version: item.version + 1, updatedAt: now };
  for (const field of ['color', 'description'] as const) {
    const value = input[field];
    if (value === undefined) continue;
    const next = value === null || value === '' ? undefined : value;
    if (next === item[field]) continue;
    changes[field] = { from: item[field] ?? null, to: next ?? null };
    if (next === undefined) delete after[field];
    else after[field] = next;
  }
  const renaming = newName !== undefined && newName !== item.name;
  if (!renaming && Object.keys(changes).length === 0) return { done: true, tag: toTag(item) };

  const events: EventRecord[] = [];
  if (Object.keys(changes).length > 0) {
    events.push(newEvent(deps, caller, 'tag.updated', tagRef(item.key), { key: item.key, changes }));
  }
  if (!renaming) {
    await writeTransaction(
      deps.db,
      (tx) => [putIfVersion(tx, after, item!.version), ...events.map((event) => appendEvent(tx, event))],
      tagChanged,
    );
    return { done: true, tag: toTag(after) };
  }

  const toKey = tagKey(newName);
  const pending: PendingOperation = { kind: 'rename', toKey, toName: newName, position: null, startedAt: now, startedBy: caller.userId };
  const renamedEvent = newEvent(deps, caller, 'tag.renamed', tagRef(toKey), {
    fromKey: item.key,
    fromName: item.name,
    toKey,
    toName: newName,
  });
  if (toKey === item.key) {
    // Same key: the library item takes the new spelling now; the walk rewrites the contacts'.
    const renamedItem: TagItem = { ...after, name: newName, pending };
    await writeTransaction(
      deps.db,
      (tx) => [putIfVersion(tx, renamedItem, item!.version), ...[...events, renamedEvent].map((event) => appendEvent(tx, event))],
      tagChanged,
    );
    item = renamedItem;
  } else {
    const target = newTagItem(deps, caller, newName, {
      color: after.color,
      description: after.description,
      previousKeys: [...(item.previousKeys ?? []), item.key],
    });
    const marked: TagItem = { ...after, pending };
    await writeTransaction(
      deps.db,
      (tx) => [
        tx.tag.create(target).commit(),
        putIfVersion(tx, marked, item!.version),
        ...[...events, renamedEvent].map((event) => appendEvent(tx, event)),
      ],
      (failed) =>
        failed.includes(0)
          ? conflict('tag_exists', `Another tag already has this name (key "${toKey}"): rename or delete it first`, {
              key: toKey,
              fields: [{ field: 'body.name', message: `The tag "${toKey}" exists` }],
            })
          : tagChanged(),
    );
    item = marked;
  }
  return continueRename(deps, caller, item);
}

/** The fields a library change writes: never `usageCount`, which only the stream's ADDs change. */
const changeableFields = ['name', 'color', 'description', 'pending', 'version', 'updatedAt'] as const;

/**
 * The transaction item that writes a tag's changeable fields as `item` has them (absent ones removed),
 * conditional on the version read. A patch, not a put: a put would write back the usage count read
 * earlier and lose the ADDs the stream made meanwhile.
 */
// ElectroDB's transaction entity type is too generic to restate.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const putIfVersion = (tx: any, item: TagItem, version: number): unknown => {
  const set: Record<string, unknown> = {};
  const remove: string[] = [];
  for (const field of changeableFields) {
    if (item[field] === undefined) remove.push(field);
    else set[field] = item[field];
  }
  const patch = tx.tag.patch({ workspaceId: item.workspaceId, key: item.key }).set(set);
  return (remove.length > 0 ? patch.remove(remove) : patch)
    .where((attr: { version: unknown }, { eq }: { eq: (a: unknown, v: number) => string }) => eq(attr.version, version))
    .commit();
};

/** Moves the next part of the tagged contacts to the new name; completes the rename when none is left. */
async function continueRename(deps: CoreDeps, caller: CallerContext, item: TagItem): Promise<Outcome<Tag>> {
  const pending = item.pending!;
  const toKey = pending.toKey!;
  const toName = pending.toName!;
  const moveOne = (contactId: string) =>
    changeContact(deps, caller, contactId, (before) => {
      const tags = before.tags ?? [];
      const index = tags.findIndex((name) => tagKey(name) === item.key);
      if (index < 0 || (toKey === item.key && tags[index] === toName)) return undefined; // done already
      const hasTarget = toKey !== item.key && tags.some((name) => tagKey(name) === toKey);
      const next = hasTarget ? tags.filter((_, at) => at !== index) : tags.map((name, at) => (at === index ? toName : name));
      return {
        after: { ...before, tags: next },
        events: [
          newEvent(deps, caller, 'contact.updated', { type: 'contact', id: contactId }, {
            changes: { tags: { from: tags, to: next } },
          }),
        ],
      };
    }, { evenIfMerged: true });
  const walk = await walkTaggedContacts(deps, caller.workspaceId, item.key, pending.position ?? null, moveOne);
  const finished = walk.reachedEnd && walk.failed === 0 && (toKey === item.key || (await isUnused(deps, caller.workspaceId, item.key)));
  if (finished) {
    if (toKey === item.key) {
      const { pending: _pending, ...rest } = item;
      const done: TagItem = { ...rest, version: item.version + 1, updatedAt: deps.clock.nowIso() };
      await writeTransaction(deps.db, (tx) => [putIfVersion(tx, done, item.version)], tagChanged);
      return { done: true, tag: toTag(done) };
    }
    await writeTransaction(
      deps.db,
      (tx) => [
        tx.tag
          .delete({ workspaceId: item.workspaceId, key: item.key })
          .where((attr, { eq }) => eq(attr.version, item.version))
          .commit(),
      ],
      tagChanged,
    );
    return { done: true, tag: toTag(await readTag(deps, caller.workspaceId, toKey)) };
  }
  const saved = await savePosition(deps, item, walk.nextPosition);
  return { done: false, progress: { status: 'in_progress', operation: 'rename', processed: walk.processed, tag: toTag(saved) } };
}


/**
 * Deletes a tag (owner/admin): every contact carrying it loses it (one `tag.removed` each, actor = the
 * caller), a bounded number per request (`done: false` with progress), then the library item goes with
 * `tag.deleted`. While it runs the tag is `deleting` and cannot be added to contacts. Safe to repeat
 * and to resume; once the tag is gone a repeat is a 404.
 */
export async function deleteTag(deps: CoreDeps, caller: CallerContext, keyOrName: string): Promise<Outcome<null>> {
  requireManager(caller, 'change, rename or delete tags in the library');
  let item = await readTag(deps, caller.workspaceId, tagKey(keyOrName));
  assertMayTouch(caller, item.name);
  if (item.pending?.kind === 'rename') {
    throw conflict('tag_renaming', `A rename to "${item.pending.toName}" is under way: finish it first`, {
      renamingTo: item.pending.toKey ?? null,
    });
  }
  if (!item.pending) {
    const marked: TagItem = {
      ...item,
      pending: { kind: 'delete', position: null, startedAt: deps.clock.nowIso(), startedBy: caller.userId },
      version: item.version + 1,
      updatedAt: deps.clock.nowIso(),
    };
    await writeTransaction(deps.db, (tx) => [putIfVersion(tx, marked, item.version)], tagChanged);
    item = marked;
  }
  const removeOne = (contactId: string) => removeTags(deps, caller, contactId, [item.key], undefined, { evenIfMerged: true });
  const walk = await walkTaggedContacts(deps, caller.workspaceId, item.key, item.pending!.position ?? null, removeOne);
  if (walk.reachedEnd && walk.failed === 0 && (await isUnused(deps, caller.workspaceId, item.key))) {
    const deleted = newEvent(deps, caller, 'tag.deleted', tagRef(item.key), {
      key: item.key,
      name: item.name,
      system: item.system,
    });
    await writeTransaction(
      deps.db,
      (tx) => [
        tx.tag
          .delete({ workspaceId: item.workspaceId, key: item.key })
          .where((attr, { eq }) => eq(attr.version, item.version))
          .commit(),
        appendEvent(tx, deleted),
      ],
      tagChanged,
    );
    return { done: true, tag: null };
  }
  const saved = await savePosition(deps, item, walk.nextPosition);
  return { done: false, progress: { status: 'in_progress', operation: 'delete', processed: walk.processed, tag: toTag(saved) } };
}

/** Saves where the walk stopped on the item, so the next request goes on from there. */
async function savePosition(deps: CoreDeps, item: TagItem, position: Position | null): Promise<TagItem> {
  const saved: TagItem = { ...item, pending: { ...item.pending!, position }, version: item.version + 1 };
  await writeTransaction(deps.db, (tx) => [putIfVersion(tx, saved, item.version)], tagChanged);
  return saved;
}

/** True when no contact, active or archived, carries the tag (strongly consistent reads of its lists). */
async function isUnused(deps: CoreDeps, workspaceId: string, key: string): Promise<boolean> {
  for (const status of ['active', 'archived'] as const) {
    const page = await deps.db.entities.contactListEntry.query
      .byList({ workspaceId, list: tagList(key, status), sort: 'n' })
      .go({ limit: 1, consistent: true });
    if (page.data.length > 0) return false;
  }
  return true;
}

interface Walk {
  /** Contacts dealt with (changed, or found already as asked). */
  processed: number;
  /** Contacts that changed under the walk (or went away): retried by the next request. */
  failed: number;
  /** Both lists were read to their end. */
  reachedEnd: boolean;
  /** Where the next request starts: null from the beginning. */
  nextPosition: Position | null;
}

/**
 * Applies `change` to the next contacts carrying a tag: the entries of `tag:<key>:active` then
 * `:archived` (name sort) after `position`, at most `contactsPerRequest`, `concurrency` at a time.
 * A contact that changed meanwhile is read again and changed on top (bounded); one that keeps changing
 * is left for the next request: the position then stays where it was, so that request sees it again
 * (contacts already done change nothing the second time). When the lists' ends are reached the position goes back to the start, so
 * a contact tagged meanwhile behind it is found by the next pass.
 */
async function walkTaggedContacts(
  deps: CoreDeps,
  workspaceId: string,
  key: string,
  position: Position | null,
  change: (contactId: string) => Promise<unknown>,
): Promise<Walk> {
  const budget = tagLibrarySettings.contactsPerRequest;
  const entries: { status: Position['status']; sortKey: string; contactId: string }[] = [];
  let reachedEnd = false;
  const statuses = (['active', 'archived'] as const).filter(
    (status) => !position || position.status === 'active' || status === 'archived',
  );
  for (const status of statuses) {
    const after = position && position.status === status ? position.sortKey : undefined;
    const list = tagList(key, status);
    const partition = deps.db.entities.contactListEntry.query.byList({ workspaceId, list, sort: 'n' });
    const wanted = budget - entries.length;
    const page = await (after === undefined ? partition : partition.gt({ sortKey: after })).go({
      limit: wanted + 1,
      consistent: true,
    });
    const found = page.data as { sortKey: string; contactId: string }[];
    for (const entry of found.slice(0, wanted)) entries.push({ status, ...entry });
    if (found.length > wanted) break;
    if (status === 'archived') reachedEnd = true;
  }
  let processed = 0;
  let failed = 0;
  const one = async (contactId: string) => {
    try {
      // A contact changed meanwhile is read again and changed on top of that change.
      await retryLostRaces(() => change(contactId));
      processed += 1;
    } catch (error) {
      // Kept changing under us (or gone): left for the next request.
      if (isConflict(error) || (error instanceof DomainError && error.code === 'not_found')) failed += 1;
      else throw error;
    }
  };
  const { concurrency } = tagLibrarySettings;
  for (let index = 0; index < entries.length; index += concurrency) {
    await Promise.all(entries.slice(index, index + concurrency).map((entry) => one(entry.contactId)));
  }
  const last = entries.at(-1);
  const nextPosition = failed > 0 ? position : reachedEnd || !last ? null : { status: last.status, sortKey: last.sortKey };
  return { processed, failed, reachedEnd, nextPosition };
}
