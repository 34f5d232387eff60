import { createHash } from 'node:crypto';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { encodeTime } from 'ulid';
import { aboutContactKey, type EventRecord } from '../../events/event-log';
import type { CallerContext } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import type { Page } from '../shared/pagination';
import { decodeContactEventCursor, encodeContactEventCursor, eventContactIdsOf } from './contact-events.service';
import type { ContactTimelineQuery } from './contact-timeline.schemas';
import { readContact } from './contacts.service';

/** Items one filtered Query may evaluate per partition: a page of a rare type reads at most this many. */
export const maxTimelineWindow = 1000;

/** A timeline entry as the domain returns it (the handler maps the event to its DTO). */
export type TimelineItem = { kind: 'event'; at: string; event: EventRecord };

const crockford = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const eventIdPrefix = 'evt_';

/**
 * The lowest and highest event id of a millisecond (ULID: 10 time characters, then 16 random). A time
 * before 1970 (a valid ISO date, not a ULID time) is the first millisecond of 1970: no event is older.
 */
const ulidTime = (iso: string) => encodeTime(Math.max(0, Date.parse(iso)), 10);
export const firstIdAt = (iso: string) => `${eventIdPrefix}${ulidTime(iso)}${'0'.repeat(16)}`;
export const lastIdAt = (iso: string) => `${eventIdPrefix}${ulidTime(iso)}${'Z'.repeat(16)}`;

/**
 * The event id just below `id` (the ULID minus one): `<= idBefore(id)` is `< id` among event ids, so a
 * cursor's exclusive bound and a date range make one BETWEEN. Undefined below the lowest id.
 */
export function idBefore(id: string): string | undefined {
  const chars = id.slice(eventIdPrefix.length).split('');
  for (let i = chars.length - 1; i >= 0; i--) {
    const digit = crockford.indexOf(chars[i]!);
    if (digit > 0) {
      chars[i] = crockford[digit - 1]!;
      return eventIdPrefix + chars.join('');
    }
    chars[i] = 'Z';
  }
  return undefined;
}

/** The filters a cursor is bound to: a cursor of other filters (or none) is refused. */
function filterKeyOf(query: ContactTimelineQuery): string | undefined {
  const { types, channels, from, to } = query;
  if (!types && !channels && from === undefined && to === undefined) return undefined;
  const canonical = JSON.stringify([types ?? null, channels ?? null, from ? Date.parse(from) : null, to ? Date.parse(to) : null]);
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 16);
}

interface PartitionRead {
  events: EventRecord[];
  /** The last sort key the Query evaluated when it stopped early: the partition is known down to it. */
  resumeAt?: string;
}

/**
 * Seed 000 "the customer drawer's Activity tab": everything about a contact, newest first, with
 * filters by event type, channel and date range. Covers the contact's own events and those of its
 * notes, tasks and deals (index `aboutContact`), and those of the contacts merged into it.
 *
 * A page is one GetItem of the contact (404, `mergedFrom`) and exactly one Query per index partition
 * (the contact's, in parallel with the GetItem, then each merged contact's): the date range and the
 * cursor are the sort key's BETWEEN (event ids are ULIDs, so id order is time order), types and
 * channels a FilterExpression. Unfiltered, a Query asks for `limit + 1` items; filtered, it evaluates a
 * window of `min(1000, limit × 10)` items and returns the matches, so a page may hold fewer than
 * `limit` entries and still have a `nextCursor`. When partitions stop at different points, only the
 * entries at or above the highest stopping point are returned (the rest of the page would skip items
 * the other partitions have not read yet), and the cursor continues below it.
 */
export async function listContactTimeline(
  deps: CoreDeps,
  caller: CallerContext,
  contactId: string,
  query: ContactTimelineQuery,
): Promise<Page<TimelineItem>> {
  const { workspaceId } = caller;
  const filterKey = filterKeyOf(query);
  const below = decodeContactEventCursor(query.cursor, contactId, filterKey);
  const filtered = query.types !== undefined || query.channels !== undefined;
  const window = filtered ? Math.min(maxTimelineWindow, query.limit * 10) : query.limit + 1;

  // The key range: from `from` up to the lower of `to` and just below the cursor.
  const lower = query.from ? firstIdAt(query.from) : undefined;
  const beforeCursor = below === undefined ? undefined : idBefore(below);
  const upper = [query.to ? lastIdAt(query.to) : undefined, beforeCursor].filter((bound) => bound !== undefined).sort()[0];
  // Nothing left: the cursor was the lowest id there is, or the range closed (BETWEEN needs lower ≤ upper).
  const empty = (below !== undefined && beforeCursor === undefined) || (lower !== undefined && upper !== undefined && lower > upper);

  const read = (id: string): Promise<PartitionRead> =>
    empty ? Promise.resolve({ events: [] }) : readPartition(deps, aboutContactKey(workspaceId, id), { lower, upper, window, query });
  // The contact's own partition is read alongside the contact: most contacts have merged none.
  const [contact, own] = await Promise.all([readContact(deps, workspaceId, contactId), read(contactId)]);
  const merged = await Promise.all(eventContactIdsOf(contact).slice(1).map(read));
  const reads = [own, ...merged];

  // Every partition is known at and above the highest point where one stopped: entries below it wait.
  const resumeAt = reads.map((r) => r.resumeAt).filter((key) => key !== undefined).sort().at(-1);
  const known = reads
    .flatMap((r) => r.events)
    .filter((event) => resumeAt === undefined || event.eventId >= resumeAt)
    .sort((a, b) => (a.eventId < b.eventId ? 1 : a.eventId > b.eventId ? -1 : 0));
  const page = known.slice(0, query.limit);
  const continueBelow = known.length > query.limit ? page.at(-1)!.eventId : resumeAt;
  return {
    items: page.map((event) => ({ kind: 'event', at: event.createdAt, event })),
    nextCursor: continueBelow === undefined ? null : encodeContactEventCursor(contactId, continueBelow, filterKey),
  };
}

/**
 * One Query of one contact's index partition, newest first, and nothing more: ElectroDB builds the
 * request (`.params()`), and it is sent once here, so no page ever loops over DynamoDB pages.
 * When the inbox lands, messages in this partition will need their own parse (or a collection query):
 * `parse` keeps only items of the event entity.
 */
async function readPartition(
  deps: CoreDeps,
  partition: string,
  range: { lower?: string; upper?: string; window: number; query: ContactTimelineQuery },
): Promise<PartitionRead> {
  const { entities, client } = deps.db;
  const { lower, upper, window, query } = range;
  const keyed = entities.event.query.aboutContact({ aboutContactKey: partition });
  const ranged =
    lower !== undefined && upper !== undefined
      ? keyed.between({ aboutContactSort: lower }, { aboutContactSort: upper })
      : lower !== undefined
        ? keyed.gte({ aboutContactSort: lower })
        : upper !== undefined
          ? keyed.lte({ aboutContactSort: upper })
          : keyed;
  const { types, channels } = query;
  const params =
    types || channels
      ? ranged
          .where((attr, { eq }) =>
            [
              types ? `(${types.map((type) => eq(attr.type, type as string)).join(' OR ')})` : undefined,
              channels ? `(${channels.map((channel) => eq(attr.channel, channel as string)).join(' OR ')})` : undefined,
            ]
              .filter((term) => term !== undefined)
              .join(' AND '),
          )
          .params({ order: 'desc', limit: window })
      : ranged.params({ order: 'desc', limit: window });
  const result = await client.send(new QueryCommand(params as ConstructorParameters<typeof QueryCommand>[0]));
  const { data } = entities.event.parse({ Items: result.Items ?? [] });
  const resumeAt = result.LastEvaluatedKey?.gsi1sk;
  return { events: data as EventRecord[], ...(typeof resumeAt === 'string' ? { resumeAt } : {}) };
}
