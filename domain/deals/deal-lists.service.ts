import type { CallerContext } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import { DomainError, type FieldIssue } from '../shared/errors';
import type { Page } from '../shared/pagination';
import { pageCursor } from './deal-cursors';
import { closeKeyOf, dealLists, type DealListEntry } from './deal-record';
import type { Deal, DealSort, ListDealsQuery } from './deals.schemas';

const filterFields = ['pipelineId', 'status', 'ownerId', 'contactId', 'companyId'] as const;

/** The list a query reads: one filter at most (a stage goes with its pipeline), else every deal. */
function listOf(query: ListDealsQuery): string {
  const given = filterFields.filter((field) => query[field] !== undefined);
  const issues: FieldIssue[] = [];
  if (given.length > 1) {
    for (const field of given.slice(1)) {
      issues.push({ field: `query.${field}`, message: `Filter by one of ${filterFields.join(', ')} at a time (${given[0]} is given)` });
    }
  }
  if (query.stageId !== undefined && query.pipelineId === undefined) {
    issues.push({ field: 'query.stageId', message: 'Give the stage’s pipelineId with it' });
  }
  if (issues.length) throw new DomainError('validation_failed', 'The request is invalid', { fields: issues });
  if (query.pipelineId !== undefined) {
    return query.stageId !== undefined ? dealLists.stage(query.pipelineId, query.stageId) : dealLists.pipeline(query.pipelineId);
  }
  if (query.status !== undefined) return dealLists.status(query.status);
  if (query.ownerId !== undefined) return dealLists.owner(query.ownerId === 'none' ? undefined : query.ownerId);
  if (query.contactId !== undefined) return dealLists.contact(query.contactId);
  if (query.companyId !== undefined) return dealLists.company(query.companyId);
  return dealLists.all();
}

/**
 * Lists deals: all, or one pipeline's, stage's, status's, owner's (`none`: unclaimed), contact's or
 * company's; by value, expected close date (optionally a range of it) or last update. Every
 * combination is a key (a dealListEntry partition per list and sort): a page is one Query and needs
 * no other read. Ids of another workspace simply name an empty list.
 */
export async function listDeals(deps: CoreDeps, caller: CallerContext, query: ListDealsQuery): Promise<Page<Deal>> {
  const { workspaceId } = caller;
  const list = listOf(query);
  const ranged = query.closeFrom !== undefined || query.closeTo !== undefined;
  const sort: DealSort = query.sort ?? (ranged ? 'closeDate' : 'updated');
  if (ranged && sort !== 'closeDate') {
    throw new DomainError('validation_failed', 'The request is invalid', {
      fields: [{ field: 'query.sort', message: 'A close-date range lists by close date: use sort=closeDate' }],
    });
  }
  if (query.closeFrom && query.closeTo && query.closeFrom > query.closeTo) {
    throw new DomainError('validation_failed', 'The request is invalid', {
      fields: [{ field: 'query.closeTo', message: 'On or after closeFrom' }],
    });
  }
  const order = query.order ?? (sort === 'closeDate' ? 'asc' : 'desc');
  const entries = deps.db.entities.dealListEntry.query;
  const key = { workspaceId, list };
  let result: { data: unknown[]; cursor: string | null };
  if (sort === 'value') {
    const cursor = pageCursor.decode(query.cursor, { field: 'pk', value: `WS#${workspaceId}#DL#${list}#value` });
    result = await entries.byValue(key).go({ order, limit: query.limit, cursor });
  } else if (sort === 'updated') {
    const cursor = pageCursor.decode(query.cursor, { field: 'gsi2pk', value: `WS#${workspaceId}#DL#${list}#updated` });
    result = await entries.byUpdated(key).go({ order, limit: query.limit, cursor });
  } else {
    const cursor = pageCursor.decode(query.cursor, { field: 'gsi1pk', value: `WS#${workspaceId}#DL#${list}#close` });
    const base = entries.byClose(key);
    // Deals without a close date sort first (`0`); a range is on dated ones (`1<date>`).
    const ranges = ranged
      ? base.between(
          { closeKey: query.closeFrom ? closeKeyOf(query.closeFrom) : '1' },
          { closeKey: `${query.closeTo ? closeKeyOf(query.closeTo) : '1'}~` },
        )
      : base;
    result = await ranges.go({ order, limit: query.limit, cursor });
  }
  return {
    items: (result.data as DealListEntry[]).map((entry) => entry.deal),
    nextCursor: pageCursor.encode(result.cursor),
  };
}
