/**
 * A company: a legal entity (seed 000 "Companies"). Never deleted: archived, or archived by a merge
 * with `mergedInto` naming the company that absorbed it.
 * Access patterns:
 * - get a company: pk WS#<workspaceId>#COMPANY#<companyId>, sk COMPANY (one GetItem)
 * - list a workspace's companies by name, active or archived, and find them by a prefix of their name:
 *   gsi1 pk WS#<workspaceId>#COMPANIES#<status>, sk <name sort key>#<companyId>
 *   (Query; a name prefix is begins_with on the folded prefix)
 * - find the company holding a domain: the uniqueGuard item `company-domain` / <domain> (one GetItem)
 * - a company's contacts: the contacts' own list `company:<companyId>:<status>` (contact.entity.ts)
 */
export const companySchema = {
  model: { service: 'crm', entity: 'company', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    companyId: { type: 'string', required: true, readOnly: true },
    name: { type: 'string', required: true },
    /** `<nameSortKey(name)>#<companyId>`: the sort key of the by-name list. */
    nameKey: { type: 'string', required: true },
    domains: { type: 'list', required: true, items: { type: 'string' } },
    website: { type: 'string' },
    industry: { type: 'string' },
    size: { type: 'string' },
    city: { type: 'string' },
    state: { type: 'string' },
    country: { type: 'string' },
    ownerId: { type: 'string' },
    status: { type: ['active', 'archived'] as const, required: true },
    archivedAt: { type: 'string' },
    mergedInto: { type: 'string' },
    createdBy: { type: 'string', required: true, readOnly: true },
    version: { type: 'number', required: true },
    createdAt: { type: 'string', required: true, readOnly: true },
    updatedAt: { type: 'string', required: true },
  },
  indexes: {
    byId: {
      pk: {
        field: 'pk',
        composite: ['workspaceId', 'companyId'],
        template: 'WS#${workspaceId}#COMPANY#${companyId}',
        casing: 'none',
      },
      sk: { field: 'sk', composite: [], template: 'COMPANY', casing: 'none' },
    },
    byName: {
      index: 'gsi1',
      pk: {
        field: 'gsi1pk',
        composite: ['workspaceId', 'status'],
        template: 'WS#${workspaceId}#COMPANIES#${status}',
        casing: 'none',
      },
      sk: { field: 'gsi1sk', composite: ['nameKey'], template: '${nameKey}', casing: 'none' },
    },
  },
} as const;
