/**
 * Event counters, kept by atomic ADD from the stream (never by reading events).
 * Access patterns:
 * - a day's counters of a workspace: pk WS#<workspaceId>#COUNTERS#<day>, sk <type>#<actorUserId>
 *   (actorUserId `*` holds the total over all actors)
 */
export const counterSchema = {
  model: { service: 'crm', entity: 'counter', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    day: { type: 'string', required: true, readOnly: true },
    type: { type: 'string', required: true, readOnly: true },
    actorUserId: { type: 'string', required: true, readOnly: true },
    count: { type: 'number', required: true, default: 0 },
  },
  indexes: {
    byDay: {
      pk: {
        field: 'pk',
        composite: ['workspaceId', 'day'],
        template: 'WS#${workspaceId}#COUNTERS#${day}',
        casing: 'none',
      },
      sk: { field: 'sk', composite: ['type', 'actorUserId'], template: '${type}#${actorUserId}', casing: 'none' },
    },
  },
} as const;
