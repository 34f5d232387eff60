import { eventSchema } from './event.entity';

/**
 * The change feed (`GET /v1/events/feed`): every event of a workspace at a position of its own, in one
 * partition read oldest first. Positions are dense (1, 2, 3, ...) and given out by the `feed` fan-out
 * consumer in the same transaction that moves the workspace's head, so a position is visible only
 * together with every position below it: a reader that has seen position n never finds a new event
 * below n later (an event's id is taken before its write commits, so id order could not promise that).
 * Access patterns:
 * - a page of the feed after a position: pk WS#<workspaceId>#FEED, sk <position, 15 digits> (one
 *   consistent Query, ascending)
 * - the head (the last position given out): the same pk, sk #HEAD (sorts before every position)
 * Entries expire `feedRetentionDays` after they were written.
 */
/** An entry holds its event as the log does, without the timelines' index keys. */
const {
  aboutContactKey: _contactKey,
  aboutCompanyKey: _companyKey,
  aboutContactSort: _contactSort,
  aboutCompanySort: _companySort,
  aboutDealKey: _dealKey,
  aboutDealSort: _dealSort,
  ...eventAttributes
} = eventSchema.attributes;

export const feedEntrySchema = {
  model: { service: 'crm', entity: 'feedEntry', version: '1' },
  attributes: {
    ...eventAttributes,
    /** The position, zero-padded to 15 digits: the sort key (and the cursor the API hands out). */
    positionKey: { type: 'string', required: true, readOnly: true },
    expiresAt: { type: 'number', required: true, readOnly: true },
  },
  indexes: {
    byPosition: {
      pk: { field: 'pk', composite: ['workspaceId'], template: 'WS#${workspaceId}#FEED', casing: 'none' },
      sk: { field: 'sk', composite: ['positionKey'], template: '${positionKey}', casing: 'none' },
    },
  },
} as const;

export const feedHeadSchema = {
  model: { service: 'crm', entity: 'feedHead', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    /** The last position given out (0 before the first event). */
    position: { type: 'number', required: true },
  },
  indexes: {
    byWorkspace: {
      pk: { field: 'pk', composite: ['workspaceId'], template: 'WS#${workspaceId}#FEED', casing: 'none' },
      sk: { field: 'sk', composite: [], template: '#HEAD', casing: 'none' },
    },
  },
} as const;
