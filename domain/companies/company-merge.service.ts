import { anchoredRecordMovers } from '../anchors/anchored-records';
import { companyList, tokensOf, type ContactItem } from '../contacts/contact-record';
import { changeContact } from '../contacts/contacts.service';
import { requireManager, type CallerContext } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import {
  conflict,
  DomainError,
  invalid,
  isConflict,
  limitExceeded,
  lostRace,
  type FieldIssue,
} from '../shared/errors';
import { retryLostRaces } from '../shared/retry';
import { writeTransaction } from '../store/transaction';
import { appendEvent, newEvent } from '../../events/event-log';
import { moveCompanyDeals } from '../deals/deal-merge-steps';
import type { MergeCompaniesInput, MergeResult } from './companies.schemas';
import { companyDomainScope, maxDomainsPerCompany } from './company-domains';
import { findCompany, readCompany, toCompany, type CompanyItem } from './company-record';
import { companyNameWordOps } from './company-name-words';

/**
 * How much one merge request does. A request moves at most `recordsPerRequest` records (contacts
 * today) so it stays well inside an API Gateway timeout whatever the companies' sizes; the rest is
 * moved by repeating the request. Tests lower it.
 */
export const companyMergeSettings = { recordsPerRequest: 200, concurrency: 8 };

/** What one step did for a source in this request, and whether nothing is left to move. */
interface StepProgress {
  /** Records it looked at (the work counted against the request's budget). */
  processed: number;
  /** Records it moved to the target. */
  moved: number;
  done: boolean;
}

/**
 * A kind of record that points at a company and moves to the target in a merge. Each step is
 * idempotent (records already on the target are skipped) and moves at most `budget` records.
 */
interface MergeStep {
  name: string;
  move(
    deps: CoreDeps,
    caller: CallerContext,
    source: CompanyItem,
    target: CompanyItem,
    budget: number,
  ): Promise<StepProgress>;
}

/**
 * Contacts: each moves through `changeContact`, so its company list entries, search tokens
 * (companyName) and a `contact.updated` event follow in its own transaction.
 */
const moveContacts: MergeStep = {
  name: 'contacts',
  async move(deps, caller, source, target, budget) {
    const ids = await contactIdsOf(deps, caller.workspaceId, source.companyId, budget + 1);
    const batch = ids.slice(0, budget);
    let moved = 0;
    let failed = 0;
    const moveOne = async (contactId: string) => {
      let changed = false;
      const move = (before: ContactItem) => {
        changed = before.companyId === source.companyId;
        if (!changed) return undefined; // moved already (a repeated request)
        const after = { ...before, companyId: target.companyId, companyName: target.name };
        after.searchTokens = tokensOf(after);
        const changes: Record<string, { from: unknown; to: unknown }> = {
          companyId: { from: source.companyId, to: target.companyId },
        };
        if (before.companyName !== target.name)
          changes.companyName = { from: before.companyName ?? null, to: target.name };
        return {
          after,
          events: [
            newEvent(deps, caller, 'contact.updated', { type: 'contact', id: contactId }, { changes }),
          ],
        };
      };
      try {
        // A contact changed meanwhile is read again and moved on top of that change.
        await retryLostRaces(() => changeContact(deps, caller, contactId, move, { evenIfMerged: true }));
        if (changed) moved += 1;
      } catch (error) {
        // Kept changing under us (or gone): left for the next request.
        if (isConflict(error) || (error instanceof DomainError && error.code === 'not_found')) failed += 1;
        else throw error;
      }
    };
    for (let index = 0; index < batch.length; index += companyMergeSettings.concurrency) {
      await Promise.all(batch.slice(index, index + companyMergeSettings.concurrency).map(moveOne));
    }
    return { processed: batch.length, moved, done: ids.length <= budget && failed === 0 };
  },
};

/** Notes, then tasks, anchored to the source move to the target (notes.service.ts, tasks.service.ts). */
const moveAnchored: MergeStep[] = anchoredRecordMovers.map((mover) => ({
  name: mover.name,
  move: (deps, caller, source, target, budget) =>
    mover.move(
      deps,
      caller,
      { kind: 'company', id: source.companyId },
      { kind: 'company', id: target.companyId },
      budget,
    ),
}));

/**
 * The steps of a merge, in order. Deals that refer to a company will add their step here when they
 * exist.
 */
const mergeSteps: MergeStep[] = [moveContacts, ...moveAnchored, moveCompanyDeals];

/** Up to `limit` ids of the contacts linked to a company, archived ones included (strongly consistent reads). */
async function contactIdsOf(
  deps: CoreDeps,
  workspaceId: string,
  companyId: string,
  limit: number,
): Promise<string[]> {
  const ids = new Set<string>();
  for (const status of ['active', 'archived'] as const) {
    if (ids.size >= limit) break;
    const page = await deps.db.entities.contactListEntry.query
      .byList({ workspaceId, list: companyList(companyId, status), sort: 'n' })
      .go({ limit: limit - ids.size, consistent: true });
    for (const entry of page.data) ids.add(entry.contactId);
  }
  return [...ids].slice(0, limit);
}

/**
 * Merges companies into a target (owner/admin): every record of a source moves to the target, then
 * the source is archived with `mergedInto` and its domains (their guards) pass to the target, in one
 * transaction per source with the `company.merged` and `company.archived` events. Work per request
 * is bounded: when records are left, the result is `in_progress` and the same request goes on. A
 * source already merged into the target is swept again and otherwise skipped, so a repeated request
 * changes nothing more.
 */
export async function mergeCompanies(
  deps: CoreDeps,
  caller: CallerContext,
  targetId: string,
  input: MergeCompaniesInput,
): Promise<MergeResult> {
  requireManager(caller, 'merge companies');
  const sourceIds = [...new Set(input.sourceCompanyIds)];
  let target = await readCompany(deps, caller.workspaceId, targetId, true);
  if (target.mergedInto || target.status !== 'active') {
    throw conflict(
      target.mergedInto ? 'record_merged' : 'record_archived',
      target.mergedInto
        ? `This company was merged into ${target.mergedInto}`
        : 'This company is archived: unarchive it first',
      {
        mergedInto: target.mergedInto ?? null,
      },
    );
  }
  const fieldOf = (id: string) => `body.sourceCompanyIds.${input.sourceCompanyIds.indexOf(id)}`;
  if (sourceIds.includes(targetId))
    throw invalid(fieldOf(targetId), 'A company cannot be merged into itself');
  const found = await Promise.all(sourceIds.map((id) => findCompany(deps, caller.workspaceId, id, true)));
  const missing: FieldIssue[] = [];
  const sources: CompanyItem[] = [];
  sourceIds.forEach((id, index) => {
    const source = found[index];
    if (!source)
      missing.push({
        field: fieldOf(id),
        message: 'No company with this id in the workspace',
        code: 'invalid_reference',
      });
    else sources.push(source);
  });
  if (missing.length) {
    throw new DomainError(
      'invalid_reference',
      'Some of the companies to merge do not exist in this workspace',
      { fields: missing },
    );
  }
  for (const source of sources) {
    if (source.mergedInto && source.mergedInto !== targetId) {
      throw conflict(
        'record_merged',
        `The company ${source.companyId} was already merged into ${source.mergedInto}`,
        {
          companyId: source.companyId,
          mergedInto: source.mergedInto,
        },
      );
    }
  }
  const pending = sources.filter((source) => source.mergedInto !== targetId);
  const domainCount = target.domains.length + pending.reduce((sum, source) => sum + source.domains.length, 0);
  if (domainCount > maxDomainsPerCompany) {
    throw limitExceeded(
      'body.sourceCompanyIds',
      `After the merge the company would hold ${domainCount} domains, more than ${maxDomainsPerCompany}: remove some first`,
      maxDomainsPerCompany,
    );
  }

  let budget = companyMergeSettings.recordsPerRequest;
  let contactsMoved = 0;
  const outcome: MergeResult['sources'] = [];
  for (const source of sources) {
    let done = true;
    for (const step of mergeSteps) {
      const progress = await step.move(deps, caller, source, target, budget);
      budget -= progress.processed;
      if (step === moveContacts) contactsMoved += progress.moved;
      if (!progress.done) {
        done = false;
        break;
      }
    }
    if (done && source.mergedInto !== targetId) target = await completeMerge(deps, caller, source, target);
    outcome.push({ id: source.companyId, status: done ? 'merged' : 'moving' });
  }
  const completed = outcome.every((source) => source.status === 'merged');
  return {
    status: completed ? 'completed' : 'in_progress',
    company: toCompany(target),
    contactsMoved,
    sources: outcome,
  };
}

/** Archives an emptied source into the target and moves its domain guards, in one transaction. */
async function completeMerge(
  deps: CoreDeps,
  caller: CallerContext,
  source: CompanyItem,
  target: CompanyItem,
): Promise<CompanyItem> {
  const now = deps.clock.nowIso();
  const { workspaceId } = caller;
  const domains = source.domains;
  const targetAfter: CompanyItem = {
    ...target,
    domains: [...target.domains, ...domains],
    version: target.version + 1,
    updatedAt: now,
  };
  const sourceAfter: CompanyItem = {
    ...source,
    status: 'archived',
    archivedAt: source.archivedAt ?? now,
    mergedInto: target.companyId,
    domains: [],
    version: source.version + 1,
    updatedAt: now,
  };
  const merged = newEvent(
    deps,
    caller,
    'company.merged',
    { type: 'company', id: target.companyId },
    {
      sourceCompanyId: source.companyId,
      sourceName: source.name,
      domains,
    },
  );
  const archived = newEvent(
    deps,
    caller,
    'company.archived',
    { type: 'company', id: source.companyId },
    {
      mergedInto: target.companyId,
    },
  );
  // Computed before the puts: each sets the company's nameWords it writes.
  const wordOps = [...companyNameWordOps(target, targetAfter), ...companyNameWordOps(source, sourceAfter)];
  await writeTransaction(
    deps.db,
    (tx) => [
      tx.company
        .put(targetAfter)
        .where((attr, { eq }) => eq(attr.version, target.version))
        .commit(),
      tx.company
        .put(sourceAfter)
        .where((attr, { eq }) => eq(attr.version, source.version))
        .commit(),
      ...domains.map((domain) =>
        tx.uniqueGuard
          .patch({ workspaceId, scope: companyDomainScope, value: domain })
          .set({ ownerId: target.companyId })
          .where((attr, { eq }) => eq(attr.ownerId, source.companyId))
          .commit(),
      ),
      appendEvent(tx, merged),
      appendEvent(tx, archived),
      ...wordOps.map((op) => op(tx)),
    ],
    // Either company changed meanwhile: the request runs again from its reads (the merge is idempotent).
    () => lostRace('A company being merged'),
  );
  return targetAfter;
}
