import type { CompanyItem } from '../companies/company-record';
import type { ContactItem } from '../contacts/contact-record';
import type { CallerContext } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import { DomainError, isConflict, WorkInProgress } from '../shared/errors';
import { retryLostRaces } from '../shared/retry';
import { newEvent } from '../../events/event-log';
import { dealLists, type DealListEntry } from './deal-record';
import { changeDeal, dealChanges, dealSubjects } from './deals.service';

/** How many deals one merge request re-points, and how many at a time. Tests lower it. */
export const dealMergeSettings = { dealsPerRequest: 200, concurrency: 8 };

/** Up to `limit` ids of the deals in a list (consistent: a merge must not miss one just written). */
async function dealIdsIn(deps: CoreDeps, workspaceId: string, list: string, limit: number): Promise<string[]> {
  const { data } = await deps.db.entities.dealListEntry.query
    .byValue({ workspaceId, list })
    .go({ limit, consistent: true });
  return (data as DealListEntry[]).map((entry) => entry.dealId);
}

/**
 * Re-points deals from one record to another, each through the ordinary deal change (its own
 * transaction and `deal.updated` event, on the timelines of the old and the new record). A deal
 * already re-pointed is skipped, so a repeated request is safe. At most `budget` deals.
 */
async function repoint(
  deps: CoreDeps,
  caller: CallerContext,
  field: 'contactId' | 'companyId',
  fromId: string,
  toId: string,
  budget: number,
): Promise<{ processed: number; moved: number; done: boolean }> {
  const list = field === 'contactId' ? dealLists.contact(fromId) : dealLists.company(fromId);
  const ids = await dealIdsIn(deps, caller.workspaceId, list, budget + 1);
  const batch = ids.slice(0, budget);
  let moved = 0;
  let failed = 0;
  const moveOne = async (dealId: string) => {
    let changed = false;
    const repointOne = () =>
      changeDeal(
        deps,
        caller,
        dealId,
        async (before) => {
          changed = before[field] === fromId;
          if (!changed) return undefined;
          const after = { ...before, [field]: toId };
          const changes = dealChanges(before, after);
          const ref = { type: 'deal' as const, id: dealId };
          return {
            after,
            events: [
              newEvent(deps, caller, 'deal.updated', ref, { changes }, dealSubjects(after)),
              newEvent(deps, caller, 'deal.updated', ref, { changes }, { dealId, [field]: fromId }),
            ],
          };
        },
        // Part of a merge the caller may make: the deals follow whoever owns them.
        { authorise: () => undefined },
      );
    try {
      // A deal changed meanwhile is read again and re-pointed on top of that change.
      await retryLostRaces(repointOne);
      if (changed) moved += 1;
    } catch (error) {
      // Kept changing under us (or gone): left for the next request.
      if (isConflict(error) || (error instanceof DomainError && error.code === 'not_found')) failed += 1;
      else throw error;
    }
  };
  for (let index = 0; index < batch.length; index += dealMergeSettings.concurrency) {
    await Promise.all(batch.slice(index, index + dealMergeSettings.concurrency).map(moveOne));
  }
  return { processed: batch.length, moved, done: ids.length <= budget && failed === 0 };
}

/**
 * Contact merge step (contact-merge.service.ts): the sources' deals get the target as their contact.
 * Bounded: when a request leaves deals to move, it stops before archiving any source with a 202
 * (WorkInProgress) asking to repeat it; the repeated request goes on where this one stopped.
 */
export const repointContactDeals = {
  name: 'deals',
  async run(deps: CoreDeps, caller: CallerContext, sources: ContactItem[], target: ContactItem): Promise<void> {
    let budget = dealMergeSettings.dealsPerRequest;
    for (const source of sources) {
      const progress = await repoint(deps, caller, 'contactId', source.contactId, target.contactId, budget);
      budget -= progress.processed;
      if (!progress.done) {
        throw new WorkInProgress(
          'The contacts have more deals than one request moves, or one changed meanwhile: repeat the request to go on',
          { dealsMoved: dealMergeSettings.dealsPerRequest - budget },
        );
      }
    }
  },
};

/** Company merge step (company-merge.service.ts): the source's deals move to the target company. */
export const moveCompanyDeals = {
  name: 'deals',
  move: (deps: CoreDeps, caller: CallerContext, source: CompanyItem, target: CompanyItem, budget: number) =>
    repoint(deps, caller, 'companyId', source.companyId, target.companyId, budget),
};
