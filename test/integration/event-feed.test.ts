import { DeleteCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventRecord } from '../../events/event-log';
import { appendToFeed, positionKey } from '../../events/feed';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';
import { startTestStreams, type TestStreams } from '../support/test-streams';

let stack: TestStack;
let acme: Awaited<ReturnType<typeof seedWorkspace>>;
let globex: Awaited<ReturnType<typeof seedWorkspace>>;
let streams: TestStreams;

beforeAll(async () => {
  stack = await createTestStack();
  acme = await seedWorkspace(stack, 'Acme');
  globex = await seedWorkspace(stack, 'Globex');
  streams = await startTestStreams(stack, ['event-fanout']);
});
afterAll(async () => {
  await streams?.stop();
  await stack?.destroy();
});

interface FeedItem {
  id: string;
  position: string;
  type: string;
  entityId: string;
  contactId: string | null;
}
interface FeedPage {
  items: FeedItem[];
  nextAfter: string;
  hasMore: boolean;
}

const owner = () => acme.owner.token;
const feed = async (query: Record<string, string> = {}, token = owner()) => {
  const search = new URLSearchParams(query).toString();
  return stack.api('GET', `/v1/events/feed${search ? `?${search}` : ''}`, { token });
};
/** Every page from `after` until `hasMore` is false. */
const readAll = async (after: string | undefined, query: Record<string, string> = {}, token = owner()) => {
  const items: FeedItem[] = [];
  let next = after;
  for (;;) {
    const res = await feed({ ...query, ...(next !== undefined ? { after: next } : {}) }, token);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const page = res.body as FeedPage;
    items.push(...page.items);
    next = page.nextAfter;
    if (!page.hasMore) return { items, next };
  }
};
/** The workspace's events as the log holds them (a Scan: a test's independent count, never a request path). */
const loggedEventIds = async (workspaceId: string) => {
  const ids: string[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await stack.deps.db.client.send(
      new ScanCommand({
        TableName: stack.deps.db.table,
        FilterExpression: '#e = :event AND workspaceId = :ws',
        ExpressionAttributeNames: { '#e': '__edb_e__' },
        ExpressionAttributeValues: { ':event': 'event', ':ws': workspaceId },
        ExclusiveStartKey: start,
      }),
    );
    ids.push(...(page.Items ?? []).map((item) => item.eventId as string));
    start = page.LastEvaluatedKey;
  } while (start);
  return ids.sort();
};
const createContact = async (name: string) => {
  stack.clock.advance(1000);
  const res = await stack.api('POST', '/v1/contacts', { token: owner(), body: { name } });
  expect(res.status).toBe(201);
  return res.body as { id: string };
};

describe('the change feed', () => {
  it('holds every event of the workspace exactly once, at dense positions, across pages of any size', async () => {
    for (const name of ['Ana', 'Ben', 'Cleo']) {
      const contact = await createContact(name);
      await stack.api('POST', `/v1/contacts/${contact.id}/tags`, { token: owner(), body: { tags: ['vip'] } });
    }
    await streams.drain();
    const { items } = await readAll(undefined, { limit: '4' });
    expect(items.map((item) => item.position)).toEqual(items.map((_, index) => String(index + 1)));
    expect(items.map((item) => item.id).sort()).toEqual(await loggedEventIds(acme.workspace.id));
    expect(items.filter((item) => item.type === 'contact.created')).toHaveLength(3);
    // Another workspace's feed holds its own events only.
    const theirs = await readAll(undefined, {}, globex.owner.token);
    expect(theirs.items.map((item) => item.id).sort()).toEqual(await loggedEventIds(globex.workspace.id));
    expect(theirs.items.some((item) => items.some((mine) => mine.id === item.id))).toBe(false);
  });

  it('resumes from a kept position: events written between reads come next, none twice, none skipped', async () => {
    const first = await readAll(undefined);
    const before = first.items.length;
    const dan = await createContact('Dan');
    await stack.api('PATCH', `/v1/contacts/${dan.id}`, { token: owner(), body: { city: 'Lyon' } });
    await streams.drain();
    const empty = await feed({ after: String(before + 2) });
    expect(empty.body).toEqual({ items: [], nextAfter: String(before + 2), hasMore: false });
    const rest = await readAll(first.next, { limit: '1' });
    expect(rest.items.map((item) => item.position)).toEqual([String(before + 1), String(before + 2)]);
    expect(rest.items.map((item) => item.type)).toEqual(['contact.created', 'contact.updated']);
    expect(rest.next).toBe(String(before + 2));
  });

  it('filters by exact types and families on the server', async () => {
    const all = (await readAll(undefined)).items;
    const contacts = (await readAll(undefined, { types: 'contact.*' })).items;
    expect(contacts.map((item) => item.id)).toEqual(all.filter((item) => item.type.startsWith('contact.')).map((item) => item.id));
    const tags = (await readAll(undefined, { types: 'tag.added,contact.created', limit: '2' })).items;
    expect(tags.map((item) => item.id)).toEqual(all.filter((item) => ['tag.added', 'contact.created'].includes(item.type)).map((item) => item.id));
    const bad = await feed({ types: 'contact.*,colour.changed' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('colour.changed');
  });

  it('gives a replayed event no second position, and concurrent appends for one workspace dense positions', async () => {
    const { items, next } = await readAll(undefined);
    const replayed = items.slice(0, 5).map((item) => ({ ...item, eventId: item.id, workspaceId: acme.workspace.id }) as unknown as EventRecord);
    expect(await appendToFeed(stack.deps, replayed)).toMatchObject({ appended: 0, duplicates: 5 });
    // 6 writers × 10 new events at once: each round one moves the head, the others read it again.
    const fresh = (writer: number) =>
      Array.from({ length: 10 }, (_, i) => ({
        ...replayed[0]!,
        eventId: `evt_feedrace${writer}${String(i).padStart(3, '0')}`,
        type: 'contact.updated',
      }));
    await Promise.all(Array.from({ length: 6 }, (_, writer) => appendToFeed(stack.deps, fresh(writer))));
    const after = await readAll(next);
    expect(after.items.map((item) => Number(item.position))).toEqual(Array.from({ length: 60 }, (_, i) => Number(next) + i + 1));
    expect(new Set(after.items.map((item) => item.id)).size).toBe(60);
  });

  it('says when a position is older than what the feed keeps', async () => {
    const { items } = await readAll(undefined);
    const gone = [1, 2].map(async (position) =>
      stack.deps.db.client.send(
        new DeleteCommand({ TableName: stack.deps.db.table, Key: { pk: `WS#${acme.workspace.id}#FEED`, sk: positionKey(position) } }),
      ),
    );
    await Promise.all(gone);
    const expired = await feed({ after: '1' });
    expect(expired.status).toBe(422);
    expect(expired.body).toMatchObject({ code: 'unprocessable', oldestPosition: '3' });
    // From the start, the feed begins at the oldest kept.
    expect((await feed({ limit: '1' })).body.items[0].position).toBe('3');
    expect((await feed({ after: '2', limit: '1' })).body.items[0].id).toBe(items[2]!.id);
  });

  it('carries no words of a direct conversation, which is its users’ alone', async () => {
    const direct = await stack.api('POST', '/v1/conversations', { token: acme.admin.token, body: { kind: 'direct', userIds: [acme.member.user.id] } });
    expect(direct.status, JSON.stringify(direct.body)).toBe(201);
    const sent = await stack.api('POST', `/v1/conversations/${direct.body.id}/messages`, { token: acme.admin.token, body: { body: 'PRIVATE: resigning next week' } });
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    await streams.drain();
    const { items } = await readAll(undefined, { types: 'internal.sent' });
    const event = items.find((item) => item.entityId === sent.body.id) as (FeedItem & { payload: Record<string, unknown> }) | undefined;
    expect(event?.payload).toMatchObject({ conversationId: direct.body.id, messageId: sent.body.id });
    expect(JSON.stringify(event)).not.toContain('resigning');
    expect((await stack.api('GET', `/v1/conversations/${direct.body.id}`, { token: owner() })).status).toBe(404);
  });

  it('is for owners and admins, and refuses a position it did not give out', async () => {
    expect((await feed({}, acme.member.token)).status).toBe(403);
    expect((await feed({}, acme.admin.token)).status).toBe(200);
    for (const after of ['-1', 'abc', '1e5', '1234567890123456']) expect((await feed({ after })).status).toBe(400);
    expect((await feed({ limit: '101' })).status).toBe(400);
  });
});
