import * as z from 'zod';
import type { JobKindDefinition } from '../jobs/job-kind';
import { systemActor, type CallerContext } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import { readContactPage, type ContactPageEntry } from './contact-pass';
import {
  applyPlans,
  planMembership,
  readContactSegments,
  readWorkspaceSegments,
  type ContactPlan,
  type SegmentItem,
} from './membership.service';
import type { MembershipReason } from './segment.entity';
import { segmentJobInputSchema, type SegmentJobInput } from './segment-job-input';
import { fieldsOfRule } from './segment-rules';
import { findSegment } from './segments.service';

const cursorSchema = z.object({
  startKey: z.record(z.string(), z.unknown()).optional(),
  processed: z.number().int(),
  joined: z.number().int(),
  left: z.number().int(),
});
type SegmentJobCursor = z.infer<typeof cursorSchema>;

export interface SegmentJobResult extends Record<string, unknown> {
  mode: SegmentJobInput['mode'];
  segmentId: string | null;
  contacts: number;
  joined: number;
  left: number;
  /** TransactWriteItems sent by this run (each up to 100 items): 0 when every membership was already true. */
  transactions: number;
  superseded: boolean;
}

/** How many times a contact whose memberships changed under the job is read and planned again. */
const replans = 5;

/**
 * `segment_membership`: applies rules to every contact of a workspace, in pages of the all-contacts
 * index (each contact with its memberships), writing only what changes, several contacts per
 * transaction; continues itself from the page it reached. A `rule_change` job of a rule since changed
 * again stops (`superseded`): the newer rule's job does the work. A `delete` job takes the members of
 * a deleted segment out of their contacts' memberships.
 */
export const segmentMembershipJob: JobKindDefinition<SegmentJobInput, SegmentJobCursor, SegmentJobResult> = {
  kind: 'segment_membership',
  queue: 'segment_membership',
  inputSchema: segmentJobInputSchema,
  async step(deps, job, control) {
    const input = job.input;
    const actor = systemActor(job.workspaceId);
    let cursor: SegmentJobCursor = job.cursor ? cursorSchema.parse(job.cursor) : { processed: 0, joined: 0, left: 0 };
    let transactions = 0;
    const result = (superseded = false): SegmentJobResult => ({
      mode: input.mode,
      segmentId: input.segmentId ?? null,
      contacts: cursor.processed,
      joined: cursor.joined,
      left: cursor.left,
      transactions,
      superseded,
    });
    for (;;) {
      const segments = await readWorkspaceSegments(deps, job.workspaceId);
      const target = input.segmentId ? segments.find((segment) => segment.segmentId === input.segmentId) : undefined;
      if (input.mode === 'rule_change' && (!target || target.ruleVersion !== input.ruleVersion)) {
        return { done: true, result: result(true), progress: { processed: cursor.processed } };
      }
      // A delete evaluates no rule: the deleted segment is not among `segments`, so its memberships are
      // orphans, dropped from each contact's memberships item.
      const evaluated =
        input.mode === 'rule_change' ? [target!] : input.mode === 'recompute' ? segments.filter((segment) => segment.kind === 'dynamic') : [];
      const withCompanies = evaluated.some((segment) => segment.rule && [...fieldsOfRule(segment.rule)].some((field) => field.startsWith('company.')));
      const page = await readContactPage(deps, job.workspaceId, cursor.startKey, { withCompanies });
      const reason: MembershipReason = input.mode === 'recompute' ? 'recompute' : 'rule_change';
      const evaluatedIds = new Set(evaluated.map((segment) => segment.segmentId));
      const plan = (entry: ContactPageEntry) =>
        planMembership({
          contact: entry.contact,
          company: entry.contact.companyId ? (page.companies.get(entry.contact.companyId) ?? null) : null,
          current: entry.memberships,
          segments,
          evaluate: (segment) => evaluatedIds.has(segment.segmentId),
          nowMs: deps.clock.nowMs(),
          reason,
        });
      // An index read may be older than the memberships: a contact version behind them is left to the stream.
      const fresh = page.entries.filter((entry) => !entry.memberships || entry.memberships.contactVersion <= entry.contact.version);
      const outcome = await applyWithReplans(deps, actor, fresh.map(plan), segments, evaluatedIds, reason);
      transactions += outcome.transactions;
      cursor = {
        ...(page.nextStartKey ? { startKey: page.nextStartKey } : {}),
        processed: cursor.processed + page.entries.length,
        joined: cursor.joined + outcome.joined,
        left: cursor.left + outcome.left,
      };
      if (!page.nextStartKey) break;
      if (control.deadlineReached()) return { done: false, cursor, progress: { processed: cursor.processed } };
      await control.saveProgress(cursor, { processed: cursor.processed });
    }
    if (input.mode === 'delete') await deleteMembersOf(deps, job.workspaceId, input.segmentId!);
    if (input.mode === 'rule_change') await markComputed(deps, job.workspaceId, input.segmentId!, job.jobId);
    return { done: true, result: result(), progress: { processed: cursor.processed, total: cursor.processed } };
  },
};

/** Writes the plans; a contact whose memberships changed meanwhile is read again (consistently) and planned again. */
async function applyWithReplans(
  deps: CoreDeps,
  actor: CallerContext,
  plans: ContactPlan[],
  segments: SegmentItem[],
  evaluatedIds: ReadonlySet<string>,
  reason: MembershipReason,
) {
  let outcome = await applyPlans(deps, actor, plans);
  const total = { joined: outcome.joined, left: outcome.left, transactions: outcome.transactions };
  for (let round = 1; outcome.raced.length > 0 && round <= replans; round += 1) {
    const again = await Promise.all(
      outcome.raced.map(async (raced) => {
        const [contact, current] = await Promise.all([
          deps.db.entities.contact.get({ workspaceId: raced.contact.workspaceId, contactId: raced.contact.contactId }).go({ consistent: true }),
          readContactSegments(deps, raced.contact.workspaceId, raced.contact.contactId),
        ]);
        if (!contact.data) return undefined;
        return planMembership({
          contact: contact.data as ContactPlan['contact'],
          current,
          segments,
          evaluate: (segment) => evaluatedIds.has(segment.segmentId),
          nowMs: deps.clock.nowMs(),
          reason,
        });
      }),
    );
    outcome = await applyPlans(deps, actor, again.filter((plan): plan is ContactPlan => plan !== undefined));
    total.joined += outcome.joined;
    total.left += outcome.left;
    total.transactions += outcome.transactions;
  }
  if (outcome.raced.length > 0) throw new Error(`${outcome.raced.length} contacts kept changing under the segment job: the run is retried`);
  return total;
}

/** The member items a deleted segment still has (those of contacts the pass found already gone are removed too). */
async function deleteMembersOf(deps: CoreDeps, workspaceId: string, segmentId: string): Promise<void> {
  const members = await deps.db.entities.segmentMember.query.byKey({ workspaceId, segmentId }).go({ pages: 'all', attributes: ['contactId'] });
  const keys = (members.data as { contactId: string }[]).map(({ contactId }) => ({ workspaceId, segmentId, contactId }));
  for (let start = 0; start < keys.length; start += 25) {
    await deps.db.entities.segmentMember.delete(keys.slice(start, start + 25)).go();
  }
}

/** The segment's rule has been applied to every contact: `computedAt`, and no job shown (if it is still this one's). */
async function markComputed(deps: CoreDeps, workspaceId: string, segmentId: string, jobId: string): Promise<void> {
  const segment = await findSegment(deps, workspaceId, segmentId, true);
  if (!segment || segment.computeJobId !== jobId) return;
  await deps.db.entities.segment
    .patch({ workspaceId, segmentId })
    .set({ computedAt: deps.clock.nowIso() })
    .remove(['computeJobId'])
    .where((attr, { eq }) => eq(attr.computeJobId, jobId))
    .go()
    .catch((error: unknown) => {
      if ((error as { name?: string; cause?: { name?: string } }).cause?.name !== 'ConditionalCheckFailedException') throw error;
    });
}
