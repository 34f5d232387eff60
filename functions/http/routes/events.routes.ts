import { eventSchema, listEventsQuery } from '../../../events/events.schemas';
import { route, pageOf, type RouteDefinition } from '../route-definition';

export const eventsRoutes = {
  listEvents: route({
    method: 'GET',
    path: '/v1/events',
    group: 'events',
    tag: 'Events',
    summary: 'The event log of one record, newest first',
    description:
      'For a contact, a company or a deal: every event about it — its own, and those of its notes, tasks and deals (and, for a contact, of the contacts merged into it). For other records: their own events.',
    auth: true,
    query: listEventsQuery,
    refusals: { 404: 'the record in the query' },
    response: { status: 200, description: 'A page of events', schema: pageOf(eventSchema, 'EventPage') },
  }),
} as const satisfies Record<string, RouteDefinition>;
