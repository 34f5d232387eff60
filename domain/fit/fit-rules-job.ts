import * as z from 'zod';
import type { JobKindDefinition } from '../jobs/job-kind';
import { systemActor } from '../shared/context';
import { readContactPage } from '../segments/contact-pass';
import { readContactFits, dueRuleAssessments } from './fit-rules.service';
import { findProduct, recordAssessments } from './fit.service';

const inputSchema = z.object({ productId: z.string(), version: z.number().int() });
type FitRulesInput = z.infer<typeof inputSchema>;
const cursorSchema = z.object({ startKey: z.record(z.string(), z.unknown()).optional(), processed: z.number().int(), assessed: z.number().int() });
type FitRulesCursor = z.infer<typeof cursorSchema>;

/**
 * `apply_fit_rules`: a product's rule criteria (new or changed) applied to every contact of the
 * workspace, in pages of the all-contacts index; only values that differ are written. A job of an older
 * version of the product stops (`superseded`): the newer version's job does the work.
 */
export const applyFitRulesJob: JobKindDefinition<FitRulesInput, FitRulesCursor, Record<string, unknown>> = {
  kind: 'apply_fit_rules',
  queue: 'apply_fit_rules',
  inputSchema,
  async step(deps, job, control) {
    let cursor: FitRulesCursor = job.cursor ? cursorSchema.parse(job.cursor) : { processed: 0, assessed: 0 };
    const actor = systemActor(job.workspaceId);
    for (;;) {
      const product = await findProduct(deps, job.workspaceId, job.input.productId, true);
      if (!product || product.version !== job.input.version) {
        return { done: true, result: { productId: job.input.productId, superseded: true, ...cursor }, progress: { processed: cursor.processed } };
      }
      const readsCompany = product.criteria.some((criterion) => JSON.stringify(criterion.rules ?? []).includes('"company.'));
      const page = await readContactPage(deps, job.workspaceId, cursor.startKey, { withCompanies: readsCompany, limit: 200 });
      for (const { contact } of page.entries) {
        if (contact.mergedInto) continue;
        const fits = await readContactFits(deps, job.workspaceId, contact.contactId);
        const company = contact.companyId ? (page.companies.get(contact.companyId) ?? null) : null;
        const due = dueRuleAssessments(product, fits.get(product.productId), contact, company, undefined, deps.clock.nowMs());
        if (due.length === 0) continue;
        await recordAssessments(deps, actor, contact.contactId, product, due, { authorise: () => undefined });
        cursor = { ...cursor, assessed: cursor.assessed + 1 };
      }
      cursor = { ...(page.nextStartKey ? { startKey: page.nextStartKey } : {}), processed: cursor.processed + page.entries.length, assessed: cursor.assessed };
      if (!page.nextStartKey) break;
      if (control.deadlineReached()) return { done: false, cursor, progress: { processed: cursor.processed } };
      await control.saveProgress(cursor, { processed: cursor.processed });
    }
    return { done: true, result: { productId: job.input.productId, superseded: false, processed: cursor.processed, assessed: cursor.assessed }, progress: { processed: cursor.processed, total: cursor.processed } };
  },
};
