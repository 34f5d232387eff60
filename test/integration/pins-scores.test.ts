import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

const createContact = async (token: string, name: string, extra: Record<string, unknown> = {}) => {
  stack.clock.advance(1000);
  const res = await stack.api('POST', '/v1/contacts', { token, body: { name, ...extra } });
  expect(res.status).toBe(201);
  return res.body as { id: string; version: number };
};
const pins = async (token: string) => {
  const res = await stack.api('GET', '/v1/pins', { token });
  expect(res.status).toBe(200);
  return res.body.items as { slot: number; contactId: string; contact: { name: string; status: string } | null }[];
};
const slots = async (token: string) => (await pins(token)).map((pin) => [pin.slot, pin.contactId]);
const pin = (token: string, slot: number | string, contactId: string) =>
  stack.api('PUT', `/v1/pins/${slot}`, { token, body: { contactId } });
const fields = (res: { body: { errors?: { field: string }[] } }) => (res.body.errors ?? []).map((error) => error.field);

describe('pins (seed 001 ContactPin)', () => {
  it('sets, moves, replaces and clears, listing in slot order with summaries', async () => {
    // A fresh user, so the other tests' pins stay out of this one's way.
    const user = await stack.api('POST', '/v1/users', { token: acme.owner.token, body: { name: 'Pia Pinner', email: 'pia@acme.example' } });
    const token = (await stack.api('POST', '/v1/tokens', { token: acme.owner.token, body: { userId: user.body.id } })).body.token;
    const a = await createContact(acme.owner.token, 'Pinned Alice');
    const b = await createContact(acme.owner.token, 'Pinned Bob');
    const c = await createContact(acme.owner.token, 'Pinned Carol');
    expect(await pins(token)).toEqual([]);

    const set = await pin(token, 3, a.id);
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ slot: 3, contactId: a.id, contact: { id: a.id, name: 'Pinned Alice', status: 'active' } });
    await pin(token, 1, b.id);
    const listed = await pins(token);
    expect(listed.map((p) => [p.slot, p.contactId])).toEqual([[1, b.id], [3, a.id]]);
    expect(listed.map((p) => p.contact?.name)).toEqual(['Pinned Bob', 'Pinned Alice']);

    // Already pinned elsewhere: it moves, keeping when it was pinned.
    stack.clock.advance(1000);
    const moved = await pin(token, 5, a.id);
    expect(moved.status).toBe(200);
    expect(moved.body.pinnedAt).toBe(set.body.pinnedAt);
    expect(moved.body.updatedAt).not.toBe(set.body.updatedAt);
    expect(await slots(token)).toEqual([[1, b.id], [5, a.id]]);

    // The same again changes nothing.
    expect((await pin(token, 5, a.id)).status).toBe(200);
    expect(await slots(token)).toEqual([[1, b.id], [5, a.id]]);

    // A slot holding another contact is replaced; the replaced contact can be pinned again.
    expect((await pin(token, 1, c.id)).status).toBe(200);
    expect(await slots(token)).toEqual([[1, c.id], [5, a.id]]);
    expect((await pin(token, 2, b.id)).status).toBe(200);
    expect(await slots(token)).toEqual([[1, c.id], [2, b.id], [5, a.id]]);

    const cleared = await stack.api('DELETE', '/v1/pins/5', { token });
    expect(cleared.status).toBe(204);
    expect((await stack.api('DELETE', '/v1/pins/5', { token })).status).toBe(204);
    expect((await stack.api('DELETE', '/v1/pins/4', { token })).status).toBe(204);
    expect(await slots(token)).toEqual([[1, c.id], [2, b.id]]);
    // Cleared means free: the contact can be pinned again anywhere.
    expect((await pin(token, 4, a.id)).status).toBe(200);
    expect(await slots(token)).toEqual([[1, c.id], [2, b.id], [4, a.id]]);
  });

  it('has slots 1 to 5 only', async () => {
    const a = await createContact(acme.owner.token, 'Slot Sam');
    for (const slot of [0, 6, 'x', 1.5]) {
      const res = await pin(acme.admin.token, slot, a.id);
      expect(res.status, String(slot)).toBe(400);
      expect(fields(res)).toEqual(['params.slot']);
    }
    expect((await stack.api('DELETE', '/v1/pins/6', { token: acme.admin.token })).status).toBe(400);
    const missing = await stack.api('PUT', '/v1/pins/1', { token: acme.admin.token, body: {} });
    expect(missing.status).toBe(400);
    expect(fields(missing)).toEqual(['body.contactId']);
    expect((await pin(acme.admin.token, 5, a.id)).status).toBe(200);
  });

  it('never leaves a contact in two slots when sets race', async () => {
    const user = await stack.api('POST', '/v1/users', { token: acme.owner.token, body: { name: 'Rex Racer', email: 'rex@acme.example' } });
    const token = (await stack.api('POST', '/v1/tokens', { token: acme.owner.token, body: { userId: user.body.id } })).body.token;
    const x = await createContact(acme.owner.token, 'Racy Xena');
    for (let round = 0; round < 3; round += 1) {
      const results = await Promise.all([1, 2, 3, 4, 5].map((slot) => pin(token, slot, x.id)));
      expect(results.map((res) => res.status)).toEqual([200, 200, 200, 200, 200]);
      const listed = await pins(token);
      expect(listed.filter((p) => p.contactId === x.id)).toHaveLength(1);
      expect(listed).toHaveLength(1);
      // The guard follows the pin: clearing the slot frees the contact for any slot.
      await stack.api('DELETE', `/v1/pins/${listed[0]!.slot}`, { token });
      expect(await pins(token)).toEqual([]);
    }
    expect((await pin(token, 3, x.id)).status).toBe(200);
    expect(await slots(token)).toEqual([[3, x.id]]);
  });

  it('keeps pins private to their user, and lets a member pin a contact another user claimed', async () => {
    const claimed = await createContact(acme.owner.token, 'Owned Oscar', { ownerId: acme.owner.user.id });
    expect((await pin(acme.owner.token, 2, claimed.id)).status).toBe(200);
    expect((await pins(acme.member.token)).map((p) => p.contactId)).not.toContain(claimed.id);
    expect((await pin(acme.member.token, 2, claimed.id)).status).toBe(200);
    expect((await stack.api('DELETE', '/v1/pins/2', { token: acme.member.token })).status).toBe(204);
    expect(await slots(acme.owner.token)).toContainEqual([2, claimed.id]);
    expect((await pins(globex.owner.token)).map((p) => p.contactId)).not.toContain(claimed.id);
  });

  it('keeps an archived contact pinned, showing it archived', async () => {
    const a = await createContact(acme.owner.token, 'Archived Arno');
    await pin(acme.owner.token, 4, a.id);
    expect((await stack.api('POST', `/v1/contacts/${a.id}/archive`, { token: acme.owner.token })).status).toBe(200);
    const listed = await pins(acme.owner.token);
    expect(listed.find((p) => p.slot === 4)).toMatchObject({ contactId: a.id, contact: { name: 'Archived Arno', status: 'archived' } });
  });

  it('cannot pin another workspace’s contact or one that does not exist (422 naming body.contactId)', async () => {
    const a = await createContact(acme.owner.token, 'Foreign Fay');
    for (const [token, contactId] of [[globex.owner.token, a.id], [acme.owner.token, 'ct_nope']] as const) {
      const res = await pin(token, 1, contactId);
      expect(res.status).toBe(422);
      expect(res.body).toMatchObject({ code: 'invalid_reference', errors: [{ field: 'body.contactId' }] });
    }
    expect((await pins(globex.owner.token)).map((p) => p.contactId)).not.toContain(a.id);
  });
});

describe('scores (seed 001 ContactScore)', () => {
  it('takes 1 to 5 only, naming body.value', async () => {
    const a = await createContact(acme.owner.token, 'Scored Sue');
    for (const value of [0, 6, 3.5, '4']) {
      const res = await stack.api('POST', `/v1/contacts/${a.id}/scores`, { token: acme.owner.token, body: { value } });
      expect(res.status, String(value)).toBe(400);
      expect(fields(res)).toEqual(['body.value']);
    }
    const badSource = await stack.api('POST', `/v1/contacts/${a.id}/scores`, { token: acme.owner.token, body: { value: 3, source: 'AI!' } });
    expect(badSource.status).toBe(400);
    expect(fields(badSource)).toEqual(['body.source']);
    for (const value of [1, 5]) {
      expect((await stack.api('POST', `/v1/contacts/${a.id}/scores`, { token: acme.owner.token, body: { value } })).status).toBe(201);
    }
  });

  it('keeps the history newest first, the current score on the contact, and a profile.scored event', async () => {
    const a = await createContact(acme.owner.token, 'Scored Sid');
    stack.clock.advance(1000);
    const first = await stack.api('POST', `/v1/contacts/${a.id}/scores`, { token: acme.owner.token, body: { value: 4 } });
    expect(first.status).toBe(201);
    expect(first.body.score).toMatchObject({ contactId: a.id, value: 4, source: 'manual', userId: acme.owner.user.id });
    expect(first.body.contact).toMatchObject({
      id: a.id,
      version: a.version + 1,
      score: { id: first.body.score.id, value: 4, source: 'manual', userId: acme.owner.user.id, at: first.body.score.createdAt },
    });
    stack.clock.advance(1000);
    await stack.api('POST', `/v1/contacts/${a.id}/scores`, { token: acme.admin.token, body: { value: 2, source: 'ai' } });
    stack.clock.advance(1000);
    await stack.api('POST', `/v1/contacts/${a.id}/scores`, { token: acme.member.token, body: { value: 5, source: 'webinar_form' } });

    const history = await stack.api('GET', `/v1/contacts/${a.id}/scores`, { token: acme.member.token });
    expect(history.status).toBe(200);
    expect(history.body.items.map((s: { value: number; source: string }) => [s.value, s.source])).toEqual([
      [5, 'webinar_form'],
      [2, 'ai'],
      [4, 'manual'],
    ]);
    expect(history.body.nextCursor).toBeNull();
    const page1 = await stack.api('GET', `/v1/contacts/${a.id}/scores`, { token: acme.member.token, query: { limit: 2 } });
    expect(page1.body.items).toHaveLength(2);
    const page2 = await stack.api('GET', `/v1/contacts/${a.id}/scores`, {
      token: acme.member.token,
      query: { limit: 2, cursor: page1.body.nextCursor },
    });
    expect(page2.body.items.map((s: { value: number }) => s.value)).toEqual([4]);

    const contact = await stack.api('GET', `/v1/contacts/${a.id}`, { token: acme.member.token });
    expect(contact.body).toMatchObject({ version: a.version + 3, score: { value: 5, source: 'webinar_form', userId: acme.member.user.id } });

    const events = await stack.api('GET', '/v1/events', { token: acme.owner.token, query: { entityType: 'contact', entityId: a.id } });
    const scored = events.body.items.filter((e: { type: string }) => e.type === 'profile.scored');
    expect(scored).toHaveLength(3);
    expect(scored[0]).toMatchObject({
      actorUserId: acme.member.user.id,
      payload: { value: 5, source: 'webinar_form', previous: { value: 2, source: 'ai' } },
    });
    expect(scored[2].payload).toMatchObject({ value: 4, source: 'manual', previous: null });
  });

  it('replays a retried POST with the same Idempotency-Key instead of scoring twice', async () => {
    const a = await createContact(acme.owner.token, 'Retry Rita');
    const send = () =>
      stack.api('POST', `/v1/contacts/${a.id}/scores`, { token: acme.owner.token, headers: { 'idempotency-key': `score-${a.id}` }, body: { value: 3 } });
    const first = await send();
    const again = await send();
    expect(again.status).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    const history = await stack.api('GET', `/v1/contacts/${a.id}/scores`, { token: acme.owner.token });
    expect(history.body.items).toHaveLength(1);
  });

  it('lists an empty history for a contact never scored, and 404 for none', async () => {
    const a = await createContact(acme.owner.token, 'Unscored Uma');
    const empty = await stack.api('GET', `/v1/contacts/${a.id}/scores`, { token: acme.member.token });
    expect(empty.body).toEqual({ items: [], nextCursor: null });
    expect((await stack.api('GET', `/v1/contacts/${a.id}`, { token: acme.member.token })).body).toMatchObject({ score: null, qualification: null });
    expect((await stack.api('GET', '/v1/contacts/ct_00000000000000000000000000/scores', { token: acme.member.token })).status).toBe(404);
  });
});

describe('qualification (seed 001 ContactQualification)', () => {
  it('sets, reads current and history, and lets a user override the AI’s latest value', async () => {
    const a = await createContact(acme.owner.token, 'Qualified Quinn');
    const none = await stack.api('GET', `/v1/contacts/${a.id}/qualification`, { token: acme.member.token });
    expect(none.status).toBe(200);
    expect(none.body).toEqual({ current: null, history: [], nextCursor: null });

    stack.clock.advance(1000);
    const ai = await stack.api('PUT', `/v1/contacts/${a.id}/qualification`, {
      token: acme.admin.token,
      body: { kind: 'lead', score: 3, source: 'ai' },
    });
    expect(ai.status).toBe(200);
    expect(ai.body.qualification).toMatchObject({ contactId: a.id, kind: 'lead', score: 3, source: 'ai', userId: acme.admin.user.id });
    expect(ai.body.contact.qualification).toMatchObject({ id: ai.body.qualification.id, kind: 'lead', score: 3, source: 'ai' });

    stack.clock.advance(1000);
    const manual = await stack.api('PUT', `/v1/contacts/${a.id}/qualification`, { token: acme.member.token, body: { kind: 'customer' } });
    expect(manual.status).toBe(200);
    expect(manual.body.qualification).toMatchObject({ kind: 'customer', score: null, source: 'manual', userId: acme.member.user.id });
    expect(manual.body.contact.version).toBe(a.version + 2);

    // The same again by the same user changes nothing.
    const repeat = await stack.api('PUT', `/v1/contacts/${a.id}/qualification`, { token: acme.member.token, body: { kind: 'customer' } });
    expect(repeat.body.qualification).toEqual(manual.body.qualification);
    expect(repeat.body.contact.version).toBe(a.version + 2);

    const read = await stack.api('GET', `/v1/contacts/${a.id}/qualification`, { token: acme.owner.token });
    expect(read.body.current).toEqual(manual.body.qualification);
    expect(read.body.history.map((q: { kind: string; source: string }) => [q.kind, q.source])).toEqual([
      ['customer', 'manual'],
      ['lead', 'ai'],
    ]);
    const paged = await stack.api('GET', `/v1/contacts/${a.id}/qualification`, { token: acme.owner.token, query: { limit: 1 } });
    const next = await stack.api('GET', `/v1/contacts/${a.id}/qualification`, {
      token: acme.owner.token,
      query: { limit: 1, cursor: paged.body.nextCursor },
    });
    expect(next.body.current).toEqual(manual.body.qualification);
    expect(next.body.history.map((q: { kind: string }) => q.kind)).toEqual(['lead']);

    const contact = await stack.api('GET', `/v1/contacts/${a.id}`, { token: acme.owner.token });
    expect(contact.body.qualification).toMatchObject({ kind: 'customer', source: 'manual', score: null });

    const events = await stack.api('GET', '/v1/events', { token: acme.owner.token, query: { entityType: 'contact', entityId: a.id } });
    const set = events.body.items.filter((e: { type: string }) => e.type === 'qualification.set');
    expect(set.map((e: { payload: unknown }) => e.payload)).toEqual([
      expect.objectContaining({ kind: 'customer', score: null, source: 'manual', previous: { kind: 'lead', score: 3, source: 'ai' } }),
      expect.objectContaining({ kind: 'lead', score: 3, source: 'ai', previous: null }),
    ]);
  });

  it('refuses a bad kind, score or source, naming the field', async () => {
    const a = await createContact(acme.owner.token, 'Bad Bea');
    const cases: [Record<string, unknown>, string][] = [
      [{ kind: 'Lead!' }, 'body.kind'],
      [{ kind: 'lead', score: 0 }, 'body.score'],
      [{ kind: 'lead', score: 6 }, 'body.score'],
      [{ kind: 'lead', source: 'robot' }, 'body.source'],
      [{}, 'body.kind'],
    ];
    for (const [body, field] of cases) {
      const res = await stack.api('PUT', `/v1/contacts/${a.id}/qualification`, { token: acme.owner.token, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(fields(res)).toEqual([field]);
    }
  });
});

describe('rights', () => {
  it('lets a member score and qualify unclaimed or own contacts, not one claimed by someone else (403), but read it', async () => {
    const claimed = await createContact(acme.owner.token, 'Claimed Clara', { ownerId: acme.owner.user.id });
    const score = await stack.api('POST', `/v1/contacts/${claimed.id}/scores`, { token: acme.member.token, body: { value: 3 } });
    expect(score.status).toBe(403);
    const qualify = await stack.api('PUT', `/v1/contacts/${claimed.id}/qualification`, { token: acme.member.token, body: { kind: 'lead' } });
    expect(qualify.status).toBe(403);
    expect((await stack.api('GET', `/v1/contacts/${claimed.id}/scores`, { token: acme.member.token })).body.items).toEqual([]);
    expect((await stack.api('GET', `/v1/contacts/${claimed.id}/qualification`, { token: acme.member.token })).status).toBe(200);
    expect((await stack.api('GET', `/v1/contacts/${claimed.id}`, { token: acme.member.token })).body).toMatchObject({
      version: claimed.version,
      score: null,
    });

    expect((await stack.api('POST', `/v1/contacts/${claimed.id}/scores`, { token: acme.admin.token, body: { value: 3 } })).status).toBe(201);
    const own = await createContact(acme.member.token, 'Mine Milo', { ownerId: acme.member.user.id });
    expect((await stack.api('POST', `/v1/contacts/${own.id}/scores`, { token: acme.member.token, body: { value: 4 } })).status).toBe(201);
    expect((await stack.api('PUT', `/v1/contacts/${own.id}/qualification`, { token: acme.member.token, body: { kind: 'prospect' } })).status).toBe(200);
  });

  it('keeps another workspace’s contacts out of reach (404)', async () => {
    const a = await createContact(acme.owner.token, 'Hidden Hank');
    await stack.api('POST', `/v1/contacts/${a.id}/scores`, { token: acme.owner.token, body: { value: 4 } });
    await stack.api('PUT', `/v1/contacts/${a.id}/qualification`, { token: acme.owner.token, body: { kind: 'lead' } });
    for (const [method, path, body] of [
      ['POST', `/v1/contacts/${a.id}/scores`, { value: 1 }],
      ['GET', `/v1/contacts/${a.id}/scores`, undefined],
      ['PUT', `/v1/contacts/${a.id}/qualification`, { kind: 'not_a_fit' }],
      ['GET', `/v1/contacts/${a.id}/qualification`, undefined],
    ] as const) {
      const res = await stack.api(method, path, { token: globex.owner.token, body });
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    const read = await stack.api('GET', `/v1/contacts/${a.id}`, { token: acme.owner.token });
    expect(read.body).toMatchObject({ score: { value: 4 }, qualification: { kind: 'lead' } });
  });
});

describe('DynamoDB requests per read', () => {
  it('lists pins with one Query and one BatchGetItem; a history page with one Query', async () => {
    const ids = [];
    for (const name of ['Count Ann', 'Count Ben', 'Count Cid']) ids.push((await createContact(acme.admin.token, name)).id);
    for (const [index, id] of ids.entries()) await pin(acme.admin.token, index + 1, id);
    await stack.api('POST', `/v1/contacts/${ids[0]}/scores`, { token: acme.admin.token, body: { value: 2 } });
    await stack.api('PUT', `/v1/contacts/${ids[0]}/qualification`, { token: acme.admin.token, body: { kind: 'lead' } });

    await pins(acme.admin.token); // the token is read and cached
    stack.calls.reset();
    expect((await pins(acme.admin.token)).length).toBeGreaterThanOrEqual(3);
    expect(stack.calls.counts).toEqual({ QueryCommand: 1, BatchGetItemCommand: 1 });

    stack.calls.reset();
    await stack.api('GET', `/v1/contacts/${ids[0]}/scores`, { token: acme.admin.token });
    expect(stack.calls.counts).toEqual({ QueryCommand: 1 });

    stack.calls.reset();
    await stack.api('GET', `/v1/contacts/${ids[0]}/qualification`, { token: acme.admin.token });
    expect(stack.calls.counts).toEqual({ QueryCommand: 1 });

    // A score: the contact read, then one transaction (contact, its list entries, the event, the history item).
    stack.calls.reset();
    await stack.api('POST', `/v1/contacts/${ids[1]}/scores`, { token: acme.admin.token, body: { value: 5 } });
    expect(stack.calls.counts).toEqual({ GetItemCommand: 1, TransactWriteItemsCommand: 1 });
  });
});
