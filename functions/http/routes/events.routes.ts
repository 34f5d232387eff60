import { eventSchema, feedPageSchema, feedQuery, listEventsQuery } from '../../../events/events.schemas';
import { feedRetentionDays } from '../../../events/feed';
import { route, pageOf, type RouteDefinition } from '../route-definition';

export const eventsRoutes = {
  listEvents: route({
    method: 'GET',
    path: '/v1/events',
    group: 'events',
    tag: 'Events',
    summary: 'The event log of one record, newest first',
    description:
      'For a contact, a company or a deal: every event about it — its own, and those of its notes, tasks and deals (and, for a contact, of the contacts merged into it). For other records: their own events. An id the workspace never held, of any kind, is a 404 (a record removed since keeps its events readable); a record without events yet is an empty page.',
    auth: true,
    query: listEventsQuery,
    refusals: {
      403: 'a member asking for the events of a webhook, a channel connection or another user’s token (records only owners and admins read)',
      404: 'the record in the query: no record of this kind with this id in the workspace, nor any event of one',
    },
    response: { status: 200, description: 'A page of events', schema: pageOf(eventSchema, 'EventPage') },
  }),
  readEventFeed: route({
    method: 'GET',
    path: '/v1/events/feed',
    group: 'events',
    tag: 'Events',
    summary: 'The workspace’s change feed: every event, oldest first, from any position',
    description:
      `Every event of the workspace in the order the feed received them, each at a \`position\` that never changes, so an integrator syncs without webhooks and replays from any point: keep \`nextAfter\` and pass it back as \`after\`, now or days later. A position is given only when every position before it is given, so reading up to one never skips an event that arrives later. Events appear about a second after they happen and stay ${feedRetentionDays} days (the event log keeps them for good: \`GET /v1/events\`). \`types\` filters on the server, so a filtered page may be short or even empty while \`hasMore\` is true. Owners and admins only.`,
    auth: true,
    query: feedQuery,
    refusals: {
      403: 'a member: the feed holds every record’s events',
      422: `the position is older than the feed’s ${feedRetentionDays} days: the events after it have expired (details name the oldest kept)`,
    },
    response: { status: 200, description: 'A page of the feed', schema: feedPageSchema },
  }),
} as const satisfies Record<string, RouteDefinition>;
