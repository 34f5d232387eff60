import { appendEvent, newEvent, type EventRecord } from '../../events/event-log';
import type { CompanyItem } from '../companies/company-record';
import type { ContactItem } from '../contacts/contact-record';
import type { ContactSearchHit } from '../contacts/contacts.schemas';
import { toSearchHit } from '../contacts/contact-record';
import { systemActor, type CallerContext } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import { lostRace } from '../shared/errors';
import { nameSortKey } from '../shared/text';
import type { TxEntities } from '../store/db';
import { writeTransaction } from '../store/transaction';
import type { MembershipReason, SegmentKind } from './segment.entity';
import { fieldsOfRule, ruleMatches, type RuleSubject, type SegmentRule } from './segment-rules';

export interface SegmentItem {
  workspaceId: string;
  segmentId: string;
  name: string;
  description?: string;
  kind: SegmentKind;
  rule?: SegmentRule;
  ruleVersion: number;
  memberCount: number;
  computedAt?: string;
  computeJobId?: string;
  driftScope?: string;
  driftKey?: string;
  /** A dynamic segment's slot under the workspace's cap. */
  slot?: number;
  createdBy: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface Membership {
  joinedAt: string;
  reason: MembershipReason;
}

export interface ContactSegmentsItem {
  workspaceId: string;
  contactId: string;
  segments: Record<string, Membership>;
  contactVersion: number;
  version: number;
  updatedAt: string;
}

/** Every segment of the workspace: one Query (a workspace has at most a few hundred). */
export async function readWorkspaceSegments(deps: CoreDeps, workspaceId: string): Promise<SegmentItem[]> {
  const { data } = await deps.db.entities.segment.query.byWorkspace({ workspaceId }).go({ pages: 'all', consistent: true });
  return data as SegmentItem[];
}

/** The segments a contact is in (consistent GetItem of its memberships item). */
export async function readContactSegments(deps: CoreDeps, workspaceId: string, contactId: string): Promise<ContactSegmentsItem | undefined> {
  const { data } = await deps.db.entities.contactSegments.get({ workspaceId, contactId }).go({ consistent: true });
  return (data as ContactSegmentsItem | null) ?? undefined;
}

/** What rules read of a contact, with its company; null for a contact merged into another (it is in no segment). */
export function subjectOf(contact: ContactItem, company?: CompanyItem | null): RuleSubject | null {
  if (contact.mergedInto) return null;
  return { contact, company: company ?? null, fitScores: contact.fitScores ?? {} };
}

/** One contact's membership changes, planned against what its memberships item held when read. */
export interface ContactPlan {
  contact: ContactItem;
  current: ContactSegmentsItem | undefined;
  joins: SegmentItem[];
  leaves: SegmentItem[];
  /** Memberships of segments that no longer exist: dropped from the item, no event. */
  orphans: string[];
  /** The contact's summary changed: its member items in the segments it stays in are rewritten. */
  rewrite: boolean;
  /** With `rewrite`: only these segments' member items (a large plan is written in parts). */
  rewriteOnly?: readonly string[];
  reason: MembershipReason;
  /**
   * No rule was evaluated (a membership a merge hands on): the memberships item keeps the contact
   * version it was last evaluated at, so the contact's own stream records pending are not taken as stale.
   */
  evaluatesNoRule?: boolean;
}

export const planChanges = (plan: ContactPlan) =>
  plan.joins.length > 0 || plan.leaves.length > 0 || plan.orphans.length > 0 || (plan.rewrite && Object.keys(plan.current?.segments ?? {}).length > 0);

/**
 * Plans a contact's memberships: each dynamic segment `evaluate` picks is joined or left as its rule
 * says at `nowMs`; static segments stay as they are (a merged contact leaves every segment).
 */
export function planMembership(args: {
  contact: ContactItem;
  company?: CompanyItem | null;
  current: ContactSegmentsItem | undefined;
  segments: readonly SegmentItem[];
  evaluate: (segment: SegmentItem) => boolean;
  nowMs: number;
  reason: MembershipReason;
  rewrite?: boolean;
}): ContactPlan {
  const { contact, current, segments, nowMs } = args;
  const subject = subjectOf(contact, args.company);
  const memberOf = current?.segments ?? {};
  const known = new Set(segments.map((segment) => segment.segmentId));
  const joins: SegmentItem[] = [];
  const leaves: SegmentItem[] = [];
  for (const segment of segments) {
    const member = segment.segmentId in memberOf;
    if (!subject) {
      if (member) leaves.push(segment);
      continue;
    }
    if (segment.kind !== 'dynamic' || !segment.rule || !args.evaluate(segment)) continue;
    const matches = ruleMatches(segment.rule, subject, nowMs);
    if (matches && !member) joins.push(segment);
    else if (!matches && member) leaves.push(segment);
  }
  return {
    contact,
    current,
    joins,
    leaves,
    orphans: Object.keys(memberOf).filter((segmentId) => !known.has(segmentId)),
    rewrite: args.rewrite ?? false,
    reason: subject ? args.reason : 'contact_merged',
  };
}

/** How many merges in a row are followed to the contact that survived them all. */
const maxMergeHops = 5;

/**
 * A contact merged into another hands the static segments it is in to the survivor (the person is the
 * same: a list users put them on still holds them), which joins with reason `contact_merged`; dynamic
 * ones follow the survivor's own fields. Called before the merged one leaves every segment, and
 * written first, so that a retry after a lost race still reads what the merged one was in.
 * Throws `membershipRaced` when the survivor's memberships changed meanwhile.
 */
export async function carryStaticSegments(
  deps: CoreDeps,
  merged: ContactItem,
  current: ContactSegmentsItem | undefined,
  segments: readonly SegmentItem[],
): Promise<void> {
  const memberOf = current?.segments ?? {};
  const handed = segments.filter((segment) => segment.kind === 'static' && segment.segmentId in memberOf);
  if (handed.length === 0 || !merged.mergedInto) return;
  const survivor = await survivorOf(deps, merged.workspaceId, merged.mergedInto);
  if (!survivor) return;
  const survivorCurrent = await readContactSegments(deps, survivor.workspaceId, survivor.contactId);
  const joins = handed.filter((segment) => !(segment.segmentId in (survivorCurrent?.segments ?? {})));
  if (joins.length === 0) return;
  const plan: ContactPlan = {
    contact: survivor,
    current: survivorCurrent,
    joins,
    leaves: [],
    orphans: [],
    rewrite: false,
    reason: 'contact_merged',
    evaluatesNoRule: true,
  };
  const outcome = await applyPlans(deps, systemActor(survivor.workspaceId), [plan]);
  if (outcome.raced.length > 0) throw membershipRaced();
}

/** The contact a merge left standing: `contactId`, or where it was merged in turn; none if it is gone. */
async function survivorOf(deps: CoreDeps, workspaceId: string, contactId: string): Promise<ContactItem | undefined> {
  let id = contactId;
  for (let hop = 0; hop < maxMergeHops; hop += 1) {
    const { data } = await deps.db.entities.contact.get({ workspaceId, contactId: id }).go({ consistent: true });
    const contact = (data as ContactItem | null) ?? undefined;
    if (!contact?.mergedInto) return contact;
    id = contact.mergedInto;
  }
  return undefined;
}

/** The member item of a contact in a segment. */
export const memberItem = (contact: ContactItem, segmentId: string, membership: Membership, summary: ContactSearchHit = toSearchHit(contact)) => ({
  workspaceId: contact.workspaceId,
  segmentId,
  contactId: contact.contactId,
  joinedAt: membership.joinedAt,
  reason: membership.reason,
  nameKey: nameSortKey(contact.name),
  summary,
});

/** A plan's writes, ready to be packed with others into transactions. */
interface PlanWrites {
  plan: ContactPlan;
  after: ContactSegmentsItem;
  ops: ((tx: TxEntities) => unknown)[];
  /** segmentId -> +1 / -1 */
  counts: Map<string, number>;
  events: EventRecord[];
}

function writesOf(deps: CoreDeps, caller: CallerContext, plan: ContactPlan): PlanWrites {
  const { contact, current } = plan;
  const now = deps.clock.nowIso();
  const segments: Record<string, Membership> = { ...(current?.segments ?? {}) };
  const summary = toSearchHit(contact);
  const ops: PlanWrites['ops'] = [];
  const counts = new Map<string, number>();
  const events: EventRecord[] = [];
  for (const segmentId of plan.orphans) delete segments[segmentId];
  for (const segment of plan.leaves) {
    delete segments[segment.segmentId];
    ops.push((tx) => tx.segmentMember.delete({ workspaceId: contact.workspaceId, segmentId: segment.segmentId, contactId: contact.contactId }).commit());
    counts.set(segment.segmentId, (counts.get(segment.segmentId) ?? 0) - 1);
    events.push(segmentEvent(deps, caller, 'segment.left', segment, contact.contactId, plan.reason));
  }
  if (plan.rewrite) {
    for (const [segmentId, membership] of Object.entries(segments)) {
      if (plan.rewriteOnly && !plan.rewriteOnly.includes(segmentId)) continue;
      ops.push((tx) => tx.segmentMember.put(memberItem(contact, segmentId, membership, summary)).commit());
    }
  }
  for (const segment of plan.joins) {
    const membership: Membership = { joinedAt: now, reason: plan.reason };
    segments[segment.segmentId] = membership;
    ops.push((tx) => tx.segmentMember.put(memberItem(contact, segment.segmentId, membership, summary)).commit());
    counts.set(segment.segmentId, (counts.get(segment.segmentId) ?? 0) + 1);
    events.push(segmentEvent(deps, caller, 'segment.joined', segment, contact.contactId, plan.reason));
  }
  const after: ContactSegmentsItem = {
    workspaceId: contact.workspaceId,
    contactId: contact.contactId,
    segments,
    contactVersion: plan.evaluatesNoRule ? (current?.contactVersion ?? 0) : Math.max(contact.version, current?.contactVersion ?? 0),
    version: (current?.version ?? 0) + 1,
    updatedAt: now,
  };
  return { plan, after, ops, counts, events };
}

const segmentEvent = (
  deps: CoreDeps,
  caller: CallerContext,
  type: 'segment.joined' | 'segment.left',
  segment: SegmentItem,
  contactId: string,
  reason: MembershipReason,
) => newEvent(deps, caller, type, { type: 'segment', id: segment.segmentId }, { segmentId: segment.segmentId, segmentName: segment.name, reason }, { contactId });

/** DynamoDB's cap on the items of one transaction. */
const maxTransactionItems = 100;

/** How many items a plan's writes take in a transaction, the segments' counters aside. */
const itemsOf = (writes: PlanWrites) => 1 + writes.ops.length + writes.events.length;

export interface ApplyOutcome {
  /** Plans written. */
  applied: ContactPlan[];
  /** Plans whose memberships item changed since it was read: read and plan them again. */
  raced: ContactPlan[];
  joined: number;
  left: number;
  transactions: number;
}

/**
 * Writes the plans' membership changes, several contacts per transaction: each contact's memberships
 * item (conditional on the version read: a change written since makes the plan `raced`), its member
 * items, its events, and one ADD per segment to `memberCount` for the whole transaction. A plan whose
 * writes alone pass a transaction's cap is written in parts. Plans with nothing to change are skipped.
 */
export async function applyPlans(deps: CoreDeps, caller: CallerContext, plans: readonly ContactPlan[]): Promise<ApplyOutcome> {
  const outcome: ApplyOutcome = { applied: [], raced: [], joined: 0, left: 0, transactions: 0 };
  let batch: PlanWrites[] = [];
  const segmentCount = (writes: PlanWrites[]) => new Set(writes.flatMap((w) => [...w.counts.keys()])).size;
  const batchItems = (writes: PlanWrites[]) => writes.reduce((sum, w) => sum + itemsOf(w), 0) + segmentCount(writes);
  const flush = async () => {
    if (batch.length === 0) return;
    const taken = batch;
    batch = [];
    await commitBatch(deps, taken, outcome);
  };
  for (const plan of plans) {
    if (!planChanges(plan)) continue;
    const writes = writesOf(deps, caller, plan);
    if (batchItems([writes]) > maxTransactionItems) {
      await flush();
      await applyInParts(deps, caller, plan, outcome);
      continue;
    }
    const sameContact = batch.some((w) => w.plan.contact.contactId === plan.contact.contactId);
    if (sameContact || batchItems([...batch, writes]) > maxTransactionItems) await flush();
    batch.push(writes);
  }
  await flush();
  return outcome;
}

/** Changes per transaction of a plan written in parts: its memberships item, then at most 4 items a change. */
const changesPerPart = 24;

/**
 * A plan whose writes pass one transaction's cap (a contact joining dozens of segments at once, or
 * renamed while in many): written in consecutive transactions, each carrying the memberships item as
 * the previous one left it. It counts in the outcome as one plan.
 */
async function applyInParts(deps: CoreDeps, caller: CallerContext, plan: ContactPlan, outcome: ApplyOutcome): Promise<void> {
  type Step = { leave?: SegmentItem; join?: SegmentItem; rewrite?: string };
  const left = new Set([...plan.orphans, ...plan.leaves.map((segment) => segment.segmentId)]);
  const kept = Object.keys(plan.current?.segments ?? {}).filter((id) => !left.has(id));
  const steps: Step[] = [
    ...plan.leaves.map((leave) => ({ leave })),
    ...(plan.rewrite ? kept.map((rewrite) => ({ rewrite })) : []),
    ...plan.joins.map((join) => ({ join })),
  ];
  let current = plan.current;
  for (let start = 0; start < steps.length; start += changesPerPart) {
    const part = steps.slice(start, start + changesPerPart);
    const partPlan: ContactPlan = {
      ...plan,
      current,
      orphans: start === 0 ? plan.orphans : [],
      leaves: part.flatMap((step) => (step.leave ? [step.leave] : [])),
      joins: part.flatMap((step) => (step.join ? [step.join] : [])),
      rewrite: part.some((step) => step.rewrite !== undefined),
      rewriteOnly: part.flatMap((step) => (step.rewrite !== undefined ? [step.rewrite] : [])),
    };
    const writes = writesOf(deps, caller, partPlan);
    const racedBefore = outcome.raced.length;
    await commitBatch(deps, [writes], outcome, false);
    if (outcome.raced.length > racedBefore) {
      // Parts written stay written (each a consistent state): the whole plan is read and made again.
      outcome.raced.splice(racedBefore, outcome.raced.length - racedBefore, plan);
      return;
    }
    current = writes.after;
  }
  outcome.applied.push(plan);
  outcome.joined += plan.joins.length;
  outcome.left += plan.leaves.length;
}

async function commitBatch(deps: CoreDeps, batch: PlanWrites[], outcome: ApplyOutcome, record = true): Promise<void> {
  const counts = new Map<string, { workspaceId: string; delta: number }>();
  for (const writes of batch) {
    for (const [segmentId, delta] of writes.counts) {
      const entry = counts.get(segmentId) ?? { workspaceId: writes.plan.contact.workspaceId, delta: 0 };
      entry.delta += delta;
      counts.set(segmentId, entry);
    }
  }
  const countOps = [...counts.entries()].filter(([, { delta }]) => delta !== 0);
  // Index of each plan's memberships item in the transaction, to name the plans whose condition failed.
  const heads: number[] = [];
  try {
    await writeTransaction(
      deps.db,
      (tx) => {
        const items: unknown[] = [];
        for (const writes of batch) {
          heads.push(items.length);
          const { current } = writes.plan;
          items.push(
            current
              ? tx.contactSegments
                  .put(writes.after)
                  .where((attr, { eq }) => eq(attr.version, current.version))
                  .commit()
              : tx.contactSegments.create(writes.after).commit(),
          );
          for (const op of writes.ops) items.push(op(tx));
          for (const event of writes.events) items.push(appendEvent(tx, event));
        }
        for (const [segmentId, { workspaceId, delta }] of countOps) {
          items.push(tx.segment.patch({ workspaceId, segmentId }).add({ memberCount: delta }).commit());
        }
        return items;
      },
      (failed) => new BatchRaced(failed),
    );
  } catch (error) {
    if (error instanceof BatchRaced) {
      const racedHeads = new Set(error.failed);
      const racedIndexes = heads.flatMap((head, index) => (racedHeads.has(head) ? [index] : []));
      if (racedIndexes.length === 0 || error.failed.some((index) => !heads.includes(index))) {
        // A segment's counter failed (the segment was deleted meanwhile): every plan is read again.
        outcome.raced.push(...batch.map((w) => w.plan));
        return;
      }
      outcome.raced.push(...racedIndexes.map((index) => batch[index]!.plan));
      const rest = batch.filter((_, index) => !racedIndexes.includes(index));
      if (rest.length > 0) await commitBatch(deps, rest, outcome, record);
      return;
    }
    throw error;
  }
  outcome.transactions += 1;
  if (!record) return;
  for (const writes of batch) {
    outcome.applied.push(writes.plan);
    outcome.joined += writes.plan.joins.length;
    outcome.left += writes.plan.leaves.length;
  }
}

class BatchRaced extends Error {
  constructor(readonly failed: number[]) {
    super('A membership changed since it was read');
  }
}

/** A LostRace for callers that retry a whole evaluation (`retryLostRaces`). */
export const membershipRaced = () => lostRace('A contact’s segment memberships');

/**
 * The rule fields a contact change touched (`name`, `tags`, `customFields.plan`, `company.name` when
 * its company changed...): a dynamic segment is evaluated again only when its rule reads one of them.
 */
export function changedRuleFields(before: ContactItem, after: ContactItem): Set<string> {
  const changed = new Set<string>();
  const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  const plain = ['name', 'jobTitle', 'role', 'segment', 'city', 'state', 'country', 'status', 'suppressed', 'ownerId', 'createdAt', 'updatedAt'] as const;
  for (const field of plain) if (!same(before[field], after[field])) changed.add(field);
  if (!same([...(before.tags ?? [])].sort(), [...(after.tags ?? [])].sort())) changed.add('tags');
  if (!same(before.channels.map((c) => c.kind).sort(), after.channels.map((c) => c.kind).sort())) changed.add('channels');
  if (!same(before.score?.value, after.score?.value)) changed.add('score');
  if (!same(before.qualification?.kind, after.qualification?.kind)) changed.add('qualification');
  if (!same(before.qualification?.score, after.qualification?.score)) changed.add('qualification.score');
  const customKeys = new Set([...Object.keys(before.customFields ?? {}), ...Object.keys(after.customFields ?? {})]);
  for (const key of customKeys) {
    if (!same((before.customFields as Record<string, unknown> | undefined)?.[key], (after.customFields as Record<string, unknown> | undefined)?.[key])) {
      changed.add(`customFields.${key}`);
    }
  }
  if (before.companyId !== after.companyId) changed.add('company.*');
  const products = new Set([...Object.keys(before.fitScores ?? {}), ...Object.keys(after.fitScores ?? {})]);
  for (const productId of products) if (before.fitScores?.[productId] !== after.fitScores?.[productId]) changed.add(`fitScore.${productId}`);
  if (!same(before.mergedInto, after.mergedInto)) changed.add('mergedInto');
  return changed;
}

/** Whether a change of these fields can move the segment's answer. */
export function ruleReadsAny(segment: SegmentItem, changed: ReadonlySet<string>): boolean {
  if (!segment.rule) return false;
  if (changed.has('mergedInto')) return true;
  for (const field of fieldsOfRule(segment.rule)) {
    if (changed.has(field)) return true;
    if (field.startsWith('company.') && changed.has('company.*')) return true;
  }
  return false;
}

/** Whether what member items carry of the contact (its search hit: the summary without `updatedAt`) changed. */
export function summaryChanged(before: ContactItem, after: ContactItem): boolean {
  return JSON.stringify(toSearchHit(before)) !== JSON.stringify(toSearchHit(after));
}
