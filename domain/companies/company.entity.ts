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
    /** The keys of its companyNameWord items (below), so a change deletes exactly those it no longer has. */
    nameWords: { type: 'list', items: { type: 'string' } },
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

/**
 * A later word of a company's name, from that word on ("agricole" for "Crédit Agricole"; variants
 * with punctuation read as spaces and umlauts spelled out, these also in full), so `q` finds a company
 * by any word of its name; its first word is the by-name list's own prefix. Written in the company's
 * transactions, when its name or status changes.
 * Access pattern: pk WS#<workspaceId>#COMPANYWORDS#<status>, sk <words>#<companyId>; `q` is the key
 * range of its folded prefix. `nameKey` (the company's by-name key) and `earlier` (the company's words
 * whose items sort before this one) let a search list each company once: at its name when the name
 * matches, else at the first of its words that does.
 */
export const companyNameWordSchema = {
  model: { service: 'crm', entity: 'companyNameWord', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    status: { type: ['active', 'archived'] as const, required: true, readOnly: true },
    words: { type: 'string', required: true, readOnly: true },
    companyId: { type: 'string', required: true, readOnly: true },
    nameKey: { type: 'string', required: true },
    earlier: { type: 'list', items: { type: 'string' } },
  },
  indexes: {
    byWords: {
      pk: {
        field: 'pk',
        composite: ['workspaceId', 'status'],
        template: 'WS#${workspaceId}#COMPANYWORDS#${status}',
        casing: 'none',
      },
      sk: { field: 'sk', composite: ['words', 'companyId'], template: '${words}#${companyId}', casing: 'none' },
    },
  },
} as const;
