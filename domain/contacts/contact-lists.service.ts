import * as z from 'zod';
import type { CallerContext } from '../shared/context';
import { prefixEnd } from '../store/key-range';
import type { CoreDeps } from '../shared/deps';
import { invalid, invalidCursor } from '../shared/errors';
import type { Page } from '../shared/pagination';
import { tagKey } from '../tags/tag-names';
import { batchGetAll } from '../store/batch-get';
import { companyList, listSort, ownerList, statusList, storedHit, storedSummary, suppressedList, tagList, toSummary, type ContactItem, type ListSort } from './contact-record';
import type { ContactSearchHit, ContactSummary, ListContactsQuery, SearchContactsQuery } from './contacts.schemas';
import { normaliseSearchQuery, searchPartition } from './search-tokens';

/**
 * Reads for one page. A filter that no key serves (e.g. `suppressed=false`, or a date range under
 * another sort) is applied to the entries read; when the page is not full after this many reads, it
 * is returned short with a cursor to go on. So a page costs at most this many queries, whatever the
 * size of the workspace.
 */
const maxReads = 3;
/** Searches read at most this many token pages per result page. */
const maxSearchRounds = 3;

const cursorSchema = z.object({
  v: z.literal(2),
  /** Fingerprint of the query the cursor belongs to. */
  f: z.string(),
  /** The sort key (or token#contactId) last read. */
  p: z.string(),
});

function decodeCursor(cursor: string | undefined, fingerprint: string): string | undefined {
  if (!cursor) return undefined;
  let parsed: z.infer<typeof cursorSchema>;
  try {
    parsed = cursorSchema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw invalidCursor();
  }
  if (parsed.f !== fingerprint) throw invalidCursor();
  return parsed.p;
}

const encodeCursor = (fingerprint: string, position: string) =>
  Buffer.from(JSON.stringify({ v: 2, f: fingerprint, p: position })).toString('base64url');

/** ElectroDB's cursor is the base64url JSON of the key to start after. */
const startAfter = (pk: string, sk: string) => Buffer.from(JSON.stringify({ pk, sk })).toString('base64url');

const isoOrUndefined = (value: string | undefined) => (value ? new Date(value).toISOString() : undefined);

/** A list entry as read: its sort key (the position a cursor resumes after) and the contact's summary. */
export interface ContactListEntry {
  sortKey: string;
  contactId: string;
  summary: ContactSummary;
}

/** The filters and sort of a contact list: a list query without its paging. */
export type ContactListFilters = Omit<ListContactsQuery, 'limit' | 'cursor'>;

/**
 * How a list query is served: the one list partition that holds its entries (the narrowest key of its
 * filters), the key range a date sort narrows to, and what the entries read must still match.
 * The list pages and the contact export (domain/exports) read through it.
 */
export interface ContactListPlan {
  list: string;
  sort: ListSort;
  order: 'asc' | 'desc';
  keyRange: { from?: string; to?: string };
  /** Whether some entries read may not match (a filter the key does not serve). */
  narrowed: boolean;
  matches(summary: ContactSummary): boolean;
  /** Identifies the list, sort and filters, so a position is only ever resumed in its own plan. */
  fingerprint: string;
  /** A segment's members (its member index by name) rather than a list partition. */
  segmentId?: string;
}

/** The plan of a list query; a 400 for a combination no key serves (a tag with a date sort or a company). */
export function planContactList(query: ContactListFilters): ContactListPlan {
  const status = query.archived ? 'archived' : 'active';
  if (query.segment !== undefined) return planSegmentList(query, status);
  if (query.tag !== undefined) {
    // A tag list holds name-sorted entries only (one entry per tag keeps a tag change cheap); serving
    // another sort by filtering the whole status list would read without bound for a rare tag.
    if (query.sort !== 'name') throw invalid('query.sort', 'Tag lists are sorted by name: leave out sort, or use sort=name, with tag');
    if (query.companyId) throw invalid('query.companyId', 'Filter by tag or by company, not both at once');
  }
  // The narrowest key serves the page: a tag's or a company's list, then the (sparse) suppressed list,
  // then an owner's; an owner or suppression asked for with a narrower key filters its entries.
  const bySuppressedList = query.suppressed === true && query.tag === undefined && !query.companyId;
  const byOwnerList = Boolean(query.ownerId) && query.tag === undefined && !query.companyId && !bySuppressedList;
  const list =
    query.tag !== undefined
      ? tagList(tagKey(query.tag), status)
      : query.companyId
        ? companyList(query.companyId, status)
        : bySuppressedList
          ? suppressedList(status)
          : query.ownerId
            ? ownerList(query.ownerId === 'none' ? undefined : query.ownerId, status)
            : statusList(status);
  const ownerFilter = query.ownerId && !byOwnerList ? (query.ownerId === 'none' ? null : query.ownerId) : undefined;
  const suppressedFilter = bySuppressedList ? undefined : query.suppressed;
  const sort = listSort[query.sort];
  const order = query.order ?? (query.sort === 'name' ? 'asc' : 'desc');
  const created = { from: isoOrUndefined(query.createdFrom), to: isoOrUndefined(query.createdTo) };
  const updated = { from: isoOrUndefined(query.updatedFrom), to: isoOrUndefined(query.updatedTo) };
  const keyRange: { from?: string; to?: string } =
    query.sort === 'created' ? created : query.sort === 'updated' ? updated : {};
  const fingerprint = JSON.stringify([list, sort, order, suppressedFilter ?? null, ownerFilter, created, updated]);
  const matches = (summary: ContactSummary) =>
    (suppressedFilter === undefined || summary.suppressed === suppressedFilter) &&
    (ownerFilter === undefined || summary.ownerId === ownerFilter) &&
    (query.sort === 'created' || inRange(summary.createdAt, created)) &&
    (query.sort === 'updated' || inRange(summary.updatedAt, updated));
  const narrowed =
    suppressedFilter !== undefined ||
    ownerFilter !== undefined ||
    (query.sort !== 'created' && Boolean(created.from || created.to)) ||
    (query.sort !== 'updated' && Boolean(updated.from || updated.to));
  return { list, sort, order, keyRange, narrowed, matches, fingerprint };
}

/**
 * A segment's members as a list (by name only: its member index). Every other filter (status, owner,
 * suppressed, a created range) narrows the members read; an updated range is refused, since member
 * items do not follow `updatedAt`.
 */
function planSegmentList(query: ContactListFilters, status: ContactItem['status']): ContactListPlan {
  if (query.sort !== 'name') throw invalid('query.sort', 'A segment’s contacts are sorted by name: leave out sort, or use sort=name, with segment');
  if (query.tag !== undefined) throw invalid('query.tag', 'Filter by segment or by tag, not both at once');
  if (query.companyId) throw invalid('query.companyId', 'Filter by segment or by company, not both at once');
  if (query.updatedFrom || query.updatedTo) throw invalid('query.updatedFrom', 'A segment’s contacts cannot be filtered by updated time');
  const ownerFilter = query.ownerId ? (query.ownerId === 'none' ? null : query.ownerId) : undefined;
  const created = { from: isoOrUndefined(query.createdFrom), to: isoOrUndefined(query.createdTo) };
  const order = query.order ?? 'asc';
  const matches = (summary: ContactSummary) =>
    summary.status === status &&
    (query.suppressed === undefined || summary.suppressed === query.suppressed) &&
    (ownerFilter === undefined || summary.ownerId === ownerFilter) &&
    inRange(summary.createdAt, created);
  const list = `segment:${query.segment!}`;
  const fingerprint = JSON.stringify([list, 'n', order, status, query.suppressed ?? null, ownerFilter, created]);
  return { list, sort: 'n', order, keyRange: {}, narrowed: true, matches, fingerprint, segmentId: query.segment! };
}

/**
 * One Query of a segment's member index by name after `position` (`<name key>#<contactId>`), then one
 * consistent BatchGetItem of those contacts for their summaries (member items carry no `updatedAt`).
 * Members whose contact is gone (merged meanwhile) are left out.
 */
async function readSegmentEntries(
  deps: CoreDeps,
  workspaceId: string,
  plan: ContactListPlan,
  page: { position: string | undefined; limit: number },
): Promise<{ entries: ContactListEntry[]; more: boolean; lastPosition?: string }> {
  const segmentId = plan.segmentId!;
  const cursor =
    page.position === undefined
      ? null
      : Buffer.from(
          JSON.stringify({
            pk: `WS#${workspaceId}#SEGMENT#${segmentId}`,
            sk: `MEMBER#${page.position.slice(page.position.lastIndexOf('#') + 1)}`,
            gsi2pk: `WS#${workspaceId}#SEGMENT#${segmentId}#N`,
            gsi2sk: page.position,
          }),
        ).toString('base64url');
  const result = await deps.db.entities.segmentMember.query
    .byName({ workspaceId, segmentId })
    .go({ order: plan.order, limit: page.limit, cursor, attributes: ['contactId', 'nameKey'] });
  const members = result.data as { contactId: string; nameKey: string }[];
  const contacts = await batchGetAll(
    members.map(({ contactId }) => ({ workspaceId, contactId })),
    (keys) => deps.db.entities.contact.get(keys).go({ consistent: true }),
  );
  const byId = new Map((contacts as ContactItem[]).map((item) => [item.contactId, item]));
  const entries = members.flatMap(({ contactId, nameKey }) => {
    const item = byId.get(contactId);
    return item && !item.mergedInto ? [{ sortKey: `${nameKey}#${contactId}`, contactId, summary: toSummary(item) }] : [];
  });
  // The position moves past members left out too.
  const last = members.at(-1);
  return { entries, more: Boolean(result.cursor), ...(last ? { lastPosition: `${last.nameKey}#${last.contactId}` } : {}) };
}

/**
 * One Query of a plan's list partition: up to `limit` entries after `position` (a sort key read
 * before), matching or not (filter them with `plan.matches`). `more` says whether entries may follow.
 */
export async function readContactListEntries(
  deps: CoreDeps,
  workspaceId: string,
  plan: ContactListPlan,
  page: { position: string | undefined; limit: number },
): Promise<{ entries: ContactListEntry[]; more: boolean; lastPosition?: string }> {
  if (plan.segmentId) return readSegmentEntries(deps, workspaceId, plan, page);
  const pk = `WS#${workspaceId}#CL#${plan.list}#${plan.sort}`;
  const partition = deps.db.entities.contactListEntry.query.byList({ workspaceId, list: plan.list, sort: plan.sort });
  const result = await withinRange(partition, plan.keyRange).go({
    order: plan.order,
    limit: page.limit,
    cursor: page.position === undefined ? null : startAfter(pk, page.position),
  });
  return { entries: result.data as ContactListEntry[], more: Boolean(result.cursor) };
}

/**
 * Lists contacts (seed 001 Contact.list()): by name, created or updated; active or archived; all, one
 * owner's or the unclaimed pool (`ownerId=none`), a company's, a tag's or the suppressed ones, each
 * served by its own key: a page is one Query. Other filters narrow what that key returns, within a
 * bounded number of reads.
 */
export async function listContacts(
  deps: CoreDeps,
  caller: CallerContext,
  query: ListContactsQuery,
): Promise<Page<ContactSummary>> {
  const plan = planContactList(query);
  let position = decodeCursor(query.cursor, plan.fingerprint);
  // One more than the page tells whether another page follows; a filtered page reads ahead more.
  const readSize = plan.narrowed ? Math.max(query.limit * 2, 50) : query.limit + 1;
  const items: ContactSummary[] = [];
  let more = false;
  for (let reads = 0; reads < maxReads && items.length < query.limit; reads += 1) {
    const result = await readContactListEntries(deps, caller.workspaceId, plan, { position, limit: readSize });
    more = result.more;
    let consumed = true;
    for (const entry of result.entries) {
      if (items.length === query.limit) {
        more = true; // an entry is left over
        consumed = false;
        break;
      }
      position = entry.sortKey;
      if (plan.matches(entry.summary)) items.push(storedSummary(entry.summary));
    }
    // Past what the read left out (a segment's members whose contact is gone).
    if (consumed && result.lastPosition) position = result.lastPosition;
    if (!more) break;
  }
  return { items, nextCursor: more && position !== undefined ? encodeCursor(plan.fingerprint, position) : null };
}

type ListPartition = ReturnType<CoreDeps['db']['entities']['contactListEntry']['query']['byList']>;

/** The entries of a date sort between two times (sort keys are `<ISO time>#<contactId>`). */
function withinRange(partition: ListPartition, range: { from?: string; to?: string }) {
  if (range.from && range.to) return partition.between({ sortKey: range.from }, { sortKey: `${range.to}\uffff` });
  if (range.from) return partition.gte({ sortKey: range.from });
  if (range.to) return partition.lte({ sortKey: `${range.to}\uffff` });
  return partition;
}

function inRange(value: string, range: { from?: string; to?: string }) {
  return (!range.from || value >= range.from) && (!range.to || value <= range.to);
}

/**
 * Finds contacts by a prefix of their name, email, phone number or company, case- and
 * accent-insensitive (seed 000 contact book search): one token Query per page (the tokens carry each
 * contact's search hit); filters that drop most hits read up to `maxSearchRounds` token pages.
 * Hits come in token order. A contact matched by several of its tokens is listed once, at the first of
 * them (each token item names the contact's tokens that come before it in its partition: `earlier`).
 */
export async function searchContacts(
  deps: CoreDeps,
  caller: CallerContext,
  query: SearchContactsQuery,
): Promise<Page<ContactSearchHit>> {
  const { token } = normaliseSearchQuery(query.q);
  const partition = searchPartition(token);
  const status = query.archived ? 'archived' : 'active';
  const fingerprint = JSON.stringify(['search', token, status, query.ownerId ?? null, query.suppressed ?? null]);
  let position = decodeCursor(query.cursor, fingerprint);

  const pk = `WS#${caller.workspaceId}#ST#${partition}`;
  const matches = (hit: ContactSearchHit) =>
    hit.status === status &&
    (query.ownerId === undefined || (hit.ownerId ?? 'none') === query.ownerId) &&
    (query.suppressed === undefined || hit.suppressed === query.suppressed);
  const narrowed = query.archived || query.ownerId !== undefined || query.suppressed !== undefined;
  const readSize = narrowed ? Math.max(query.limit * 2, 50) : query.limit + 10;
  const items: ContactSearchHit[] = [];
  const seen = new Set<string>();
  let more = false;
  for (let round = 0; round < maxSearchRounds && items.length < query.limit; round += 1) {
    const page = await deps.db.entities.contactSearchToken.query
      .byToken({ workspaceId: caller.workspaceId, partition })
      .between({ token }, { token: prefixEnd(token) })
      .go({ limit: readSize, cursor: position === undefined ? null : startAfter(pk, position) });
    more = Boolean(page.cursor);
    for (const found of page.data as { token: string; contactId: string; hit: ContactSearchHit; earlier?: string[] }[]) {
      if (items.length === query.limit) {
        more = true; // a token is left over
        break;
      }
      position = `${found.token}#${found.contactId}`;
      const listedEarlier = found.earlier?.some((other) => other.startsWith(token)) ?? false;
      if (listedEarlier || seen.has(found.contactId) || !matches(found.hit)) continue;
      seen.add(found.contactId);
      items.push(storedHit(found.hit));
    }
    if (!more) break;
  }
  return { items, nextCursor: more && position !== undefined ? encodeCursor(fingerprint, position) : null };
}
