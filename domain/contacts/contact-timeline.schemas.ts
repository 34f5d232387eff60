import { z } from 'zod';
import { eventTypes, messageChannels } from '../../events/catalogue';
import { eventSchema } from '../../events/events.schemas';
import { pageQuerySchema } from '../shared/pagination';
import { commaList } from '../shared/query-lists';

/** At most this many event types in one `types` filter (each is one term of the FilterExpression). */
export const maxTimelineTypes = 20;

const isoDateTime = z.iso.datetime({ offset: true });

export const contactTimelineQuery = pageQuerySchema
  .extend({
    types: commaList(eventTypes, maxTimelineTypes, 'event type')
      .optional()
      .meta({ description: `Comma-separated event types (e.g. \`note.added,deal.won\`), at most ${maxTimelineTypes}` }),
    channels: commaList(messageChannels, messageChannels.length, 'channel')
      .optional()
      .meta({ description: `Comma-separated channels of messaging events: ${messageChannels.join(', ')}` }),
    from: isoDateTime.optional().meta({ description: 'Only entries at or after this time' }),
    to: isoDateTime.optional().meta({ description: 'Only entries at or before this time' }),
  })
  .refine((query) => query.from === undefined || query.to === undefined || Date.parse(query.from) <= Date.parse(query.to), {
    path: ['to'],
    message: '`to` must not be before `from`',
  });
export type ContactTimelineQuery = z.infer<typeof contactTimelineQuery>;

/**
 * One entry of a contact's timeline, a discriminated union on `kind`. Today every entry is an event.
 * When the inbox lands, its message items are indexed in the same gsi1 partition as the contact's
 * events (`aboutContactKey`, sort key the message's ULID id), so the same one Query per page returns
 * them interleaved by time, and they join this union as `{ kind: 'message', at, message }`.
 */
export const timelineEventEntrySchema = z
  .object({
    kind: z.literal('event'),
    at: z.string().meta({ description: 'When it happened (the event’s createdAt)' }),
    event: eventSchema,
  })
  .meta({ id: 'TimelineEventEntry' });

export const timelineEntrySchema = z
  .discriminatedUnion('kind', [timelineEventEntrySchema])
  .meta({ id: 'TimelineEntry', description: 'An entry of the timeline: `kind` says which (only `event` for now; `message` when the inbox lands)' });
export type TimelineEntry = z.infer<typeof timelineEntrySchema>;
