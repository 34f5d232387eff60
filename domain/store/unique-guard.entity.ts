/**
 * A guard item holds a unique value (a user's email, later a channel value or a pin slot) inside a
 * workspace. It is created with attribute_not_exists in the same transaction as the record that
 * claims the value, so two writers can never both succeed.
 * Access pattern: pk WS#<workspaceId>#UNIQUE#<scope>#<value>, sk UNIQUE.
 */
export const uniqueGuardSchema = {
  model: { service: 'crm', entity: 'uniqueGuard', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    scope: { type: 'string', required: true, readOnly: true },
    value: { type: 'string', required: true, readOnly: true },
    /** The id of the record holding the value. */
    ownerId: { type: 'string', required: true },
    createdAt: { type: 'string', required: true, readOnly: true },
  },
  indexes: {
    byValue: {
      pk: {
        field: 'pk',
        composite: ['workspaceId', 'scope', 'value'],
        template: 'WS#${workspaceId}#UNIQUE#${scope}#${value}',
        casing: 'none',
      },
      sk: { field: 'sk', composite: [], template: 'UNIQUE', casing: 'none' },
    },
  },
} as const;
