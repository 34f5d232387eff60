import * as z from 'zod';
import { recordId } from '../shared/ids';
import { pageQuerySchema } from '../shared/pagination';
import { defaultStages } from './pipeline-record';
import { stageKinds } from './pipeline.entity';
import { responseSchema, type ResponseOf } from '../shared/response-schema';

const id = z.string().min(1).max(64);
const name = z.string().trim().min(1).max(100);

const pipelineId = recordId('pl', 'a pipeline', ['default']);
export const pipelineIdParams = z.object({ pipelineId });
export const stageParams = z.object({
  pipelineId,
  stageId: recordId(
    'st',
    'a stage',
    defaultStages.map((stage) => stage.stageId.slice(3)),
  ),
});

export const stageSchema = responseSchema(() =>
  z
    .object({
      id: z.string(),
      name: z.string(),
      kind: z.enum(stageKinds).meta({
        description:
          '`won` / `lost`: deals moved here are won / lost; every pipeline has one of each. Other stages are `open`.',
      }),
      sortIndex: z.number().int().meta({ description: 'Position on the board, from 0' }),
      removing: z
        .object({ moveDealsTo: z.string(), startedAt: z.string() })
        .nullable()
        .meta({
          description: 'Set while the stage is being removed and its deals moved: no deal can enter it',
        }),
      updatedAt: z.string(),
    })
    .meta({ id: 'Stage' }),
);

export const pipelineSchema = responseSchema(() =>
  z
    .object({
      id: z.string(),
      name: z.string(),
      isDefault: z
        .boolean()
        .meta({
          description: 'The pipeline every workspace starts with; deals go to it when no pipeline is named',
        }),
      stages: z.array(stageSchema()).meta({ description: 'In board order' }),
      createdBy: z.string(),
      version: z.number().int(),
      createdAt: z.string(),
      updatedAt: z.string(),
    })
    .meta({ id: 'Pipeline' }),
);
export type Pipeline = ResponseOf<typeof pipelineSchema>;

export const createPipelineInput = z
  .object({
    name,
    stages: z
      .array(z.object({ name, kind: z.enum(stageKinds).default('open') }))
      .min(1)
      .max(30)
      .default([{ name: 'Open', kind: 'open' }])
      .meta({
        description:
          'The stages in board order. Give one `won` and one `lost` stage, or none: then `Won` and `Lost` are added at the end. At least one stage must be `open`.',
      }),
  })
  .meta({ id: 'CreatePipelineInput' });
export type CreatePipelineInput = z.infer<typeof createPipelineInput>;

export const renamePipelineInput = z.object({ name }).meta({ id: 'RenamePipelineInput' });
export type RenamePipelineInput = z.infer<typeof renamePipelineInput>;

export const addStageInput = z
  .object({
    name,
    position: z
      .number()
      .int()
      .min(0)
      .max(29)
      .optional()
      .meta({ description: 'Its sortIndex; by default it goes before the first won or lost stage' }),
  })
  .meta({ id: 'AddStageInput' });
export type AddStageInput = z.infer<typeof addStageInput>;

export const renameStageInput = z.object({ name }).meta({ id: 'RenameStageInput' });

export const reorderStagesInput = z
  .object({
    stageIds: z
      .array(id)
      .min(1)
      .max(30)
      .meta({ description: 'Every stage id of the pipeline, once each, in the new order' }),
  })
  .meta({ id: 'ReorderStagesInput' });
export type ReorderStagesInput = z.infer<typeof reorderStagesInput>;

export const removeStageQuery = z.object({
  moveDealsTo: id
    .optional()
    .meta({
      description:
        'An open stage of the same pipeline to move the stage’s deals to; required when it holds deals',
    }),
});
export type RemoveStageQuery = z.infer<typeof removeStageQuery>;

export const removeStageResultSchema = responseSchema(() =>
  z
    .object({
      status: z
        .enum(['completed', 'in_progress'])
        .meta({ description: '`in_progress` (HTTP 202): deals are left to move; repeat the same request' }),
      dealsMoved: z.number().int().meta({ description: 'Deals moved by this request' }),
      pipeline: pipelineSchema(),
    })
    .meta({ id: 'RemoveStageResult' }),
);
export type RemoveStageResult = ResponseOf<typeof removeStageResultSchema>;

export const listPipelinesQuery = pageQuerySchema;

export const currencySumSchema = responseSchema(() =>
  z
    .object({
      currency: z.string().meta({ description: 'ISO 4217 code' }),
      count: z.number().int().meta({ description: 'Deals of the stage in this currency' }),
      value: z.number().int().meta({ description: 'Their value sum, in minor units' }),
    })
    .meta({ id: 'CurrencySum' }),
);

export const boardQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(25).meta({ description: 'Deals per column' }),
});
export type BoardQuery = z.infer<typeof boardQuery>;

export const columnQuery = pageQuerySchema;
export type ColumnQuery = z.infer<typeof columnQuery>;
