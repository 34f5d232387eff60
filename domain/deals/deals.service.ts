import { findCompany } from '../companies/company-record';
import { loadCustomFieldDefinitions, validateCustomFieldValues } from '../custom-fields/custom-field-values';
import type { ContactItem } from '../contacts/contact-record';
import { isManager, type CallerContext } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import { conflict, DomainError, forbidden, invalid, invalidReference, stale } from '../shared/errors';
import { newEvent, type EventRecord } from '../../events/event-log';
import { defaultPipelineId, readPipeline, type PipelineItem, type StageItem } from '../pipelines/pipeline-record';
import type { DealStatus } from './deal.entity';
import { boardKeyOf, readDeal, toDeal, type DealItem } from './deal-record';
import { commitDeal } from './deal-write';
import type {
  ChangeStageInput,
  CreateDealInput,
  Deal,
  MarkLostInput,
  ReopenInput,
  UpdateDealInput,
} from './deals.schemas';

/** A merge chain longer than this is a bug, not data: stop following it. */
const maxMergeHops = 5;

const dealRef = (dealId: string) => ({ type: 'deal' as const, id: dealId });
/** A deal's events are on its own log and on its contact's and company's timelines. */
export const dealSubjects = (item: Pick<DealItem, 'dealId' | 'contactId' | 'companyId'>) => ({
  dealId: item.dealId,
  contactId: item.contactId,
  companyId: item.companyId,
});

// ---------------------------------------------------------------------------------------------
// Reading

export async function getDeal(deps: CoreDeps, caller: CallerContext, dealId: string): Promise<Deal> {
  return toDeal(await readDeal(deps, caller.workspaceId, dealId));
}

// ---------------------------------------------------------------------------------------------
// Rules

/** Seed 000 ownership, as for contacts: owner/admin write any deal; a member their own or unclaimed ones. */
export function assertCanWriteDeal(caller: CallerContext, item: Pick<DealItem, 'ownerId'>): void {
  if (isManager(caller) || !item.ownerId || item.ownerId === caller.userId) return;
  throw forbidden('This deal is claimed by another user: only they, an owner or an admin can change it');
}

async function assertAssignableOwner(deps: CoreDeps, caller: CallerContext, ownerId: string) {
  if (!isManager(caller) && ownerId !== caller.userId) throw forbidden('A member can only make themselves the owner');
  const { data } = await deps.db.entities.user.get({ workspaceId: caller.workspaceId, userId: ownerId }).go();
  if (!data || data.status !== 'active') throw invalidReference('body.ownerId', 'No active user with this id in the workspace');
}

/** The contact a deal links to: one of the workspace; a merged one's link goes to where it was merged. */
async function linkableContact(deps: CoreDeps, workspaceId: string, contactId: string): Promise<string> {
  let id = contactId;
  for (let hop = 0; hop <= maxMergeHops; hop += 1) {
    const { data } = await deps.db.entities.contact.get({ workspaceId, contactId: id }).go();
    const contact = data as ContactItem | null;
    if (!contact) throw invalidReference('body.contactId', 'No contact with this id in the workspace');
    if (!contact.mergedInto) return contact.contactId;
    id = contact.mergedInto;
  }
  throw invalidReference('body.contactId', 'This contact was merged too many times over: link the contact it ended in');
}

async function contactCompanyId(deps: CoreDeps, workspaceId: string, contactId: string) {
  const { data } = await deps.db.entities.contact.get({ workspaceId, contactId }).go();
  return (data as ContactItem | null)?.companyId;
}

/** The company a deal links to: one of the workspace, not archived; a merged one's link goes to the survivor. */
async function linkableCompany(deps: CoreDeps, workspaceId: string, companyId: string): Promise<string> {
  let id = companyId;
  for (let hop = 0; hop <= maxMergeHops; hop += 1) {
    const company = await findCompany(deps, workspaceId, id);
    if (!company) throw invalidReference('body.companyId', 'No company with this id in the workspace');
    if (company.status === 'active') return company.companyId;
    if (!company.mergedInto) {
      throw invalidReference('body.companyId', 'This company is archived: unarchive it to link deals to it');
    }
    id = company.mergedInto;
  }
  throw invalidReference('body.companyId', 'This company was merged too many times over: link the company it ended in');
}

/** A stage a deal may enter: of the pipeline and not being removed. */
function enterableStage(pipeline: PipelineItem, stageId: string, field: string): StageItem {
  const stage = pipeline.stages.find((candidate) => candidate.stageId === stageId);
  if (!stage) throw invalidReference(field, `The pipeline ${pipeline.pipelineId} has no stage with this id`);
  if (stage.removal) {
    throw conflict('stage_removing', 'This stage is being removed: deals cannot enter it', {
      fields: [{ field, message: `Being removed; its deals move to ${stage.removal.moveDealsTo}` }],
    });
  }
  return stage;
}

async function pipelineFor(deps: CoreDeps, workspaceId: string, pipelineId: string, field: string) {
  try {
    return await readPipeline(deps, workspaceId, pipelineId);
  } catch (error) {
    if (error instanceof DomainError && error.code === 'not_found')
      throw invalidReference(field, 'No pipeline with this id in the workspace');
    throw error;
  }
}

const stageOfKind = (pipeline: PipelineItem, kind: 'won' | 'lost') => pipeline.stages.find((stage) => stage.kind === kind)!;
const firstOpenStage = (pipeline: PipelineItem) =>
  pipeline.stages.find((stage) => stage.kind === 'open' && !stage.removal);

function checkValue(value: number | undefined, currency: string | undefined) {
  if (value !== undefined && !currency) throw invalid('body.currency', 'Give the currency of the value (ISO 4217, e.g. EUR)');
}

// ---------------------------------------------------------------------------------------------
// Writing

/** A new open deal as stored (also what seeds of benches and tests write). */
export function newDealItem(args: {
  workspaceId: string;
  dealId: string;
  title: string;
  value?: number;
  currency?: string;
  expectedCloseDate?: string;
  contactId?: string;
  companyId?: string;
  ownerId?: string;
  pipelineId: string;
  stageId: string;
  customFields?: Record<string, unknown>;
  createdBy: string;
  now: string;
}): DealItem {
  const optional = (['value', 'currency', 'expectedCloseDate', 'contactId', 'companyId', 'ownerId'] as const).filter(
    (field) => args[field] !== undefined,
  );
  return {
    workspaceId: args.workspaceId,
    dealId: args.dealId,
    title: args.title,
    ...Object.fromEntries(optional.map((field) => [field, args[field]])),
    pipelineId: args.pipelineId,
    stageId: args.stageId,
    statusKey: 'open',
    customFields: args.customFields ?? {},
    stageEnteredAt: args.now,
    boardKey: boardKeyOf(args.now, args.dealId),
    createdBy: args.createdBy,
    version: 1,
    createdAt: args.now,
    updatedAt: args.now,
  };
}

/** Seed 001 Deal.create(): in an open stage (by default the first of the default pipeline). Appends `deal.created`. */
export async function createDeal(deps: CoreDeps, caller: CallerContext, input: CreateDealInput): Promise<Deal> {
  const { item, events } = await planNewDeal(deps, caller, input);
  await commitDeal(deps, undefined, item, events);
  return toDeal(item);
}

/**
 * A new deal's item and event, checked against the pipeline, contact, company and custom fields, not
 * yet written: `createDeal` commits it alone, a lead's review inside its own transaction (`dealChangeOps`).
 */
export async function planNewDeal(
  deps: CoreDeps,
  caller: CallerContext,
  input: CreateDealInput,
): Promise<{ item: DealItem; events: EventRecord[] }> {
  const { workspaceId } = caller;
  const value = input.value ?? undefined;
  const currency = input.currency ?? undefined;
  checkValue(value, currency);
  if (input.ownerId) await assertAssignableOwner(deps, caller, input.ownerId);
  const pipeline = await pipelineFor(deps, workspaceId, input.pipelineId ?? defaultPipelineId, 'body.pipelineId');
  const stage = input.stageId ? enterableStage(pipeline, input.stageId, 'body.stageId') : firstOpenStage(pipeline);
  if (!stage || stage.kind !== 'open') {
    throw invalid('body.stageId', 'Create a deal in an open stage, then mark it won or lost');
  }
  const contactId = input.contactId ? await linkableContact(deps, workspaceId, input.contactId) : undefined;
  let companyId: string | undefined;
  if (input.companyId) companyId = await linkableCompany(deps, workspaceId, input.companyId);
  else if (input.companyId === undefined && contactId) companyId = await contactCompanyId(deps, workspaceId, contactId);
  const definitions = await loadCustomFieldDefinitions(deps, workspaceId, 'deal');
  const customFields = validateCustomFieldValues(definitions, input.customFields, 'create');

  const now = deps.clock.nowIso();
  const item = newDealItem({
    workspaceId,
    dealId: deps.newId('dl'),
    title: input.title,
    value,
    currency,
    expectedCloseDate: input.expectedCloseDate ?? undefined,
    contactId,
    companyId,
    ownerId: input.ownerId ?? undefined,
    pipelineId: pipeline.pipelineId,
    stageId: stage.stageId,
    customFields,
    createdBy: caller.userId,
    now,
  });
  const dealId = item.dealId;
  const event = newEvent(
    deps,
    caller,
    'deal.created',
    dealRef(dealId),
    {
      title: item.title,
      value: item.value ?? null,
      currency: item.currency ?? null,
      pipelineId: item.pipelineId,
      stageId: item.stageId,
      ownerId: item.ownerId ?? null,
      contactId: item.contactId ?? null,
      companyId: item.companyId ?? null,
    },
    dealSubjects(item),
  );
  return { item, events: [event] };
}

const changeFields = [
  'title',
  'value',
  'currency',
  'expectedCloseDate',
  'contactId',
  'companyId',
  'ownerId',
  'lostReason',
  'customFields',
] as const;

export function dealChanges(before: DealItem, after: DealItem) {
  const changes: Record<string, { from: unknown; to: unknown }> = {};
  for (const field of changeFields) {
    const from = before[field] ?? null;
    const to = after[field] ?? null;
    if (JSON.stringify(from) !== JSON.stringify(to)) changes[field] = { from, to };
  }
  return changes;
}

/**
 * Changes a deal under the rules of every deal write: read (consistent), check If-Match, authorise
 * (default: the caller may write the deal), apply, commit on the version read. `change` returns
 * undefined when the deal is already as asked: repeating a request changes nothing.
 */
export async function changeDeal(
  deps: CoreDeps,
  caller: CallerContext,
  dealId: string,
  change: (before: DealItem, now: string) => Promise<{ after: DealItem; events: EventRecord[] } | undefined>,
  options: { expectedVersion?: number; authorise?: (before: DealItem) => void; before?: DealItem } = {},
): Promise<Deal> {
  const before = options.before ?? (await readDeal(deps, caller.workspaceId, dealId));
  if (options.expectedVersion !== undefined && options.expectedVersion !== before.version) throw stale();
  (options.authorise ?? ((item) => assertCanWriteDeal(caller, item)))(before);
  const now = deps.clock.nowIso();
  const result = await change(before, now);
  if (!result) return toDeal(before);
  const after = { ...result.after, version: before.version + 1, updatedAt: now };
  await commitDeal(deps, before, after, result.events);
  return toDeal(after);
}

/** null removes a custom field's value; other keys are set. */
function mergeCustomFields(current: Record<string, unknown> | undefined, patch: Record<string, unknown>) {
  const result: Record<string, unknown> = { ...(current ?? {}) };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = value;
  }
  return result;
}

/** Sets or clears (null) an optional field; undefined keeps it. */
function apply<K extends keyof DealItem>(item: DealItem, field: K, value: DealItem[K] | null | undefined) {
  if (value === undefined) return;
  if (value === null) delete item[field];
  else item[field] = value;
}

/** A partial update (If-Match honoured); stage and status change through their own operations. Appends `deal.updated`. */
export function updateDeal(
  deps: CoreDeps,
  caller: CallerContext,
  dealId: string,
  input: UpdateDealInput,
  expectedVersion?: number,
): Promise<Deal> {
  const { workspaceId } = caller;
  return changeDeal(
    deps,
    caller,
    dealId,
    async (before) => {
      const after: DealItem = { ...before };
      apply(after, 'title', input.title);
      apply(after, 'value', input.value);
      apply(after, 'currency', input.currency);
      apply(after, 'expectedCloseDate', input.expectedCloseDate);
      checkValue(after.value, after.currency);
      if (input.lostReason !== undefined) {
        if (before.statusKey !== 'lost' && input.lostReason !== null) {
          throw invalid('body.lostReason', 'Only a lost deal has a lost reason: mark it lost with a reason');
        }
        apply(after, 'lostReason', input.lostReason || null);
      }
      if (input.contactId !== undefined && input.contactId !== (before.contactId ?? null)) {
        apply(after, 'contactId', input.contactId && (await linkableContact(deps, workspaceId, input.contactId)));
      }
      if (input.companyId !== undefined && input.companyId !== (before.companyId ?? null)) {
        apply(after, 'companyId', input.companyId && (await linkableCompany(deps, workspaceId, input.companyId)));
      }
      if (input.ownerId !== undefined && input.ownerId !== (before.ownerId ?? null)) {
        if (input.ownerId !== null) await assertAssignableOwner(deps, caller, input.ownerId);
        apply(after, 'ownerId', input.ownerId);
      }
      if (input.customFields !== undefined) {
        const definitions = await loadCustomFieldDefinitions(deps, workspaceId, 'deal');
        const values = validateCustomFieldValues(definitions, input.customFields, 'update');
        after.customFields = mergeCustomFields(before.customFields, values);
      }
      const changes = dealChanges(before, after);
      if (Object.keys(changes).length === 0) return undefined;
      // The event is about the records the deal is linked to now and was before.
      const event = newEvent(deps, caller, 'deal.updated', dealRef(dealId), { changes }, dealSubjects(after));
      const events = [event];
      if (before.contactId && before.contactId !== after.contactId) {
        events.push(newEvent(deps, caller, 'deal.updated', dealRef(dealId), { changes }, { dealId, contactId: before.contactId }));
      }
      if (before.companyId && before.companyId !== after.companyId) {
        events.push(newEvent(deps, caller, 'deal.updated', dealRef(dealId), { changes }, { dealId, companyId: before.companyId }));
      }
      return { after, events: events.slice(0, 3) };
    },
    { expectedVersion },
  );
}

/**
 * The deal after a move to `stage` of `pipeline`, and its events: `deal.stage_changed` (from / to),
 * plus `deal.won` / `deal.lost` when it enters the won / lost stage and `deal.reopened` when it
 * leaves them for an open stage. Undefined when the deal is already there.
 */
export function moveTo(
  deps: CoreDeps,
  caller: CallerContext,
  before: DealItem,
  pipeline: PipelineItem,
  stage: StageItem,
  now: string,
  lostReason?: string,
): { after: DealItem; events: EventRecord[] } | undefined {
  if (before.pipelineId === pipeline.pipelineId && before.stageId === stage.stageId) return undefined;
  const status: DealStatus = stage.kind;
  const after: DealItem = {
    ...before,
    pipelineId: pipeline.pipelineId,
    stageId: stage.stageId,
    statusKey: status,
    stageEnteredAt: now,
    boardKey: boardKeyOf(now, before.dealId),
  };
  if (status === 'open') {
    delete after.closedAt;
    delete after.lostReason;
  } else if (before.statusKey !== status) {
    after.closedAt = now;
    if (status === 'lost' && lostReason) after.lostReason = lostReason;
    if (status === 'won') delete after.lostReason;
  }
  const subjects = dealSubjects(after);
  const ref = dealRef(before.dealId);
  const events = [
    newEvent(
      deps,
      caller,
      'deal.stage_changed',
      ref,
      {
        from: { pipelineId: before.pipelineId, stageId: before.stageId, statusKey: before.statusKey },
        to: { pipelineId: pipeline.pipelineId, stageId: stage.stageId, statusKey: status },
      },
      subjects,
    ),
  ];
  if (status !== before.statusKey) {
    if (status === 'won') {
      events.push(newEvent(deps, caller, 'deal.won', ref, { stageId: stage.stageId, value: after.value ?? null, currency: after.currency ?? null, ownerId: after.ownerId ?? null }, subjects));
    } else if (status === 'lost') {
      events.push(newEvent(deps, caller, 'deal.lost', ref, { stageId: stage.stageId, reason: after.lostReason ?? null, ownerId: after.ownerId ?? null }, subjects));
    } else {
      events.push(newEvent(deps, caller, 'deal.reopened', ref, {
            stageId: stage.stageId,
            previousStatus: before.statusKey as 'won' | 'lost',
            closedAt: before.closedAt ?? null,
            ownerId: before.ownerId ?? null,
            value: before.value ?? null,
            currency: before.currency ?? null,
          }, subjects));
    }
  }
  return { after, events };
}

/** Seed 001 Deal.changeStage(): to any stage of its pipeline, or of another one; the status follows the stage. */
export function changeStage(
  deps: CoreDeps,
  caller: CallerContext,
  dealId: string,
  input: ChangeStageInput,
  expectedVersion?: number,
): Promise<Deal> {
  return changeDeal(
    deps,
    caller,
    dealId,
    async (before, now) => {
      const pipelineId = input.pipelineId ?? before.pipelineId;
      const pipeline = await pipelineFor(deps, caller.workspaceId, pipelineId, 'body.pipelineId');
      const stage = enterableStage(pipeline, input.stageId, 'body.stageId');
      return moveTo(deps, caller, before, pipeline, stage, now);
    },
    { expectedVersion },
  );
}

/** Seed 001 Deal.markWon(): moves the deal to its pipeline's won stage (`deal.won`). */
export function markWon(deps: CoreDeps, caller: CallerContext, dealId: string, expectedVersion?: number) {
  return changeDeal(
    deps,
    caller,
    dealId,
    async (before, now) => {
      const pipeline = await readPipeline(deps, caller.workspaceId, before.pipelineId);
      return moveTo(deps, caller, before, pipeline, stageOfKind(pipeline, 'won'), now);
    },
    { expectedVersion },
  );
}

/** Seed 001 Deal.markLost(): moves the deal to its pipeline's lost stage with the reason (`deal.lost`). */
export function markLost(
  deps: CoreDeps,
  caller: CallerContext,
  dealId: string,
  input: MarkLostInput,
  expectedVersion?: number,
) {
  return changeDeal(
    deps,
    caller,
    dealId,
    async (before, now) => {
      const pipeline = await readPipeline(deps, caller.workspaceId, before.pipelineId);
      return moveTo(deps, caller, before, pipeline, stageOfKind(pipeline, 'lost'), now, input.reason || undefined);
    },
    { expectedVersion },
  );
}

/** Reopens a won or lost deal into an open stage (`deal.reopened`); an open deal is left as it is. */
export function reopenDeal(
  deps: CoreDeps,
  caller: CallerContext,
  dealId: string,
  input: ReopenInput,
  expectedVersion?: number,
) {
  return changeDeal(
    deps,
    caller,
    dealId,
    async (before, now) => {
      // The stage asked for is checked first: one that does not exist is a 422 even for an open deal.
      const pipeline = await readPipeline(deps, caller.workspaceId, before.pipelineId);
      const stage = input.stageId ? enterableStage(pipeline, input.stageId, 'body.stageId') : firstOpenStage(pipeline);
      if (!stage || stage.kind !== 'open') throw invalid('body.stageId', 'Reopen the deal into an open stage');
      if (before.statusKey === 'open') return undefined;
      return moveTo(deps, caller, before, pipeline, stage, now);
    },
    { expectedVersion },
  );
}
