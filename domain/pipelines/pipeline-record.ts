import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { CallerContext } from '../shared/context';
import { systemActor } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import { notFound } from '../shared/errors';
import type { TxEntities } from '../store/db';
import { writeTransaction } from '../store/transaction';
import { appendEvent, newEvent, type EventRecord } from '../../events/event-log';
import type { StageKind } from './pipeline.entity';
import type { Pipeline } from './pipelines.schemas';

export interface StageItem {
  stageId: string;
  name: string;
  kind: StageKind;
  createdAt: string;
  updatedAt: string;
  /** Set while the stage's deals are being moved out before it is removed. */
  removal?: { moveDealsTo: string; startedAt: string };
}

/** The pipeline item as stored. */
export interface PipelineItem {
  workspaceId: string;
  pipelineId: string;
  name: string;
  listKey: string;
  isDefault: boolean;
  stages: StageItem[];
  createdBy: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** The stats bucket holding a stage's deal count (other buckets are currency codes). */
export const totalBucket = 'TOTAL';

/** At most this many stages per pipeline: a board is one Query per stage. */
export const maxStagesPerPipeline = 30;

/**
 * Every workspace's default pipeline has this id (and fixed stage ids), so creating it is idempotent:
 * the workspace's creation writes it, and a workspace created before pipelines existed gets it on
 * first use (`readPipeline`, `listPipelines`, a deal created without a pipeline).
 */
export const defaultPipelineId = 'pl_default';
export const defaultStages: { stageId: string; name: string; kind: StageKind }[] = [
  { stageId: 'st_open', name: 'Open', kind: 'open' },
  { stageId: 'st_negotiating', name: 'Negotiating', kind: 'open' },
  { stageId: 'st_won', name: 'Won', kind: 'won' },
  { stageId: 'st_lost', name: 'Lost', kind: 'lost' },
];

export const pipelineListKey = (pipelineId: string, createdAt: string, isDefault: boolean) =>
  isDefault ? `0#${pipelineId}` : `1#${createdAt}#${pipelineId}`;

export function toPipeline(item: PipelineItem): Pipeline {
  return {
    id: item.pipelineId,
    name: item.name,
    isDefault: item.isDefault,
    stages: item.stages.map((stage, index) => ({
      id: stage.stageId,
      name: stage.name,
      kind: stage.kind,
      sortIndex: index,
      removing: stage.removal ? { moveDealsTo: stage.removal.moveDealsTo, startedAt: stage.removal.startedAt } : null,
      updatedAt: stage.updatedAt,
    })),
    createdBy: item.createdBy,
    version: item.version,
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
  };
}

/** The transaction items that create a pipeline: the pipeline, one total stats item per stage, its event if given. */
export function createPipelineOps(item: PipelineItem, event: EventRecord | undefined) {
  return [
    (tx: TxEntities) => tx.pipeline.create(item).commit(),
    ...item.stages.map(
      (stage) => (tx: TxEntities) =>
        tx.stageStats
          .create({
            workspaceId: item.workspaceId,
            pipelineId: item.pipelineId,
            stageId: stage.stageId,
            bucket: totalBucket,
            count: 0,
          })
          .commit(),
    ),
    ...(event ? [(tx: TxEntities) => appendEvent(tx, event)] : []),
  ];
}

export const pipelineCreatedEvent = (
  deps: Pick<CoreDeps, 'clock' | 'newId'>,
  caller: CallerContext,
  item: PipelineItem,
) =>
  newEvent(deps, caller, 'pipeline.created', { type: 'pipeline', id: item.pipelineId }, {
    name: item.name,
    stages: item.stages.map(({ stageId, name, kind }) => ({ stageId, name, kind })),
  });

export function defaultPipelineItem(workspaceId: string, now: string, createdBy = 'system'): PipelineItem {
  return {
    workspaceId,
    pipelineId: defaultPipelineId,
    name: 'Sales',
    listKey: pipelineListKey(defaultPipelineId, now, true),
    isDefault: true,
    stages: defaultStages.map((stage) => ({ ...stage, createdAt: now, updatedAt: now })),
    createdBy,
    version: 1,
    createdAt: now,
    updatedAt: now,
  };
}

/**
 * The default pipeline's items, for the transaction that creates a workspace (where `workspace.created`
 * stands for it: no event of its own) or, with `event`, for a later creation on first use.
 */
export function defaultPipelineOps(
  deps: Pick<CoreDeps, 'clock' | 'newId'>,
  workspaceId: string,
  now: string,
  options: { event?: boolean } = {},
) {
  const item = defaultPipelineItem(workspaceId, now);
  return createPipelineOps(item, options.event ? pipelineCreatedEvent(deps, systemActor(workspaceId), item) : undefined);
}

/** Creates the default pipeline if the workspace has none yet; a concurrent creation is as good. */
export async function ensureDefaultPipeline(deps: CoreDeps, workspaceId: string): Promise<void> {
  const ops = defaultPipelineOps(deps, workspaceId, deps.clock.nowIso(), { event: true });
  try {
    await writeTransaction(
      deps.db,
      (tx) => ops.map((op) => op(tx)),
      () => new AlreadyThere(),
    );
  } catch (error) {
    if (!(error instanceof AlreadyThere)) throw error;
  }
}

class AlreadyThere extends Error {}

/** One GetItem (consistent); undefined when the workspace has no such pipeline. */
export async function findPipeline(
  deps: CoreDeps,
  workspaceId: string,
  pipelineId: string,
): Promise<PipelineItem | undefined> {
  const read = async () => {
    const { data } = await deps.db.entities.pipeline.get({ workspaceId, pipelineId }).go({ consistent: true });
    return (data as PipelineItem | null) ?? undefined;
  };
  const item = await read();
  if (item || pipelineId !== defaultPipelineId) return item;
  await ensureDefaultPipeline(deps, workspaceId);
  return read();
}

export async function readPipeline(deps: CoreDeps, workspaceId: string, pipelineId: string): Promise<PipelineItem> {
  const item = await findPipeline(deps, workspaceId, pipelineId);
  if (!item) throw notFound('Pipeline');
  return item;
}

export interface StageStats {
  count: number;
  /** Per currency: deals and their value sum (minor units). */
  sums: { currency: string; count: number; value: number }[];
}

/**
 * The pipeline and every stats item of it: one Query of the pipeline's partition (consistent), which
 * holds both, so a board's counts and sums cost no read beyond the pipeline's own. 404 when absent.
 */
export async function readPipelineWithStats(
  deps: CoreDeps,
  workspaceId: string,
  pipelineId: string,
): Promise<{ pipeline: PipelineItem; stats: Map<string, StageStats> }> {
  const { entities, client, table } = deps.db;
  const read = async () => {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await client.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': `WS#${workspaceId}#PIPELINE#${pipelineId}` },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...((page.Items ?? []) as Record<string, unknown>[]));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    const pipelineItem = items.find((item) => item.__edb_e__ === 'pipeline');
    const statsItems = items.filter((item) => item.__edb_e__ === 'stageStats');
    return {
      pipeline: pipelineItem ? (entities.pipeline.parse({ Item: pipelineItem }).data as PipelineItem | null) : null,
      stats: foldStageStats(statsItems.map((Item) => entities.stageStats.parse({ Item }).data!)),
    };
  };
  let found = await read();
  if (!found.pipeline && pipelineId === defaultPipelineId) {
    await ensureDefaultPipeline(deps, workspaceId);
    found = await read();
  }
  if (!found.pipeline) throw notFound('Pipeline');
  return { pipeline: found.pipeline, stats: found.stats };
}

function foldStageStats(data: { stageId: string; bucket: string; count?: number; sum?: number }[]): Map<string, StageStats> {
  const stats = new Map<string, StageStats>();
  const of = (stageId: string) => {
    let entry = stats.get(stageId);
    if (!entry) stats.set(stageId, (entry = { count: 0, sums: [] }));
    return entry;
  };
  for (const item of data) {
    const entry = of(item.stageId);
    if (item.bucket === totalBucket) entry.count = item.count ?? 0;
    else if ((item.count ?? 0) !== 0 || (item.sum ?? 0) !== 0)
      entry.sums.push({ currency: item.bucket, count: item.count ?? 0, value: item.sum ?? 0 });
  }
  for (const entry of stats.values()) entry.sums.sort((a, b) => a.currency.localeCompare(b.currency));
  return stats;
}
