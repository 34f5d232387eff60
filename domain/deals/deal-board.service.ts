import type { CallerContext } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import { conflict, DomainError, isConflict, notFound } from '../shared/errors';
import { retryLostRaces } from '../shared/retry';
import type { Page } from '../shared/pagination';
import { readPipeline, readPipelineWithStats, toPipeline, type PipelineItem } from '../pipelines/pipeline-record';
import type { BoardQuery, ColumnQuery } from '../pipelines/pipelines.schemas';
import { pageCursor } from './deal-cursors';
import { toDeal, type DealItem } from './deal-record';
import { changeDeal, moveTo } from './deals.service';
import type { Board, Deal } from './deals.schemas';

const columnPartition = (workspaceId: string, pipelineId: string, stageId: string) => ({
  field: 'gsi1pk',
  value: `WS#${workspaceId}#PIPELINE#${pipelineId}#STAGE#${stageId}`,
});

/** One page of a board column: one Query on the deal's stage index, latest arrival first. */
async function columnPage(
  deps: CoreDeps,
  workspaceId: string,
  pipelineId: string,
  stageId: string,
  limit: number,
  cursor: string | null,
): Promise<Page<Deal>> {
  const result = await deps.db.entities.deal.query
    .byStage({ workspaceId, pipelineId, stageId })
    .go({ order: 'desc', limit, cursor });
  return { items: (result.data as DealItem[]).map(toDeal), nextCursor: pageCursor.encode(result.cursor) };
}

/**
 * The board of a pipeline (seed 000 "Pipeline kanban"): every stage in order with its deal count and
 * value sums per currency, read from the stats items that every deal change keeps by atomic ADD, and
 * the first page of its deals. Costs 1 GetItem (pipeline) + 1 Query (all stats items) + 1 Query per
 * column, in parallel, whatever the number of deals.
 */
export async function getBoard(deps: CoreDeps, caller: CallerContext, pipelineId: string, query: BoardQuery): Promise<Board> {
  const { workspaceId } = caller;
  const { pipeline, stats } = await readPipelineWithStats(deps, workspaceId, pipelineId);
  const shown = toPipeline(pipeline);
  const pages = await Promise.all(
    pipeline.stages.map((stage) => columnPage(deps, workspaceId, pipelineId, stage.stageId, query.limit, null)),
  );
  return {
    pipeline: shown,
    columns: shown.stages.map((stage, index) => ({
      stage,
      count: stats.get(stage.id)?.count ?? 0,
      sums: (stats.get(stage.id)?.sums ?? []).map(({ currency, count, value }) => ({ currency, count, value })),
      deals: pages[index]!.items,
      nextCursor: pages[index]!.nextCursor,
    })),
  };
}

/** The next pages of one board column. */
export async function listStageDeals(
  deps: CoreDeps,
  caller: CallerContext,
  pipelineId: string,
  stageId: string,
  page: ColumnQuery,
): Promise<Page<Deal>> {
  const { workspaceId } = caller;
  const pipeline = await readPipeline(deps, workspaceId, pipelineId);
  if (!pipeline.stages.some((stage) => stage.stageId === stageId)) throw notFound('Stage');
  const cursor = pageCursor.decode(page.cursor, columnPartition(workspaceId, pipelineId, stageId));
  return columnPage(deps, workspaceId, pipelineId, stageId, page.limit, cursor);
}

/**
 * Moves up to `dealsPerRequest` deals of a stage being removed to `moveDealsTo`, each through the
 * ordinary deal change (its own transaction, `deal.stage_changed`, stats following). A deal changed
 * by someone else meanwhile is left for the next request. `done` when the column had no more.
 */
export async function moveStageDeals(
  deps: CoreDeps,
  caller: CallerContext,
  pipeline: PipelineItem,
  stageId: string,
  moveDealsTo: string,
  settings: { dealsPerRequest: number; concurrency: number },
): Promise<{ moved: number; done: boolean }> {
  const { workspaceId } = caller;
  const target = pipeline.stages.find((stage) => stage.stageId === moveDealsTo);
  if (!target) throw conflict('stage_removing', `The stage ${moveDealsTo} the deals were moving to is gone`);
  const { data } = await deps.db.entities.deal.query
    .byStage({ workspaceId, pipelineId: pipeline.pipelineId, stageId })
    .go({ limit: settings.dealsPerRequest + 1 });
  const batch = (data as DealItem[]).slice(0, settings.dealsPerRequest);
  let moved = 0;
  let failed = 0;
  const moveOne = async (dealId: string) => {
    let changed = false;
    try {
      // A deal changed meanwhile is read again and moved on top of that change.
      await retryLostRaces(() =>
        changeDeal(
          deps,
          caller,
          dealId,
          async (before, now) => {
            // The index may lag: the deal itself (read consistently) says where it is.
            changed = before.pipelineId === pipeline.pipelineId && before.stageId === stageId;
            return changed ? moveTo(deps, caller, before, pipeline, target, now) : undefined;
          },
          { authorise: () => undefined },
        ),
      );
      if (changed) moved += 1;
    } catch (error) {
      // Kept changing under us (or gone): left for the next request.
      if (isConflict(error) || (error instanceof DomainError && error.code === 'not_found')) failed += 1;
      else throw error;
    }
  };
  for (let index = 0; index < batch.length; index += settings.concurrency) {
    await Promise.all(batch.slice(index, index + settings.concurrency).map((deal) => moveOne(deal.dealId)));
  }
  return { moved, done: data.length <= settings.dealsPerRequest && failed === 0 };
}
