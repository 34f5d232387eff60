/**
 * The append-only event log (seed 001 Event). Items are only ever put, never updated.
 * Access patterns:
 * - events of one entity, newest first: pk WS#<workspaceId>#ENTITY#<entityType>#<entityId>,
 *   sk EVENT#<eventId> (event ids are ULIDs, so sk order is time order)
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
  },
} as const;
