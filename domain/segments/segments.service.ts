import { appendEvent, newEvent } from '../../events/event-log';
import type { CompanyItem } from '../companies/company-record';
import type { ContactItem } from '../contacts/contact-record';
import { storedHit, toSummary } from '../contacts/contact-record';
import type { ContactSearchHit } from '../contacts/contacts.schemas';
import { loadCustomFieldDefinitions } from '../custom-fields/custom-field-values';
import { createJob, newJobId } from '../jobs/jobs.service';
import { isManager, systemActor, type CallerContext } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import { DomainError, forbidden, invalid, limitExceeded, lostRace, notFound, stale } from '../shared/errors';
import { checkCursor, type Page } from '../shared/pagination';
import { retryLostRaces } from '../shared/retry';
import { batchGetAll } from '../store/batch-get';
import { writeTransaction } from '../store/transaction';
import {
  applyPlans,
  membershipRaced,
  planChanges,
  readContactSegments,
  readWorkspaceSegments,
  type ContactPlan,
  type ContactSegmentsItem,
  type SegmentItem,
} from './membership.service';
import { readContactPage, type ContactPageEntry } from './contact-pass';
import type { SegmentJobInput } from './segment-job-input';
import { fieldsOfRule, ruleDriftsWithTime, ruleMatches, validateRule, type RuleCatalogue, type SegmentRule } from './segment-rules';
import { maxDynamicSegments } from './segment.entity';
import type {
  ContactSegments,
  CreateSegmentInput,
  ListMembersQuery,
  ListSegmentsQuery,
  MemberIdsInput,
  MembersChange,
  Preview,
  Segment,
  SegmentMember,
  UpdateSegmentInput,
} from './segments.schemas';

export function toSegment(item: SegmentItem): Segment {
  return {
    id: item.segmentId,
    name: item.name,
    description: item.description ?? null,
    kind: item.kind,
    rule: item.rule ?? null,
    ruleVersion: item.ruleVersion,
    memberCount: item.memberCount,
    computing: item.computeJobId !== undefined,
    computedAt: item.computedAt ?? null,
    computeJobId: item.computeJobId ?? null,
    createdBy: item.createdBy,
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
    version: item.version,
  };
}

const segmentRef = (segmentId: string) => ({ type: 'segment' as const, id: segmentId });

export async function findSegment(deps: CoreDeps, workspaceId: string, segmentId: string, consistent = false): Promise<SegmentItem | undefined> {
  const { data } = await deps.db.entities.segment.get({ workspaceId, segmentId }).go({ consistent });
  return (data as SegmentItem | null) ?? undefined;
}

async function readSegment(deps: CoreDeps, caller: CallerContext, segmentId: string, consistent = false): Promise<SegmentItem> {
  const item = await findSegment(deps, caller.workspaceId, segmentId, consistent);
  if (!item) throw notFound('Segment');
  return item;
}

/** The creator and owner/admin change or delete a segment; anyone in the workspace reads it and fills a static one. */
function assertMayChange(caller: CallerContext, item: SegmentItem): void {
  if (!isManager(caller) && item.createdBy !== caller.userId) throw forbidden('Only the segment’s creator or an owner/admin can change or delete it');
}

// ---------------------------------------------------------------------------------------------
// Reading

/** The workspace's segments by id (creation order): one Query per page. */
export async function listSegments(deps: CoreDeps, caller: CallerContext, query: ListSegmentsQuery): Promise<Page<Segment>> {
  const base = deps.db.entities.segment.query.byWorkspace({ workspaceId: caller.workspaceId });
  const filtered = query.kind ? base.where((attr, { eq }) => eq(attr.kind, query.kind!)) : base;
  const page = await filtered.go({ limit: query.limit, cursor: checkCursor(caller.workspaceId, query.cursor) ?? null });
  return { items: (page.data as SegmentItem[]).map(toSegment), nextCursor: page.cursor ?? null };
}

export async function getSegment(deps: CoreDeps, caller: CallerContext, segmentId: string): Promise<Segment> {
  return toSegment(await readSegment(deps, caller, segmentId));
}

/** A segment's members, latest joined first or by name: one Query per page of the member index. */
export async function listMembers(deps: CoreDeps, caller: CallerContext, segmentId: string, query: ListMembersQuery): Promise<Page<SegmentMember>> {
  const key = { workspaceId: caller.workspaceId, segmentId };
  const cursor = checkCursor(caller.workspaceId, query.cursor) ?? null;
  const [segment, page] = await Promise.all([
    findSegment(deps, caller.workspaceId, segmentId),
    query.sort === 'name'
      ? deps.db.entities.segmentMember.query.byName(key).go({ limit: query.limit, cursor })
      : deps.db.entities.segmentMember.query.byJoined(key).go({ limit: query.limit, cursor, order: 'desc' }),
  ]);
  if (!segment) throw notFound('Segment');
  type Stored = { joinedAt: string; reason: SegmentMember['reason']; summary: ContactSearchHit };
  return {
    items: (page.data as Stored[]).map((member) => ({ contact: storedHit(member.summary), joinedAt: member.joinedAt, reason: member.reason })),
    nextCursor: page.cursor ?? null,
  };
}

/** The segments a contact is in, by name: its memberships item and the workspace's segments, read at once. */
export async function listContactSegments(deps: CoreDeps, caller: CallerContext, contactId: string): Promise<ContactSegments> {
  const [contact, memberships, segments] = await Promise.all([
    deps.db.entities.contact.get({ workspaceId: caller.workspaceId, contactId }).go(),
    readContactSegments(deps, caller.workspaceId, contactId),
    readWorkspaceSegments(deps, caller.workspaceId),
  ]);
  if (!contact.data) throw notFound('Contact');
  const byId = new Map(segments.map((segment) => [segment.segmentId, segment]));
  const items = Object.entries(memberships?.segments ?? {}).flatMap(([segmentId, membership]) => {
    const segment = byId.get(segmentId);
    return segment ? [{ segmentId, name: segment.name, kind: segment.kind, joinedAt: membership.joinedAt, reason: membership.reason }] : [];
  });
  return { items: items.sort((a, b) => a.name.localeCompare(b.name) || a.segmentId.localeCompare(b.segmentId)) };
}

// ---------------------------------------------------------------------------------------------
// Rules

/** What a rule of this workspace may name: its contact custom fields, and its products' fit scores. */
export async function ruleCatalogue(deps: CoreDeps, workspaceId: string): Promise<RuleCatalogue> {
  const [fields, products] = await Promise.all([
    loadCustomFieldDefinitions(deps, workspaceId, 'contact'),
    deps.db.entities.product.query.byWorkspace({ workspaceId }).go({ pages: 'all', attributes: ['productId'] }),
  ]);
  return {
    // Only a select field has options: the others come with `options: []`, which would leave a text field no value to equal.
    customFields: fields.map((field) => ({
      key: field.key,
      type: field.type,
      ...(field.type === 'select' ? { options: field.options.map((option) => option.value) } : {}),
    })),
    productIds: (products.data as { productId: string }[]).map((product) => product.productId),
  };
}

/** A 400 naming every bad part of the rule (`body.rule.all.0.value`), or nothing. */
export async function assertValidRule(deps: CoreDeps, workspaceId: string, rule: SegmentRule, field = 'body.rule'): Promise<void> {
  const problems = validateRule(rule, await ruleCatalogue(deps, workspaceId));
  if (problems.length === 0) return;
  throw new DomainError('validation_failed', 'The rule is invalid', {
    fields: problems.map((problem) => ({ field: problem.path === '(rule)' ? field : `${field}.${problem.path}`, message: problem.message })),
  });
}

/** Rules whose answer moves without the contact changing: relative dates, and company fields (a company change reaches them at the next recompute). */
export const ruleDrifts = (rule: SegmentRule) => ruleDriftsWithTime(rule) || [...fieldsOfRule(rule)].some((field) => field.startsWith('company.'));

/** The gsi4 keys that put a drifting segment on the schedule's list. */
const driftKeys = (workspaceId: string, segmentId: string, rule: SegmentRule | undefined) =>
  rule && ruleDrifts(rule) ? { driftScope: 'SEGMENTS#DRIFTING', driftKey: `${workspaceId}#${segmentId}` } : {};

// ---------------------------------------------------------------------------------------------
// Creating, changing, deleting

/** The guard scope of the slots that cap a workspace's dynamic segments. */
export const dynamicSegmentSlotScope = 'dynamic-segment-slot';

/** The cap on dynamic segments (a test lowers it). */
export const segmentSettings = { maxDynamicSegments };

/**
 * Creates a segment. A dynamic one is checked against the field catalogue (a 400 names each bad part
 * of the rule) and the cap of `maxDynamicSegments`, and is written with the job that applies its rule
 * to every contact (`segment_membership`), in one transaction: it fills within moments.
 */
export async function createSegment(deps: CoreDeps, caller: CallerContext, input: CreateSegmentInput): Promise<Segment> {
  if (input.kind === 'dynamic') await assertValidRule(deps, caller.workspaceId, input.rule!);
  return retryLostRaces(async () => {
    const slot = input.kind === 'dynamic' ? await freeDynamicSlot(deps, caller.workspaceId) : undefined;
    return writeNewSegment(deps, caller, input, slot);
  });
}

/**
 * The lowest slot (1..cap) no dynamic segment holds, or a 422 at the cap. Each dynamic segment holds
 * its slot's guard item: two creates that read the same free slot collide on it, and the loser runs
 * again from the read, so concurrent creates never pass the cap.
 */
async function freeDynamicSlot(deps: CoreDeps, workspaceId: string): Promise<number> {
  const dynamic = (await readWorkspaceSegments(deps, workspaceId)).filter((segment) => segment.kind === 'dynamic');
  const cap = segmentSettings.maxDynamicSegments;
  const held = new Set(dynamic.map((segment) => segment.slot));
  for (let slot = 1; slot <= cap && dynamic.length < cap; slot += 1) if (!held.has(slot)) return slot;
  throw limitExceeded('body.kind', `A workspace holds at most ${cap} dynamic segments`, cap);
}

const slotGuardKey = (workspaceId: string, slot: number) => ({ workspaceId, scope: dynamicSegmentSlotScope, value: String(slot) });

async function writeNewSegment(deps: CoreDeps, caller: CallerContext, input: CreateSegmentInput, slot: number | undefined): Promise<Segment> {
  const now = deps.clock.nowIso();
  const segmentId = deps.newId('seg');
  const jobId = input.kind === 'dynamic' ? newJobId(deps) : undefined;
  const item: SegmentItem = {
    workspaceId: caller.workspaceId,
    segmentId,
    name: input.name,
    ...(input.description ? { description: input.description } : {}),
    kind: input.kind,
    ...(input.rule ? { rule: input.rule } : {}),
    ruleVersion: 1,
    memberCount: 0,
    ...(jobId ? { computeJobId: jobId } : {}),
    ...driftKeys(caller.workspaceId, segmentId, input.rule),
    ...(slot !== undefined ? { slot } : {}),
    createdBy: caller.userId,
    version: 1,
    createdAt: now,
    updatedAt: now,
  };
  const event = newEvent(deps, caller, 'segment.created', segmentRef(segmentId), { name: item.name, kind: item.kind });
  const ops = (tx: Parameters<Parameters<typeof writeTransaction>[1]>[0]) => [
    tx.segment.create(item).commit(),
    appendEvent(tx, event),
    ...(slot !== undefined ? [tx.uniqueGuard.create({ ...slotGuardKey(caller.workspaceId, slot), ownerId: segmentId, createdAt: now }).commit()] : []),
  ];
  if (jobId) {
    const input: SegmentJobInput = { mode: 'rule_change', segmentId, ruleVersion: 1 };
    await createJob(deps, caller, { kind: 'segment_membership', input, jobId }, ops, () => lostRace('The dynamic segments'));
  } else {
    await writeTransaction(deps.db, ops, () => lostRace('The segment'));
  }
  return toSegment(item);
}

/**
 * Changes a segment's name, description or rule (its creator or owner/admin; If-Match honoured). A new
 * rule is checked like a new segment's, bumps `ruleVersion` and starts the job applying it to every
 * contact (a job of the previous rule stops at its next step).
 */
export async function updateSegment(
  deps: CoreDeps,
  caller: CallerContext,
  segmentId: string,
  update: UpdateSegmentInput,
  expectedVersion?: number,
): Promise<Segment> {
  // `rule: null` is a static segment's rule as it is read: sent back, it changes nothing.
  const { rule: givenRule, ...rest } = update;
  const input = { ...rest, ...(givenRule === null || givenRule === undefined ? {} : { rule: givenRule }) };
  if (input.rule !== undefined) await assertValidRule(deps, caller.workspaceId, input.rule);
  return retryLostRaces(async () => {
    const item = await readSegment(deps, caller, segmentId, true);
    assertMayChange(caller, item);
    if (expectedVersion !== undefined && expectedVersion !== item.version) throw stale();
    if (input.rule !== undefined && item.kind === 'static') throw invalid('body.rule', 'A static segment has no rule');
    if (givenRule === null && item.kind === 'dynamic') throw invalid('body.rule', 'A dynamic segment keeps a rule: give the new one');
    const changes: Record<string, { from: unknown; to: unknown }> = {};
    const after: SegmentItem = { ...item, version: item.version + 1, updatedAt: deps.clock.nowIso() };
    if (input.name !== undefined && input.name !== item.name) {
      changes.name = { from: item.name, to: input.name };
      after.name = input.name;
    }
    if (input.description !== undefined) {
      const next = input.description === null || input.description === '' ? undefined : input.description;
      if (next !== item.description) {
        changes.description = { from: item.description ?? null, to: next ?? null };
        if (next === undefined) delete after.description;
        else after.description = next;
      }
    }
    const ruleChanged = input.rule !== undefined && JSON.stringify(input.rule) !== JSON.stringify(item.rule);
    let jobId: string | undefined;
    if (ruleChanged) {
      changes.rule = { from: item.rule ?? null, to: input.rule };
      jobId = newJobId(deps);
      after.rule = input.rule;
      after.ruleVersion = item.ruleVersion + 1;
      after.computeJobId = jobId;
      delete after.driftScope;
      delete after.driftKey;
      Object.assign(after, driftKeys(item.workspaceId, segmentId, input.rule));
    }
    if (Object.keys(changes).length === 0) return toSegment(item);
    const event = newEvent(deps, caller, 'segment.updated', segmentRef(segmentId), { changes });
    const ops = (tx: Parameters<Parameters<typeof writeTransaction>[1]>[0]) => [
      tx.segment
        .put(after)
        .where((attr, { eq }) => eq(attr.version, item.version))
        .commit(),
      appendEvent(tx, event),
    ];
    if (jobId) {
      const jobInput: SegmentJobInput = { mode: 'rule_change', segmentId, ruleVersion: after.ruleVersion };
      await createJob(deps, caller, { kind: 'segment_membership', input: jobInput, jobId }, ops);
    } else {
      await writeTransaction(deps.db, ops, () => lostRace('The segment'));
    }
    return toSegment(after);
  });
}

/**
 * Deletes a segment (its creator or owner/admin): it is gone at once for every read; its members
 * leave it in the background (a `segment_membership` job), with no `segment.left` each (the
 * `segment.deleted` event says it).
 */
export async function deleteSegment(deps: CoreDeps, caller: CallerContext, segmentId: string, expectedVersion?: number): Promise<void> {
  await retryLostRaces(async () => {
    const item = await readSegment(deps, caller, segmentId, true);
    assertMayChange(caller, item);
    if (expectedVersion !== undefined && expectedVersion !== item.version) throw stale();
    const event = newEvent(deps, caller, 'segment.deleted', segmentRef(segmentId), { name: item.name, memberCount: item.memberCount });
    const input: SegmentJobInput = { mode: 'delete', segmentId, ruleVersion: item.ruleVersion };
    await createJob(deps, caller, { kind: 'segment_membership', input }, (tx) => [
      tx.segment
        .delete({ workspaceId: item.workspaceId, segmentId })
        .where((attr, { eq }) => eq(attr.version, item.version))
        .commit(),
      appendEvent(tx, event),
      ...(item.slot !== undefined ? [tx.uniqueGuard.delete(slotGuardKey(item.workspaceId, item.slot)).commit()] : []),
    ]);
  });
}

// ---------------------------------------------------------------------------------------------
// Static members

/**
 * Adds contacts to (or removes them from) a static segment, up to `maxMembersPerRequest` a request:
 * each joins or leaves with a `segment.joined` / `segment.left` (reason `manual`), several contacts per
 * transaction. Contacts already in (or out) are `unchanged`; ids of no contact, or of merged ones, are
 * `notFound`. Safe to repeat.
 */
export async function changeStaticMembers(
  deps: CoreDeps,
  caller: CallerContext,
  segmentId: string,
  input: MemberIdsInput,
  action: 'add' | 'remove',
): Promise<MembersChange> {
  const segment = await readSegment(deps, caller, segmentId, true);
  if (segment.kind !== 'static') {
    throw new DomainError('unprocessable', 'A dynamic segment’s members follow its rule: they are not added or removed by hand', { kind: segment.kind });
  }
  const ids = [...new Set(input.contactIds)];
  const result: MembersChange = { changed: [], unchanged: [], notFound: [], memberCount: segment.memberCount };
  let pending = ids;
  for (let attempt = 1; pending.length > 0; attempt += 1) {
    if (attempt > 10) throw membershipRaced();
    const { contacts, memberships } = await readContactsWithMemberships(deps, caller.workspaceId, pending);
    const plans: ContactPlan[] = [];
    for (const contactId of pending) {
      const contact = contacts.get(contactId);
      if (!contact || contact.mergedInto) {
        result.notFound.push(contactId);
        continue;
      }
      const current = memberships.get(contactId);
      const member = segmentId in (current?.segments ?? {});
      const plan: ContactPlan = {
        contact,
        current,
        joins: action === 'add' && !member ? [segment] : [],
        leaves: action === 'remove' && member ? [segment] : [],
        orphans: [],
        rewrite: false,
        reason: 'manual',
      };
      if (planChanges(plan)) plans.push(plan);
      else result.unchanged.push(contactId);
    }
    const outcome = await applyPlans(deps, caller, plans);
    result.changed.push(...outcome.applied.map((plan) => plan.contact.contactId));
    pending = outcome.raced.map((plan) => plan.contact.contactId);
  }
  const after = await findSegment(deps, caller.workspaceId, segmentId, true);
  if (!after) throw notFound('Segment');
  return { ...result, memberCount: after.memberCount };
}

/** Contacts and their memberships items by id: consistent BatchGetItems of both at once. */
async function readContactsWithMemberships(deps: CoreDeps, workspaceId: string, contactIds: string[]) {
  const keys = contactIds.map((contactId) => ({ workspaceId, contactId }));
  const [contacts, memberships] = await Promise.all([
    batchGetAll(keys, (batch) => deps.db.entities.contact.get(batch).go({ consistent: true })),
    batchGetAll(keys, (batch) => deps.db.entities.contactSegments.get(batch).go({ consistent: true })),
  ]);
  return {
    contacts: new Map((contacts as ContactItem[]).map((item) => [item.contactId, item])),
    memberships: new Map((memberships as ContactSegmentsItem[]).map((item) => [item.contactId, item])),
  };
}

// ---------------------------------------------------------------------------------------------
// Preview

/** How long a preview reads contacts before it answers with what it has (`complete: false`). */
export const previewSettings = { budgetMs: 6_000, sampleSize: 10 };

/**
 * How many contacts a rule matches now, before it is saved: every contact of the workspace read in
 * pages (as a recompute reads them) and the rule evaluated on each, within `previewSettings.budgetMs`.
 */
export async function previewRule(deps: CoreDeps, caller: CallerContext, rule: SegmentRule): Promise<Preview> {
  await assertValidRule(deps, caller.workspaceId, rule);
  const readsCompany = [...fieldsOfRule(rule)].some((field) => field.startsWith('company.'));
  const nowMs = deps.clock.nowMs();
  const started = performance.now();
  const preview: Preview = { count: 0, scanned: 0, complete: false, sample: [] };
  let startKey: Record<string, unknown> | undefined;
  for (;;) {
    const page = await readContactPage(deps, caller.workspaceId, startKey, { withCompanies: readsCompany });
    for (const entry of page.entries) countMatch(preview, entry, rule, nowMs, page.companies);
    startKey = page.nextStartKey;
    if (!startKey) {
      preview.complete = true;
      return preview;
    }
    if (performance.now() - started > previewSettings.budgetMs) return preview;
  }
}

function countMatch(preview: Preview, entry: ContactPageEntry, rule: SegmentRule, nowMs: number, companies: ReadonlyMap<string, CompanyItem>) {
  const { contact } = entry;
  preview.scanned += 1;
  if (contact.mergedInto) return;
  const company = contact.companyId ? (companies.get(contact.companyId) ?? null) : null;
  if (!ruleMatches(rule, { contact, company }, nowMs)) return;
  preview.count += 1;
  if (preview.sample.length < previewSettings.sampleSize) preview.sample.push(toSummary(contact));
}

// ---------------------------------------------------------------------------------------------
// The schedule

/**
 * The scheduled recompute (`recompute-segments`): one `segment_membership` job per workspace holding a
 * dynamic segment whose answer moves without its contacts changing (relative dates, company fields),
 * found on the sparse drifting index. Returns the workspaces.
 */
export async function enqueueSegmentRecomputes(deps: CoreDeps): Promise<string[]> {
  const { data } = await deps.db.entities.segment.query.drifting({ driftScope: 'SEGMENTS#DRIFTING' }).go({ pages: 'all', attributes: ['workspaceId'] });
  const workspaces = [...new Set((data as { workspaceId: string }[]).map((item) => item.workspaceId))];
  for (const workspaceId of workspaces) {
    const input: SegmentJobInput = { mode: 'recompute' };
    await createJob(deps, systemActor(workspaceId), { kind: 'segment_membership', input });
  }
  return workspaces;
}
