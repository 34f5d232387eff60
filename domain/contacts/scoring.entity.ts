/**
 * Seed 001 ContactScore and ContactQualification: the history of a contact's 1–5 scores and of its
 * qualification (lead, prospect, customer, ...). Items are only ever created; the contact item
 * carries the latest of each (`score`, `qualification`), written in the same transaction.
 * Both live in the contact's own partition, beside the contact item (sk CONTACT):
 * - a contact's scores, newest first: pk WS#<workspaceId>#CONTACT#<contactId>, sk begins_with SCORE#
 *   (Query, descending; ids are ULIDs, so key order is time order)
 * - a contact's qualifications, newest first: the same pk, sk begins_with QUAL#
 */
export const contactScoreSchema = {
  model: { service: 'crm', entity: 'contactScore', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    contactId: { type: 'string', required: true, readOnly: true },
    scoreId: { type: 'string', required: true, readOnly: true },
    value: { type: 'number', required: true, readOnly: true },
    /** `manual`, `ai` or a custom key. */
    source: { type: 'string', required: true, readOnly: true },
    /** Who gave it: a user id, or `system` for the classifier. */
    userId: { type: 'string', required: true, readOnly: true },
    createdAt: { type: 'string', required: true, readOnly: true },
    /** A copy made by a merge: the contact the score was given to. */
    mergedFrom: { type: 'string', readOnly: true },
  },
  indexes: {
    byContact: {
      pk: {
        field: 'pk',
        composite: ['workspaceId', 'contactId'],
        template: 'WS#${workspaceId}#CONTACT#${contactId}',
        casing: 'none',
      },
      sk: { field: 'sk', composite: ['scoreId'], template: 'SCORE#${scoreId}', casing: 'none' },
    },
  },
} as const;

export const contactQualificationSchema = {
  model: { service: 'crm', entity: 'contactQualification', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    contactId: { type: 'string', required: true, readOnly: true },
    qualificationId: { type: 'string', required: true, readOnly: true },
    kind: { type: 'string', required: true, readOnly: true },
    score: { type: 'number', readOnly: true },
    source: { type: ['manual', 'ai'] as const, required: true, readOnly: true },
    /** A classifier's confidence (0 to 1) and the evidence it gave. */
    confidence: { type: 'number', readOnly: true },
    reasons: { type: 'list', items: { type: 'string' }, readOnly: true },
    userId: { type: 'string', required: true, readOnly: true },
    createdAt: { type: 'string', required: true, readOnly: true },
    /** A copy made by a merge: the contact the qualification was given to. */
    mergedFrom: { type: 'string', readOnly: true },
  },
  indexes: {
    byContact: {
      pk: {
        field: 'pk',
        composite: ['workspaceId', 'contactId'],
        template: 'WS#${workspaceId}#CONTACT#${contactId}',
        casing: 'none',
      },
      sk: { field: 'sk', composite: ['qualificationId'], template: 'QUAL#${qualificationId}', casing: 'none' },
    },
  },
} as const;
