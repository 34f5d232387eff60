import { requireManager, type CallerContext } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import { conflict, invalid, invalidReference, limitExceeded, lostRace, notFound, stale } from '../shared/errors';
import type { Page, PageQuery } from '../shared/pagination';
import type { TxEntities } from '../store/db';
import { writeTransaction } from '../store/transaction';
import { appendEvent, newEvent, type EventRecord } from '../../events/event-log';
import { pageCursor } from '../deals/deal-cursors';
import { moveStageDeals } from '../deals/deal-board.service';
import {
  createPipelineOps,
  defaultPipelineId,
  findPipeline,
  ensureDefaultPipeline,
  maxStagesPerPipeline,
  pipelineCreatedEvent,
  pipelineListKey,
  readPipeline,
  toPipeline,
  totalBucket,
  type PipelineItem,
  type StageItem,
} from './pipeline-record';
import type {
  AddStageInput,
  CreatePipelineInput,
  Pipeline,
  RemoveStageQuery,
  RemoveStageResult,
  ReorderStagesInput,
} from './pipelines.schemas';

const pipelineRef = (pipelineId: string) => ({ type: 'pipeline' as const, id: pipelineId });

// ---------------------------------------------------------------------------------------------
// Reading

export async function getPipeline(deps: CoreDeps, caller: CallerContext, pipelineId: string): Promise<Pipeline> {
  return toPipeline(await readPipeline(deps, caller.workspaceId, pipelineId));
}

/**
 * Seed 001 Pipeline.list(): the default pipeline first, then by creation. One Query per page; a
 * workspace created before pipelines existed gets its default pipeline here.
 */
export async function listPipelines(deps: CoreDeps, caller: CallerContext, page: PageQuery): Promise<Page<Pipeline>> {
  const { workspaceId } = caller;
  const cursor = pageCursor.decode(page.cursor, { field: 'gsi1pk', value: `WS#${workspaceId}#PIPELINES` });
  const query = () =>
    deps.db.entities.pipeline.query.byWorkspace({ workspaceId }).go({ limit: page.limit, cursor });
  let result = await query();
  if (!cursor && result.data.length === 0) {
    await ensureDefaultPipeline(deps, workspaceId);
    result = await query();
  }
  return { items: (result.data as PipelineItem[]).map(toPipeline), nextCursor: pageCursor.encode(result.cursor) };
}

// ---------------------------------------------------------------------------------------------
// Writing (owner/admin: pipelines shape everyone's board)

type Op = (tx: TxEntities) => unknown;

async function commitPipeline(
  deps: CoreDeps,
  before: PipelineItem,
  after: PipelineItem,
  events: EventRecord[],
  options: { extraOps?: Op[]; explainExtra?: (index: number) => Error } = {},
): Promise<void> {
  const extra = options.extraOps ?? [];
  await writeTransaction(
    deps.db,
    (tx) => [
      tx.pipeline
        .put(after)
        .where((attr, { eq }) => eq(attr.version, before.version))
        .commit(),
      ...extra.map((op) => op(tx)),
      ...events.map((event) => appendEvent(tx, event)),
    ],
    (failed) => {
      const index = failed[0]!;
      // The version read is gone: the request runs again from the read (412 then, with If-Match).
      if (index === 0) return lostRace('The pipeline');
      return options.explainExtra?.(index - 1) ?? lostRace('The pipeline');
    },
  );
}

/** Reads a pipeline to change it: manager only, If-Match checked. */
async function pipelineToChange(deps: CoreDeps, caller: CallerContext, pipelineId: string, expectedVersion?: number) {
  requireManager(caller, 'change pipelines');
  const before = await readPipeline(deps, caller.workspaceId, pipelineId);
  if (expectedVersion !== undefined && expectedVersion !== before.version) throw stale();
  return before;
}

const bumped = (item: PipelineItem, now: string): PipelineItem => ({ ...item, version: item.version + 1, updatedAt: now });

function stageOf(pipeline: PipelineItem, stageId: string): StageItem {
  const stage = pipeline.stages.find((candidate) => candidate.stageId === stageId);
  if (!stage) throw notFound('Stage');
  return stage;
}

/** Creates a pipeline with its stages (one won and one lost stage, added at the end if none is given). */
export async function createPipeline(deps: CoreDeps, caller: CallerContext, input: CreatePipelineInput): Promise<Pipeline> {
  requireManager(caller, 'create pipelines');
  const { workspaceId } = caller;
  const stages = [...input.stages];
  const count = (kind: string) => stages.filter((stage) => stage.kind === kind).length;
  if (count('won') === 0 && count('lost') === 0) stages.push({ name: 'Won', kind: 'won' }, { name: 'Lost', kind: 'lost' });
  if (count('won') !== 1 || count('lost') !== 1) throw invalid('body.stages', 'Give exactly one won and one lost stage, or neither');
  if (count('open') === 0) throw invalid('body.stages', 'Give at least one open stage');
  if (stages.length > maxStagesPerPipeline) {
    throw limitExceeded('body.stages', `A pipeline has at most ${maxStagesPerPipeline} stages, won and lost included`, maxStagesPerPipeline);
  }
  // The default pipeline exists before any other, so it stays first (created here if it does not yet).
  await findPipeline(deps, workspaceId, defaultPipelineId);
  const now = deps.clock.nowIso();
  const pipelineId = deps.newId('pl');
  const item: PipelineItem = {
    workspaceId,
    pipelineId,
    name: input.name,
    listKey: pipelineListKey(pipelineId, now, false),
    isDefault: false,
    stages: stages.map((stage) => ({ stageId: deps.newId('st'), name: stage.name, kind: stage.kind, createdAt: now, updatedAt: now })),
    createdBy: caller.userId,
    version: 1,
    createdAt: now,
    updatedAt: now,
  };
  const ops = createPipelineOps(item, pipelineCreatedEvent(deps, caller, item));
  await writeTransaction(
    deps.db,
    (tx) => ops.map((op) => op(tx)),
    () => conflict('already_exists', 'A pipeline with this id already exists'),
  );
  return toPipeline(item);
}

export async function renamePipeline(
  deps: CoreDeps,
  caller: CallerContext,
  pipelineId: string,
  name: string,
  expectedVersion?: number,
): Promise<Pipeline> {
  const before = await pipelineToChange(deps, caller, pipelineId, expectedVersion);
  if (before.name === name) return toPipeline(before);
  const after = { ...bumped(before, deps.clock.nowIso()), name };
  const event = newEvent(deps, caller, 'pipeline.updated', pipelineRef(pipelineId), {
    changes: { name: { from: before.name, to: name } },
  });
  await commitPipeline(deps, before, after, [event]);
  return toPipeline(after);
}

/** Adds an open stage (by default before the first won or lost stage), with its empty stats. */
export async function addStage(
  deps: CoreDeps,
  caller: CallerContext,
  pipelineId: string,
  input: AddStageInput,
  expectedVersion?: number,
): Promise<Pipeline> {
  const before = await pipelineToChange(deps, caller, pipelineId, expectedVersion);
  if (before.stages.length >= maxStagesPerPipeline) {
    throw limitExceeded('body.name', `A pipeline has at most ${maxStagesPerPipeline} stages: remove one first`, maxStagesPerPipeline);
  }
  const now = deps.clock.nowIso();
  const stage: StageItem = { stageId: deps.newId('st'), name: input.name, kind: 'open', createdAt: now, updatedAt: now };
  const firstClosed = before.stages.findIndex((candidate) => candidate.kind !== 'open');
  const position = Math.min(input.position ?? (firstClosed < 0 ? before.stages.length : firstClosed), before.stages.length);
  const stages = [...before.stages];
  stages.splice(position, 0, stage);
  const after = { ...bumped(before, now), stages };
  const event = newEvent(deps, caller, 'pipeline.stage_added', pipelineRef(pipelineId), {
    stageId: stage.stageId,
    name: stage.name,
    sortIndex: position,
  });
  await commitPipeline(deps, before, after, [event], {
    extraOps: [
      (tx) =>
        tx.stageStats
          .create({ workspaceId: caller.workspaceId, pipelineId, stageId: stage.stageId, bucket: totalBucket, count: 0 })
          .commit(),
    ],
  });
  return toPipeline(after);
}

export async function renameStage(
  deps: CoreDeps,
  caller: CallerContext,
  pipelineId: string,
  stageId: string,
  name: string,
  expectedVersion?: number,
): Promise<Pipeline> {
  const before = await pipelineToChange(deps, caller, pipelineId, expectedVersion);
  const stage = stageOf(before, stageId);
  if (stage.name === name) return toPipeline(before);
  const now = deps.clock.nowIso();
  const after = {
    ...bumped(before, now),
    stages: before.stages.map((candidate) => (candidate.stageId === stageId ? { ...candidate, name, updatedAt: now } : candidate)),
  };
  const event = newEvent(deps, caller, 'pipeline.stage_renamed', pipelineRef(pipelineId), { stageId, from: stage.name, to: name });
  await commitPipeline(deps, before, after, [event]);
  return toPipeline(after);
}

/** Puts the stages in a new order: `stageIds` names every stage once. */
export async function reorderStages(
  deps: CoreDeps,
  caller: CallerContext,
  pipelineId: string,
  input: ReorderStagesInput,
  expectedVersion?: number,
): Promise<Pipeline> {
  const before = await pipelineToChange(deps, caller, pipelineId, expectedVersion);
  const byId = new Map(before.stages.map((stage) => [stage.stageId, stage]));
  const seen = new Set<string>();
  input.stageIds.forEach((id, index) => {
    if (!byId.has(id)) throw invalidReference(`body.stageIds.${index}`, 'No stage with this id in the pipeline');
    if (seen.has(id)) throw invalid(`body.stageIds.${index}`, 'This stage is named twice');
    seen.add(id);
  });
  if (seen.size !== before.stages.length) {
    throw invalid('body.stageIds', `Name all ${before.stages.length} stages of the pipeline, in the new order`);
  }
  const from = before.stages.map((stage) => stage.stageId);
  if (from.join() === input.stageIds.join()) return toPipeline(before);
  const after = { ...bumped(before, deps.clock.nowIso()), stages: input.stageIds.map((id) => byId.get(id)!) };
  const event = newEvent(deps, caller, 'pipeline.stages_reordered', pipelineRef(pipelineId), { from, to: input.stageIds });
  await commitPipeline(deps, before, after, [event]);
  return toPipeline(after);
}

/** How much one stage-removal request moves; the rest is moved by repeating it. Tests lower it. */
export const stageRemovalSettings = { dealsPerRequest: 100, concurrency: 8 };

/**
 * Removes an open stage. An empty stage goes at once. A stage holding deals goes only when
 * `moveDealsTo` names another open stage of the pipeline: the stage is marked as being removed (no
 * deal can enter it any more), its deals move there (each a `deal.stage_changed` in its own
 * transaction, counts and sums following), a bounded number per request (202 `in_progress`: repeat
 * the request), and when none is left, the stage and its stats go in one transaction conditioned on
 * its count being 0. The won and lost stages stay (rename them instead).
 */
export async function removeStage(
  deps: CoreDeps,
  caller: CallerContext,
  pipelineId: string,
  stageId: string,
  query: RemoveStageQuery,
): Promise<RemoveStageResult> {
  const { workspaceId } = caller;
  let pipeline = await pipelineToChange(deps, caller, pipelineId);
  const stage = stageOf(pipeline, stageId);
  if (stage.kind !== 'open') {
    throw conflict('stage_required', `A pipeline keeps its ${stage.kind} stage: rename it instead`);
  }
  let moveDealsTo = stage.removal?.moveDealsTo;
  if (query.moveDealsTo !== undefined && moveDealsTo !== undefined && query.moveDealsTo !== moveDealsTo) {
    throw conflict('stage_removing', `This stage is already being removed into ${moveDealsTo}: repeat the request with that stage`, {
      fields: [{ field: 'query.moveDealsTo', message: `Its deals are moving to ${moveDealsTo}` }],
    });
  }
  if (moveDealsTo === undefined && query.moveDealsTo !== undefined) {
    const target = pipeline.stages.find((candidate) => candidate.stageId === query.moveDealsTo);
    if (!target) throw invalidReference('query.moveDealsTo', 'No stage with this id in the pipeline');
    if (target.stageId === stageId || target.kind !== 'open' || target.removal) {
      throw invalid('query.moveDealsTo', 'Name another open stage of this pipeline (not one being removed)');
    }
    moveDealsTo = target.stageId;
  }
  const countOf = async () => {
    const { data } = await deps.db.entities.stageStats
      .get({ workspaceId, pipelineId, stageId, bucket: totalBucket })
      .go({ consistent: true });
    return data?.count ?? 0;
  };
  let dealsMoved = 0;
  if ((await countOf()) > 0) {
    if (moveDealsTo === undefined) {
      throw conflict('stage_not_empty', 'This stage holds deals: name the stage they go to (moveDealsTo)', {
        fields: [{ field: 'query.moveDealsTo', message: 'Required: the stage holds deals' }],
      });
    }
    if (!stage.removal) {
      const now = deps.clock.nowIso();
      const after = {
        ...bumped(pipeline, now),
        stages: pipeline.stages.map((candidate) =>
          candidate.stageId === stageId ? { ...candidate, removal: { moveDealsTo: moveDealsTo!, startedAt: now } } : candidate,
        ),
      };
      const event = newEvent(deps, caller, 'pipeline.stage_removing', pipelineRef(pipelineId), {
        stageId,
        name: stage.name,
        moveDealsTo,
      });
      await commitPipeline(deps, pipeline, after, [event]);
      pipeline = after;
    }
    const progress = await moveStageDeals(deps, caller, pipeline, stageId, moveDealsTo, stageRemovalSettings);
    dealsMoved = progress.moved;
    if (!progress.done || (await countOf()) > 0) {
      return { status: 'in_progress', dealsMoved, pipeline: toPipeline(pipeline) };
    }
  }
  // Empty: the stage and its stats items go, conditioned on its count still being 0.
  const { data: statsItems } = await deps.db.entities.stageStats.query
    .byPipeline({ workspaceId, pipelineId })
    .go({ pages: 'all', consistent: true });
  const buckets = statsItems.filter((item) => item.stageId === stageId).map((item) => item.bucket);
  if (!buckets.includes(totalBucket)) buckets.push(totalBucket);
  const now = deps.clock.nowIso();
  const after = { ...bumped(pipeline, now), stages: pipeline.stages.filter((candidate) => candidate.stageId !== stageId) };
  const event = newEvent(deps, caller, 'pipeline.stage_removed', pipelineRef(pipelineId), {
    stageId,
    name: stage.name,
    moveDealsTo: moveDealsTo ?? null,
  });
  await commitPipeline(deps, pipeline, after, [event], {
    extraOps: buckets.map(
      (bucket) => (tx) =>
        tx.stageStats
          .delete({ workspaceId, pipelineId, stageId, bucket })
          .where((attr, { eq }) => eq(attr.count, 0))
          .commit(),
    ),
    // A deal entered the stage meanwhile: the request runs again from its reads (and moves it, or, without
    // moveDealsTo, answers 409 stage_not_empty).
    explainExtra: () => lostRace('The stage'),
  });
  return { status: 'completed', dealsMoved, pipeline: toPipeline(after) };
}
