/** Deal status (seed 001): it follows the kind of the deal's stage. */
export const dealStatuses = ['open', 'won', 'lost'] as const;
export type DealStatus = (typeof dealStatuses)[number];

/**
 * A deal (seed 001 Deal): a sales opportunity in one stage of one pipeline.
 * Access patterns:
 * - get a deal: pk WS#<workspaceId>#DEAL#<dealId>, sk DEAL (one GetItem)
 * - a board column, the deals of one stage, latest arrival first:
 *   gsi1 pk WS#<workspaceId>#PIPELINE#<pipelineId>#STAGE#<stageId>, sk <boardKey>
 *   (`<stageEnteredAt>#<dealId>`: stable while the deal stays in the stage; one Query per page)
 * The other lists are dealListEntry items (below), written in the deal's transaction.
 */
export const dealSchema = {
  model: { service: 'crm', entity: 'deal', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    dealId: { type: 'string', required: true, readOnly: true },
    title: { type: 'string', required: true },
    /** Integer minor units (cents) of `currency`. */
    value: { type: 'number' },
    currency: { type: 'string' },
    expectedCloseDate: { type: 'string' },
    contactId: { type: 'string' },
    companyId: { type: 'string' },
    ownerId: { type: 'string' },
    pipelineId: { type: 'string', required: true },
    stageId: { type: 'string', required: true },
    statusKey: { type: dealStatuses, required: true },
    lostReason: { type: 'string' },
    customFields: { type: 'any' },
    stageEnteredAt: { type: 'string', required: true },
    boardKey: { type: 'string', required: true },
    closedAt: { type: 'string' },
    createdBy: { type: 'string', required: true, readOnly: true },
    version: { type: 'number', required: true },
    createdAt: { type: 'string', required: true, readOnly: true },
    updatedAt: { type: 'string', required: true },
  },
  indexes: {
    byId: {
      pk: {
        field: 'pk',
        composite: ['workspaceId', 'dealId'],
        template: 'WS#${workspaceId}#DEAL#${dealId}',
        casing: 'none',
      },
      sk: { field: 'sk', composite: [], template: 'DEAL', casing: 'none' },
    },
    byStage: {
      index: 'gsi1',
      pk: {
        field: 'gsi1pk',
        composite: ['workspaceId', 'pipelineId', 'stageId'],
        template: 'WS#${workspaceId}#PIPELINE#${pipelineId}#STAGE#${stageId}',
        casing: 'none',
      },
      sk: { field: 'gsi1sk', composite: ['boardKey'], template: '${boardKey}', casing: 'none' },
    },
  },
} as const;

/**
 * One deal's place in one list (`all`, `status:<s>`, `pipeline:<p>`, `stage:<p>:<s>`,
 * `owner:<userId or none>`, `contact:<c>`, `company:<c>`), carrying the deal as the API shows it, so a
 * page needs no other read. One item serves the list's three sorts, one index each:
 * - by value: pk WS#<workspaceId>#DL#<list>#value, sk <valueKey>#<dealId> (table)
 * - by expected close date: gsi1 pk WS#<workspaceId>#DL#<list>#close, sk <closeKey>#<dealId>
 * - by last update: gsi2 pk WS#<workspaceId>#DL#<list>#updated, sk <updatedAt>#<dealId>
 * One filter's page is one Query on one partition (no sharding: deals are written at human pace);
 * combined filters read the narrowest filter's list and narrow its entries by the deal they carry
 * (`deal-lists.service.ts`: at most 3 Queries a page).
 */
export const dealListEntrySchema = {
  model: { service: 'crm', entity: 'dealListEntry', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    list: { type: 'string', required: true, readOnly: true },
    dealId: { type: 'string', required: true, readOnly: true },
    valueKey: { type: 'string', required: true, readOnly: true },
    closeKey: { type: 'string', required: true },
    updatedKey: { type: 'string', required: true },
    deal: { type: 'any', required: true },
  },
  indexes: {
    byValue: {
      pk: {
        field: 'pk',
        composite: ['workspaceId', 'list'],
        template: 'WS#${workspaceId}#DL#${list}#value',
        casing: 'none',
      },
      sk: { field: 'sk', composite: ['valueKey', 'dealId'], template: '${valueKey}#${dealId}', casing: 'none' },
    },
    byClose: {
      index: 'gsi1',
      pk: {
        field: 'gsi1pk',
        composite: ['workspaceId', 'list'],
        template: 'WS#${workspaceId}#DL#${list}#close',
        casing: 'none',
      },
      sk: { field: 'gsi1sk', composite: ['closeKey', 'dealId'], template: '${closeKey}#${dealId}', casing: 'none' },
    },
    byUpdated: {
      index: 'gsi2',
      pk: {
        field: 'gsi2pk',
        composite: ['workspaceId', 'list'],
        template: 'WS#${workspaceId}#DL#${list}#updated',
        casing: 'none',
      },
      sk: {
        field: 'gsi2sk',
        composite: ['updatedKey', 'dealId'],
        template: '${updatedKey}#${dealId}',
        casing: 'none',
      },
    },
  },
} as const;
