/**
 * Fit scoring (seed 000: "CustomerFitAssessment (score per criterion per product, with history)",
 * "Leads: customer fit ranking per product, human review").
 *
 * - A product with its fit criteria inline: pk WS#<ws>#PRODUCTS, sk PRODUCT#<productId> (the
 *   workspace's products are one Query; a product is one GetItem).
 * - An assessment (history, only ever created): in the contact's partition, pk WS#<ws>#CONTACT#<id>,
 *   sk FIT#<productId>#<assessmentId> (ULIDs: a product's history newest first is one Query).
 * - A contact's fit for a product (the latest assessment of each criterion, the weighted score, the
 *   review): pk WS#<ws>#CONTACT#<id>, sk FITSCORE#<productId>. Ranked for leads by score, best first:
 *   gsi1 pk WS#<ws>#LEADS#<productId>#<reviewStatus>, gsi2 pk WS#<ws>#LEADS#<productId> (every status),
 *   both sk <rank>#<contactId> with rank = 1000 − score, zero-padded: a page of leads is one Query.
 * - A review (history): pk WS#<ws>#CONTACT#<id>, sk REVIEW#<productId>#<reviewId>.
 */
export const criterionKinds = ['manual', 'rule', 'ai'] as const;
export type CriterionKind = (typeof criterionKinds)[number];
export const assessmentSources = ['user', 'rule', 'ai'] as const;
export type AssessmentSource = (typeof assessmentSources)[number];
export const reviewStatuses = ['pending', 'accepted', 'rejected'] as const;
export type ReviewStatus = (typeof reviewStatuses)[number];

export const productSchema = {
  model: { service: 'crm', entity: 'product', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    productId: { type: 'string', required: true, readOnly: true },
    name: { type: 'string', required: true },
    description: { type: 'string' },
    /** [{ criterionId, name, weight, kind, rules?, otherwise? }] (fit.schemas.ts). */
    criteria: { type: 'any', required: true },
    createdBy: { type: 'string', required: true, readOnly: true },
    version: { type: 'number', required: true },
    createdAt: { type: 'string', required: true, readOnly: true },
    updatedAt: { type: 'string', required: true },
  },
  indexes: {
    byWorkspace: {
      pk: { field: 'pk', composite: ['workspaceId'], template: 'WS#${workspaceId}#PRODUCTS', casing: 'none' },
      sk: { field: 'sk', composite: ['productId'], template: 'PRODUCT#${productId}', casing: 'none' },
    },
  },
} as const;

export const fitAssessmentSchema = {
  model: { service: 'crm', entity: 'fitAssessment', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    contactId: { type: 'string', required: true, readOnly: true },
    productId: { type: 'string', required: true, readOnly: true },
    assessmentId: { type: 'string', required: true, readOnly: true },
    criterionId: { type: 'string', required: true, readOnly: true },
    value: { type: 'number', required: true, readOnly: true },
    evidence: { type: 'string', readOnly: true },
    source: { type: assessmentSources, required: true, readOnly: true },
    /** Who: a user id, or `system` for rule and AI assessments. */
    userId: { type: 'string', required: true, readOnly: true },
    createdAt: { type: 'string', required: true, readOnly: true },
  },
  indexes: {
    byContact: {
      pk: { field: 'pk', composite: ['workspaceId', 'contactId'], template: 'WS#${workspaceId}#CONTACT#${contactId}', casing: 'none' },
      sk: { field: 'sk', composite: ['productId', 'assessmentId'], template: 'FIT#${productId}#${assessmentId}', casing: 'none' },
    },
  },
} as const;

export const contactFitSchema = {
  model: { service: 'crm', entity: 'contactFit', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    contactId: { type: 'string', required: true, readOnly: true },
    productId: { type: 'string', required: true, readOnly: true },
    /** criterionId -> the latest assessment { assessmentId, value, source, evidence?, userId, at }. */
    latest: { type: 'any', required: true },
    /** 0–100: the weighted latest values of the product's criteria (fit-score.ts). */
    score: { type: 'number', required: true },
    /** The share of the criteria's weight that has an assessment, 0–1. */
    coverage: { type: 'number', required: true },
    rank: { type: 'string', required: true },
    reviewStatus: { type: reviewStatuses, required: true },
    review: { type: 'any' },
    /** The contact's summary (its search hit), for lead pages. */
    summary: { type: 'any', required: true },
    version: { type: 'number', required: true },
    updatedAt: { type: 'string', required: true },
  },
  indexes: {
    byContact: {
      pk: { field: 'pk', composite: ['workspaceId', 'contactId'], template: 'WS#${workspaceId}#CONTACT#${contactId}', casing: 'none' },
      sk: { field: 'sk', composite: ['productId'], template: 'FITSCORE#${productId}', casing: 'none' },
    },
    byStatus: {
      index: 'gsi1',
      pk: { field: 'gsi1pk', composite: ['workspaceId', 'productId', 'reviewStatus'], template: 'WS#${workspaceId}#LEADS#${productId}#${reviewStatus}', casing: 'none' },
      sk: { field: 'gsi1sk', composite: ['rank', 'contactId'], template: '${rank}#${contactId}', casing: 'none' },
    },
    byProduct: {
      index: 'gsi2',
      pk: { field: 'gsi2pk', composite: ['workspaceId', 'productId'], template: 'WS#${workspaceId}#LEADS#${productId}', casing: 'none' },
      sk: { field: 'gsi2sk', composite: ['rank', 'contactId'], template: '${rank}#${contactId}', casing: 'none' },
    },
  },
} as const;

export const leadReviewSchema = {
  model: { service: 'crm', entity: 'leadReview', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    contactId: { type: 'string', required: true, readOnly: true },
    productId: { type: 'string', required: true, readOnly: true },
    reviewId: { type: 'string', required: true, readOnly: true },
    status: { type: reviewStatuses, required: true, readOnly: true },
    reason: { type: 'string', readOnly: true },
    userId: { type: 'string', required: true, readOnly: true },
    /** On acceptance: the owner given and the deal created, when asked. */
    ownerId: { type: 'string', readOnly: true },
    dealId: { type: 'string', readOnly: true },
    createdAt: { type: 'string', required: true, readOnly: true },
  },
  indexes: {
    byContact: {
      pk: { field: 'pk', composite: ['workspaceId', 'contactId'], template: 'WS#${workspaceId}#CONTACT#${contactId}', casing: 'none' },
      sk: { field: 'sk', composite: ['productId', 'reviewId'], template: 'REVIEW#${productId}#${reviewId}', casing: 'none' },
    },
  },
} as const;
