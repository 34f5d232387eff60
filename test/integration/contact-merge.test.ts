import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mergeContacts } from '../../domain/contacts/contact-merge.service';
import type { CoreDeps } from '../../domain/shared/deps';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';

let stack: TestStack;
let acme: Awaited<ReturnType<typeof seedWorkspace>>;
let globex: Awaited<ReturnType<typeof seedWorkspace>>;

beforeAll(async () => {
  stack = await createTestStack();
  acme = await seedWorkspace(stack, 'Acme');
  globex = await seedWorkspace(stack, 'Globex');
  for (const body of [
    { entityType: 'contact', key: 'tier', label: 'Tier', type: 'text' },
    { entityType: 'contact', key: 'employees', label: 'Employees', type: 'number' },
  ]) {
    expect((await stack.api('POST', '/v1/custom-fields', { token: acme.owner.token, body })).status).toBe(
      201,
    );
  }
});
afterAll(() => stack.destroy());

interface ContactBody {
  id: string;
  version: number;
  [key: string]: unknown;
}

let counter = 0;
const unique = (label: string) => `${label}-${++counter}`;
const create = async (token: string, body: Record<string, unknown>): Promise<ContactBody> => {
  stack.clock.advance(1000);
  const res = await stack.api('POST', '/v1/contacts', { token, body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
};
const merge = (token: string, targetId: string, sourceContactIds: unknown) => {
  stack.clock.advance(1000);
  return stack.api('POST', `/v1/contacts/${targetId}/merge`, { token, body: { sourceContactIds } });
};
const read = async (contactId: string) =>
  (await stack.api('GET', `/v1/contacts/${contactId}`, { token: acme.owner.token })).body;
const events = async (contactId: string, token = acme.owner.token) => {
  const res = await stack.api('GET', '/v1/events', {
    token,
    query: { entityType: 'contact', entityId: contactId, limit: 100 },
  });
  expect(res.status).toBe(200);
  return res.body.items as { id: string; type: string; entityId: string; payload: Record<string, unknown> }[];
};
const lookup = async (kind: string, value: string) =>
  stack.api('GET', '/v1/contacts/lookup', { token: acme.member.token, query: { kind, value } });
const ids = (res: { body: { items: { id: string }[] } }) => res.body.items.map((item) => item.id);
const slots = async (token: string) =>
  (await stack.api('GET', '/v1/pins', { token })).body.items.map(
    (pin: { slot: number; contactId: string }) => [pin.slot, pin.contactId],
  );
const fields = (res: { body: { errors?: { field: string }[] } }) =>
  (res.body.errors ?? []).map((error) => error.field);

describe('merging contacts (seed 001 Contact.merge)', () => {
  it('moves channels, tags, fields, history and pins to the target, archives the sources, and is idempotent', async () => {
    const tEmail = `${unique('tara')}@target.example`;
    const s1Email = `${unique('tara.personal')}@home.example`;
    const s2Email = `${unique('tara.work')}@work.example`;
    const target = await create(acme.owner.token, {
      name: 'Tara Target',
      city: 'Paris',
      channels: [{ kind: 'email', value: tEmail }],
      customFields: { tier: 'gold' },
    });
    await stack.api('POST', `/v1/contacts/${target.id}/tags`, {
      token: acme.owner.token,
      body: { tags: ['VIP'] },
    });
    await stack.api('POST', `/v1/contacts/${target.id}/scores`, {
      token: acme.owner.token,
      body: { value: 3 },
    });

    const s1 = await create(acme.owner.token, {
      name: 'Tara Sourcewell',
      jobTitle: 'CTO',
      city: 'London',
      channels: [
        { kind: 'email', value: s1Email },
        { kind: 'phone', value: '+44 20 7946 0101' },
      ],
      customFields: { tier: 'silver', employees: 50 },
    });
    await stack.api('POST', `/v1/contacts/${s1.id}/tags`, {
      token: acme.owner.token,
      body: { tags: ['vip', 'Newsletter'] },
    });
    stack.clock.advance(1000);
    await stack.api('POST', `/v1/contacts/${s1.id}/scores`, { token: acme.owner.token, body: { value: 4 } });
    await stack.api('PUT', `/v1/contacts/${s1.id}/qualification`, {
      token: acme.owner.token,
      body: { kind: 'lead', score: 2 },
    });

    const s2 = await create(acme.owner.token, {
      name: 'Tara Sourcewell-Two',
      country: 'GB',
      ownerId: acme.admin.user.id,
      channels: [
        { kind: 'linkedin', value: `https://www.linkedin.com/in/${unique('tara')}` },
        { kind: 'email', value: s2Email },
      ],
    });
    await stack.api('POST', `/v1/contacts/${s2.id}/tags`, {
      token: acme.owner.token,
      body: { tags: ['Conference'] },
    });
    stack.clock.advance(1000);
    await stack.api('PUT', `/v1/contacts/${s2.id}/qualification`, {
      token: acme.owner.token,
      body: { kind: 'prospect' },
    });

    // Pins: the admin pins both sources; the member pins a source and the target already.
    await stack.api('PUT', '/v1/pins/2', { token: acme.admin.token, body: { contactId: s1.id } });
    await stack.api('PUT', '/v1/pins/4', { token: acme.admin.token, body: { contactId: s2.id } });
    await stack.api('PUT', '/v1/pins/1', { token: acme.member.token, body: { contactId: s2.id } });
    await stack.api('PUT', '/v1/pins/3', { token: acme.member.token, body: { contactId: target.id } });
    const before = await read(target.id);
    const sourcesBefore = [await read(s1.id), await read(s2.id)];

    const res = await merge(acme.owner.token, target.id, [s1.id, s2.id]);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const merged = res.body;
    expect(merged).toMatchObject({
      id: target.id,
      status: 'active',
      version: before.version + 2,
      email: tEmail,
      phone: '+442079460101',
      tags: ['VIP', 'Newsletter', 'Conference'],
      jobTitle: 'CTO',
      city: 'Paris',
      country: 'GB',
      ownerId: acme.admin.user.id,
      customFields: { tier: 'gold', employees: 50 },
      score: { value: 4 },
      qualification: { kind: 'prospect' },
    });
    expect(
      merged.channels.map((c: { normalized: string; primary: boolean }) => [c.normalized, c.primary]),
    ).toEqual([
      [tEmail, true],
      [s1Email, false],
      ['+442079460101', true],
      [expect.stringContaining('linkedin.com/in/'), true],
      [s2Email, false],
    ]);
    expect(merged.mergedFrom).toEqual([
      {
        contactId: s1.id,
        name: 'Tara Sourcewell',
        mergedAt: expect.any(String),
        channels: [
          { kind: 'email', normalized: s1Email },
          { kind: 'phone', normalized: '+442079460101' },
        ],
        tags: ['vip', 'Newsletter'],
        fields: ['jobTitle', 'customFields.employees', 'score', 'qualification'],
        mergedContactIds: [],
      },
      {
        contactId: s2.id,
        name: 'Tara Sourcewell-Two',
        mergedAt: expect.any(String),
        channels: [
          { kind: 'linkedin', normalized: expect.any(String) },
          { kind: 'email', normalized: s2Email },
        ],
        tags: ['Conference'],
        fields: ['country', 'ownerId', 'qualification'],
        mergedContactIds: [],
      },
    ]);
    expect(await read(target.id)).toEqual(merged);

    // The channel guards point at the target: lookups find it, a new contact cannot take a value.
    for (const channel of merged.channels as { kind: string; normalized: string }[]) {
      const found = await lookup(channel.kind, channel.normalized);
      expect(found.body.id).toBe(target.id);
    }
    const copy = await stack.api('POST', '/v1/contacts', {
      token: acme.member.token,
      body: { name: 'Copycat', channels: [{ kind: 'email', value: s1Email }] },
    });
    expect(copy.status).toBe(409);
    expect(copy.body.conflictingContactId).toBe(target.id);

    // Histories copied, marked with where they came from; the sources keep theirs.
    const scores = await stack.api('GET', `/v1/contacts/${target.id}/scores`, { token: acme.owner.token });
    expect(
      scores.body.items.map((s: { value: number; mergedFrom?: string }) => [s.value, s.mergedFrom ?? null]),
    ).toEqual([
      [4, s1.id],
      [3, null],
    ]);
    const qualification = await stack.api('GET', `/v1/contacts/${target.id}/qualification`, {
      token: acme.owner.token,
    });
    expect(qualification.body.current).toMatchObject({ kind: 'prospect' });
    expect(
      qualification.body.history.map((q: { kind: string; mergedFrom?: string }) => [q.kind, q.mergedFrom]),
    ).toEqual([
      ['prospect', s2.id],
      ['lead', s1.id],
    ]);
    expect(
      (await stack.api('GET', `/v1/contacts/${s1.id}/scores`, { token: acme.owner.token })).body.items,
    ).toHaveLength(1);

    // Pins: re-pointed in their slot, or cleared where the user pinned the target already.
    expect(await slots(acme.admin.token)).toEqual([[2, target.id]]);
    expect(await slots(acme.member.token)).toEqual([[3, target.id]]);
    // The freed slot can be used again, and the target is pinned once per user.
    expect(
      (await stack.api('PUT', '/v1/pins/5', { token: acme.admin.token, body: { contactId: target.id } }))
        .status,
    ).toBe(200);
    expect(await slots(acme.admin.token)).toEqual([[5, target.id]]);

    // Sources: archived into the target, out of the active lists and search.
    for (const source of sourcesBefore) {
      expect(await read(source.id)).toMatchObject({
        status: 'archived',
        mergedInto: target.id,
        channels: [],
        tags: [],
        version: source.version + 1,
      });
    }
    const active = await stack.api('GET', '/v1/contacts', { token: acme.owner.token, query: { limit: 100 } });
    expect(ids(active)).toContain(target.id);
    expect(ids(active)).not.toContain(s1.id);
    expect(ids(active)).not.toContain(s2.id);
    const archived = await stack.api('GET', '/v1/contacts', {
      token: acme.owner.token,
      query: { archived: 'true', limit: 100 },
    });
    expect(ids(archived)).toEqual(expect.arrayContaining([s1.id, s2.id]));
    const tagged = await stack.api('GET', '/v1/contacts', {
      token: acme.owner.token,
      query: { tag: 'newsletter' },
    });
    expect(ids(tagged)).toEqual([target.id]);
    const owned = await stack.api('GET', '/v1/contacts', {
      token: acme.owner.token,
      query: { ownerId: acme.admin.user.id, limit: 100 },
    });
    expect(ids(owned)).toContain(target.id);
    expect(ids(owned)).not.toContain(s2.id);
    for (const q of [s1Email, s2Email, '+442079460101']) {
      const found = await stack.api('GET', '/v1/contacts/search', { token: acme.owner.token, query: { q } });
      expect(ids(found)).toEqual([target.id]);
    }
    const byName = await stack.api('GET', '/v1/contacts/search', {
      token: acme.owner.token,
      query: { q: 'Sourcewell' },
    });
    expect(ids(byName)).toEqual([]);
    const archivedByName = await stack.api('GET', '/v1/contacts/search', {
      token: acme.owner.token,
      query: { q: 'Sourcewell', archived: 'true' },
    });
    expect(ids(archivedByName).sort()).toEqual([s1.id, s2.id].sort());

    // Events: the target's log shows the sources' too; one contact.merged; the sources keep theirs.
    const log = await events(target.id);
    expect(new Set(log.map((event) => event.entityId))).toEqual(new Set([target.id, s1.id, s2.id]));
    expect(log.map((event) => event.id)).toEqual([...log.map((event) => event.id)].sort().reverse());
    expect(log[0]).toMatchObject({
      type: 'contact.merged',
      entityId: target.id,
      payload: {
        sourceContactIds: [s1.id, s2.id],
        channels: [
          { kind: 'email', normalized: s1Email, from: s1.id },
          { kind: 'phone', normalized: '+442079460101', from: s1.id },
          { kind: 'linkedin', normalized: expect.any(String), from: s2.id },
          { kind: 'email', normalized: s2Email, from: s2.id },
        ],
        tagsAdded: ['Newsletter', 'Conference'],
      },
    });
    expect(log.filter((event) => event.type === 'contact.merged')).toHaveLength(1);
    expect(
      log
        .filter((event) => event.type === 'contact.created')
        .map((event) => event.entityId)
        .sort(),
    ).toEqual([target.id, s1.id, s2.id].sort());
    expect(log.find((event) => event.type === 'owner.claimed' && event.entityId === target.id)).toMatchObject(
      {
        payload: { ownerId: acme.admin.user.id, previousOwnerId: null, assignedBy: acme.owner.user.id },
      },
    );
    const sourceLog = await events(s1.id);
    expect(sourceLog[0]).toMatchObject({
      type: 'contact.archived',
      entityId: s1.id,
      payload: { mergedInto: target.id },
    });
    expect(sourceLog.every((event) => event.entityId === s1.id)).toBe(true);

    // Pages over the three partitions: the same events, in the same order, none twice.
    const paged: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await stack.api('GET', '/v1/events', {
        token: acme.owner.token,
        query: { entityType: 'contact', entityId: target.id, limit: 4, cursor },
      });
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(4);
      paged.push(...page.body.items.map((event: { id: string }) => event.id));
      cursor = page.body.nextCursor ?? undefined;
    } while (cursor);
    expect(paged).toEqual(log.map((event) => event.id));
    // A page costs one read of the contact and one Query per partition.
    stack.calls.reset();
    await stack.api('GET', '/v1/events', {
      token: acme.owner.token,
      query: { entityType: 'contact', entityId: target.id, limit: 4 },
    });
    expect(stack.calls.counts).toEqual({ GetItemCommand: 1, QueryCommand: 3 });

    // Repeating the request changes nothing.
    const again = await merge(acme.owner.token, target.id, [s1.id, s2.id]);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(merged);
    expect((await events(target.id)).map((event) => event.id)).toEqual(log.map((event) => event.id));
    expect(await slots(acme.member.token)).toEqual([[3, target.id]]);
  });

  it('follows earlier merges: a contact merged into a source has its events listed on the final target', async () => {
    const a = await create(acme.owner.token, {
      name: 'Chain Alpha',
      channels: [{ kind: 'email', value: `${unique('alpha')}@chain.example` }],
    });
    const b = await create(acme.owner.token, { name: 'Chain Beta' });
    const c = await create(acme.owner.token, { name: 'Chain Gamma' });
    expect((await merge(acme.owner.token, b.id, [a.id])).status).toBe(200);
    const res = await merge(acme.owner.token, c.id, [b.id]);
    expect(res.status).toBe(200);
    expect(res.body.mergedFrom).toEqual([
      expect.objectContaining({ contactId: b.id, mergedContactIds: [a.id] }),
    ]);
    expect(res.body.channels).toHaveLength(1);
    const log = await events(c.id);
    expect(new Set(log.map((event) => event.entityId))).toEqual(new Set([a.id, b.id, c.id]));
    // A contact merged elsewhere cannot be merged again.
    const d = await create(acme.owner.token, { name: 'Chain Delta' });
    const taken = await merge(acme.owner.token, d.id, [a.id]);
    expect(taken.status).toBe(409);
    expect(taken.body.detail).toContain(b.id);
    expect(taken.body).toMatchObject({ contactId: a.id, mergedInto: b.id });
    // Nor can anything be merged into a merged (archived) contact.
    const intoMerged = await merge(acme.owner.token, b.id, [d.id]);
    expect(intoMerged.status).toBe(409);
    expect(intoMerged.body.mergedInto).toBe(c.id);
    expect((await read(d.id)).status).toBe('active');
  });

  it('finishes a merge interrupted between two sources when the request is repeated', async () => {
    const target = await create(acme.owner.token, { name: 'Crash Target' });
    const s1 = await create(acme.owner.token, {
      name: 'Crash One',
      channels: [{ kind: 'email', value: `${unique('c1')}@crash.example` }],
    });
    const s2 = await create(acme.owner.token, {
      name: 'Crash Two',
      channels: [{ kind: 'email', value: `${unique('c2')}@crash.example` }],
    });
    await stack.api('POST', `/v1/contacts/${s2.id}/scores`, { token: acme.owner.token, body: { value: 5 } });
    // The process dies at the second source's transaction (no pins here: the first transaction is the first source's).
    let transactionsLeft = 1;
    const real = stack.deps.db.transactWrite;
    const crashing = {
      ...stack.deps,
      db: {
        ...stack.deps.db,
        transactWrite: (build: never) =>
          transactionsLeft-- > 0 ? real(build) : { go: () => Promise.reject(new Error('simulated crash')) },
      },
    } as unknown as CoreDeps;
    const caller = { workspaceId: acme.workspace.id, userId: acme.owner.user.id, role: 'owner' as const };
    await expect(
      mergeContacts(crashing, caller, target.id, { sourceContactIds: [s1.id, s2.id] }),
    ).rejects.toThrow('simulated crash');
    expect((await read(s1.id)).mergedInto).toBe(target.id);
    expect((await read(s2.id)).status).toBe('active');

    const res = await merge(acme.owner.token, target.id, [s1.id, s2.id]);
    expect(res.status).toBe(200);
    expect(res.body.mergedFrom.map((entry: { contactId: string }) => entry.contactId)).toEqual([
      s1.id,
      s2.id,
    ]);
    expect(res.body.channels).toHaveLength(2);
    expect(res.body.score).toMatchObject({ value: 5 });
    const scores = await stack.api('GET', `/v1/contacts/${target.id}/scores`, { token: acme.owner.token });
    expect(scores.body.items).toHaveLength(1);
    const mergedEvents = (await events(target.id)).filter((event) => event.type === 'contact.merged');
    expect(mergedEvents.map((event) => event.payload.sourceContactIds)).toEqual([[s2.id], [s1.id]]);
  });
});

describe('rights', () => {
  it('lets a member merge their own and unclaimed contacts, but not one claimed by someone else (403, nothing written)', async () => {
    const target = await create(acme.member.token, { name: 'Member Target', ownerId: acme.member.user.id });
    const pool = await create(acme.owner.token, {
      name: 'Pool Source',
      channels: [{ kind: 'email', value: `${unique('pool')}@rights.example` }],
    });
    const claimed = await create(acme.owner.token, {
      name: 'Claimed Source',
      ownerId: acme.admin.user.id,
      channels: [{ kind: 'email', value: `${unique('claimed')}@rights.example` }],
    });
    await stack.api('PUT', '/v1/pins/5', { token: acme.member.token, body: { contactId: pool.id } });
    const before = await events(target.id);

    const denied = await merge(acme.member.token, target.id, [pool.id, claimed.id]);
    expect(denied.status).toBe(403);
    expect(denied.body.detail).toContain(claimed.id);
    expect((await read(pool.id)).status).toBe('active');
    expect((await read(claimed.id)).status).toBe('active');
    expect((await read(target.id)).version).toBe(target.version);
    expect(await events(target.id)).toEqual(before);
    expect((await slots(acme.member.token)).find(([slot]: [number]) => slot === 5)).toEqual([5, pool.id]);

    // Nor into a target claimed by someone else.
    const othersTarget = await create(acme.owner.token, {
      name: 'Admin Target',
      ownerId: acme.admin.user.id,
    });
    expect((await merge(acme.member.token, othersTarget.id, [pool.id])).status).toBe(403);

    const allowed = await merge(acme.member.token, target.id, [pool.id]);
    expect(allowed.status).toBe(200);
    expect(allowed.body.mergedFrom).toHaveLength(1);
    expect((await slots(acme.member.token)).find(([slot]: [number]) => slot === 5)).toEqual([5, target.id]);
    await stack.api('DELETE', '/v1/pins/5', { token: acme.member.token });
  });

  it('keeps other workspaces out: their contacts are unknown (422 naming the field and id; 404 for the target)', async () => {
    const target = await create(acme.owner.token, { name: 'Home Target' });
    const foreign = await create(globex.owner.token, { name: 'Foreign Source' });
    const res = await merge(acme.owner.token, target.id, [foreign.id]);
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('invalid_reference');
    expect(res.body.detail).toContain(foreign.id);
    expect(res.body.errors).toEqual([
      expect.objectContaining({
        field: 'body.sourceContactIds.0',
        message: expect.stringContaining(foreign.id),
      }),
    ]);
    const intoForeign = await merge(globex.owner.token, target.id, [foreign.id]);
    expect(intoForeign.status).toBe(404);
    expect((await read(target.id)).version).toBe(target.version);
    const foreignRead = await stack.api('GET', `/v1/contacts/${foreign.id}`, { token: globex.owner.token });
    expect(foreignRead.body).toMatchObject({ status: 'active', version: foreign.version });
  });
});

describe('refusals before anything is written', () => {
  it('answers 400 for bad input: itself, duplicates, none, more than ten', async () => {
    const target = await create(acme.owner.token, { name: 'Input Target' });
    const other = await create(acme.owner.token, { name: 'Input Other' });
    const self = await merge(acme.owner.token, target.id, [other.id, target.id]);
    expect(self.status).toBe(400);
    expect(fields(self)).toEqual(['body.sourceContactIds.1']);
    const twice = await merge(acme.owner.token, target.id, [other.id, other.id]);
    expect(twice.status).toBe(400);
    expect(fields(twice)).toEqual(['body.sourceContactIds.1']);
    for (const sourceContactIds of [
      [],
      Array.from({ length: 11 }, (_, index) => `ct_${index}`),
      'ct_1',
      [''],
      undefined,
    ]) {
      const res = await merge(acme.owner.token, target.id, sourceContactIds);
      expect(res.status, JSON.stringify(sourceContactIds)).toBe(400);
      expect(fields(res)[0]).toMatch(/^body\.sourceContactIds/);
    }
    expect((await read(other.id)).status).toBe('active');
    expect((await read(target.id)).version).toBe(target.version);
  });

  it('refuses a change sent to a merged contact with 409 record_merged naming the target: nothing lands on the tombstone', async () => {
    const target = await create(acme.owner.token, { name: 'Merge Keeper' });
    const source = await create(acme.owner.token, { name: 'Merge Tombstone' });
    expect((await merge(acme.owner.token, target.id, [source.id])).status).toBe(200);
    const before = await read(source.id);
    const phone = '+14155550177';
    const writes = [
      stack.api('PATCH', `/v1/contacts/${source.id}`, { token: acme.owner.token, body: { jobTitle: 'CTO' } }),
      stack.api('POST', `/v1/contacts/${source.id}/tags`, { token: acme.owner.token, body: { tags: ['late'] } }),
      stack.api('POST', `/v1/contacts/${source.id}/channels`, { token: acme.owner.token, body: { kind: 'phone', value: phone } }),
      stack.api('POST', `/v1/contacts/${source.id}/claim`, { token: acme.member.token }),
    ];
    for (const res of await Promise.all(writes)) {
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({ code: 'record_merged', mergedInto: target.id });
    }
    expect((await read(source.id)).version).toBe(before.version);
    // The phone is free for the contact it belongs on.
    expect((await lookup('phone', phone)).status).toBe(404);
    const added = await stack.api('POST', `/v1/contacts/${target.id}/channels`, { token: acme.owner.token, body: { kind: 'phone', value: phone } });
    expect(added.status).toBe(200);
  });

  it('refuses an archived target with 409', async () => {
    const target = await create(acme.owner.token, { name: 'Archived Target' });
    const source = await create(acme.owner.token, { name: 'Live Source' });
    const archived = await stack.api('POST', `/v1/contacts/${target.id}/archive`, {
      token: acme.owner.token,
    });
    const res = await merge(acme.owner.token, target.id, [source.id]);
    expect(res.status).toBe(409);
    expect((await read(target.id)).version).toBe(archived.body.version);
    expect((await read(source.id)).status).toBe('active');
  });

  it('refuses a merge that would pass the tag cap with 422, writing nothing', async () => {
    const email = `${unique('tags')}@cap.example`;
    const target = await create(acme.owner.token, { name: 'Tag Cap Target' });
    const source = await create(acme.owner.token, {
      name: 'Tag Cap Source',
      channels: [{ kind: 'email', value: email }],
    });
    const tags = (prefix: string, count: number) =>
      Array.from({ length: count }, (_, index) => `${prefix}-${index}`);
    await stack.api('POST', `/v1/contacts/${target.id}/tags`, {
      token: acme.owner.token,
      body: { tags: tags('mine', 20) },
    });
    await stack.api('POST', `/v1/contacts/${source.id}/tags`, {
      token: acme.owner.token,
      body: { tags: tags('theirs', 11) },
    });
    await stack.api('POST', `/v1/contacts/${source.id}/scores`, {
      token: acme.owner.token,
      body: { value: 2 },
    });
    await stack.api('PUT', '/v1/pins/1', { token: acme.owner.token, body: { contactId: source.id } });
    const [targetBefore, sourceBefore] = [await read(target.id), await read(source.id)];

    const res = await merge(acme.owner.token, target.id, [source.id]);
    expect(res.status).toBe(422);
    expect(fields(res)).toEqual(['body.sourceContactIds.0']);
    expect(await read(target.id)).toEqual(targetBefore);
    expect(await read(source.id)).toEqual(sourceBefore);
    expect((await lookup('email', email)).body.id).toBe(source.id);
    expect(
      (await stack.api('GET', `/v1/contacts/${target.id}/scores`, { token: acme.owner.token })).body.items,
    ).toEqual([]);
    expect(await slots(acme.owner.token)).toEqual([[1, source.id]]);
    expect((await events(target.id)).some((event) => event.type === 'contact.merged')).toBe(false);
  });

  it('refuses a merge whose transaction would pass 100 items with 422, writing nothing', async () => {
    const tags = Array.from({ length: 20 }, (_, index) => `shared-${index}`);
    const target = await create(acme.owner.token, { name: 'Huge Target' });
    const source = await create(acme.owner.token, {
      name: 'Huge Source With A Rather Long Name',
      companyName: 'Huge Holdings International Group',
      channels: Array.from({ length: 9 }, (_, index) => ({
        kind: 'email',
        value: `${unique('huge')}-${index}@huge.example`,
      })),
    });
    for (const contact of [target, source]) {
      expect(
        (
          await stack.api('POST', `/v1/contacts/${contact.id}/tags`, {
            token: acme.owner.token,
            body: { tags },
          })
        ).status,
      ).toBe(200);
    }
    const sourceBefore = await read(source.id);
    const res = await merge(acme.owner.token, target.id, [source.id]);
    expect(res.status).toBe(422);
    expect(res.body.detail).toContain('100');
    expect(res.body.contactId).toBe(source.id);
    expect(await read(source.id)).toEqual(sourceBefore);
  });

  it('refuses a merge that would pass the channel cap with 422', async () => {
    const channels = (label: string, count: number) =>
      Array.from({ length: count }, (_, index) => ({
        kind: 'email',
        value: `${unique(label)}-${index}@many.example`,
      }));
    const target = await create(acme.owner.token, { name: 'Many Target', channels: channels('t', 6) });
    const source = await create(acme.owner.token, { name: 'Many Source', channels: channels('s', 5) });
    const res = await merge(acme.owner.token, target.id, [source.id]);
    expect(res.status).toBe(422);
    expect(res.body.detail).toContain('10 channels');
    expect((await read(source.id)).channels).toHaveLength(5);
  });
});
