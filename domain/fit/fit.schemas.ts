import * as z from 'zod';
import { contactSearchHitSchema } from '../contacts/contacts.schemas';
import { recordId } from '../shared/ids';
import { pageQuerySchema } from '../shared/pagination';
import { segmentRuleSchema } from '../segments/segment-rules';
import { assessmentSources, criterionKinds, reviewStatuses } from './fit.entity';
import { responseSchema, type ResponseOf } from '../shared/response-schema';

export const maxCriteriaPerProduct = 20;

const fitValue = z.number().int().min(1).max(5).meta({ description: '1 (poor fit) to 5 (ideal)' });
const evidence = z
  .string()
  .trim()
  .max(2000)
  .meta({ description: 'What the value rests on: a quote, a source, a reason' });

export const criterionInput = z
  .object({
    id: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,39}$/, 'A key: lower-case letters, digits and _, starting with a letter')
      .meta({
        description:
          'The criterion’s key within its product (kept across changes: its assessments refer to it)',
      }),
    name: z.string().trim().min(1).max(120),
    weight: z
      .number()
      .int()
      .min(1)
      .max(100)
      .meta({ description: 'Its share of the fit score, relative to the others' }),
    kind: z
      .enum(criterionKinds)
      .meta({
        description:
          '`manual`: users assess 1–5; `rule`: the first matching rule’s value; `ai`: the qualifier assesses',
      }),
    rules: z
      .array(z.object({ when: segmentRuleSchema, value: fitValue }).strict())
      .min(1)
      .max(10)
      .optional()
      .meta({
        description:
          'A rule criterion: the value of the first rule the contact matches (the segment rule language)',
      }),
    otherwise: fitValue
      .optional()
      .meta({ description: 'A rule criterion: the value when no rule matches (none: not assessed)' }),
  })
  .strict()
  .superRefine((input, ctx) => {
    if (input.kind === 'rule' && !input.rules)
      ctx.addIssue({ code: 'custom', path: ['rules'], message: 'A rule criterion needs rules' });
    if (input.kind !== 'rule' && (input.rules || input.otherwise !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['rules'], message: 'Only a rule criterion has rules' });
    }
  })
  .meta({ id: 'FitCriterionInput' });
export type CriterionInput = z.infer<typeof criterionInput>;

const criteria = z
  .array(criterionInput)
  .max(maxCriteriaPerProduct)
  .refine(
    (list) => new Set(list.map((item) => item.id)).size === list.length,
    'Criterion ids are unique within a product',
  );

export const productIdParams = z.object({ productId: recordId('prd', 'a product') });
export const productLeadParams = productIdParams.extend({ contactId: recordId('ct', 'a contact') });

export const createProductInput = z
  .object({
    name: z.string().trim().min(1).max(120),
    description: z.string().trim().max(1000).optional(),
    criteria: criteria.default([]),
  })
  .strict()
  .meta({ id: 'CreateProductInput' });
export type CreateProductInput = z.infer<typeof createProductInput>;

export const updateProductInput = z
  .object({
    name: z.string().trim().min(1).max(120).optional(),
    description: z.string().trim().max(1000).nullable().optional(),
    criteria: criteria
      .optional()
      .meta({
        description: 'The whole list: criteria left out are dropped (their assessments stay in the history)',
      }),
  })
  .strict()
  .refine((input) => Object.keys(input).length > 0, {
    message: 'Give at least one of name, description, criteria',
  })
  .meta({ id: 'UpdateProductInput', minProperties: 1 });
export type UpdateProductInput = z.infer<typeof updateProductInput>;

export const criterionSchema = responseSchema(() =>
  z
    .object({
      id: z.string(),
      name: z.string(),
      weight: z.number().int(),
      kind: z.enum(criterionKinds),
      rules: z.array(z.object({ when: segmentRuleSchema, value: z.number().int() })).nullable(),
      otherwise: z.number().int().nullable(),
    })
    .meta({ id: 'FitCriterion' }),
);

export const productSchema = responseSchema(() =>
  z
    .object({
      id: z.string(),
      name: z.string(),
      description: z.string().nullable(),
      criteria: z.array(criterionSchema()),
      createdBy: z.string(),
      createdAt: z.string(),
      updatedAt: z.string(),
      version: z.number().int(),
    })
    .meta({ id: 'Product' }),
);
export type Product = ResponseOf<typeof productSchema>;

export const assessInput = z
  .object({ criterionId: z.string().min(1).max(40), value: fitValue, evidence: evidence.optional() })
  .strict()
  .meta({ id: 'FitAssessInput' });
export type AssessInput = z.infer<typeof assessInput>;

export const assessmentSchema = responseSchema(() =>
  z
    .object({
      id: z.string(),
      productId: z.string(),
      criterionId: z.string(),
      value: z.number().int(),
      evidence: z.string().nullable(),
      source: z.enum(assessmentSources),
      userId: z.string().meta({ description: 'Who assessed: a user, or `system` (rules, AI)' }),
      createdAt: z.string(),
    })
    .meta({ id: 'FitAssessment' }),
);
export type Assessment = ResponseOf<typeof assessmentSchema>;

export const reviewSchema = responseSchema(() =>
  z
    .object({
      status: z.enum(reviewStatuses),
      reason: z.string().nullable(),
      userId: z.string(),
      ownerId: z.string().nullable(),
      dealId: z.string().nullable(),
      at: z.string(),
    })
    .meta({ id: 'LeadReview' }),
);
export type Review = ResponseOf<typeof reviewSchema>;

export const contactFitSchema = responseSchema(() =>
  z
    .object({
      productId: z.string(),
      contactId: z.string(),
      score: z
        .number()
        .int()
        .meta({ description: '0–100: the weighted latest values of the product’s criteria' }),
      coverage: z.number().meta({ description: 'The share of the criteria’s weight assessed, 0–1' }),
      criteria: z.array(
        z.object({
          criterionId: z.string(),
          name: z.string(),
          weight: z.number().int(),
          latest: assessmentSchema().nullable(),
        }),
      ),
      reviewStatus: z.enum(reviewStatuses),
      review: reviewSchema().nullable(),
      updatedAt: z.string(),
      version: z.number().int(),
    })
    .meta({ id: 'ContactFit' }),
);
export type ContactFit = ResponseOf<typeof contactFitSchema>;

export const leadSchema = responseSchema(() =>
  z
    .object({
      contact: contactSearchHitSchema(),
      score: z.number().int(),
      coverage: z.number(),
      reviewStatus: z.enum(reviewStatuses),
      updatedAt: z.string(),
    })
    .meta({ id: 'Lead' }),
);
export type Lead = ResponseOf<typeof leadSchema>;

export const listLeadsQuery = pageQuerySchema.extend({
  reviewStatus: z
    .enum(reviewStatuses)
    .optional()
    .meta({ description: 'Only leads with this review status (default: all)' }),
});
export type ListLeadsQuery = z.infer<typeof listLeadsQuery>;

export const reviewInput = z
  .object({
    status: z.enum(reviewStatuses),
    reason: z.string().trim().max(1000).optional(),
    ownerId: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .meta({ description: 'accepted: give the contact this owner' }),
    deal: z
      .object({
        pipelineId: z.string().min(1).max(64).optional(),
        title: z.string().trim().min(1).max(200),
        value: z.number().int().min(0).optional(),
        currency: z.string().length(3).optional(),
      })
      .strict()
      .optional()
      .meta({
        description:
          'accepted: create a deal for the contact in this pipeline (default pipeline when left out)',
      }),
  })
  .strict()
  .superRefine((input, ctx) => {
    if (input.status !== 'accepted' && (input.ownerId || input.deal)) {
      ctx.addIssue({ code: 'custom', path: ['status'], message: 'ownerId and deal go with accepted' });
    }
  })
  .meta({ id: 'LeadReviewInput' });
export type ReviewInput = z.infer<typeof reviewInput>;
