/** The records that carry custom fields. */
/** An entity type holds at most this many custom fields (here, not in the schemas: the services that check it would build them all at import). */
export const maxCustomFieldsPerEntityType = 100;
export const customFieldEntityTypes = ['contact', 'deal'] as const;
export type CustomFieldEntityType = (typeof customFieldEntityTypes)[number];

export const customFieldTypes = ['text', 'number', 'date', 'boolean', 'select'] as const;
export type CustomFieldType = (typeof customFieldTypes)[number];

/**
 * A custom field definition: a typed field a workspace adds to its contacts or deals.
 * Access patterns:
 * - list a workspace's definitions of one entity type (one Query, at most 100 items):
 *   pk WS#<workspaceId>#CUSTOMFIELDS#<entityType>, sk begins_with FIELD#
 * - get one definition: the same pk, sk FIELD#<key>
 * The key is unique per workspace and entity type because it is the sort key, created with
 * attribute_not_exists. The cap of 100 definitions is held by slot guards (unique-guard.entity.ts,
 * scope `custom-field-slot`, value `<entityType>#<position>`) written in the same transaction.
 */
export const customFieldSchema = {
  model: { service: 'crm', entity: 'customField', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    entityType: { type: customFieldEntityTypes, required: true, readOnly: true },
    key: { type: 'string', required: true, readOnly: true },
    label: { type: 'string', required: true },
    type: { type: customFieldTypes, required: true, readOnly: true },
    /** Select fields only; values never change or go away, labels may. */
    options: {
      type: 'list',
      items: {
        type: 'map',
        properties: {
          value: { type: 'string', required: true },
          label: { type: 'string', required: true },
        },
      },
    },
    required: { type: 'boolean', required: true, default: false },
    archived: { type: 'boolean', required: true, default: false },
    /** 1-based creation order: lists are shown in it. Also the slot the definition holds. */
    position: { type: 'number', required: true, readOnly: true },
    version: { type: 'number', required: true, default: 1 },
    createdAt: { type: 'string', required: true, readOnly: true },
    updatedAt: { type: 'string', required: true },
  },
  indexes: {
    byEntityType: {
      pk: {
        field: 'pk',
        composite: ['workspaceId', 'entityType'],
        template: 'WS#${workspaceId}#CUSTOMFIELDS#${entityType}',
        casing: 'none',
      },
      sk: { field: 'sk', composite: ['key'], template: 'FIELD#${key}', casing: 'none' },
    },
  },
} as const;
