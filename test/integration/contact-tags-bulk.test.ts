import { tagPathRef } from '../../domain/tags/tag-path-ref';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContact } from '../../domain/contacts/contacts.service';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';

let stack: TestStack;
let acme: Awaited<ReturnType<typeof seedWorkspace>>;
let globex: Awaited<ReturnType<typeof seedWorkspace>>;

beforeAll(async () => {
  stack = await createTestStack();
  acme = await seedWorkspace(stack, 'Acme');
  globex = await seedWorkspace(stack, 'Globex');
});
afterAll(() => stack.destroy());

const create = async (token: string, body: Record<string, unknown>) => {
  stack.clock.advance(1000);
  const res = await stack.api('POST', '/v1/contacts', { token, body });
  expect(res.status).toBe(201);
  return res.body as { id: string; version: number };
};
const addTags = (token: string, contactId: string, tags: unknown, headers?: Record<string, string>) =>
  stack.api('POST', `/v1/contacts/${contactId}/tags`, {
    token,
    body: { tags },
    ...(headers ? { headers } : {}),
  });
/** Removes a tag by its path reference (`~…` for names a deployed gateway cannot route), or as `encode` writes it. */
const removeTag = (token: string, contactId: string, tag: string, encode = (name: string) => encodeURIComponent(tagPathRef(name))) =>
  stack.api('DELETE', `/v1/contacts/${contactId}/tags/${encode(tag)}`, { token });
const eventsOf = async (contactId: string) =>
  (
    await stack.api('GET', '/v1/events', {
      token: acme.owner.token,
      query: { entityType: 'contact', entityId: contactId, limit: 100 },
    })
  ).body.items as { type: string; actorUserId: string; payload: Record<string, unknown> }[];
const bulk = (token: string, body: Record<string, unknown>) =>
  stack.api('POST', '/v1/contacts/bulk', { token, body });
const ids = (res: { body: { items: { id: string }[] } }) => res.body.items.map((c) => c.id);

describe('tags on a contact', () => {
  it('adds tags idempotently, matches them case- and accent-insensitively and keeps the first spelling', async () => {
    const contact = await create(acme.owner.token, { name: 'Tag Tina' });
    const first = await addTags(acme.member.token, contact.id, ['VIP', '  Lead   Source: Web ']);
    expect(first.status).toBe(200);
    expect(first.headers.etag).toBe('"2"');
    expect(first.body).toMatchObject({ tags: ['VIP', 'Lead Source: Web'], version: 2 });

    const again = await addTags(acme.member.token, contact.id, ['vip', 'lead source: WEB']);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ tags: ['VIP', 'Lead Source: Web'], version: 2 });

    const more = await addTags(acme.member.token, contact.id, ['Vïp', 'Trade show', 'TRADE SHOW']);
    expect(more.body).toMatchObject({ tags: ['VIP', 'Lead Source: Web', 'Trade show'], version: 3 });

    const removed = await removeTag(acme.member.token, contact.id, 'LEAD source: web');
    expect(removed.status).toBe(200);
    expect(removed.body).toMatchObject({ tags: ['VIP', 'Trade show'], version: 4 });
    const removedAgain = await removeTag(acme.member.token, contact.id, 'lead source: web');
    expect(removedAgain.status).toBe(200);
    expect(removedAgain.body.version).toBe(4);
    const absent = await removeTag(acme.member.token, contact.id, 'never had it');
    expect(absent.body.version).toBe(4);

    const events = await eventsOf(contact.id);
    expect(
      events.filter((e) => e.type.startsWith('tag.')).map((e) => [e.type, e.payload.tag, e.actorUserId]),
    ).toEqual([
      ['tag.removed', 'Lead Source: Web', acme.member.user.id],
      ['tag.added', 'Trade show', acme.member.user.id],
      ['tag.added', 'Lead Source: Web', acme.member.user.id],
      ['tag.added', 'VIP', acme.member.user.id],
    ]);
    expect(events[0]!.payload).toEqual({ tag: 'Lead Source: Web', system: false });
  });

  it('removes a tag whose name API Gateway would not route (`/`, `?`, `#`) by its `~` reference', async () => {
    const contact = await create(acme.owner.token, { name: 'Slash Sam' });
    await addTags(acme.member.token, contact.id, ['Q3/Q4', 'Why?', '#hot', 'why']);
    // Decoded before routing, as deployed: `%2F` makes another segment; `%3F` would cut the path at `Why`.
    expect((await removeTag(acme.member.token, contact.id, 'Q3/Q4', encodeURIComponent)).status).toBe(404);
    const cut = await removeTag(acme.member.token, contact.id, 'Why?', encodeURIComponent);
    expect(cut.body.tags).toEqual(['Q3/Q4', 'Why?', '#hot']);
    for (const tag of ['q3/q4', 'WHY?', '#HOT']) {
      const res = await removeTag(acme.member.token, contact.id, tag);
      expect(res.status, tag).toBe(200);
    }
    expect((await removeTag(acme.member.token, contact.id, 'x')).body.tags).toEqual([]);
    const garbled = await stack.api('DELETE', `/v1/contacts/${contact.id}/tags/~%E2%9C%93`, { token: acme.member.token });
    expect(garbled.status).toBe(400);
    expect(garbled.body.errors[0].field).toBe('params.tag');
  });

  it('honours If-Match and refuses bad tag names with a 400 naming the field', async () => {
    const contact = await create(acme.owner.token, { name: 'Strict Stu' });
    const stale = await addTags(acme.owner.token, contact.id, ['x1'], { 'if-match': '"7"' });
    expect(stale.status).toBe(412);
    const fine = await addTags(acme.owner.token, contact.id, ['x1'], { 'if-match': '"1"' });
    expect(fine.status).toBe(200);

    const cases: [unknown, string][] = [
      [[], 'body.tags'],
      [['ok', '   '], 'body.tags.1'],
      [['x'.repeat(51)], 'body.tags.0'],
      [['bad\u0000tag'], 'body.tags.0'],
      ['VIP', 'body.tags'],
    ];
    for (const [tags, field] of cases) {
      const res = await addTags(acme.owner.token, contact.id, tags);
      expect(res.status, JSON.stringify(tags)).toBe(400);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    }
    const longPath = await removeTag(acme.owner.token, contact.id, 'y'.repeat(51));
    expect(longPath.status).toBe(400);
    expect(longPath.body.errors[0].field).toBe('params.tag');
  });

  it('keeps the usual write rules: a member cannot tag a contact someone else claimed', async () => {
    const contact = await create(acme.owner.token, { name: 'Claimed Clara', ownerId: acme.admin.user.id });
    const denied = await addTags(acme.member.token, contact.id, ['mine']);
    expect(denied.status).toBe(403);
    const deniedRemove = await removeTag(acme.member.token, contact.id, 'anything');
    expect(deniedRemove.status).toBe(403);
    const allowed = await addTags(acme.owner.token, contact.id, ['theirs']);
    expect(allowed.body.tags).toEqual(['theirs']);
  });

  it('lets only an owner or admin add or remove `bot:` system tags, in any spelling', async () => {
    const contact = await create(acme.member.token, { name: 'Bot Bella', ownerId: acme.member.user.id });
    for (const tag of ['bot:off', 'BOT:Paused', 'ｂｏｔ:off']) {
      const res = await addTags(acme.member.token, contact.id, ['fine', tag]);
      expect(res.status, tag).toBe(403);
    }
    expect(
      (await stack.api('GET', `/v1/contacts/${contact.id}`, { token: acme.member.token })).body.tags,
    ).toEqual([]);

    const byAdmin = await addTags(acme.admin.token, contact.id, ['Bot:Off']);
    expect(byAdmin.status).toBe(200);
    expect(byAdmin.body.tags).toEqual(['Bot:Off']);
    expect((await removeTag(acme.member.token, contact.id, 'bot:off')).status).toBe(403);
    const memberTag = await addTags(acme.member.token, contact.id, ['warm']);
    expect(memberTag.body.tags).toEqual(['Bot:Off', 'warm']);
    const byOwner = await removeTag(acme.owner.token, contact.id, 'bot:off');
    expect(byOwner.body.tags).toEqual(['warm']);

    const events = (await eventsOf(contact.id)).filter((e) => e.type.startsWith('tag.'));
    expect(events.map((e) => [e.type, e.payload, e.actorUserId])).toEqual([
      ['tag.removed', { tag: 'Bot:Off', system: true }, acme.owner.user.id],
      ['tag.added', { tag: 'warm', system: false }, acme.member.user.id],
      ['tag.added', { tag: 'Bot:Off', system: true }, acme.admin.user.id],
    ]);
  });

  it('caps a contact at 20 tags, and a contact with 20 tags can still be renamed, archived and claimed', async () => {
    const contact = await create(acme.owner.token, {
      name: 'Many Tags Maximilian',
      companyName: 'Very Long Company Name Holdings',
      channels: [
        { kind: 'email', value: 'max.tags@example.com' },
        { kind: 'phone', value: '+442079460999' },
      ],
    });
    const twenty = Array.from({ length: 20 }, (_, i) => `Topic number ${i + 1}`);
    const added = await addTags(acme.owner.token, contact.id, twenty);
    expect(added.status).toBe(200);
    expect(added.body.tags).toHaveLength(20);
    const tooMany = await addTags(acme.owner.token, contact.id, ['one more']);
    expect(tooMany.status).toBe(422);
    expect(tooMany.body.errors[0].field).toBe('body.tags');

    const renamed = await stack.api('PATCH', `/v1/contacts/${contact.id}`, {
      token: acme.owner.token,
      body: {
        name: 'Maximiliano Alejandro de la Cruz-Fernández Smith',
        companyName: 'Another Company Name Group Limited',
      },
    });
    expect(renamed.status).toBe(200);
    const archived = await stack.api('POST', `/v1/contacts/${contact.id}/archive`, {
      token: acme.owner.token,
    });
    expect(archived.status).toBe(200);
    const back = await stack.api('POST', `/v1/contacts/${contact.id}/unarchive`, { token: acme.owner.token });
    expect(back.status).toBe(200);
    const claimed = await stack.api('POST', `/v1/contacts/${contact.id}/claim`, { token: acme.member.token });
    expect(claimed.status).toBe(200);
    const list = await stack.api('GET', '/v1/contacts', {
      token: acme.member.token,
      query: { tag: 'topic number 17' },
    });
    expect(list.body.items).toEqual([
      expect.objectContaining({
        id: contact.id,
        name: 'Maximiliano Alejandro de la Cruz-Fernández Smith',
        ownerId: acme.member.user.id,
      }),
    ]);
  });
});

describe('contacts by tag', () => {
  let ws: Awaited<ReturnType<typeof seedWorkspace>>;
  const tagged: Record<string, string> = {};
  let untaggedId: string;

  beforeAll(async () => {
    ws = await seedWorkspace(stack, 'Tagged');
    for (const name of ['Émile Zola', 'anna karenina', 'Boris Godunov', 'Çelik Ayşe', 'dmitri Karamazov']) {
      const contact = await create(ws.owner.token, { name });
      tagged[name] = contact.id;
      await addTags(ws.owner.token, contact.id, [name.startsWith('B') ? 'hot lead' : 'Hot Lead']);
    }
    untaggedId = (await create(ws.owner.token, { name: 'Untagged Ulla' })).id;
  });

  it('lists a tag’s contacts by name, across pages, served by its own key', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const res = await stack.api('GET', '/v1/contacts', {
        token: ws.member.token,
        query: { tag: 'HOT LEAD', limit: 2, cursor },
      });
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((c: { name: string }) => c.name));
      cursor = res.body.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(['anna karenina', 'Boris Godunov', 'Çelik Ayşe', 'dmitri Karamazov', 'Émile Zola']);

    stack.calls.reset();
    await stack.api('GET', '/v1/contacts', { token: ws.member.token, query: { tag: 'hot lead' } });
    expect(stack.calls.counts.QueryCommand).toBe(1); // the tag list is one partition
    expect(stack.calls.counts.ScanCommand).toBeUndefined();
  });

  it('follows renames, archiving and untagging; filters by owner within a tag', async () => {
    await stack.api('PATCH', `/v1/contacts/${tagged['Émile Zola']}`, {
      token: ws.owner.token,
      body: { name: 'Aaron Zola' },
    });
    await stack.api('POST', `/v1/contacts/${tagged['Boris Godunov']}/archive`, { token: ws.owner.token });
    await removeTag(ws.owner.token, tagged['Çelik Ayşe']!, 'hot lead');
    await stack.api('POST', `/v1/contacts/${tagged['dmitri Karamazov']}/claim`, { token: ws.member.token });

    const active = await stack.api('GET', '/v1/contacts', {
      token: ws.member.token,
      query: { tag: 'hot lead' },
    });
    expect(active.body.items.map((c: { name: string }) => c.name)).toEqual([
      'Aaron Zola',
      'anna karenina',
      'dmitri Karamazov',
    ]);
    expect(ids(active)).not.toContain(untaggedId);
    const archived = await stack.api('GET', '/v1/contacts', {
      token: ws.member.token,
      query: { tag: 'hot lead', archived: 'true' },
    });
    expect(ids(archived)).toEqual([tagged['Boris Godunov']]);
    const mine = await stack.api('GET', '/v1/contacts', {
      token: ws.member.token,
      query: { tag: 'hot lead', ownerId: ws.member.user.id },
    });
    expect(ids(mine)).toEqual([tagged['dmitri Karamazov']]);
    const pool = await stack.api('GET', '/v1/contacts', {
      token: ws.member.token,
      query: { tag: 'hot lead', ownerId: 'none' },
    });
    expect(ids(pool).sort()).toEqual([tagged['Émile Zola'], tagged['anna karenina']].sort());
    const unknown = await stack.api('GET', '/v1/contacts', {
      token: ws.member.token,
      query: { tag: 'no such tag' },
    });
    expect(unknown.body).toEqual({ items: [], nextCursor: null });
  });

  it('answers 400 on query.sort for a date sort: tag lists are sorted by name', async () => {
    const res = await stack.api('GET', '/v1/contacts', {
      token: ws.member.token,
      query: { tag: 'hot lead', sort: 'created' },
    });
    expect(res.status).toBe(400);
    expect(res.body.errors[0]).toMatchObject({
      field: 'query.sort',
      message: expect.stringContaining('sorted by name'),
    });
    const tooLong = await stack.api('GET', '/v1/contacts', {
      token: ws.member.token,
      query: { tag: 'z'.repeat(51) },
    });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.errors[0].field).toBe('query.tag');
  });

  it('keeps another workspace out: its lists, and its contacts’ tags', async () => {
    const elsewhere = await stack.api('GET', '/v1/contacts', {
      token: globex.owner.token,
      query: { tag: 'hot lead' },
    });
    expect(elsewhere.body.items).toEqual([]);
    const contactId = tagged['anna karenina']!;
    expect((await addTags(globex.owner.token, contactId, ['stolen'])).status).toBe(404);
    expect((await removeTag(globex.owner.token, contactId, 'hot lead')).status).toBe(404);
    const read = await stack.api('GET', `/v1/contacts/${contactId}`, { token: ws.owner.token });
    expect(read.body.tags).toEqual(['Hot Lead']);
  });
});

describe('bulk operations', () => {
  const outcomes = (res: { body: { results: { contactId: string; outcome: string }[] } }) =>
    Object.fromEntries(res.body.results.map((r) => [r.contactId, r.outcome]));

  it('bulk claim by a member: unclaimed → changed, own → unchanged, someone else’s → conflict, unknown → not_found', async () => {
    const unclaimed = await create(acme.owner.token, { name: 'Bulk Pool One' });
    const own = await create(acme.owner.token, { name: 'Bulk Own', ownerId: acme.member.user.id });
    const taken = await create(acme.owner.token, { name: 'Bulk Taken', ownerId: acme.admin.user.id });
    const foreign = await create(globex.owner.token, { name: 'Globex Pool' });
    const res = await bulk(acme.member.token, {
      action: 'claim',
      contactIds: [unclaimed.id, own.id, taken.id, 'ct_nope', foreign.id, unclaimed.id],
    });
    expect(res.status).toBe(200);
    expect(res.body.results).toHaveLength(5);
    expect(res.body.results.map((r: { contactId: string }) => r.contactId)).toEqual([
      unclaimed.id,
      own.id,
      taken.id,
      'ct_nope',
      foreign.id,
    ]);
    expect(outcomes(res)).toEqual({
      [unclaimed.id]: 'changed',
      [own.id]: 'unchanged',
      [taken.id]: 'conflict',
      ct_nope: 'not_found',
      [foreign.id]: 'not_found',
    });
    expect(res.body.results[0]).toMatchObject({ version: 2 });
    expect(res.body.results[2].message).toContain(acme.admin.user.id);
    expect(res.body.counts).toEqual({ changed: 1, unchanged: 1, failed: 3 });

    const read = await stack.api('GET', `/v1/contacts/${unclaimed.id}`, { token: acme.owner.token });
    expect(read.body.ownerId).toBe(acme.member.user.id);
    expect((await eventsOf(unclaimed.id))[0]).toMatchObject({
      type: 'owner.claimed',
      actorUserId: acme.member.user.id,
    });
    const untouched = await stack.api('GET', `/v1/contacts/${foreign.id}`, { token: globex.owner.token });
    expect(untouched.body).toMatchObject({ ownerId: null, version: 1 });
  });

  it('bulk release: a member releases their own; someone else’s is forbidden', async () => {
    const own = await create(acme.owner.token, { name: 'Rel Own', ownerId: acme.member.user.id });
    const taken = await create(acme.owner.token, { name: 'Rel Taken', ownerId: acme.admin.user.id });
    const res = await bulk(acme.member.token, { action: 'release', contactIds: [own.id, taken.id] });
    expect(outcomes(res)).toEqual({ [own.id]: 'changed', [taken.id]: 'forbidden' });
  });

  it('bulk assign: 403 for a member before touching anything; an admin assigns', async () => {
    const a = await create(acme.owner.token, { name: 'Assign A' });
    const b = await create(acme.owner.token, { name: 'Assign B', ownerId: acme.member.user.id });
    const denied = await bulk(acme.member.token, {
      action: 'assign',
      contactIds: [a.id, b.id],
      ownerId: acme.member.user.id,
    });
    expect(denied.status).toBe(403);
    expect((await stack.api('GET', `/v1/contacts/${a.id}`, { token: acme.owner.token })).body.version).toBe(
      1,
    );

    const unknownUser = await bulk(acme.admin.token, {
      action: 'assign',
      contactIds: [a.id],
      ownerId: globex.owner.user.id,
    });
    expect(unknownUser.status).toBe(422);
    expect(unknownUser.body.errors[0].field).toBe('body.ownerId');

    const res = await bulk(acme.admin.token, {
      action: 'assign',
      contactIds: [a.id, b.id],
      ownerId: acme.member.user.id,
    });
    expect(outcomes(res)).toEqual({ [a.id]: 'changed', [b.id]: 'unchanged' });
    expect((await eventsOf(a.id))[0]).toMatchObject({
      type: 'owner.claimed',
      actorUserId: acme.admin.user.id,
      payload: { ownerId: acme.member.user.id, assignedBy: acme.admin.user.id },
    });
  });

  it('bulk tag and untag, with the single operation’s rights and events', async () => {
    const pool = await create(acme.owner.token, { name: 'Bulk Tag Pool' });
    const own = await create(acme.owner.token, { name: 'Bulk Tag Own', ownerId: acme.member.user.id });
    const taken = await create(acme.owner.token, { name: 'Bulk Tag Taken', ownerId: acme.admin.user.id });
    const contactIds = [pool.id, own.id, taken.id];

    const byMember = await bulk(acme.member.token, {
      action: 'tag',
      contactIds,
      tags: ['Conference 2026', 'warm'],
    });
    expect(outcomes(byMember)).toEqual({
      [pool.id]: 'changed',
      [own.id]: 'changed',
      [taken.id]: 'forbidden',
    });
    const again = await bulk(acme.member.token, {
      action: 'tag',
      contactIds: [pool.id, own.id],
      tags: ['CONFERENCE 2026'],
    });
    expect(again.body.counts).toEqual({ changed: 0, unchanged: 2, failed: 0 });

    const systemByMember = await bulk(acme.member.token, {
      action: 'tag',
      contactIds: [own.id],
      tags: ['bot:off'],
    });
    expect(systemByMember.status).toBe(403);
    const systemByAdmin = await bulk(acme.admin.token, { action: 'tag', contactIds, tags: ['bot:off'] });
    expect(systemByAdmin.body.counts).toEqual({ changed: 3, unchanged: 0, failed: 0 });

    const listed = await stack.api('GET', '/v1/contacts', {
      token: acme.member.token,
      query: { tag: 'conference 2026', limit: 100 },
    });
    expect(ids(listed).sort()).toEqual([pool.id, own.id].sort());

    const untag = await bulk(acme.owner.token, {
      action: 'untag',
      contactIds,
      tags: ['conference 2026', 'bot:off'],
    });
    expect(outcomes(untag)).toEqual({ [pool.id]: 'changed', [own.id]: 'changed', [taken.id]: 'changed' });
    const read = await stack.api('GET', `/v1/contacts/${own.id}`, { token: acme.member.token });
    expect(read.body.tags).toEqual(['warm']);
    const ownEvents = (await eventsOf(own.id)).filter((e) => e.type.startsWith('tag.'));
    expect(ownEvents.map((e) => [e.type, e.payload.tag, e.actorUserId])).toEqual([
      ['tag.removed', 'bot:off', acme.owner.user.id],
      ['tag.removed', 'Conference 2026', acme.owner.user.id],
      ['tag.added', 'bot:off', acme.admin.user.id],
      ['tag.added', 'warm', acme.member.user.id],
      ['tag.added', 'Conference 2026', acme.member.user.id],
    ]);
  });

  it('bulk tag that every contact refuses adds nothing to the tag library', async () => {
    const taken = await create(acme.owner.token, { name: 'Bulk Tag Refused', ownerId: acme.admin.user.id });
    const foreign = await create(globex.owner.token, { name: 'Globex Person' });
    const refused = await bulk(acme.member.token, {
      action: 'tag',
      contactIds: [taken.id, foreign.id, 'ct_missing'],
      tags: ['never-landed'],
    });
    expect(outcomes(refused)).toEqual({ [taken.id]: 'forbidden', [foreign.id]: 'not_found', ct_missing: 'not_found' });
    expect((await stack.api('GET', '/v1/tags/never-landed', { token: acme.owner.token })).status).toBe(404);

    const landed = await bulk(acme.admin.token, { action: 'tag', contactIds: ['ct_missing', taken.id], tags: ['landed-once'] });
    expect(outcomes(landed)).toEqual({ ct_missing: 'not_found', [taken.id]: 'changed' });
    const tag = await stack.api('GET', '/v1/tags/landed-once', { token: acme.owner.token });
    expect(tag.status).toBe(200);
  });

  it('bulk archive, unarchive, suppress and unsuppress', async () => {
    const a = await create(acme.owner.token, { name: 'Bulk Arch A' });
    const b = await create(acme.owner.token, { name: 'Bulk Arch B' });
    const archived = await bulk(acme.owner.token, { action: 'archive', contactIds: [a.id, b.id] });
    expect(archived.body.counts).toEqual({ changed: 2, unchanged: 0, failed: 0 });
    const list = await stack.api('GET', '/v1/contacts', {
      token: acme.owner.token,
      query: { archived: 'true', limit: 100 },
    });
    expect(ids(list)).toEqual(expect.arrayContaining([a.id, b.id]));
    expect(
      (await bulk(acme.owner.token, { action: 'archive', contactIds: [a.id] })).body.counts.unchanged,
    ).toBe(1);
    expect(
      (await bulk(acme.owner.token, { action: 'unarchive', contactIds: [a.id, b.id] })).body.counts.changed,
    ).toBe(2);

    const suppressed = await bulk(acme.owner.token, {
      action: 'suppress',
      contactIds: [a.id],
      reason: 'asked to stop',
    });
    expect(suppressed.body.results[0]).toMatchObject({ outcome: 'changed', version: 4 });
    expect((await stack.api('GET', `/v1/contacts/${a.id}`, { token: acme.owner.token })).body).toMatchObject({
      suppressed: true,
      suppressedReason: 'asked to stop',
    });
    expect(
      (await bulk(acme.owner.token, { action: 'unsuppress', contactIds: [a.id, b.id] })).body.counts,
    ).toEqual({
      changed: 1,
      unchanged: 1,
      failed: 0,
    });
  });

  it('retries a contact that changed under it once: two bulk requests over the same contacts both land', async () => {
    const contacts = await Promise.all(
      Array.from({ length: 12 }, (_, i) => create(acme.owner.token, { name: `Race ${i}` })),
    );
    const contactIds = contacts.map((c) => c.id);
    const [first, second] = await Promise.all([
      bulk(acme.owner.token, { action: 'tag', contactIds, tags: ['race one'] }),
      bulk(acme.admin.token, { action: 'tag', contactIds, tags: ['race two'] }),
    ]);
    expect(first!.body.counts).toEqual({ changed: 12, unchanged: 0, failed: 0 });
    expect(second!.body.counts).toEqual({ changed: 12, unchanged: 0, failed: 0 });
    for (const contactId of contactIds) {
      const read = await stack.api('GET', `/v1/contacts/${contactId}`, { token: acme.owner.token });
      expect(read.body.tags.sort()).toEqual(['race one', 'race two']);
      expect(read.body.version).toBe(3);
    }
  });

  it('validates the whole request first: 400 naming the fields', async () => {
    const someId = (await create(acme.owner.token, { name: 'Valid Val' })).id;
    const cases: [Record<string, unknown>, string][] = [
      [{ action: 'delete', contactIds: [someId] }, 'body.action'],
      [{ action: 'claim', contactIds: [] }, 'body.contactIds'],
      [{ action: 'claim', contactIds: Array.from({ length: 501 }, (_, i) => `ct_${i}`) }, 'body.contactIds'],
      [{ action: 'assign', contactIds: [someId] }, 'body.ownerId'],
      [{ action: 'tag', contactIds: [someId] }, 'body.tags'],
      [{ action: 'untag', contactIds: [someId], tags: [] }, 'body.tags'],
      [{ action: 'claim', contactIds: [someId], tags: ['x'] }, 'body.tags'],
      [{ action: 'archive', contactIds: [someId], reason: 'why' }, 'body.reason'],
    ];
    for (const [body, field] of cases) {
      const res = await bulk(acme.owner.token, body);
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    }
    expect((await stack.api('GET', `/v1/contacts/${someId}`, { token: acme.owner.token })).body.version).toBe(
      1,
    );
  });

  it('takes 500 ids in one request: one read each, one transaction per contact it changes', async () => {
    // 40 real contacts and 460 unknown ids: the full request size without seeding 500 contacts
    // (timings for 500 real contacts: test/bench/bulk-contacts.ts).
    const ws = await seedWorkspace(stack, 'Bulk500');
    const owner = { workspaceId: ws.workspace.id, userId: ws.owner.user.id, role: 'owner' as const };
    const real = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        createContact(stack.deps, owner, { name: `Bulk Person ${i}`, channels: [] }),
      ),
    );
    const contactIds = [
      ...real.map((c) => c.id),
      ...Array.from({ length: 460 }, (_, i) => `ct_missing_${i}`),
    ];

    stack.calls.reset();
    const res = await bulk(ws.member.token, { action: 'claim', contactIds });
    expect(res.status).toBe(200);
    expect(res.body.results).toHaveLength(500);
    expect(res.body.counts).toEqual({ changed: 40, unchanged: 0, failed: 460 });
    expect(res.body.results.slice(40).every((r: { outcome: string }) => r.outcome === 'not_found')).toBe(
      true,
    );
    expect(stack.calls.counts.TransactWriteItemsCommand).toBe(40);
    expect(stack.calls.counts.GetItemCommand).toBeLessThanOrEqual(500 + 3); // + the token lookup
    expect(stack.calls.counts.ScanCommand).toBeUndefined();
    const mine = await stack.api('GET', '/v1/contacts', {
      token: ws.member.token,
      query: { ownerId: ws.member.user.id, limit: 100 },
    });
    expect(ids(mine).sort()).toEqual(real.map((c) => c.id).sort());
  });
});
