import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallerContext } from '../../domain/shared/context';
import { writeTransaction } from '../../domain/store/transaction';
import { appendEvent, newEvent, type EventRecord } from '../../events/event-log';
import { eventTypes } from '../../events/catalogue';
import { seedContactEvents } from '../support/seeded-events';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';

let stack: TestStack;
let acme: Awaited<ReturnType<typeof seedWorkspace>>;
let globex: Awaited<ReturnType<typeof seedWorkspace>>;
let owner: CallerContext;

beforeAll(async () => {
  stack = await createTestStack();
  acme = await seedWorkspace(stack, 'Acme');
  globex = await seedWorkspace(stack, 'Globex');
  owner = { workspaceId: acme.workspace.id, userId: acme.owner.user.id, role: 'owner' };
});
afterAll(() => stack.destroy());

type Query = Record<string, string | number>;
interface Entry {
  kind: string;
  at: string;
  event: { id: string; type: string; channel: string | null; createdAt: string; contactId: string | null };
}

let counter = 0;
const act = (method: string, path: string, body?: Record<string, unknown>, token = acme.owner.token) => {
  stack.clock.advance(1000);
  return stack.api(method, path, { token, body });
};
const createContact = async (name = `Timeline ${++counter}`) => {
  const res = await act('POST', '/v1/contacts', { name });
  expect(res.status).toBe(201);
  return res.body.id as string;
};
const timeline = (contactId: string, query: Query = {}, token = acme.member.token) =>
  stack.api('GET', `/v1/contacts/${contactId}/timeline`, { token, query: Object.fromEntries(Object.entries(query).map(([k, v]) => [k, String(v)])) });

/** Every page of a query, following nextCursor; checks each page's shape on the way. */
async function walk(contactId: string, query: Query) {
  const pages: Entry[][] = [];
  let cursor: string | undefined;
  do {
    const res = await timeline(contactId, { ...query, ...(cursor ? { cursor } : {}) });
    expect(res.status).toBe(200);
    pages.push(res.body.items);
    cursor = res.body.nextCursor ?? undefined;
    expect(pages.length).toBeLessThan(500);
  } while (cursor);
  return { pages, ids: pages.flat().map((entry) => entry.event.id) };
}

const newestFirst = (events: EventRecord[]) => events.map((event) => event.eventId).sort().reverse();

/** A messaging event about the contact, appended as the inbox will: newEvent + appendEvent in a transaction. */
async function appendMessagingEvent<T extends 'email.sent' | 'telegram.replied' | 'bot.replied'>(contactId: string, type: T) {
  stack.clock.advance(1000);
  const message = { conversationId: `cnv_${++counter}`, messageId: `msg_${counter}` };
  const event =
    type === 'email.sent'
      ? newEvent(stack.deps, owner, 'email.sent', { type: 'message', id: message.messageId }, { ...message, to: 'a@example.com', firstResponseSeconds: null, subject: 'Hi' }, { contactId })
      : type === 'telegram.replied'
        ? newEvent(stack.deps, owner, 'telegram.replied', { type: 'message', id: message.messageId }, { ...message, inReplyTo: null, assigneeId: null }, { contactId })
        : newEvent(stack.deps, owner, 'bot.replied', { type: 'message', id: message.messageId }, { ...message, channel: 'whatsapp' }, { contactId });
  await writeTransaction(stack.deps.db, (entities) => [appendEvent(entities, event)], () => new Error('append failed'));
  return event;
}

describe('GET /v1/contacts/{contactId}/timeline', () => {
  it("lists every event about the contact — its notes', tasks', deals', tags' — newest first, to any member", async () => {
    const contactId = await createContact();
    expect((await act('POST', '/v1/notes', { anchor: { kind: 'contact', id: contactId }, markdown: 'Met at the fair' })).status).toBe(201);
    expect((await act('POST', '/v1/tasks', { title: 'Call back', anchor: { kind: 'contact', id: contactId } })).status).toBe(201);
    expect((await act('POST', '/v1/deals', { title: 'Big one', contactId })).status).toBe(201);
    expect((await act('POST', `/v1/contacts/${contactId}/tags`, { tags: ['vip'] })).status).toBe(200);
    const email = await appendMessagingEvent(contactId, 'email.sent');

    const res = await timeline(contactId);
    expect(res.status).toBe(200);
    const entries: Entry[] = res.body.items;
    expect(entries.map((entry) => entry.event.type)).toEqual(['email.sent', 'tag.added', 'deal.created', 'task.created', 'note.added', 'contact.created']);
    for (const entry of entries) {
      expect(entry.kind).toBe('event');
      expect(entry.at).toBe(entry.event.createdAt);
      expect(entry.event.contactId).toBe(contactId);
    }
    expect(entries[0]!.event).toMatchObject({ id: email.eventId, channel: 'email', payload: { subject: 'Hi' } });
    expect(res.body.nextCursor).toBeNull();
    // The same events as the contact's event log.
    const log = await stack.api('GET', '/v1/events', { token: acme.member.token, query: { entityType: 'contact', entityId: contactId } });
    expect(log.body.items.map((event: { id: string }) => event.id)).toEqual(entries.map((entry) => entry.event.id));
  });

  it("lists the notes and tasks of the contact's deals too: a deal is about its contact", async () => {
    const contactId = await createContact();
    const deal = await act('POST', '/v1/deals', { title: 'Deal with notes', contactId });
    expect(deal.status).toBe(201);
    const dealAnchor = { kind: 'deal', id: deal.body.id };
    const note = await act('POST', '/v1/notes', { anchor: dealAnchor, markdown: 'Budget approved' });
    expect(note.status).toBe(201);
    expect((await act('PATCH', `/v1/notes/${note.body.id}`, { markdown: 'Budget approved by the CFO' })).status).toBe(200);
    const task = await act('POST', '/v1/tasks', { title: 'Send the contract', anchor: dealAnchor });
    expect(task.status).toBe(201);
    expect((await act('POST', `/v1/tasks/${task.body.id}/complete`)).status).toBe(200);

    const res = await timeline(contactId, { types: 'note.added,note.updated,task.created,task.completed' });
    expect(res.body.items.map((entry: Entry) => entry.event.type)).toEqual(['task.completed', 'task.created', 'note.updated', 'note.added']);
  });

  it('pages through 300 events with no duplicate and no gap', async () => {
    const contactId = await createContact();
    const seeded = await seedContactEvents(stack.deps, owner, contactId, 300, { startMs: Date.parse('2025-01-01T00:00:00Z') });
    const { pages, ids } = await walk(contactId, { limit: 25 });
    expect(pages.slice(0, -1).every((page) => page.length === 25)).toBe(true);
    expect(ids.slice(1)).toEqual(newestFirst(seeded)); // the first is contact.created (the clock is in 2026)
    expect(ids).toHaveLength(301);
    expect(pages.length).toBe(13);
  });

  it('filters by type, channel and date range, each and combined, across sparse pages', async () => {
    const contactId = await createContact();
    const start = Date.parse('2025-03-01T00:00:00Z');
    const seeded = await seedContactEvents(stack.deps, owner, contactId, 300, { startMs: start });
    const email = await appendMessagingEvent(contactId, 'email.sent');
    const telegram = await appendMessagingEvent(contactId, 'telegram.replied');
    const bot = await appendMessagingEvent(contactId, 'bot.replied');
    const all = [...seeded, email, telegram, bot];
    const expect_ = (keep: (event: EventRecord) => boolean) => newestFirst(all.filter(keep));

    const notes = await walk(contactId, { types: 'note.added', limit: 10 });
    expect(notes.ids).toEqual(expect_((event) => event.type === 'note.added'));
    expect(notes.ids).toHaveLength(30);

    const twoTypes = await walk(contactId, { types: 'task.created,deal.created,task.created', limit: 100 });
    expect(twoTypes.ids).toEqual(expect_((event) => event.type === 'task.created' || event.type === 'deal.created'));

    const byChannel = await walk(contactId, { channels: 'telegram', limit: 100 });
    expect(byChannel.ids).toEqual(expect_((event) => event.channel === 'telegram'));
    expect(byChannel.ids[0]).toBe(telegram.eventId);
    expect(byChannel.pages.flat().every((entry) => entry.event.channel === 'telegram')).toBe(true);
    const whatsapp = await timeline(contactId, { channels: 'whatsapp,sms' });
    expect(whatsapp.body.items.map((entry: Entry) => entry.event.id)).toEqual([bot.eventId]);

    // A date range: both ends included, to the millisecond.
    const from = new Date(start + 100 * 60_000).toISOString();
    const to = new Date(start + 149 * 60_000).toISOString();
    const inRange = (event: EventRecord) => event.createdAt >= from && event.createdAt <= to;
    const ranged = await walk(contactId, { from, to, limit: 20 });
    expect(ranged.ids).toEqual(expect_(inRange));
    expect(ranged.ids).toHaveLength(50);
    expect(ranged.pages.map((page) => page.length)).toEqual([20, 20, 10]);

    // Times before 1970 are valid ISO dates (no ULID time): nothing is older, nothing is that old.
    expect((await walk(contactId, { from: '1900-01-01T00:00:00Z', limit: 100 })).ids).toHaveLength(all.length + 1);
    expect((await timeline(contactId, { to: '1969-12-31T23:59:59Z' })).body).toEqual({ items: [], nextCursor: null });

    // Combined, on a contact where matches are rare: a page reads a window of 10 × limit entries, so
    // pages come back short (even empty) with a cursor, and the walk still finds every match once.
    const sparse = await createContact();
    const sparseEvents = await seedContactEvents(stack.deps, owner, sparse, 300, {
      startMs: start,
      typeAt: (index) => (index % 37 === 5 ? 'email.sent' : index % 37 === 20 ? 'note.added' : 'tag.added'),
    });
    const sparseFrom = new Date(start + 30 * 60_000).toISOString();
    const combined = await walk(sparse, { types: 'email.sent,note.added', channels: 'email', from: sparseFrom, limit: 3 });
    expect(combined.ids).toEqual(newestFirst(sparseEvents.filter((event) => event.type === 'email.sent' && event.createdAt >= sparseFrom)));
    expect(combined.ids).toHaveLength(7);
    expect(combined.pages.slice(0, -1).some((page) => page.length < 3)).toBe(true);
  });

  it('reads one GetItem and one Query per page, filtered or not (300 events)', async () => {
    const contactId = await createContact();
    await seedContactEvents(stack.deps, owner, contactId, 300, { startMs: Date.parse('2025-05-01T00:00:00Z') });
    await timeline(contactId); // the token is read and cached
    const counted = async (query: Query) => {
      stack.calls.reset();
      const res = await timeline(contactId, query);
      expect(res.status).toBe(200);
      return { ...stack.calls.counts };
    };
    const first = await timeline(contactId, { limit: 25 });
    const one = { GetItemCommand: 1, QueryCommand: 1 };
    expect(await counted({ limit: 25 })).toEqual(one);
    expect(await counted({ limit: 25, cursor: first.body.nextCursor })).toEqual(one);
    expect(await counted({ limit: 25, types: 'note.added' })).toEqual(one);
    expect(await counted({ limit: 25, types: 'tag.added', channels: 'email', from: '2025-05-01T01:00:00Z', to: '2025-05-01T03:00:00Z' })).toEqual(one);
    expect(await counted({ limit: 10, channels: 'telegram' })).toEqual(one);
  });

  it("shows a merged contact's events, and skips nothing when its partitions stop at different points", async () => {
    const target = await createContact();
    const source = await createContact();
    const start = Date.parse('2025-07-01T00:00:00Z');
    // The target: 200 events, one a minute, a note every 40th; the source: a note every 20 minutes.
    const targetEvents = await seedContactEvents(stack.deps, owner, target, 200, {
      startMs: start,
      typeAt: (index) => (index % 40 === 7 ? 'note.added' : 'tag.added'),
    });
    const sourceEvents = await seedContactEvents(stack.deps, owner, source, 10, { startMs: start + 30_000, stepMs: 20 * 60_000, typeAt: () => 'note.added' });
    const merged = await act('POST', `/v1/contacts/${target}/merge`, { sourceContactIds: [source] });
    expect(merged.status).toBe(200);

    const everything = await walk(target, { limit: 30 });
    expect(everything.ids).toContain(sourceEvents[0]!.eventId);
    expect(everything.ids).toEqual([...new Set(everything.ids)].sort().reverse());

    stack.calls.reset();
    const first = await timeline(target, { types: 'note.added', limit: 5 });
    expect(stack.calls.counts).toEqual({ GetItemCommand: 1, QueryCommand: 2 });
    // Each Query evaluates 50 entries: the target's stops about 50 minutes down, the source's reaches
    // its start. Only the notes above the target's stopping point may be on this page, though the
    // source has more below it (a page of the 5 newest notes read would skip the target's older ones).
    const targetStop = targetEvents[200 - 50]!.eventId;
    expect(first.body.items.length).toBeLessThan(5);
    expect(first.body.items.every((entry: Entry) => entry.event.id >= targetStop)).toBe(true);
    expect(first.body.nextCursor).not.toBeNull();

    const notes = await walk(target, { types: 'note.added', limit: 5 });
    const expected = newestFirst([...targetEvents, ...sourceEvents].filter((event) => event.type === 'note.added'));
    expect(notes.ids).toEqual(expected);
  });

  it('refuses bad filters and cursors with a 400 naming the parameter', async () => {
    const contactId = await createContact();
    const other = await createContact();
    await seedContactEvents(stack.deps, owner, contactId, 40, { startMs: Date.parse('2025-09-01T00:00:00Z') });
    const page = await timeline(contactId, { limit: 5, types: 'note.added,tag.added' });
    const cursor = page.body.nextCursor as string;
    expect(cursor).toEqual(expect.any(String));
    const refused = async (query: Query, field: string, id = contactId) => {
      const res = await timeline(id, query);
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toBe('application/problem+json');
      expect(res.body.errors.map((error: { field: string }) => error.field)).toContain(field);
      return res;
    };
    expect((await refused({ types: 'note.added,planet.exploded' }, 'query.types')).body.errors[0].message).toContain('planet.exploded');
    await refused({ types: eventTypes.slice(0, 21).join(',') }, 'query.types');
    await refused({ types: ',' }, 'query.types');
    await refused({ channels: 'email,fax' }, 'query.channels');
    await refused({ from: 'yesterday' }, 'query.from');
    await refused({ from: '2025-09-02T00:00:00Z', to: '2025-09-01T00:00:00Z' }, 'query.to');
    await refused({ limit: 0 }, 'query.limit');
    await refused({ cursor: 'not-a-cursor' }, 'query.cursor');
    await refused({ cursor: Buffer.from('{"v":1,"c":"x","e":"evt_1"}').toString('base64url') }, 'query.cursor');
    // A cursor only continues its own query: other filters, none, or another contact are refused.
    await refused({ limit: 5, types: 'note.added', cursor }, 'query.cursor');
    await refused({ limit: 5, cursor }, 'query.cursor');
    await refused({ limit: 5, types: 'tag.added,note.added', channels: 'email', cursor }, 'query.cursor');
    await refused({ limit: 5, types: 'note.added,tag.added', cursor }, 'query.cursor', other);
    // The same filters in another order are the same query.
    expect((await timeline(contactId, { limit: 5, types: 'tag.added,note.added', cursor })).status).toBe(200);
  });

  it("is a 404 for an unknown contact and for another workspace's", async () => {
    const contactId = await createContact();
    const foreign = await timeline(contactId, {}, globex.owner.token);
    expect(foreign.status).toBe(404);
    expect(foreign.headers['content-type']).toBe('application/problem+json');
    expect((await timeline('ct_00000000000000000000000000')).status).toBe(404);
  });

  it('appears in the OpenAPI document with its query and entry schema', async () => {
    const res = await stack.api('GET', '/openapi.json');
    const operation = res.body.paths['/v1/contacts/{contactId}/timeline'].get;
    expect(operation.parameters.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining(['contactId', 'types', 'channels', 'from', 'to', 'limit', 'cursor']),
    );
    expect(res.body.components.schemas.TimelineEntry).toBeDefined();
  });
});
