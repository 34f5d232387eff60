import type { CallerContext } from '../domain/shared/context';
import type { CoreDeps } from '../domain/shared/deps';
import { checkCursor, type Page, type PageQuery } from '../domain/shared/pagination';
import type { TxEntities } from '../domain/store/db';
import { eventCatalogue, eventChannel, type EntityType, type EventPayload, type EventType } from './catalogue';

export interface EventRecord {
  eventId: string;
  workspaceId: string;
  type: string;
  entityType: string;
  entityId: string;
  actorUserId: string;
  payload: unknown;
  createdAt: string;
  /** The contact, company and deal the event is about, when it has them: timelines are keyed by them. */
  contactId?: string;
  companyId?: string;
  dealId?: string;
  /** The channel of a messaging event (`eventChannel`): the timeline's channel filter reads it. */
  channel?: string;
}

/** The records an event is about besides its own entity (a note's contact, a deal's company...). */
export interface EventSubjects {
  contactId?: string;
  companyId?: string;
  dealId?: string;
}

/**
 * Builds the event item for a change, validated against its catalogue schema. The caller puts it in
 * the same transaction as the change: `appendEvent(tx, event)`.
 */
export function newEvent<T extends EventType>(
  deps: Pick<CoreDeps, 'clock' | 'newId'>,
  caller: CallerContext,
  type: T,
  entity: { type: EntityType; id: string },
  payload: EventPayload<T>,
  about: EventSubjects = {},
): EventRecord {
  // An event of a contact, company or deal is about that record too.
  const own: EventSubjects =
    entity.type === 'contact'
      ? { contactId: entity.id }
      : entity.type === 'company'
        ? { companyId: entity.id }
        : entity.type === 'deal'
          ? { dealId: entity.id }
          : {};
  const subjects = Object.fromEntries(Object.entries({ ...own, ...about }).filter(([, id]) => id !== undefined));
  const parsed = eventCatalogue[type].parse(payload);
  const channel = eventChannel(type, parsed);
  return {
    eventId: deps.newId('evt'),
    workspaceId: caller.workspaceId,
    type,
    entityType: entity.type,
    entityId: entity.id,
    actorUserId: caller.userId,
    payload: parsed,
    createdAt: deps.clock.nowIso(),
    ...subjects,
    ...(channel ? { channel } : {}),
  };
}

/** The partition keys of the contact's and the company's timelines (indexes of the event entity). */
export const aboutContactKey = (workspaceId: string, contactId: string) => `WS#${workspaceId}#ABOUT#CONTACT#${contactId}`;
export const aboutCompanyKey = (workspaceId: string, companyId: string) => `WS#${workspaceId}#ABOUT#COMPANY#${companyId}`;
export const aboutDealKey = (workspaceId: string, dealId: string) => `WS#${workspaceId}#ABOUT#DEAL#${dealId}`;

/** An event as stored: with the index keys of the timelines it is about. */
export const storedEvent = (event: EventRecord) => ({ ...event, ...timelineKeys(event) });

const timelineKeys = (event: EventRecord) => ({
  ...(event.contactId
    ? { aboutContactKey: aboutContactKey(event.workspaceId, event.contactId), aboutContactSort: event.eventId }
    : {}),
  ...(event.companyId
    ? { aboutCompanyKey: aboutCompanyKey(event.workspaceId, event.companyId), aboutCompanySort: event.eventId }
    : {}),
  ...(event.dealId ? { aboutDealKey: aboutDealKey(event.workspaceId, event.dealId), aboutDealSort: event.eventId } : {}),
});

/** The transaction item that appends an event (never overwrites one), on the timelines it is about. */
export const appendEvent = (entities: TxEntities, event: EventRecord) =>
  entities.event.create(storedEvent(event)).commit();

/** The API shape of an event. */
export const toEventDto = ({
  eventId,
  workspaceId: _workspaceId,
  contactId,
  companyId,
  dealId,
  channel,
  aboutContactKey: _contactKey,
  aboutCompanyKey: _companyKey,
  aboutContactSort: _contactSort,
  aboutCompanySort: _companySort,
  aboutDealKey: _dealKey,
  aboutDealSort: _dealSort,
  ...event
}: EventRecord & Partial<Record<`about${'Contact' | 'Company' | 'Deal'}${'Key' | 'Sort'}`, string>>) => ({
  id: eventId,
  ...event,
  contactId: contactId ?? null,
  companyId: companyId ?? null,
  dealId: dealId ?? null,
  channel: channel ?? null,
});

/** Seed 001 EventLog.listByEntity: the events of one record, newest first. */
export async function listEventsByEntity(
  deps: CoreDeps,
  caller: CallerContext,
  entity: { type: string; id: string },
  page: PageQuery,
): Promise<Page<EventRecord>> {
  const result = await deps.db.entities.event.query
    .byEntity({ workspaceId: caller.workspaceId, entityType: entity.type, entityId: entity.id })
    .go({ order: 'desc', limit: page.limit, cursor: checkCursor(caller.workspaceId, page.cursor) ?? null });
  return { items: result.data as EventRecord[], nextCursor: result.cursor ?? null };
}
