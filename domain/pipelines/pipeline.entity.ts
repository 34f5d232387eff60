/** The kind of a stage: deals in a `won` or `lost` stage have that status; every other stage is `open`. */
export const stageKinds = ['open', 'won', 'lost'] as const;
export type StageKind = (typeof stageKinds)[number];

/**
 * A pipeline (seed 001 Pipeline) with its ordered stages (seed 001 Stage) inline: stages are few (at
 * most 30), always read together, and every change of them is one conditional write of this item.
 * Access patterns:
 * - get a pipeline: pk WS#<workspaceId>#PIPELINE#<pipelineId>, sk PIPELINE (one GetItem)
 * - list a workspace's pipelines, the default first, then oldest first:
 *   gsi1 pk WS#<workspaceId>#PIPELINES, sk <listKey> (`0#<id>` for the default, `1#<createdAt>#<id>`)
 */
export const pipelineSchema = {
  model: { service: 'crm', entity: 'pipeline', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    pipelineId: { type: 'string', required: true, readOnly: true },
    name: { type: 'string', required: true },
    listKey: { type: 'string', required: true, readOnly: true },
    isDefault: { type: 'boolean', required: true, readOnly: true },
    /** In board order. `removal` is set while a stage's deals are being moved out before it goes. */
    stages: {
      type: 'list',
      required: true,
      items: {
        type: 'map',
        properties: {
          stageId: { type: 'string', required: true },
          name: { type: 'string', required: true },
          kind: { type: stageKinds, required: true },
          createdAt: { type: 'string', required: true },
          updatedAt: { type: 'string', required: true },
          removal: {
            type: 'map',
            properties: {
              moveDealsTo: { type: 'string', required: true },
              startedAt: { type: 'string', required: true },
            },
          },
        },
      },
    },
    createdBy: { type: 'string', required: true, readOnly: true },
    version: { type: 'number', required: true },
    createdAt: { type: 'string', required: true, readOnly: true },
    updatedAt: { type: 'string', required: true },
  },
  indexes: {
    byId: {
      pk: {
        field: 'pk',
        composite: ['workspaceId', 'pipelineId'],
        template: 'WS#${workspaceId}#PIPELINE#${pipelineId}',
        casing: 'none',
      },
      sk: { field: 'sk', composite: [], template: 'PIPELINE', casing: 'none' },
    },
    byWorkspace: {
      index: 'gsi1',
      pk: {
        field: 'gsi1pk',
        composite: ['workspaceId'],
        template: 'WS#${workspaceId}#PIPELINES',
        casing: 'none',
      },
      sk: { field: 'gsi1sk', composite: ['listKey'], template: '${listKey}', casing: 'none' },
    },
  },
} as const;

/**
 * The running totals of one stage of a pipeline, changed by atomic ADD in the transaction of every
 * deal change that enters, leaves or changes value in the stage (never recomputed by reading deals).
 * Bucket `TOTAL` holds the stage's deal count; it is created with the stage and deleted with it, and a
 * deal entering the stage updates it with attribute_exists, so no deal can enter a removed stage.
 * Bucket `<currency>` (ISO 4217) holds the count and value sum of the stage's deals in that currency:
 * amounts in different currencies are never added together.
 * Access pattern: every stats item of a pipeline, one Query:
 *   pk WS#<workspaceId>#PIPELINE#<pipelineId> (the pipeline's own partition), sk STATS#<stageId>#<bucket>
 */
export const stageStatsSchema = {
  model: { service: 'crm', entity: 'stageStats', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    pipelineId: { type: 'string', required: true, readOnly: true },
    stageId: { type: 'string', required: true, readOnly: true },
    bucket: { type: 'string', required: true, readOnly: true },
    count: { type: 'number' },
    /** Minor units (currency buckets only). */
    sum: { type: 'number' },
  },
  indexes: {
    byPipeline: {
      pk: {
        field: 'pk',
        composite: ['workspaceId', 'pipelineId'],
        template: 'WS#${workspaceId}#PIPELINE#${pipelineId}',
        casing: 'none',
      },
      sk: {
        field: 'sk',
        composite: ['stageId', 'bucket'],
        template: 'STATS#${stageId}#${bucket}',
        casing: 'none',
      },
    },
  },
} as const;
