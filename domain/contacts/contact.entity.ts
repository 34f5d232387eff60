import { channelKinds } from './channels';

/**
 * A contact: a person (seed 000 "Customer"). Never deleted: archived or suppressed instead.
 * Access patterns:
 * - get a contact: pk WS#<workspaceId>#CONTACT#<contactId>, sk CONTACT (one GetItem; channels inline)
 * - find a contact by a channel value: the uniqueGuard item `channel:<kind>` / <normalized value>
 *   (one GetItem) holds the contact id
 * - every contact of a workspace, each followed by its segment memberships: gsi3 pk WS#<workspaceId>#CONTACTS,
 *   sk <contactId>#C (domain/segments/segment.entity.ts)
 * Lists and search are served by contactListEntry and contactSearchToken items (below), kept in the
 * same transaction as every change of the contact.
 */
export const contactSchema = {
  model: { service: 'crm', entity: 'contact', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    contactId: { type: 'string', required: true, readOnly: true },
    name: { type: 'string', required: true },
    jobTitle: { type: 'string' },
    role: { type: 'string' },
    segment: { type: 'string' },
    city: { type: 'string' },
    state: { type: 'string' },
    country: { type: 'string' },
    companyId: { type: 'string' },
    companyName: { type: 'string' },
    ownerId: { type: 'string' },
    status: { type: ['active', 'archived'] as const, required: true },
    archivedAt: { type: 'string' },
    mergedInto: { type: 'string' },
    /** On a merge target: what each contact merged into it brought (contact-merge.service.ts). */
    mergedFrom: {
      type: 'list',
      items: {
        type: 'map',
        properties: {
          contactId: { type: 'string', required: true },
          name: { type: 'string', required: true },
          mergedAt: { type: 'string', required: true },
          channels: {
            type: 'list',
            required: true,
            items: {
              type: 'map',
              properties: {
                kind: { type: channelKinds, required: true },
                normalized: { type: 'string', required: true },
              },
            },
          },
          tags: { type: 'list', required: true, items: { type: 'string' } },
          fields: { type: 'list', required: true, items: { type: 'string' } },
          /** Contacts merged earlier into this source: their events are the target's too. */
          mergedContactIds: { type: 'list', required: true, items: { type: 'string' } },
        },
      },
    },
    suppressed: { type: 'boolean', required: true },
    suppressedAt: { type: 'string' },
    suppressedReason: { type: 'string' },
    channels: {
      type: 'list',
      required: true,
      items: {
        type: 'map',
        properties: {
          channelId: { type: 'string', required: true },
          kind: { type: channelKinds, required: true },
          value: { type: 'string', required: true },
          normalized: { type: 'string', required: true },
          label: { type: 'string' },
          primary: { type: 'boolean', required: true },
        },
      },
    },
    tags: { type: 'list', items: { type: 'string' } },
    customFields: { type: 'any' },
    /** The latest score (seed 001 ContactScore); the history is contactScore items. */
    score: {
      type: 'map',
      properties: {
        id: { type: 'string', required: true },
        value: { type: 'number', required: true },
        source: { type: 'string', required: true },
        userId: { type: 'string', required: true },
        at: { type: 'string', required: true },
      },
    },
    /** The latest qualification (seed 001 ContactQualification); the history is contactQualification items. */
    qualification: {
      type: 'map',
      properties: {
        id: { type: 'string', required: true },
        kind: { type: 'string', required: true },
        score: { type: 'number' },
        source: { type: ['manual', 'ai'] as const, required: true },
        /** A classifier's confidence, 0 to 1. */
        confidence: { type: 'number' },
        userId: { type: 'string', required: true },
        at: { type: 'string', required: true },
      },
    },
    /** productId -> the contact's fit score for it, 0–100 (domain/fit; segment rules read `fitScore.<productId>`). */
    fitScores: { type: 'any' },
    /** The search tokens written for this contact, so an update writes only the difference. */
    searchTokens: { type: 'list', items: { type: 'string' } },
    createdBy: { type: 'string', required: true, readOnly: true },
    /** The import job that created the contact: its later rows reaching it count as merged, not updated. */
    importJobId: { type: 'string', readOnly: true },
    version: { type: 'number', required: true },
    createdAt: { type: 'string', required: true, readOnly: true },
    updatedAt: { type: 'string', required: true },
  },
  indexes: {
    byId: {
      pk: {
        field: 'pk',
        composite: ['workspaceId', 'contactId'],
        template: 'WS#${workspaceId}#CONTACT#${contactId}',
        casing: 'none',
      },
      sk: { field: 'sk', composite: [], template: 'CONTACT', casing: 'none' },
    },
    /**
     * Every contact of a workspace, with its segment memberships right after it (contactSegments,
     * sk <contactId>#S): a segment recompute reads them in one pass of Queries.
     */
    allContacts: {
      index: 'gsi3',
      pk: { field: 'gsi3pk', composite: ['workspaceId'], template: 'WS#${workspaceId}#CONTACTS', casing: 'none' },
      sk: { field: 'gsi3sk', composite: ['contactId'], template: '${contactId}#C', casing: 'none' },
    },
  },
} as const;

/**
 * One contact's place in one list, under one sort. Lists are `<status>` (every contact),
 * `owner:<ownerId or none>:<status>`, `company:<companyId>:<status>`, `suppressed:<status>` and
 * `tag:<tag key>:<status>` (contact-record.ts); sorts are `n` (name), `c` (created), `u` (updated).
 * The entry carries the contact's summary, so a page is one Query and nothing else.
 * Access pattern: pk WS#<workspaceId>#CL#<list>#<sort>, sk <sort value>#<contactId>.
 */
export const contactListEntrySchema = {
  model: { service: 'crm', entity: 'contactListEntry', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    list: { type: 'string', required: true, readOnly: true },
    sort: { type: ['n', 'c', 'u'] as const, required: true, readOnly: true },
    sortKey: { type: 'string', required: true, readOnly: true },
    contactId: { type: 'string', required: true },
    summary: { type: 'any', required: true },
  },
  indexes: {
    byList: {
      pk: {
        field: 'pk',
        composite: ['workspaceId', 'list', 'sort'],
        template: 'WS#${workspaceId}#CL#${list}#${sort}',
        casing: 'none',
      },
      sk: { field: 'sk', composite: ['sortKey'], template: '${sortKey}', casing: 'none' },
    },
  },
} as const;

/**
 * A search token of a contact (a folded word of its name or company, an email, phone digits...),
 * carrying the contact's search hit (its summary without updatedAt), so a search page is one Query.
 * Access pattern: pk WS#<workspaceId>#ST#<first two characters>, sk <token>#<contactId>; a search is
 * the key range of the folded query (a prefix) in the query's partition. `earlier`: the contact's
 * tokens in the same partition whose items sort before this one, so a search lists a contact at the
 * first of its tokens the query matches, on whichever page that falls (absent when there are none).
 */
export const contactSearchTokenSchema = {
  model: { service: 'crm', entity: 'contactSearchToken', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    partition: { type: 'string', required: true, readOnly: true },
    token: { type: 'string', required: true, readOnly: true },
    contactId: { type: 'string', required: true, readOnly: true },
    hit: { type: 'any', required: true },
    earlier: { type: 'list', items: { type: 'string' } },
  },
  indexes: {
    byToken: {
      pk: {
        field: 'pk',
        composite: ['workspaceId', 'partition'],
        template: 'WS#${workspaceId}#ST#${partition}',
        casing: 'none',
      },
      sk: { field: 'sk', composite: ['token', 'contactId'], template: '${token}#${contactId}', casing: 'none' },
    },
  },
} as const;
