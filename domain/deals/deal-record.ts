import type { CoreDeps } from '../shared/deps';
import { notFound } from '../shared/errors';
import { totalBucket } from '../pipelines/pipeline-record';
import type { DealStatus } from './deal.entity';
import type { Deal } from './deals.schemas';

/** The deal item as stored. */
export interface DealItem {
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
  statusKey: DealStatus;
  lostReason?: string;
  customFields?: Record<string, unknown>;
  stageEnteredAt: string;
  boardKey: string;
  closedAt?: string;
  createdBy: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export function toDeal(item: DealItem): Deal {
  return {
    id: item.dealId,
    title: item.title,
    value: item.value ?? null,
    currency: item.currency ?? null,
    expectedCloseDate: item.expectedCloseDate ?? null,
    contactId: item.contactId ?? null,
    companyId: item.companyId ?? null,
    ownerId: item.ownerId ?? null,
    pipelineId: item.pipelineId,
    stageId: item.stageId,
    statusKey: item.statusKey,
    lostReason: item.lostReason ?? null,
    customFields: item.customFields ?? {},
    stageEnteredAt: item.stageEnteredAt,
    closedAt: item.closedAt ?? null,
    createdBy: item.createdBy,
    version: item.version,
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
  };
}

/** The board column's sort key: when the deal entered its stage, then its id (stable, unique). */
export const boardKeyOf = (stageEnteredAt: string, dealId: string) => `${stageEnteredAt}#${dealId}`;

export async function findDeal(deps: CoreDeps, workspaceId: string, dealId: string): Promise<DealItem | undefined> {
  const { data } = await deps.db.entities.deal.get({ workspaceId, dealId }).go({ consistent: true });
  return (data as DealItem | null) ?? undefined;
}

export async function readDeal(deps: CoreDeps, workspaceId: string, dealId: string): Promise<DealItem> {
  const deal = await findDeal(deps, workspaceId, dealId);
  if (!deal) throw notFound('Deal');
  return deal;
}

// ---------------------------------------------------------------------------------------------
// List entries

export const dealLists = {
  all: () => 'all',
  status: (status: DealStatus) => `status:${status}`,
  pipeline: (pipelineId: string) => `pipeline:${pipelineId}`,
  stage: (pipelineId: string, stageId: string) => `stage:${pipelineId}:${stageId}`,
  owner: (ownerId: string | undefined) => `owner:${ownerId ?? 'none'}`,
  contact: (contactId: string) => `contact:${contactId}`,
  company: (companyId: string) => `company:${companyId}`,
};

/**
 * Sort keys. Values are zero-padded to a fixed width (15 digits, the most `value` allows) so string
 * order is numeric order; a deal without a value or close date sorts before every one with it.
 */
export const valueKeyOf = (value: number | undefined) =>
  value === undefined ? '0' : `1${String(value).padStart(15, '0')}`;
export const closeKeyOf = (date: string | undefined) => (date === undefined ? '0' : `1${date}`);

export interface DealListEntry {
  workspaceId: string;
  list: string;
  dealId: string;
  valueKey: string;
  closeKey: string;
  updatedKey: string;
  deal: Deal;
}

/** Every list a deal is in, each one entry serving the three sorts. At most 7. */
export function listEntriesOf(item: DealItem): DealListEntry[] {
  const lists = [
    dealLists.all(),
    dealLists.status(item.statusKey),
    dealLists.pipeline(item.pipelineId),
    dealLists.stage(item.pipelineId, item.stageId),
    dealLists.owner(item.ownerId),
  ];
  if (item.contactId) lists.push(dealLists.contact(item.contactId));
  if (item.companyId) lists.push(dealLists.company(item.companyId));
  const deal = toDeal(item);
  return lists.map((list) => ({
    workspaceId: item.workspaceId,
    list,
    dealId: item.dealId,
    valueKey: valueKeyOf(item.value),
    closeKey: closeKeyOf(item.expectedCloseDate),
    updatedKey: item.updatedAt,
    deal,
  }));
}

/** An entry's table key: a change of list or value moves the entry (delete + put). */
export const entryKey = (entry: Pick<DealListEntry, 'list' | 'valueKey' | 'dealId'>) =>
  `${entry.list}|${entry.valueKey}|${entry.dealId}`;

// ---------------------------------------------------------------------------------------------
// Stage statistics

export interface StatsDelta {
  pipelineId: string;
  stageId: string;
  bucket: string;
  count: number;
  sum: number;
}

/** What a deal contributes to its stage's stats: +1 to the total, +1 and +value in its currency. */
function contribution(item: DealItem | undefined, sign: 1 | -1): StatsDelta[] {
  if (!item) return [];
  const { pipelineId, stageId } = item;
  const deltas: StatsDelta[] = [{ pipelineId, stageId, bucket: totalBucket, count: sign, sum: 0 }];
  if (item.value !== undefined && item.currency) {
    deltas.push({ pipelineId, stageId, bucket: item.currency, count: sign, sum: sign * item.value });
  }
  return deltas;
}

/**
 * The atomic ADDs a change from `before` to `after` makes to the stage stats: the old contribution
 * taken away, the new one added, netted per item; items left unchanged are not touched.
 */
export function statsDeltas(before: DealItem | undefined, after: DealItem | undefined): StatsDelta[] {
  const byKey = new Map<string, StatsDelta>();
  for (const delta of [...contribution(before, -1), ...contribution(after, 1)]) {
    const key = `${delta.pipelineId}|${delta.stageId}|${delta.bucket}`;
    const current = byKey.get(key);
    if (current) {
      current.count += delta.count;
      current.sum += delta.sum;
    } else byKey.set(key, { ...delta });
  }
  return [...byKey.values()].filter((delta) => delta.count !== 0 || delta.sum !== 0);
}
