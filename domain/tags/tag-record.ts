/** The tag item as stored and the writes that create one (shared by the library and by contacts tagging). */
import { appendEvent, newEvent, type EventRecord } from '../../events/event-log';
import { requireManager, systemActor, type CallerContext } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import { conflict, DomainError, notFound } from '../shared/errors';
import { writeTransaction } from '../store/transaction';
import { distinctTags, isReservedTag, isSystemTag, tagDisplay, tagKey, userBotTags } from './tag-names';
import type { Tag } from './tags.schemas';
import { tagPathRef } from './tag-path-ref';

/** Where a rename or delete stopped: the last list entry it dealt with. */
export interface Position {
  status: 'active' | 'archived';
  sortKey: string;
}

/** A rename or delete under way, saved on the tag item being renamed or deleted. */
export interface PendingOperation {
  kind: 'rename' | 'delete';
  /** rename: the new key (the same key for a change of spelling only) and name. */
  toKey?: string;
  toName?: string;
  position?: Position | null;
  startedAt: string;
  startedBy: string;
}

/** The tag item as stored. */
export interface TagItem {
  workspaceId: string;
  key: string;
  name: string;
  color?: string;
  description?: string;
  system: boolean;
  usageCount: number;
  previousKeys?: string[];
  pending?: PendingOperation;
  createdBy: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export function toTag(item: TagItem): Tag {
  const pending = item.pending;
  return {
    key: item.key,
    ref: tagPathRef(item.key),
    name: item.name,
    color: item.color ?? null,
    description: item.description ?? null,
    system: item.system,
    usageCount: item.usageCount ?? 0,
    status: pending ? (pending.kind === 'delete' ? 'deleting' : 'renaming') : 'active',
    renamingTo: pending?.kind === 'rename' ? (pending.toKey ?? null) : null,
    createdBy: item.createdBy,
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
    version: item.version,
  };
}

export const tagRef = (key: string) => ({ type: 'tag' as const, id: key });

export async function findTag(deps: CoreDeps, workspaceId: string, key: string, consistent = false) {
  const { data } = await deps.db.entities.tag.get({ workspaceId, key }).go({ consistent });
  return (data ?? undefined) as TagItem | undefined;
}

export async function readTag(deps: CoreDeps, workspaceId: string, key: string): Promise<TagItem> {
  const item = await findTag(deps, workspaceId, key, true);
  if (!item) throw notFound('Tag');
  return item;
}

/** `bot:` tags are the autoreply bot's controls: only an owner/admin creates, renames or deletes them. */
export function assertMayTouch(caller: CallerContext, ...names: string[]) {
  if (names.some(isSystemTag)) requireManager(caller, 'create, rename or delete `bot:` system tags');
}

/**
 * People may set only `bot:on` and `bot:off` of the `bot:` tags: any other is the system's (422
 * `reserved_tag` on `field`), whatever the caller's role.
 */
export function assertNotReserved(caller: CallerContext, names: readonly string[], field: string) {
  if (caller.userId === systemActor(caller.workspaceId).userId) return;
  const reserved = names.find(isReservedTag);
  if (reserved === undefined) return;
  const message = `"${tagDisplay(reserved)}" is reserved for the system: of the \`bot:\` tags, people set only ${userBotTags.map((tag) => `\`${tag}\``).join(' and ')}`;
  throw new DomainError('unprocessable', message, { reason: 'reserved_tag', fields: [{ field, message, code: 'reserved_tag' }] });
}

export function newTagItem(
  deps: CoreDeps,
  caller: CallerContext,
  name: string,
  extra: Partial<Pick<TagItem, 'color' | 'description' | 'previousKeys'>> = {},
): TagItem {
  const now = deps.clock.nowIso();
  const key = tagKey(name);
  const item: TagItem = {
    workspaceId: caller.workspaceId,
    key,
    name: tagDisplay(name),
    system: isSystemTag(key),
    usageCount: 0,
    createdBy: caller.userId,
    version: 1,
    createdAt: now,
    updatedAt: now,
  };
  for (const field of ['color', 'description', 'previousKeys'] as const) {
    const value = extra[field];
    if (value !== undefined && value !== '' && !(Array.isArray(value) && value.length === 0)) {
      Object.assign(item, { [field]: value });
    }
  }
  return item;
}

export const createdEvent = (deps: CoreDeps, caller: CallerContext, item: TagItem, firstUse: boolean) =>
  newEvent(deps, caller, 'tag.created', tagRef(item.key), {
    key: item.key,
    name: item.name,
    system: item.system,
    color: item.color ?? null,
    description: item.description ?? null,
    firstUse,
  });

export class TagExists extends Error {}

/** Puts a new tag item (only if its key is free) with its `tag.created` event, in one transaction. */
export async function insertTag(deps: CoreDeps, item: TagItem, event: EventRecord): Promise<void> {
  await writeTransaction(
    deps.db,
    (tx) => [tx.tag.create(item).commit(), appendEvent(tx, event)],
    () => new TagExists(),
  );
}

/** A request naming a tag that is being deleted is a 409 before anything is written (`ensureTags` checks again). */
export async function assertNoneDeleting(deps: CoreDeps, workspaceId: string, names: readonly string[]): Promise<void> {
  const wanted = distinctTags(names);
  if (wanted.length === 0) return;
  const { data } = await deps.db.entities.tag.get(wanted.map(({ key }) => ({ workspaceId, key }))).go();
  const deleting = (data as TagItem[]).find((item) => item.pending?.kind === 'delete');
  if (deleting) throw tagDeleting(deleting);
}

const tagDeleting = (item: TagItem) =>
  conflict('tag_deleting', `The tag "${item.name}" is being deleted: it cannot be added now`, { key: item.key });

/**
 * Free-form tags are created on first use: called before a contact's tags are written, it puts every
 * tag whose key the library lacks (attribute_not_exists, with `tag.created` `firstUse`), so the library
 * lists it at once; an entry left by a request that then failed has usage 0 and is harmless. A tag
 * being renamed resolves to its new name; one being deleted is a 409. Returns the tags to write, each
 * in the caller's spelling (a contact keeps the spelling first used) unless redirected by a rename.
 */
export async function ensureTags(
  deps: CoreDeps,
  caller: CallerContext,
  names: readonly string[],
): Promise<{ name: string; key: string }[]> {
  const wanted = distinctTags(names);
  if (wanted.length === 0) return [];
  const { workspaceId } = caller;
  const { data } = await deps.db.entities.tag.get(wanted.map(({ key }) => ({ workspaceId, key }))).go();
  const found = new Map((data as TagItem[]).map((item) => [item.key, item]));
  const resolved: { name: string; key: string }[] = [];
  for (const tag of wanted) {
    let item = found.get(tag.key);
    if (!item) {
      const created = newTagItem(deps, caller, tag.name);
      try {
        await insertTag(deps, created, createdEvent(deps, caller, created, true));
        item = created;
      } catch (error) {
        if (!(error instanceof TagExists)) throw error;
        item = await findTag(deps, workspaceId, tag.key, true); // created meanwhile by another request
      }
    }
    if (item?.pending?.kind === 'delete') throw tagDeleting(item);
    if (item?.pending?.kind === 'rename' && item.pending.toKey && item.pending.toKey !== item.key) {
      resolved.push({ name: item.pending.toName!, key: item.pending.toKey });
    } else {
      resolved.push(tag);
    }
  }
  // Two names may resolve to one tag (a tag and the one it is being renamed to): keep the first.
  const byKey = new Map<string, { name: string; key: string }>();
  for (const tag of resolved) if (!byKey.has(tag.key)) byKey.set(tag.key, tag);
  return [...byKey.values()];
}

