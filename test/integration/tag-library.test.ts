import { tagPathRef } from '../../domain/tags/tag-path-ref';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBRecord } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tagList } from '../../domain/contacts/contact-record';
import { tagLibrarySettings } from '../../domain/tags/tag-library.service';
import { handler as tagUsageHandler } from '../../functions/streams/tag-usage.handler';
import { streamConsumers } from '../../functions/streams/stream-consumers';
import { lambdaContext } from '../../local/http-routing';
import { startStreamPoller, type StreamHandler, type StreamPoller } from '../../local/stream-poller';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';


const tagUsage = streamConsumers.find((consumer) => consumer.name === 'tag-usage')!;

let stack: TestStack;
let acme: Awaited<ReturnType<typeof seedWorkspace>>;
let globex: Awaited<ReturnType<typeof seedWorkspace>>;
let poller: StreamPoller;
let dir: string;
/** Every record the poller handed to the tag-usage handler, to replay them. */
const delivered: DynamoDBRecord[] = [];

const recordingHandler: StreamHandler = async (event, context) => {
  delivered.push(...event.Records);
  return tagUsageHandler(event, context);
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'crm-tags-'));
  stack = await createTestStack();
  acme = await seedWorkspace(stack, 'Acme');
  globex = await seedWorkspace(stack, 'Globex');
  poller = await startStreamPoller({
    endpoint: process.env.DYNAMODB_ENDPOINT!,
    tableName: stack.tableName,
    consumers: [{ definition: tagUsage, handler: recordingHandler }],
    checkpointFile: join(dir, 'checkpoints.json'),
    failureFile: join(dir, 'failures.jsonl'),
    pollIntervalMs: 250,
    retryBaseDelayMs: 5,
  });
});
afterAll(async () => {
  await poller?.stop();
  await stack?.destroy();
  rmSync(dir, { recursive: true, force: true });
});
const defaultSettings = { ...tagLibrarySettings };
afterEach(() => Object.assign(tagLibrarySettings, defaultSettings));

const enc = encodeURIComponent;
const createContact = async (token: string, name: string, extra: Record<string, unknown> = {}) => {
  stack.clock.advance(1000);
  const res = await stack.api('POST', '/v1/contacts', { token, body: { name, ...extra } });
  expect(res.status).toBe(201);
  return res.body as { id: string };
};
const tagContact = async (token: string, contactId: string, tags: string[]) => {
  const res = await stack.api('POST', `/v1/contacts/${contactId}/tags`, { token, body: { tags } });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as { tags: string[] };
};
const getContact = async (contactId: string) =>
  (await stack.api('GET', `/v1/contacts/${contactId}`, { token: acme.owner.token })).body as {
    tags: string[];
    version: number;
  };
const getTag = (key: string, token = acme.owner.token) => stack.api('GET', `/v1/tags/${enc(tagPathRef(key))}`, { token });
const listAll = async (token = acme.owner.token, query: Record<string, string | number> = {}) => {
  const items: { key: string; name: string; usageCount: number; system: boolean }[] = [];
  let cursor: string | undefined;
  do {
    const res = await stack.api('GET', '/v1/tags', { token, query: { limit: 100, ...query, ...(cursor ? { cursor } : {}) } });
    expect(res.status).toBe(200);
    items.push(...res.body.items);
    cursor = res.body.nextCursor ?? undefined;
  } while (cursor);
  return items;
};
const tagEvents = async (entityType: string, entityId: string) =>
  (
    await stack.api('GET', '/v1/events', { token: acme.owner.token, query: { entityType, entityId, limit: 100 } })
  ).body.items as { type: string; actorUserId: string; payload: Record<string, unknown> }[];
/** Repeats a rename or delete until it is done, returning the statuses seen. */
const repeatUntilDone = async (send: () => ReturnType<TestStack['api']>) => {
  const statuses: number[] = [];
  for (let round = 0; round < 50; round++) {
    const res = await send();
    statuses.push(res.status);
    if (res.status !== 202) return { statuses, last: res };
    expect(res.body).toMatchObject({ status: 'in_progress' });
  }
  throw new Error('never finished');
};

/** The number of contacts carrying each tag, counted from the tag lists (active + archived). */
async function recount(workspaceId: string, key: string) {
  let count = 0;
  for (const status of ['active', 'archived'] as const) {
    const { data } = await stack.deps.db.entities.contactListEntry.query
      .byList({ workspaceId, list: tagList(key, status), sort: 'n' })
      .go({ pages: 'all', consistent: true });
    count += data.length;
  }
  return count;
}
async function expectCountsMatchRecount(workspaceId = acme.workspace.id, token = acme.owner.token) {
  await poller.drain();
  const tags = await listAll(token);
  expect(tags.length).toBeGreaterThan(0);
  for (const tag of tags) expect(tag.usageCount, tag.key).toBe(await recount(workspaceId, tag.key));
  return tags;
}

describe('free-form tags and the library', () => {
  it('creates a tag on first use, flags `bot:` tags as system, and counts usage from the stream', async () => {
    const contact = await createContact(acme.member.token, 'First Use Fiona');
    await tagContact(acme.member.token, contact.id, ['Webinar 2026', '  Lead   Source: Web ']);
    // Listed at once (the library entry is written before the contact), counted once the stream is read.
    const now = await getTag('webinar 2026');
    expect(now.status).toBe(200);
    expect(now.body).toMatchObject({ key: 'webinar 2026', name: 'Webinar 2026', system: false, createdBy: acme.member.user.id, status: 'active' });
    await poller.drain();
    expect((await getTag('lead source: web')).body).toMatchObject({ name: 'Lead Source: Web', usageCount: 1 });
    const created = await tagEvents('tag', 'webinar 2026');
    expect(created.map((e) => [e.type, e.actorUserId, e.payload.firstUse])).toEqual([['tag.created', acme.member.user.id, true]]);

    await tagContact(acme.admin.token, contact.id, ['BOT:Off']);
    expect((await getTag('bot:off')).body).toMatchObject({ key: 'bot:off', name: 'BOT:Off', system: true });
    const denied = await stack.api('POST', `/v1/contacts/${contact.id}/tags`, { token: acme.member.token, body: { tags: ['bot:paused'] } });
    expect(denied.status).toBe(403);
    expect((await getTag('bot:paused')).status).toBe(404);
  });

  it('creates library entries with colour and description (members too, `bot:` only owner/admin), refusing bad input whole', async () => {
    const res = await stack.api('POST', '/v1/tags', {
      token: acme.member.token,
      body: { name: ' Hot  Lead ', color: '#FF8800', description: 'Call within a day' },
    });
    expect(res.status).toBe(201);
    expect(res.headers.etag).toBe('"1"');
    expect(res.body).toMatchObject({ key: 'hot lead', name: 'Hot Lead', color: '#ff8800', description: 'Call within a day', system: false, usageCount: 0, version: 1 });

    const again = await stack.api('POST', '/v1/tags', { token: acme.admin.token, body: { name: 'HOT lead' } });
    expect(again.status).toBe(409);
    expect(again.body.errors[0].field).toBe('body.name');

    const before = (await listAll()).length;
    const memberBot = await stack.api('POST', '/v1/tags', { token: acme.member.token, body: { name: 'bot:paused' } });
    expect(memberBot.status).toBe(403);
    const cases: [unknown, string][] = [
      [{ name: 'x', color: 'red' }, 'body.color'],
      [{ name: 'x', color: '#12345' }, 'body.color'],
      [{ name: 'x', description: 'd'.repeat(501) }, 'body.description'],
      [{ name: '   ' }, 'body.name'],
      [{ name: 'n'.repeat(51) }, 'body.name'],
      [{ color: '#000000' }, 'body.name'],
      [{ name: 'x', colour: '#000000' }, 'body.colour'],
    ];
    for (const [body, field] of cases) {
      const bad = await stack.api('POST', '/v1/tags', { token: acme.owner.token, body });
      expect(bad.status, JSON.stringify(body)).toBe(400);
      expect(bad.headers['content-type']).toBe('application/problem+json');
      expect(bad.body.errors.map((e: { field: string }) => e.field), JSON.stringify(body)).toContain(field);
    }
    expect((await listAll()).length).toBe(before);

    // Of the `bot:` tags people create only `bot:on` / `bot:off`: the others are the system's.
    const reserved = await stack.api('POST', '/v1/tags', { token: acme.admin.token, body: { name: 'bot:paused' } });
    expect(reserved.status).toBe(422);
    expect(reserved.body.errors[0]).toMatchObject({ field: 'body.name', code: 'reserved_tag' });
    const bot = await stack.api('POST', '/v1/tags', { token: acme.admin.token, body: { name: 'BOT:ON', color: '#000000' } });
    expect(bot.status).toBe(201);
    expect(bot.body).toMatchObject({ system: true });
    const events = await tagEvents('tag', 'hot lead');
    expect(events[0]).toMatchObject({ type: 'tag.created', actorUserId: acme.member.user.id, payload: { firstUse: false, color: '#ff8800' } });
  });

  it('lists by key, one page per read, with a prefix; addresses tags by key or any spelling, `/` and `:` URL-encoded', async () => {
    const contact = await createContact(acme.owner.token, 'Slash Sam');
    await tagContact(acme.owner.token, contact.id, ['Region/EMEA', 'Region/APAC', 'bot:off']);
    const all = await listAll();
    const keys = all.map((tag) => tag.key);
    expect(keys).toEqual([...keys].sort());
    const page1 = await stack.api('GET', '/v1/tags', { token: acme.member.token, query: { limit: 2 } });
    expect(page1.body.items).toHaveLength(2);
    const page2 = await stack.api('GET', '/v1/tags', { token: acme.member.token, query: { limit: 2, cursor: page1.body.nextCursor } });
    expect(page2.body.items[0].key > page1.body.items[1].key).toBe(true);

    const region = await stack.api('GET', '/v1/tags', { token: acme.member.token, query: { q: 'REGION/' } });
    expect(region.body.items.map((tag: { key: string }) => tag.key)).toEqual(['region/apac', 'region/emea']);
    const system = await listAll(acme.member.token, { q: 'bot:' });
    expect(system.length).toBeGreaterThanOrEqual(2);
    expect(system.every((tag) => tag.system)).toBe(true);

    // A deployed HTTP API decodes `%2F` before routing (the local gateway does too): such a tag goes by its `ref`.
    expect((await stack.api('GET', '/v1/tags/Region%2FEMEA', { token: acme.member.token })).status).toBe(404);
    const slash = await stack.api('GET', `/v1/tags/${tagPathRef('Region/EMEA')}`, { token: acme.member.token });
    expect(slash.status).toBe(200);
    expect(slash.body).toMatchObject({ key: 'region/emea', ref: '~cmVnaW9uL2VtZWE', name: 'Region/EMEA' });
    expect((await stack.api('GET', `/v1/tags/${slash.body.ref}`, { token: acme.member.token })).body.key).toBe('region/emea');
    expect((await stack.api('GET', '/v1/tags/~not*base64', { token: acme.member.token })).status).toBe(400);
    expect(slash.headers.etag).toBe(`"${slash.body.version}"`);
    expect((await stack.api('GET', '/v1/tags/bot:off', { token: acme.member.token })).body).toMatchObject({ key: 'bot:off', ref: 'bot:off' });
    expect((await stack.api('GET', '/v1/tags/BOT%3AOFF', { token: acme.member.token })).body.key).toBe('bot:off');
    // An unencoded slash is two path segments: no such route.
    expect((await stack.api('GET', '/v1/tags/region/emea', { token: acme.member.token })).status).toBe(404);

    const badCursor = await stack.api('GET', '/v1/tags', { token: acme.member.token, query: { cursor: 'nope' } });
    expect(badCursor.status).toBe(400);
    expect(badCursor.body.errors[0].field).toBe('query.cursor');
    const badLimit = await stack.api('GET', '/v1/tags', { token: acme.member.token, query: { limit: 0 } });
    expect(badLimit.body.errors[0].field).toBe('query.limit');
  });

  it('adds nothing to the library when tagging is refused: no such contact, another workspace’s, or one a member may not change', async () => {
    const theirs = await createContact(globex.owner.token, 'Globex Gail');
    const claimed = await createContact(acme.owner.token, 'Claimed Carl');
    await stack.api('POST', `/v1/contacts/${claimed.id}/assign`, { token: acme.owner.token, body: { ownerId: acme.admin.user.id } });
    const refusals = [
      [acme.owner.token, 'ct_01M999ZZZZZZZZZZZZZZZZZZZZ', 'ghost one', 404],
      [acme.owner.token, theirs.id, 'ghost two', 404],
      [acme.member.token, claimed.id, 'ghost three', 403],
    ] as const;
    for (const [token, contactId, tag, status] of refusals) {
      expect((await stack.api('POST', `/v1/contacts/${contactId}/tags`, { token, body: { tags: [tag] } })).status, tag).toBe(status);
      expect((await getTag(tag)).status, tag).toBe(404);
    }
    const stale = await stack.api('POST', `/v1/contacts/${claimed.id}/tags`, { token: acme.owner.token, headers: { 'if-match': '"99"' }, body: { tags: ['ghost four'] } });
    expect(stale.status).toBe(412);
    expect((await getTag('ghost four')).status).toBe(404);
  });

  it('keeps workspaces apart: another workspace’s tags are 404 and never listed', async () => {
    const contact = await createContact(acme.owner.token, 'Private Pat');
    await tagContact(acme.owner.token, contact.id, ['Acme Secret']);
    for (const [method, body] of [['GET', undefined], ['PATCH', { color: '#111111' }], ['DELETE', undefined]] as const) {
      const res = await stack.api(method, `/v1/tags/${enc('acme secret')}`, { token: globex.owner.token, ...(body ? { body } : {}) });
      expect(res.status, method).toBe(404);
    }
    expect((await listAll(globex.owner.token)).map((tag) => tag.key)).not.toContain('acme secret');
    expect((await getTag('acme secret')).body.color).toBeNull();
    const forged = Buffer.from(JSON.stringify({ pk: `WS#${acme.workspace.id}#TAGS`, sk: 'TAG#a' })).toString('base64url');
    expect((await stack.api('GET', '/v1/tags', { token: globex.owner.token, query: { cursor: forged } })).status).toBe(400);
  });
});

describe('the API surface', () => {
  it('documents the tag routes in the OpenAPI document, and replays a POST with the same Idempotency-Key', async () => {
    const doc = await stack.api('GET', '/openapi.json');
    expect(doc.body.paths['/v1/tags'].get.operationId).toBe('listTags');
    expect(Object.keys(doc.body.paths['/v1/tags/{key}'])).toEqual(expect.arrayContaining(['get', 'patch', 'delete']));
    expect(doc.body.components.schemas.Tag.properties.usageCount).toBeDefined();

    const key = `idem-${randomUUID().slice(0, 6)}`;
    const send = () => stack.api('POST', '/v1/tags', { token: acme.member.token, body: { name: 'Replayed' }, headers: { 'idempotency-key': key } });
    const first = await send();
    const second = await send();
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.body).toEqual(first.body);
  });
});

describe('changing a tag', () => {
  it('changes colour and description (owner/admin), honouring If-Match; members get 403', async () => {
    await stack.api('POST', '/v1/tags', { token: acme.owner.token, body: { name: 'Painted' } });
    const member = await stack.api('PATCH', '/v1/tags/painted', { token: acme.member.token, body: { color: '#00ff00' } });
    expect(member.status).toBe(403);
    const stale = await stack.api('PATCH', '/v1/tags/painted', { token: acme.admin.token, body: { color: '#00ff00' }, headers: { 'if-match': '"9"' } });
    expect(stale.status).toBe(412);
    const ok = await stack.api('PATCH', '/v1/tags/painted', { token: acme.admin.token, body: { color: '#00FF00', description: 'green' }, headers: { 'if-match': '"1"' } });
    expect(ok.status).toBe(200);
    expect(ok.headers.etag).toBe('"2"');
    expect(ok.body).toMatchObject({ color: '#00ff00', description: 'green', version: 2 });
    const cleared = await stack.api('PATCH', '/v1/tags/painted', { token: acme.admin.token, body: { description: null } });
    expect(cleared.body).toMatchObject({ color: '#00ff00', description: null, version: 3 });
    const same = await stack.api('PATCH', '/v1/tags/painted', { token: acme.admin.token, body: { color: '#00ff00' } });
    expect(same.body.version).toBe(3);
    for (const [body, field] of [[{}, 'body'], [{ color: 'green' }, 'body.color'], [{ name: '' }, 'body.name']] as const) {
      const bad = await stack.api('PATCH', '/v1/tags/painted', { token: acme.admin.token, body });
      expect(bad.status).toBe(400);
      expect(bad.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    }
    expect((await getTag('painted')).body.version).toBe(3);
    const events = await tagEvents('tag', 'painted');
    expect(events.map((e) => e.type)).toEqual(['tag.updated', 'tag.updated', 'tag.created']);
    expect(events[1]!.payload.changes).toEqual({ color: { from: null, to: '#00ff00' }, description: { from: null, to: 'green' } });
  });

  it('renames to a new key a bounded part per request: contacts follow, the old entry goes, counts follow', async () => {
    tagLibrarySettings.contactsPerRequest = 2;
    const ids: string[] = [];
    for (const name of ['Ren Ada', 'Ren Bo', 'Ren Cy', 'Ren Di', 'Ren Ed']) {
      const contact = await createContact(acme.owner.token, name);
      await tagContact(acme.owner.token, contact.id, name === 'Ren Bo' ? ['old lead'] : ['Old Lead', 'Keep']);
      ids.push(contact.id);
    }
    await stack.api('POST', `/v1/contacts/${ids[4]}/archive`, { token: acme.owner.token });
    await stack.api('PATCH', '/v1/tags/old%20lead', { token: acme.owner.token, body: { color: '#123456' } });
    await poller.drain();
    expect((await getTag('old lead')).body.usageCount).toBe(5);

    const memberTry = await stack.api('PATCH', '/v1/tags/old%20lead', { token: acme.member.token, body: { name: 'Prospect' } });
    expect(memberTry.status).toBe(403);
    const onto = await stack.api('PATCH', '/v1/tags/old%20lead', { token: acme.owner.token, body: { name: 'keep' } });
    expect(onto.status).toBe(409);
    expect(onto.body.errors[0].field).toBe('body.name');

    const first = await stack.api('PATCH', '/v1/tags/Old%20Lead', { token: acme.admin.token, body: { name: 'Prospect' } });
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ status: 'in_progress', operation: 'rename', processed: 2, tag: { key: 'old lead', status: 'renaming', renamingTo: 'prospect' } });
    // The new entry is listed at once; using the old name meanwhile lands on the new one.
    expect((await getTag('prospect')).body).toMatchObject({ name: 'Prospect', color: '#123456', status: 'active' });
    const late = await createContact(acme.owner.token, 'Ren Late');
    expect((await tagContact(acme.member.token, late.id, ['OLD LEAD'])).tags).toEqual(['Prospect']);
    const other = await stack.api('PATCH', '/v1/tags/old%20lead', { token: acme.admin.token, body: { name: 'Something Else' } });
    expect(other.status).toBe(409);
    expect(other.body.renamingTo).toBe('prospect');

    const { statuses, last } = await repeatUntilDone(() =>
      stack.api('PATCH', '/v1/tags/old%20lead', { token: acme.admin.token, body: { name: 'Prospect' } }),
    );
    expect(statuses.length).toBeGreaterThanOrEqual(2);
    expect(last.status).toBe(200);
    expect(last.body).toMatchObject({ key: 'prospect', name: 'Prospect', status: 'active', color: '#123456' });
    expect((await getTag('old lead')).status).toBe(404);
    // A repeat of the finished rename still answers with the renamed tag.
    const repeat = await stack.api('PATCH', '/v1/tags/old%20lead', { token: acme.admin.token, body: { name: 'Prospect' } });
    expect(repeat.status).toBe(200);
    expect(repeat.body.key).toBe('prospect');

    for (const id of ids) {
      const contact = await getContact(id);
      expect(contact.tags).toContain('Prospect');
      expect(contact.tags.some((tag) => tag.toLowerCase() === 'old lead')).toBe(false);
    }
    const listed = await stack.api('GET', '/v1/contacts', { token: acme.member.token, query: { tag: 'PROSPECT' } });
    expect(listed.body.items).toHaveLength(5); // 4 active + the late one; the archived one is in its own list
    const events = await tagEvents('contact', ids[0]!);
    expect(events[0]).toMatchObject({ type: 'contact.updated', actorUserId: acme.admin.user.id, payload: { changes: { tags: { from: ['Old Lead', 'Keep'], to: ['Prospect', 'Keep'] } } } });
    expect((await tagEvents('tag', 'prospect')).map((e) => e.type)).toEqual(['tag.renamed']);

    await expectCountsMatchRecount();
    expect((await getTag('prospect')).body.usageCount).toBe(6);
    expect((await getTag('old lead')).status).toBe(404); // late stream records did not bring it back
  });

  it('renames a change of case only: the entry keeps its key, the contacts take the new spelling', async () => {
    tagLibrarySettings.contactsPerRequest = 2;
    const ids: string[] = [];
    for (const [name, spelling] of [['Case A', 'newsletter'], ['Case B', 'NEWSLETTER'], ['Case C', 'Newsletter']]) {
      const contact = await createContact(acme.owner.token, name!);
      await tagContact(acme.owner.token, contact.id, [spelling!]);
      ids.push(contact.id);
    }
    const { last, statuses } = await repeatUntilDone(() =>
      stack.api('PATCH', '/v1/tags/newsletter', { token: acme.owner.token, body: { name: 'NewsLetter' } }),
    );
    expect(statuses).toEqual([202, 200]);
    expect(last.body).toMatchObject({ key: 'newsletter', name: 'NewsLetter', status: 'active' });
    for (const id of ids) expect((await getContact(id)).tags).toEqual(['NewsLetter']);
    await expectCountsMatchRecount();
    expect((await getTag('newsletter')).body.usageCount).toBe(3);
  });

  it('renames to a reserved `bot:` tag are refused (422), for owner/admin too', async () => {
    const contact = await createContact(acme.owner.token, 'Botty');
    await tagContact(acme.owner.token, contact.id, ['Autoreply off']);
    const res = await stack.api('PATCH', `/v1/tags/${enc('autoreply off')}`, { token: acme.admin.token, body: { name: 'bot:muted' } });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ reason: 'reserved_tag' });
    expect((await getContact(contact.id)).tags).toEqual(['Autoreply off']);
  });
});

describe('deleting a tag', () => {
  it('untags every contact a bounded part per request (tag.removed by the caller), then drops the entry', async () => {
    tagLibrarySettings.contactsPerRequest = 2;
    const ids: string[] = [];
    for (const name of ['Del A', 'Del B', 'Del C', 'Del D', 'Del E']) {
      const contact = await createContact(acme.owner.token, name);
      await tagContact(acme.owner.token, contact.id, ['Old/Campaign', 'Stays']);
      ids.push(contact.id);
    }
    await stack.api('POST', `/v1/contacts/${ids[0]}/archive`, { token: acme.owner.token });
    await poller.drain();
    expect((await getTag('old/campaign')).body.usageCount).toBe(5);

    expect((await stack.api('DELETE', `/v1/tags/${tagPathRef('old/campaign')}`, { token: acme.member.token })).status).toBe(403);
    const first = await stack.api('DELETE', `/v1/tags/${tagPathRef('old/campaign')}`, { token: acme.admin.token });
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ status: 'in_progress', operation: 'delete', processed: 2, tag: { status: 'deleting' } });
    // While it is being deleted it cannot be added, nor renamed.
    const adding = await stack.api('POST', `/v1/contacts/${ids[1]}/tags`, { token: acme.owner.token, body: { tags: ['old/campaign'] } });
    expect(adding.status).toBe(409);
    const renaming = await stack.api('PATCH', `/v1/tags/${tagPathRef('old/campaign')}`, { token: acme.admin.token, body: { name: 'x' } });
    expect(renaming.status).toBe(409);

    const { last } = await repeatUntilDone(() => stack.api('DELETE', `/v1/tags/${tagPathRef('Old/Campaign')}`, { token: acme.admin.token }));
    expect(last.status).toBe(204);
    expect((await getTag('old/campaign')).status).toBe(404);
    expect((await stack.api('DELETE', `/v1/tags/${tagPathRef('old/campaign')}`, { token: acme.admin.token })).status).toBe(404);
    for (const id of ids) expect((await getContact(id)).tags).toEqual(['Stays']);
    const events = await tagEvents('contact', ids[2]!);
    expect(events[0]).toMatchObject({ type: 'tag.removed', actorUserId: acme.admin.user.id, payload: { tag: 'Old/Campaign', system: false } });
    expect((await tagEvents('tag', 'old/campaign')).map((e) => e.type)).toEqual(['tag.deleted', 'tag.created']);

    await expectCountsMatchRecount();
    expect((await getTag('old/campaign')).status).toBe(404);
    expect((await getTag('stays')).body.usageCount).toBe(5);
  });

  it('deletes a `bot:` tag only as owner/admin; a tag nobody uses goes at once', async () => {
    const contact = await createContact(acme.owner.token, 'Paused Paul');
    await tagContact(acme.owner.token, contact.id, ['bot:on']);
    expect((await stack.api('DELETE', '/v1/tags/bot%3Aon', { token: acme.member.token })).status).toBe(403);
    expect((await stack.api('DELETE', '/v1/tags/bot%3Aon', { token: acme.owner.token })).status).toBe(204);
    expect((await getContact(contact.id)).tags).toEqual([]);
    await stack.api('POST', '/v1/tags', { token: acme.member.token, body: { name: 'Unused' } });
    expect((await stack.api('DELETE', '/v1/tags/unused', { token: acme.admin.token })).status).toBe(204);
  });
});

describe('usage counts from the stream', () => {
  it('match a recount after tagging, bulk, untagging, archiving and merging, and after a replayed batch', async () => {
    const ids: string[] = [];
    for (let index = 0; index < 6; index++) ids.push((await createContact(acme.owner.token, `Count ${index}`)).id);
    const bulk = await stack.api('POST', '/v1/contacts/bulk', {
      token: acme.member.token,
      body: { action: 'tag', contactIds: ids, tags: ['Bulk One', 'Bulk Two'] },
    });
    expect(bulk.status).toBe(200);
    expect(bulk.body.counts.changed).toBe(6);
    await stack.api('POST', '/v1/contacts/bulk', { token: acme.member.token, body: { action: 'untag', contactIds: ids.slice(0, 2), tags: ['bulk two'] } });
    await stack.api('POST', `/v1/contacts/${ids[2]}/archive`, { token: acme.owner.token });
    await tagContact(acme.owner.token, ids[5]!, ['Merged In']);
    const merge = await stack.api('POST', `/v1/contacts/${ids[0]}/merge`, { token: acme.owner.token, body: { sourceContactIds: [ids[5]] } });
    expect(merge.status, JSON.stringify(merge.body)).toBe(200);

    await expectCountsMatchRecount();
    // A merge moves the source's tags to the target: the source leaves 'bulk one' and 'merged in', and
    // the target, untagged 'bulk two' before, gets it back from the source.
    expect((await getTag('bulk one')).body.usageCount).toBe(5);
    expect((await getTag('bulk two')).body.usageCount).toBe(4);
    expect((await getTag('merged in')).body.usageCount).toBe(1);

    const before = await listAll();
    const response = await tagUsageHandler({ Records: delivered }, lambdaContext('tag-usage', randomUUID()));
    expect(response.batchItemFailures).toEqual([]);
    expect(await listAll()).toEqual(before);
  });
});
