import * as z from 'zod';
import { eventTypes, messageChannels } from '../../events/catalogue';
import { eventSchema } from '../../events/events.schemas';
import { pageQuerySchema } from '../shared/pagination';
import { commaList } from '../shared/query-lists';
import { responseSchema, type ResponseOf } from '../shared/response-schema';

/** At most this many event types in one `types` filter (each is one term of the FilterExpression). */
export const maxTimelineTypes = 20;

const isoDateTime = z.iso.datetime({ offset: true });

export const contactTimelineQuery = pageQuerySchema
  .extend({
    types: commaList(eventTypes, maxTimelineTypes, 'event type')
      .optional()
      .meta({
        description: `Comma-separated event types (e.g. \`note.added,deal.won\`), at most ${maxTimelineTypes}`,
      }),
    channels: commaList(messageChannels, messageChannels.length, 'channel')
      .optional()
      .meta({ description: `Comma-separated channels of messaging events: ${messageChannels.join(', ')}` }),
    from: isoDateTime.optional().meta({ description: 'Only entries at or after this time' }),
    to: isoDateTime.optional().meta({ description: 'Only entries at or before this time' }),
  })
  .refine(
    (query) =>
      query.from === undefined || query.to === undefined || Date.parse(query.from) <= Date.parse(query.to),
    {
      path: ['to'],
      message: '`to` must not be before `from`',
    },
  );
export type ContactTimelineQuery = z.infer<typeof contactTimelineQuery>;

/**
 * One entry of a contact's timeline, a discriminated union on `kind`. Every entry is an event: the
 * inbox's messages, notes and calls appear through their own events (`<channel>.sent`,
 * `<channel>.replied`, `conversation.note_added`, `call.*`), which carry the conversation and message
 * ids and the message's first words, interleaved with the other events by time in the same one Query
 * per page.
 */
export const timelineEventEntrySchema = responseSchema(() =>
  z
    .object({
      kind: z.literal('event'),
      at: z.string().meta({ description: 'When it happened (the event’s createdAt)' }),
      event: eventSchema(),
    })
    .meta({ id: 'TimelineEventEntry' }),
);

export const timelineEntrySchema = responseSchema(() =>
  z
    .discriminatedUnion('kind', [timelineEventEntrySchema()])
    .meta({
      id: 'TimelineEntry',
      description:
        'An entry of the timeline: `kind` says which (`event`; messages and calls appear as their events)',
    }),
);
export type TimelineEntry = ResponseOf<typeof timelineEntrySchema>;
