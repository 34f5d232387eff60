import * as z from 'zod';
import { recordId } from '../shared/ids';
import { pageQuerySchema } from '../shared/pagination';
import { currencySumSchema, pipelineSchema, stageSchema } from '../pipelines/pipelines.schemas';
import { dealStatuses } from './deal.entity';
import { responseSchema, type ResponseOf } from '../shared/response-schema';

const id = z.string().min(1).max(64);
/** Integer minor units; 15 digits keep every sum exact in a double and the value sort key fixed-width. */
export const maxDealValue = 999_999_999_999_999;
const value = z.number().int().min(0).max(maxDealValue).meta({
  description: 'Integer minor units of `currency` (cents: 1250 = 12.50 EUR)',
});
const currency = z
  .string()
  .regex(/^[A-Z]{3}$/, 'An ISO 4217 code in capitals, e.g. EUR')
  .meta({ description: 'ISO 4217 code, e.g. EUR; required with a value' });
const isoDate = z.iso.date().meta({ description: 'YYYY-MM-DD' });
const customFields = z.record(z.string(), z.unknown()).meta({
  description: 'Values of the workspace’s deal custom fields, by key; null clears one (on update)',
});

export const dealSchema = responseSchema(() =>
  z
    .object({
      id: z.string(),
      title: z.string(),
      value: z.number().int().nullable(),
      currency: z.string().nullable(),
      expectedCloseDate: z.string().nullable(),
      contactId: z.string().nullable().meta({ description: 'The primary contact' }),
      companyId: z.string().nullable(),
      ownerId: z.string().nullable().meta({ description: 'The owning user; null when unclaimed' }),
      pipelineId: z.string(),
      stageId: z.string(),
      statusKey: z
        .enum(dealStatuses)
        .meta({ description: 'Follows the stage: `won` / `lost` in the won / lost stage' }),
      lostReason: z.string().nullable(),
      customFields: z.record(z.string(), z.unknown()),
      stageEnteredAt: z.string(),
      closedAt: z.string().nullable().meta({ description: 'When it was won or lost; null while open' }),
      createdBy: z.string(),
      version: z.number().int(),
      createdAt: z.string(),
      updatedAt: z.string(),
    })
    .meta({ id: 'Deal' }),
);
export type Deal = ResponseOf<typeof dealSchema>;

export const createDealInput = z
  .object({
    title: z.string().trim().min(1).max(200),
    value: value.nullable().optional(),
    currency: currency.nullable().optional(),
    expectedCloseDate: isoDate.nullable().optional(),
    contactId: id.nullable().optional().meta({ description: 'The primary contact' }),
    companyId: id
      .nullable()
      .optional()
      .meta({ description: 'Defaults to the contact’s company; null for none' }),
    ownerId: id
      .nullable()
      .optional()
      .meta({ description: 'The owning user; a member may only give themselves' }),
    pipelineId: id.optional().meta({ description: 'Defaults to the workspace’s default pipeline' }),
    stageId: id
      .optional()
      .meta({ description: 'An open stage of the pipeline; defaults to its first open stage' }),
    customFields: customFields.optional(),
  })
  .meta({ id: 'CreateDealInput' });
export type CreateDealInput = z.infer<typeof createDealInput>;

export const updateDealInput = z
  .object({
    title: z.string().trim().min(1).max(200).optional(),
    value: value.nullable().optional(),
    currency: currency.nullable().optional(),
    expectedCloseDate: isoDate.nullable().optional(),
    contactId: id.nullable().optional(),
    companyId: id.nullable().optional(),
    ownerId: id
      .nullable()
      .optional()
      .meta({
        description:
          'A user id, or null to release; a member may only take an unclaimed deal or release their own',
      }),
    lostReason: z.string().trim().max(500).nullable().optional().meta({ description: 'Only on a lost deal' }),
    customFields: customFields.optional(),
  })
  .meta({ id: 'UpdateDealInput' });
export type UpdateDealInput = z.infer<typeof updateDealInput>;

export const dealIdParams = z.object({ dealId: recordId('dl', 'a deal') });

export const changeStageInput = z
  .object({
    stageId: id,
    pipelineId: id.optional().meta({ description: 'To move the deal to another pipeline; default: its own' }),
  })
  .meta({ id: 'ChangeStageInput' });
export type ChangeStageInput = z.infer<typeof changeStageInput>;

export const markLostInput = z
  .object({ reason: z.string().trim().max(500).optional().meta({ description: 'Why it was lost' }) })
  .meta({ id: 'MarkLostInput' });
export type MarkLostInput = z.infer<typeof markLostInput>;

export const reopenInput = z
  .object({
    stageId: id
      .optional()
      .meta({ description: 'An open stage of its pipeline; default: the first open stage' }),
  })
  .meta({ id: 'ReopenDealInput' });
export type ReopenInput = z.infer<typeof reopenInput>;

export const dealSorts = ['value', 'closeDate', 'updated'] as const;
export type DealSort = (typeof dealSorts)[number];

/** Filters combine: the narrowest one's list serves the page, the others narrow it (deal-lists.service.ts). */
export const listDealsQuery = pageQuerySchema.extend({
  pipelineId: id.optional(),
  stageId: id.optional().meta({ description: 'With pipelineId' }),
  status: z.enum(dealStatuses).optional(),
  ownerId: id.optional().meta({ description: 'A user id, or `none` for unclaimed deals' }),
  contactId: id.optional(),
  companyId: id.optional(),
  closeFrom: isoDate.optional().meta({ description: 'Expected close date on or after (sort=closeDate)' }),
  closeTo: isoDate.optional().meta({ description: 'Expected close date on or before (sort=closeDate)' }),
  sort: z
    .enum(dealSorts)
    .optional()
    .meta({ description: 'Default `updated`, or `closeDate` when a close-date range is given' }),
  order: z
    .enum(['asc', 'desc'])
    .optional()
    .meta({ description: 'Default: `desc` for value and updated, `asc` for closeDate' }),
});
export type ListDealsQuery = z.infer<typeof listDealsQuery>;

export const boardColumnSchema = responseSchema(() =>
  z
    .object({
      stage: stageSchema(),
      count: z.number().int().meta({ description: 'Deals in the stage' }),
      sums: z
        .array(currencySumSchema())
        .meta({ description: 'Value sums per currency (never added across currencies)' }),
      deals: z.array(dealSchema()).meta({ description: 'The first page, latest arrival in the stage first' }),
      nextCursor: z
        .string()
        .nullable()
        .meta({ description: 'Pass as `cursor` to GET /v1/pipelines/{pipelineId}/stages/{stageId}/deals' }),
    })
    .meta({ id: 'BoardColumn' }),
);

export const boardSchema = responseSchema(() =>
  z.object({ pipeline: pipelineSchema(), columns: z.array(boardColumnSchema()) }).meta({ id: 'Board' }),
);
export type Board = ResponseOf<typeof boardSchema>;
