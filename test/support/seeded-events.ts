/**
 * Deterministic events about one contact, for tests and benches at scale: event `i` is always the same
 * event, built by `newEvent` (so its payload passes its catalogue schema and messaging events carry their
 * channel) at a time of its own, and stored as `appendEvent` stores it (`storedEvent`: the timeline index
 * keys), but written with ElectroDB batch puts (BatchWriteItem) instead of one transaction per event.
 */
import type { CallerContext } from '../../domain/shared/context';
import type { CoreDeps } from '../../domain/shared/deps';
import { eventTypes } from '../../events/catalogue';
import { newEvent, storedEvent, type EventRecord } from '../../events/event-log';
import { appendToFeed } from '../../events/feed';
import { mulberry32, putAll, ulidAt } from './seeded-contacts';

/** The types seeded events cycle through (1 in 10 is a `note.added`, 2 in 10 are messaging events). */
export const seededEventTypes = [
  'note.added',
  'task.created',
  'tag.added',
  'email.sent',
  'deal.created',
  'contact.updated',
  'telegram.replied',
  'task.completed',
  'tag.removed',
  'profile.scored',
] as const;

/** A number from the contact id, so two contacts' event `i` differ (ids, entity ids). */
const seedOf = (text: string) => [...text].reduce((hash, char) => (Math.imul(hash, 31) + char.charCodeAt(0)) >>> 0, 7);

export type SeededEventType = (typeof seededEventTypes)[number];

/** Event `index` about `contactId`, at `atMs`; its type cycles through seededEventTypes unless given. */
export function seededEvent(
  caller: CallerContext,
  contactId: string,
  index: number,
  atMs: number,
  type: SeededEventType = seededEventTypes[index % seededEventTypes.length]!,
): EventRecord {
  const random = mulberry32(seedOf(contactId) + index);
  const deps = {
    clock: { nowMs: () => atMs, nowIso: () => new Date(atMs).toISOString() },
    newId: (prefix: string) => `${prefix}_${ulidAt(atMs, random)}`,
  };
  const about = { contactId };
  const anchor = { kind: 'contact' as const, id: contactId };
  const message = { conversationId: `cnv_${index}`, messageId: `msg_${contactId}_${index}` };
  switch (type) {
    case 'note.added':
      return newEvent(deps, caller, type, { type: 'note', id: `note_${contactId}_${index}` }, { anchor, excerpt: `Note ${index}` }, about);
    case 'task.created':
      return newEvent(
        deps,
        caller,
        type,
        { type: 'task', id: `task_${contactId}_${index}` },
        { title: `Task ${index}`, anchor, assigneeId: null, dueAt: null, priority: 'normal' },
        about,
      );
    case 'task.completed':
      return newEvent(deps, caller, type, { type: 'task', id: `task_${contactId}_${index}` }, { title: `Task ${index}`, anchor, assigneeId: null }, about);
    case 'tag.added':
    case 'tag.removed':
      return newEvent(deps, caller, type, { type: 'contact', id: contactId }, { tag: `tag-${index % 7}`, system: false });
    case 'email.sent':
      return newEvent(
        deps,
        caller,
        type,
        { type: 'message', id: message.messageId },
        { ...message, to: 'someone@example.com', firstResponseSeconds: null, subject: `Hello ${index}` },
        about,
      );
    case 'telegram.replied':
      return newEvent(deps, caller, type, { type: 'message', id: message.messageId }, { ...message, inReplyTo: null, assigneeId: null }, about);
    case 'deal.created':
      return newEvent(
        deps,
        caller,
        type,
        { type: 'deal', id: `deal_${contactId}_${index}` },
        { title: `Deal ${index}`, value: 1000, currency: 'EUR', pipelineId: 'pl_default', stageId: 'stg_open', ownerId: null, contactId, companyId: null },
        about,
      );
    case 'contact.updated':
      return newEvent(deps, caller, type, { type: 'contact', id: contactId }, { changes: { city: { from: null, to: `City ${index}` } } });
    case 'profile.scored':
      return newEvent(
        deps,
        caller,
        type,
        { type: 'contact', id: contactId },
        { scoreId: `scr_${index}`, value: (index % 5) + 1, source: 'manual', previous: null },
      );
  }
}

/**
 * Writes events `0 .. count-1` about the contact, one every `stepMs` from `startMs` on, by BatchWriteItem.
 * Returns them oldest first.
 */
export async function seedContactEvents(
  deps: CoreDeps,
  caller: CallerContext,
  contactId: string,
  count: number,
  options: { startMs: number; stepMs?: number; concurrent?: number; typeAt?: (index: number) => SeededEventType },
): Promise<EventRecord[]> {
  const step = options.stepMs ?? 60_000;
  const events = Array.from({ length: count }, (_, index) =>
    seededEvent(caller, contactId, index, options.startMs + index * step, options.typeAt?.(index)),
  );
  for (let from = 0; from < count; from += 1000) {
    const chunk = events.slice(from, from + 1000).map(storedEvent);
    await putAll((batch) => deps.db.entities.event.put(batch), chunk, options.concurrent ?? 4);
  }
  return events;
}

/**
 * `count` events of one workspace put in its change feed (positions 1..count, as the `feed` consumer
 * gives them), written straight to the feed in chunks: the change feed benches read pages of them.
 */
export async function seedFeedEvents(deps: CoreDeps, workspaceId: string, actorUserId: string, count: number): Promise<void> {
  const records = Array.from({ length: count }, (_, n) => ({
    eventId: `evt_bench${String(n).padStart(8, '0')}`,
    workspaceId,
    type: eventTypes[n % 10]!,
    entityType: 'contact',
    entityId: `ct_bench${n % 200}`,
    actorUserId,
    payload: { name: `Contact ${n % 200}`, changes: { city: { from: null, to: 'Lyon' } } },
    createdAt: new Date(Date.parse('2026-06-30T00:00:00Z') + n * 1000).toISOString(),
    contactId: `ct_bench${n % 200}`,
  }));
  for (let i = 0; i < records.length; i += 490) await appendToFeed(deps, records.slice(i, i + 490));
}
