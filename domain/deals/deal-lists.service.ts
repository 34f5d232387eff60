import { createHash } from 'node:crypto';
import type { CallerContext } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import { DomainError, invalidCursor, type FieldIssue } from '../shared/errors';
import type { Page } from '../shared/pagination';
import { decodeListCursor, electroCursor, encodeListCursor } from '../store/index-cursor';
import { closeKeyOf, dealLists, type DealListEntry } from './deal-record';
import type { Deal, DealSort, ListDealsQuery } from './deals.schemas';

/**
 * Reads for one page when filters narrow the entries of the list that serves it: a page not full after
 * this many reads comes back short, with a cursor to go on. So a page costs at most this many Queries
 * (of at most `max(limit * 2, 50)` entries each), whatever the size of the workspace.
 */
const maxReads = 3;

interface Filter {
  /** The list holding exactly the deals that pass this filter. */
  list: string;
  /** The same filter on a deal read from another list (entries carry the deal). */
  matches: (deal: Deal) => boolean;
}

/**
 * The filters of a query, narrowest list first: a contact's or a company's deals are few; a stage is a
 * slice of one pipeline; an owner's deals are one user's share, while most workspaces run one pipeline,
 * whose list is nearly every deal; a status is one of three.
 */
function filtersOf(query: ListDealsQuery): Filter[] {
  const filters: Filter[] = [];
  const { contactId, companyId, pipelineId, stageId, ownerId, status } = query;
  if (contactId !== undefined)
    filters.push({ list: dealLists.contact(contactId), matches: (deal) => deal.contactId === contactId });
  if (companyId !== undefined)
    filters.push({ list: dealLists.company(companyId), matches: (deal) => deal.companyId === companyId });
  if (pipelineId !== undefined && stageId !== undefined) {
    filters.push({
      list: dealLists.stage(pipelineId, stageId),
      matches: (deal) => deal.pipelineId === pipelineId && deal.stageId === stageId,
    });
  }
  if (ownerId !== undefined) {
    const owner = ownerId === 'none' ? null : ownerId;
    filters.push({ list: dealLists.owner(owner ?? undefined), matches: (deal) => deal.ownerId === owner });
  }
  if (pipelineId !== undefined && stageId === undefined) {
    filters.push({ list: dealLists.pipeline(pipelineId), matches: (deal) => deal.pipelineId === pipelineId });
  }
  if (status !== undefined)
    filters.push({ list: dealLists.status(status), matches: (deal) => deal.statusKey === status });
  return filters;
}

function validate(query: ListDealsQuery, ranged: boolean, sort: DealSort) {
  const issues: FieldIssue[] = [];
  if (query.stageId !== undefined && query.pipelineId === undefined) {
    issues.push({ field: 'query.stageId', message: 'Give the stage’s pipelineId with it' });
  }
  if (ranged && sort !== 'closeDate') {
    issues.push({
      field: 'query.sort',
      message: 'A close-date range lists by close date: use sort=closeDate',
    });
  }
  if (query.closeFrom && query.closeTo && query.closeFrom > query.closeTo) {
    issues.push({ field: 'query.closeTo', message: 'On or after closeFrom' });
  }
  if (issues.length) throw new DomainError('validation_failed', 'The request is invalid', { fields: issues });
}

/** The sort's index: the partition key suffix, its sort-key field and an entry's key in it. */
const sortIndexes = {
  value: { suffix: 'value', field: 'sk', keyOf: (entry: DealListEntry) => tableSortKey(entry) },
  closeDate: {
    suffix: 'close',
    field: 'gsi1sk',
    keyOf: (entry: DealListEntry) => `${entry.closeKey}#${entry.dealId}`,
  },
  updated: {
    suffix: 'updated',
    field: 'gsi2sk',
    keyOf: (entry: DealListEntry) => `${entry.updatedKey}#${entry.dealId}`,
  },
} as const;
const tableSortKey = (entry: DealListEntry) => `${entry.valueKey}#${entry.dealId}`;

/**
 * Lists deals: all, or those of any combination of pipeline (and stage), status, owner (`none`:
 * unclaimed), contact and company; by value, expected close date (optionally a range of it) or last
 * update. The narrowest filter's list (a dealListEntry partition per list and sort) serves the page by
 * its key; the other filters narrow the entries read, which carry the deal, so no other read is needed.
 * One filter (or none) is one Query per page; with more, at most `maxReads` Queries, and a page may
 * come back short with a cursor. Ids of another workspace simply name an empty list.
 */
export async function listDeals(
  deps: CoreDeps,
  caller: CallerContext,
  query: ListDealsQuery,
): Promise<Page<Deal>> {
  const { workspaceId } = caller;
  const ranged = query.closeFrom !== undefined || query.closeTo !== undefined;
  const sort: DealSort = query.sort ?? (ranged ? 'closeDate' : 'updated');
  validate(query, ranged, sort);
  const order = query.order ?? (sort === 'closeDate' ? 'asc' : 'desc');
  const [served, ...narrowing] = filtersOf(query);
  const list = served?.list ?? dealLists.all();
  const index = sortIndexes[sort];
  // Deals without a close date sort first (`0`); a range is on dated ones (`1<date>`).
  const closeRange = ranged
    ? {
        from: query.closeFrom ? closeKeyOf(query.closeFrom) : '1',
        to: `${query.closeTo ? closeKeyOf(query.closeTo) : '1'}~`,
      }
    : undefined;

  const fingerprint = createHash('sha256')
    .update(
      JSON.stringify([
        'deals',
        workspaceId,
        list,
        narrowing.map((filter) => filter.list).sort(),
        sort,
        order,
        query.closeFrom,
        query.closeTo,
      ]),
    )
    .digest('base64url')
    .slice(0, 22);
  const after = decodeListCursor(query.cursor, fingerprint);
  // DynamoDB refuses a start key that is empty, too long or outside the range queried: a 400, not a 500.
  const keyFits = (value: string) => value.length > 0 && Buffer.byteLength(value) <= 1024;
  if (
    after &&
    (!keyFits(after.id) ||
      !keyFits(after.sortKey) ||
      (closeRange && (after.sortKey < closeRange.from || after.sortKey > closeRange.to)))
  ) {
    throw invalidCursor();
  }

  const key = { workspaceId, list };
  const entries = deps.db.entities.dealListEntry.query;
  const partition =
    sort === 'value'
      ? entries.byValue(key)
      : sort === 'updated'
        ? entries.byUpdated(key)
        : closeRange
          ? entries.byClose(key).between({ closeKey: closeRange.from }, { closeKey: closeRange.to })
          : entries.byClose(key);
  const pk = `WS#${workspaceId}#DL#${list}#value`;
  // The position is the last entry taken: its table sort key (`id`) and its key in the sort's index.
  const startAfter = (position: { id: string; sortKey: string }) =>
    electroCursor(
      sort === 'value'
        ? { pk, sk: position.id }
        : {
            pk,
            sk: position.id,
            [`${index.field.slice(0, 4)}pk`]: `WS#${workspaceId}#DL#${list}#${index.suffix}`,
            [index.field]: position.sortKey,
          },
    );
  const matches = (deal: Deal) => narrowing.every((filter) => filter.matches(deal));
  // One more than the page tells whether another follows; a narrowed page reads ahead more.
  const readSize = narrowing.length ? Math.max(query.limit * 2, 50) : query.limit + 1;

  const items: Deal[] = [];
  let position = after;
  let more = false;
  for (let reads = 0; reads < maxReads && items.length < query.limit; reads += 1) {
    const result = await partition.go({
      order,
      limit: readSize,
      cursor: position ? startAfter(position) : null,
    });
    more = Boolean(result.cursor);
    for (const entry of result.data as DealListEntry[]) {
      if (items.length === query.limit) {
        more = true; // an entry is left over
        break;
      }
      position = { id: tableSortKey(entry), sortKey: index.keyOf(entry) };
      if (matches(entry.deal)) items.push(entry.deal);
    }
    if (!more) break;
  }
  return { items, nextCursor: more && position ? encodeListCursor(fingerprint, position) : null };
}
