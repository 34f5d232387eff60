import { listRecordEvents } from '../../domain/contacts/contact-events.service';
import { toEventDto } from '../../events/event-log';
import { readFeed } from '../../events/feed';
import { createHttpHandler } from './http-handler';
import { eventsRoutes } from './routes/events.routes';

export const handler = createHttpHandler('events', eventsRoutes, {
  listEvents: async ({ caller, query }, deps) => {
    const page = await listRecordEvents(deps, caller, { type: query.entityType, id: query.entityId }, query);
    return { items: page.items.map(toEventDto), nextCursor: page.nextCursor };
  },
  readEventFeed: ({ caller, query }, deps) => readFeed(deps, caller, query),
});
