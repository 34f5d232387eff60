/**
 * A tag of the library (seed 000 "Tag library. System tags + custom"): one item per tag key.
 * Access patterns:
 * - list the library by key (one Query per page; a name prefix is a key range):
 *   pk WS#<workspaceId>#TAGS, sk TAG#<tag key>
 * - get one tag: the same pk, sk TAG#<tag key> (one GetItem; BatchGetItem for a contact's tags)
 * The key is unique because it is the sort key, created with attribute_not_exists. `usageCount` is
 * kept by the tag-usage stream consumer (atomic ADD), never in a contact's transaction.
 */
export const tagSchema = {
  model: { service: 'crm', entity: 'tag', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    /** The folded name (`tagKey`): what contacts' tags match on. */
    key: { type: 'string', required: true, readOnly: true },
    /** The display form contacts carry. */
    name: { type: 'string', required: true },
    color: { type: 'string' },
    description: { type: 'string' },
    system: { type: 'boolean', required: true, readOnly: true },
    /** Contacts (active or archived) carrying the tag; only ever changed by atomic ADD. */
    usageCount: { type: 'number', required: true, default: 0 },
    /** Keys this tag was renamed from: a repeated rename request finds its outcome here. */
    previousKeys: { type: 'list', items: { type: 'string' } },
    /**
     * A rename or delete under way (`{ kind, toKey?, toName?, position?, startedAt, startedBy }`):
     * each request does a bounded part and saves where it stopped. `any`: a map with declared
     * properties drops keys it does not know.
     */
    pending: { type: 'any' },
    createdBy: { type: 'string', required: true, readOnly: true },
    version: { type: 'number', required: true, default: 1 },
    createdAt: { type: 'string', required: true, readOnly: true },
    updatedAt: { type: 'string', required: true },
  },
  indexes: {
    byKey: {
      pk: { field: 'pk', composite: ['workspaceId'], template: 'WS#${workspaceId}#TAGS', casing: 'none' },
      sk: { field: 'sk', composite: ['key'], template: 'TAG#${key}', casing: 'none' },
    },
  },
} as const;
