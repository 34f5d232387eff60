import { z } from 'zod';
import type { CallerContext } from '../shared/context';
import { prefixEnd } from '../store/key-range';
import type { CoreDeps } from '../shared/deps';
import { DomainError, invalid } from '../shared/errors';
import type { Page } from '../shared/pagination';
import { tagKey } from '../tags/tag-names';
import {
  companyList,
  contactListShards,
  ownerList,
  sortPrefix,
  statusList,
  tagList,
  toSummary,
  type ContactItem,
} from './contact-record';
import type { ContactSummary, ListContactsQuery, SearchContactsQuery } from './contacts.schemas';
import { normaliseSearchQuery, searchPartition } from './search-tokens';

/**
 * Reads per shard for one page. A filter that no key serves (e.g. `suppressed`, or a date range
 * under another sort) is applied to the entries read; when the page is not full after this many
 * reads, it is returned short with a cursor to go on. So a page costs at most
 * `contactListShards × maxReadsPerShard` queries, whatever the size of the workspace.
 */
const maxReadsPerShard = 3;
/** Searches read at most this many token pages (plus one BatchGetItem each) per result page. */
const maxSearchRounds = 3;

const cursorSchema = z.object({
  v: z.literal(1),
  /** Fingerprint of the query the cursor belongs to. */
  f: z.string(),
  /** Per shard: the sort key last returned, null when the shard is exhausted, '' when not started. */
  s: z.array(z.string().nullable()),
});

const invalidCursor = () =>
  new DomainError('validation_failed', 'The request is invalid', {
    fields: [{ field: 'query.cursor', message: 'Invalid cursor: pass back the nextCursor of the same query' }],
  });

function decodeCursor(cursor: string | undefined, fingerprint: string, shards: number): (string | null)[] {
  if (!cursor) return Array.from({ length: shards }, () => '');
  let parsed: z.infer<typeof cursorSchema>;
  try {
    parsed = cursorSchema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw invalidCursor();
  }
  if (parsed.f !== fingerprint || parsed.s.length !== shards) throw invalidCursor();
  return parsed.s;
}

const encodeCursor = (fingerprint: string, positions: (string | null)[]) =>
  Buffer.from(JSON.stringify({ v: 1, f: fingerprint, s: positions })).toString('base64url');

/** ElectroDB's cursor is the base64url JSON of the key to start after. */
const startAfter = (pk: string, sk: string) => Buffer.from(JSON.stringify({ pk, sk })).toString('base64url');

const isoOrUndefined = (value: string | undefined) => (value ? new Date(value).toISOString() : undefined);

interface Entry {
  sortKey: string;
  summary: ContactSummary;
}

/**
 * Lists contacts (seed 001 Contact.list()): by name, created or updated; active or archived; all, one
 * owner's or the unclaimed pool (`ownerId=none`), each served by its own key. Other filters narrow
 * what those keys return, within a bounded number of reads.
 */
export async function listContacts(
  deps: CoreDeps,
  caller: CallerContext,
  query: ListContactsQuery,
): Promise<Page<ContactSummary>> {
  const status = query.archived ? 'archived' : 'active';
  if (query.tag !== undefined) {
    // A tag list holds name-sorted entries only (one entry per tag keeps a tag change cheap); serving
    // another sort by filtering the whole status list would read without bound for a rare tag.
    if (query.sort !== 'name') throw invalid('query.sort', 'Tag lists are sorted by name: leave out sort, or use sort=name, with tag');
    if (query.companyId) throw invalid('query.companyId', 'Filter by tag or by company, not both at once');
  }
  // A company's or a tag's list is the narrower key; an owner asked for with it filters the entries' summaries.
  const ownerFilter =
    (query.companyId || query.tag !== undefined) && query.ownerId ? (query.ownerId === 'none' ? null : query.ownerId) : undefined;
  const list =
    query.tag !== undefined
      ? tagList(tagKey(query.tag), status)
      : query.companyId
        ? companyList(query.companyId, status)
        : query.ownerId
          ? ownerList(query.ownerId === 'none' ? undefined : query.ownerId, status)
          : statusList(status);
  const order = query.order ?? (query.sort === 'name' ? 'asc' : 'desc');
  const prefix = sortPrefix[query.sort];
  const created = { from: isoOrUndefined(query.createdFrom), to: isoOrUndefined(query.createdTo) };
  const updated = { from: isoOrUndefined(query.updatedFrom), to: isoOrUndefined(query.updatedTo) };
  const keyRange: { from?: string; to?: string } =
    query.sort === 'created' ? created : query.sort === 'updated' ? updated : {};
  const ownerPart = ownerFilter === undefined ? [] : [ownerFilter];
  const fingerprint = JSON.stringify([list, query.sort, order, query.suppressed ?? null, created, updated, ...ownerPart]);
  const positions = decodeCursor(query.cursor, fingerprint, contactListShards);

  const matches = (summary: ContactSummary) =>
    (query.suppressed === undefined || summary.suppressed === query.suppressed) &&
    (ownerFilter === undefined || summary.ownerId === ownerFilter) &&
    (query.sort === 'created' || inRange(summary.createdAt, created)) &&
    (query.sort === 'updated' || inRange(summary.updatedAt, updated));

  const narrowed =
    query.suppressed !== undefined ||
    ownerFilter !== undefined ||
    (query.sort !== 'created' && Boolean(created.from || created.to)) ||
    (query.sort !== 'updated' && Boolean(updated.from || updated.to));
  // Contacts spread evenly over the shards, so a first read of a fair share and a margin almost
  // always fills the page (a shard that runs dry is read again); a page narrowed by a filter reads
  // full pages from the start.
  const firstRead = narrowed ? Math.max(query.limit, 25) : Math.ceil(query.limit / contactListShards) + 5;
  const laterRead = Math.max(query.limit, 25);
  const shards = positions.map((position, shard) => ({
    shard,
    position,
    buffer: [] as Entry[],
    next: position === null ? null : position === '' ? undefined : startAfter(`WS#${caller.workspaceId}#CL#${list}#${shard}`, position),
    exhausted: position === null,
    reads: 0,
  }));

  const refill = async (state: (typeof shards)[number]) => {
    state.reads += 1;
    const keys = { workspaceId: caller.workspaceId, list, shard: state.shard };
    const base = deps.db.entities.contactListEntry.query.byList(keys);
    const ranged =
      keyRange.from || keyRange.to
        ? base.between({ sortKey: `${prefix}${keyRange.from ?? ''}` }, { sortKey: `${prefix}${keyRange.to ?? ''}\uffff` })
        : base.between({ sortKey: prefix }, { sortKey: prefixEnd(prefix) });
    const limit = state.reads === 1 ? firstRead : laterRead;
    const result = await ranged.go({ order, limit, cursor: state.next ?? null });
    state.buffer.push(...(result.data as Entry[]));
    state.next = result.cursor ?? undefined;
    if (!result.cursor) state.exhausted = true;
  };

  const items: ContactSummary[] = [];
  const before = (a: string, b: string) => (order === 'asc' ? a < b : a > b);
  let capped = false;
  for (;;) {
    const empty = shards.filter((state) => state.buffer.length === 0 && !state.exhausted);
    if (empty.some((state) => state.reads >= maxReadsPerShard)) {
      capped = true;
      break;
    }
    await Promise.all(empty.map(refill));
    let head: (typeof shards)[number] | undefined;
    for (const state of shards) {
      const candidate = state.buffer[0];
      if (candidate && (!head || before(candidate.sortKey, head.buffer[0]!.sortKey))) head = state;
    }
    if (!head) break; // every shard exhausted
    const entry = head.buffer.shift()!;
    head.position = entry.sortKey;
    if (matches(entry.summary)) items.push(entry.summary);
    if (items.length >= query.limit) break;
  }
  const more = capped || shards.some((state) => state.buffer.length > 0 || !state.exhausted);
  const nextPositions = shards.map((state) =>
    state.exhausted && state.buffer.length === 0 ? null : state.position,
  );
  return { items, nextCursor: more ? encodeCursor(fingerprint, nextPositions) : null };
}

function inRange(value: string, range: { from?: string; to?: string }) {
  return (!range.from || value >= range.from) && (!range.to || value <= range.to);
}

/**
 * Finds contacts by a prefix of their name, email, phone number or company, case- and
 * accent-insensitive (seed 000 contact book search): one token query and one BatchGetItem per round.
 */
export async function searchContacts(
  deps: CoreDeps,
  caller: CallerContext,
  query: SearchContactsQuery,
): Promise<Page<ContactSummary>> {
  const { token } = normaliseSearchQuery(query.q);
  const partition = searchPartition(token);
  const status = query.archived ? 'archived' : 'active';
  const fingerprint = JSON.stringify(['search', token, status, query.ownerId ?? null, query.suppressed ?? null]);
  const [position] = decodeCursor(query.cursor, fingerprint, 1);
  if (position === null) return { items: [], nextCursor: null };

  const pk = `WS#${caller.workspaceId}#ST#${partition}`;
  const items: ContactSummary[] = [];
  const seen = new Set<string>();
  let next = position ? startAfter(pk, position) : undefined;
  let last = position ?? '';
  let exhausted = false;
  for (let round = 0; round < maxSearchRounds && items.length < query.limit && !exhausted; round += 1) {
    const page = await deps.db.entities.contactSearchToken.query
      .byToken({ workspaceId: caller.workspaceId, partition })
      .between({ token }, { token: prefixEnd(token) })
      .go({ limit: query.limit + 10, cursor: next ?? null });
    exhausted = !page.cursor;
    next = page.cursor ?? undefined;
    const ids = [...new Set(page.data.map((hit) => hit.contactId))].filter((id) => !seen.has(id));
    const found = ids.length
      ? await deps.db.entities.contact
          .get(ids.map((contactId) => ({ workspaceId: caller.workspaceId, contactId })))
          .go()
      : { data: [] };
    const byId = new Map((found.data as ContactItem[]).map((item) => [item.contactId, item]));
    for (const hit of page.data) {
      last = `${hit.token}#${hit.contactId}`;
      const item = byId.get(hit.contactId);
      if (!item || seen.has(item.contactId)) continue;
      seen.add(item.contactId);
      const matches =
        item.status === status &&
        (query.ownerId === undefined || (item.ownerId ?? 'none') === query.ownerId) &&
        (query.suppressed === undefined || item.suppressed === query.suppressed);
      if (matches) items.push(toSummary(item));
      if (items.length >= query.limit) {
        exhausted = exhausted && hit === page.data[page.data.length - 1];
        break;
      }
    }
  }
  return { items, nextCursor: exhausted ? null : encodeCursor(fingerprint, [last]) };
}
