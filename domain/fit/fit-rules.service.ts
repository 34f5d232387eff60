import type { CompanyItem } from '../companies/company-record';
import { findCompany } from '../companies/company-record';
import { toSearchHit, type ContactItem } from '../contacts/contact-record';
import { systemActor } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import { isConditionFailure } from '../store/transaction';
import { changedRuleFields, summaryChanged } from '../segments/membership.service';
import type { ContactChange } from '../segments/segment-stream.service';
import { fieldsOfRule, ruleMatches } from '../segments/segment-rules';
import type { CriterionInput } from './fit.schemas';
import { readProducts, recordAssessments, type ContactFitItem, type NewAssessment, type ProductItem } from './fit.service';

/** The value a rule criterion gives the contact: the first matching rule's, else `otherwise`, else none. */
export function ruleCriterionValue(
  criterion: CriterionInput,
  contact: ContactItem,
  company: CompanyItem | null,
  nowMs: number,
): { value: number; evidence: string } | undefined {
  const subject = { contact, company, fitScores: contact.fitScores ?? {} };
  const index = (criterion.rules ?? []).findIndex((rule) => ruleMatches(rule.when, subject, nowMs));
  if (index >= 0) return { value: criterion.rules![index]!.value, evidence: `Rule ${index + 1} of “${criterion.name}” matched` };
  if (criterion.otherwise !== undefined) return { value: criterion.otherwise, evidence: `No rule of “${criterion.name}” matched` };
  return undefined;
}

/** Whether a change of these fields can move the criterion's value (all of them for a new contact). */
const criterionReads = (criterion: CriterionInput, changed: ReadonlySet<string> | undefined) =>
  !changed ||
  (criterion.rules ?? []).some(({ when }) =>
    [...fieldsOfRule(when)].some((field) => changed.has(field) || (field.startsWith('company.') && changed.has('company.*'))),
  );

/**
 * The rule assessments a contact is due for a product: each rule criterion (that the change could move)
 * whose value differs from its latest rule assessment. A user's or the AI's latest value stands: a
 * rule never overrides a person.
 */
export function dueRuleAssessments(
  product: ProductItem,
  fit: ContactFitItem | undefined,
  contact: ContactItem,
  company: CompanyItem | null,
  changed: ReadonlySet<string> | undefined,
  nowMs: number,
): NewAssessment[] {
  const due: NewAssessment[] = [];
  for (const criterion of product.criteria) {
    if (criterion.kind !== 'rule' || !criterionReads(criterion, changed)) continue;
    const latest = fit?.latest[criterion.id];
    if (latest && latest.source !== 'rule') continue;
    const result = ruleCriterionValue(criterion, contact, company, nowMs);
    if (!result || latest?.value === result.value) continue;
    due.push({ criterionId: criterion.id, value: result.value, evidence: result.evidence, source: 'rule' });
  }
  return due;
}

/** A contact's fit items (one per product it was assessed for): one Query of its partition. */
export async function readContactFits(deps: CoreDeps, workspaceId: string, contactId: string): Promise<Map<string, ContactFitItem>> {
  const { data } = await deps.db.entities.contactFit.query.byContact({ workspaceId, contactId }).go({ pages: 'all', consistent: true });
  return new Map((data as ContactFitItem[]).map((item) => [item.productId, item]));
}

export type FitChangeOutcome = 'applied' | 'unchanged' | 'stale';

/**
 * The `fit-rules` stream consumer's work on a contact change: rule criteria re-evaluated (only those
 * reading a field the change touched), their new values recorded as `rule` assessments (the fit score
 * follows), and the contact's summary on its fit items kept current for lead pages. A record older than
 * the contact is `stale`: the newer one's record does the work.
 */
export async function applyContactChangeToFit(deps: CoreDeps, change: ContactChange): Promise<FitChangeOutcome> {
  const { before, after } = change;
  if (after.mergedInto) return 'unchanged';
  const changed = before ? changedRuleFields(before, after) : undefined;
  const rewrite = before ? summaryChanged(before, after) : false;
  if (changed && changed.size === 0 && !rewrite) return 'unchanged';
  const { workspaceId, contactId } = after;
  // Most workspaces have no products: one Query answers for them, before the contact's own reads.
  const products = await readProducts(deps, workspaceId);
  if (products.length === 0) return 'unchanged';
  const [fits, current, company] = await Promise.all([
    readContactFits(deps, workspaceId, contactId),
    deps.db.entities.contact.get({ workspaceId, contactId }).go({ consistent: true }),
    after.companyId ? findCompany(deps, workspaceId, after.companyId) : Promise.resolve(undefined),
  ]);
  if (!current.data || (current.data as ContactItem).version > after.version) return 'stale';
  let outcome: FitChangeOutcome = 'unchanged';
  for (const product of products) {
    const fit = fits.get(product.productId);
    const due = dueRuleAssessments(product, fit, after, company ?? null, changed, deps.clock.nowMs());
    if (due.length > 0) {
      await recordAssessments(deps, systemActor(workspaceId), contactId, product, due, { authorise: () => undefined });
      outcome = 'applied';
    } else if (rewrite && fit) {
      await deps.db.entities.contactFit
        .patch({ workspaceId, contactId, productId: product.productId })
        .set({ summary: toSearchHit(after) })
        .where((attr, { eq }) => eq(attr.version, fit.version))
        .go()
        .catch((error: unknown) => {
          // Written meanwhile (an assessment): its own write carried the summary then.
          if (!isConditionFailure(error)) throw error;
        });
      outcome = 'applied';
    }
  }
  return outcome;
}
