import * as z from 'zod';
import { pageQuerySchema } from '../domain/shared/pagination';
import { commaList } from '../domain/shared/query-lists';
import { entityTypes, eventTypes } from './catalogue';
import { feedRetentionDays } from './feed';
import { responseSchema } from '../domain/shared/response-schema';

export const eventSchema = responseSchema(() =>
  z
    .object({
      id: z.string(),
      type: z.string().meta({ description: 'Dotted event type, e.g. `user.added`' }),
      entityType: z.string(),
      entityId: z.string(),
      actorUserId: z.string().meta({ description: 'The user who caused it, or `system`' }),
      payload: z.record(z.string(), z.unknown()),
      createdAt: z.string(),
      contactId: z
        .string()
        .nullable()
        .meta({ description: 'The contact the event is about, if any (its timeline shows it)' }),
      companyId: z.string().nullable().meta({ description: 'The company the event is about, if any' }),
      dealId: z.string().nullable().meta({ description: 'The deal the event is about, if any' }),
      channel: z
        .string()
        .nullable()
        .meta({ description: 'The channel of a messaging event (email, telegram...), else null' }),
    })
    .meta({ id: 'Event' }),
);

export const listEventsQuery = pageQuerySchema.extend({
  entityType: z.enum(entityTypes),
  entityId: z.string().min(1).max(64),
});

/** Every event type, and each family of them as `<prefix>.*` (`contact.*`, `deal.*`, ...). */
export const eventTypePatterns = [
  ...eventTypes,
  ...new Set(eventTypes.map((type) => `${type.slice(0, type.indexOf('.'))}.*`)),
];

const knownPatterns = new Set<string>(['*', ...eventTypePatterns]);

/** True when the pattern names a type of the catalogue, a family of them (`contact.*`), or `*`. */
export const isEventTypePattern = (pattern: string) => knownPatterns.has(pattern);

/** True when the event's type is one the patterns name (exact, `<family>.*` or `*`). */
export const eventTypeMatches = (patterns: readonly string[], type: string) =>
  patterns.some(
    (pattern) =>
      pattern === '*' ||
      pattern === type ||
      (pattern.endsWith('.*') && type.startsWith(pattern.slice(0, -1))),
  );

/** At most this many types in the feed's `types` filter (each is one term of its FilterExpression). */
export const maxFeedTypes = 30;

export const feedQuery = z.object({
  after: z
    .string()
    .regex(/^\d{1,15}$/, "A position the feed gave out (`nextAfter` or an item's `position`)")
    .optional()
    .meta({
      description:
        "Where to start: a `nextAfter` or an event's `position` from an earlier page. Absent: the oldest event kept.",
    }),
  types: commaList(eventTypePatterns, maxFeedTypes, 'event type')
    .optional()
    .meta({
      description: `Comma-separated event types or families (\`contact.*\`), at most ${maxFeedTypes}`,
    }),
  limit: z.coerce.number().int().min(1).max(100).default(100),
});
export type FeedQuery = z.infer<typeof feedQuery>;

export const feedPageSchema = responseSchema(() =>
  z
    .object({
      items: z.array(
        eventSchema().extend({
          position: z
            .string()
            .meta({
              description: "The event's place in the feed: pass it as `after` to read what came after it",
            }),
        }),
      ),
      nextAfter: z
        .string()
        .meta({
          description: 'Pass as `after` for the next page, now or later (never null: the feed goes on)',
        }),
      hasMore: z
        .boolean()
        .meta({ description: 'More entries were there when this page was read: ask again at once' }),
    })
    .meta({
      id: 'EventFeedPage',
      description: `Events oldest first, kept ${feedRetentionDays} days in the feed`,
    }),
);
