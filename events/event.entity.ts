/**
 * The append-only event log (seed 001 Event). Items are only ever put, never updated.
 * Access patterns:
 * - events of one entity, newest first: pk WS#<workspaceId>#ENTITY#<entityType>#<entityId>,
 *   sk EVENT#<eventId> (event ids are ULIDs, so sk order is time order)
 * - events about a contact (its own, and those of its notes, tasks, deals...), newest first:
 *   gsi1 pk WS#<workspaceId>#ABOUT#CONTACT#<contactId>, sk <eventId>; sparse (events with a contactId)
 * - events about a company, likewise on gsi2 (pk WS#<workspaceId>#ABOUT#COMPANY#<companyId>), and
 *   about a deal on gsi3 (pk WS#<workspaceId>#ABOUT#DEAL#<dealId>)
 */
export const eventSchema = {
  model: { service: 'crm', entity: 'event', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    eventId: { type: 'string', required: true, readOnly: true },
    type: { type: 'string', required: true, readOnly: true },
    entityType: { type: 'string', required: true, readOnly: true },
    entityId: { type: 'string', required: true, readOnly: true },
    /** The user who caused it, or `system`. */
    actorUserId: { type: 'string', required: true, readOnly: true },
    payload: { type: 'any', required: true, readOnly: true },
    createdAt: { type: 'string', required: true, readOnly: true },
    /** What the event is about besides its entity (see EventSubjects): the keys of timelines. */
    contactId: { type: 'string', readOnly: true },
    companyId: { type: 'string', readOnly: true },
    dealId: { type: 'string', readOnly: true },
    /** A messaging event's channel (email, telegram...), for the timeline's channel filter. */
    channel: { type: 'string', readOnly: true },
    /** The index keys of the timelines it belongs to (`timelineKeys` in event-log.ts); absent otherwise. */
    aboutContactKey: { type: 'string', readOnly: true },
    aboutCompanyKey: { type: 'string', readOnly: true },
    /** The sort keys on those timelines: the event id (an index composite must be all there or all absent). */
    aboutContactSort: { type: 'string', readOnly: true },
    aboutCompanySort: { type: 'string', readOnly: true },
    aboutDealKey: { type: 'string', readOnly: true },
    aboutDealSort: { type: 'string', readOnly: true },
  },
  indexes: {
    byEntity: {
      pk: {
        field: 'pk',
        composite: ['workspaceId', 'entityType', 'entityId'],
        template: 'WS#${workspaceId}#ENTITY#${entityType}#${entityId}',
        casing: 'none',
      },
      sk: { field: 'sk', composite: ['eventId'], template: 'EVENT#${eventId}', casing: 'none' },
    },
    aboutContact: {
      index: 'gsi1',
      // Sparse: an event without these attributes gets no gsi1 keys (ElectroDB writes an index only
      // when all its composites are there, so they are attributes of their own).
      pk: { field: 'gsi1pk', composite: ['aboutContactKey'], template: '${aboutContactKey}', casing: 'none' },
      sk: { field: 'gsi1sk', composite: ['aboutContactSort'], template: '${aboutContactSort}', casing: 'none' },
    },
    aboutCompany: {
      index: 'gsi2',
      pk: { field: 'gsi2pk', composite: ['aboutCompanyKey'], template: '${aboutCompanyKey}', casing: 'none' },
      sk: { field: 'gsi2sk', composite: ['aboutCompanySort'], template: '${aboutCompanySort}', casing: 'none' },
    },
    aboutDeal: {
      index: 'gsi3',
      pk: { field: 'gsi3pk', composite: ['aboutDealKey'], template: '${aboutDealKey}', casing: 'none' },
      sk: { field: 'gsi3sk', composite: ['aboutDealSort'], template: '${aboutDealSort}', casing: 'none' },
    },
  },
} as const;
