import { getBoard, listStageDeals } from '../../domain/deals/deal-board.service';
import {
  addStage,
  createPipeline,
  getPipeline,
  listPipelines,
  removeStage,
  renamePipeline,
  renameStage,
  reorderStages,
} from '../../domain/pipelines/pipelines.service';
import { createHttpHandler, RawResponse } from './http-handler';
import { pipelinesRoutes } from './routes/pipelines.routes';
import { sealCursorFor } from './list-cursors';

export const handler = createHttpHandler('pipelines', pipelinesRoutes, {
  listPipelines: ({ caller, query }, deps) => listPipelines(deps, caller, query),
  createPipeline: ({ caller, body }, deps) => createPipeline(deps, caller, body),
  getPipeline: ({ caller, params }, deps) => getPipeline(deps, caller, params.pipelineId),
  renamePipeline: ({ caller, params, body, expectedVersion }, deps) =>
    renamePipeline(deps, caller, params.pipelineId, body.name, expectedVersion),
  addStage: ({ caller, params, body, expectedVersion }, deps) =>
    addStage(deps, caller, params.pipelineId, body, expectedVersion),
  renameStage: ({ caller, params, body, expectedVersion }, deps) =>
    renameStage(deps, caller, params.pipelineId, params.stageId, body.name, expectedVersion),
  reorderStages: ({ caller, params, body, expectedVersion }, deps) =>
    reorderStages(deps, caller, params.pipelineId, body, expectedVersion),
  getBoard: async ({ caller, params, query }, deps) => {
    const board = await getBoard(deps, caller, params.pipelineId, query);
    // Each column goes on at GET .../stages/{stageId}/deals: its cursor is sealed for that route.
    const columns = await Promise.all(
      board.columns.map(async (column) => ({
        ...column,
        nextCursor: await sealCursorFor(
          caller,
          pipelinesRoutes,
          { operationId: 'listStageDeals', params: { pipelineId: params.pipelineId, stageId: column.stage.id } },
          column.nextCursor,
        ),
      })),
    );
    return { ...board, columns };
  },
  listStageDeals: ({ caller, params, query }, deps) =>
    listStageDeals(deps, caller, params.pipelineId, params.stageId, query),
  removeStage: async ({ caller, params, query }, deps) => {
    const result = await removeStage(deps, caller, params.pipelineId, params.stageId, query);
    // Deals are left to move: 202, and the client repeats the same request.
    return result.status === 'completed'
      ? result
      : new RawResponse(202, JSON.stringify(result), { 'content-type': 'application/json' });
  },
});
