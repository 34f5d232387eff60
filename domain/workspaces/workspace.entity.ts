/** Access patterns: get a workspace by id (pk WS#<id>, sk WORKSPACE). */
export const workspaceSchema = {
  model: { service: 'crm', entity: 'workspace', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    name: { type: 'string', required: true },
    /** IANA zone the workspace counts its days in (metrics); absent: UTC. */
    timeZone: { type: 'string' },
    version: { type: 'number', required: true, default: 1 },
    /** Active owners; a change that would take it to 0 is refused by a condition on it. */
    ownerCount: { type: 'number', required: true, default: 0 },
    createdAt: { type: 'string', required: true, readOnly: true },
    updatedAt: { type: 'string', required: true },
  },
  indexes: {
    byId: {
      pk: { field: 'pk', composite: ['workspaceId'], template: 'WS#${workspaceId}', casing: 'none' },
      sk: { field: 'sk', composite: [], template: 'WORKSPACE', casing: 'none' },
    },
  },
} as const;
