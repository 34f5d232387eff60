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

let counter = 0;
const create = (token: string, body: Record<string, unknown>) => {
  stack.clock.advance(1000);
  return stack.api('POST', '/v1/contacts', { token, body });
};
const unique = () => `u${++counter}`;

describe('create and get', () => {
  it('creates a person with normalised channels, and reads it back in one request', async () => {
    const res = await create(acme.owner.token, {
      name: 'José Núñez',
      jobTitle: 'CTO',
      companyName: 'Acme Ltd',
      city: 'Sevilla',
      channels: [
        { kind: 'email', value: '  Jose.Nunez@Example.COM ', label: 'work' },
        { kind: 'phone', value: '020 7946 0018' },
        { kind: 'linkedin', value: 'https://uk.linkedin.com/in/Jose-Nunez/?trk=abc' },
      ],
      defaultCountry: 'GB',
    });
    expect(res.status).toBe(201);
    expect(res.headers.etag).toBe('"1"');
    expect(res.body).toMatchObject({
      name: 'José Núñez',
      jobTitle: 'CTO',
      email: 'jose.nunez@example.com',
      phone: '+442079460018',
      status: 'active',
      suppressed: false,
      ownerId: null,
      createdBy: acme.owner.user.id,
    });
    expect(res.body.channels.map((c: { normalized: string }) => c.normalized)).toEqual([
      'jose.nunez@example.com',
      '+442079460018',
      'https://www.linkedin.com/in/jose-nunez',
    ]);
    const read = await stack.api('GET', `/v1/contacts/${res.body.id}`, { token: acme.member.token });
    expect(read.status).toBe(200);
    expect(read.body).toEqual(res.body);
  });

  it('takes values as they are pasted: a mailto: link or "Name <address>", a 00 prefix, invisible marks', async () => {
    const res = await create(acme.owner.token, {
      name: 'Pasted Paula',
      channels: [
        { kind: 'email', value: 'Paula Pasted <Paula.Pasted@Example.com>' },
        { kind: 'email', value: 'mailto:paula@home.example?subject=Hi' },
        { kind: 'phone', value: '0044 20 7946 0019' },
        { kind: 'whatsapp', value: '\u200e+972 54-765-4321\u200f' },
      ],
    });
    expect(res.status).toBe(201);
    expect(res.body.channels.map((c: { normalized: string }) => c.normalized)).toEqual([
      'paula.pasted@example.com',
      'paula@home.example',
      '+442079460019',
      '+972547654321',
    ]);
    // The same pasted forms find her.
    const found = await stack.api('GET', '/v1/contacts/lookup', { token: acme.member.token, query: { kind: 'email', value: 'mailto:PAULA@home.example' } });
    expect(found.body.id).toBe(res.body.id);
    // A display name that holds an address of its own is not guessed at.
    const ambiguous = await create(acme.owner.token, { name: 'Two Addresses', channels: [{ kind: 'email', value: 'a@example.com <b@example.com>' }] });
    expect(ambiguous.status).toBe(400);
    expect(ambiguous.body.errors[0]).toMatchObject({ field: 'body.channels.0.value', code: 'invalid_email' });
  });

  it('refuses a channel value another contact holds with 409 naming that contact', async () => {
    const first = await create(acme.owner.token, { name: 'First', channels: [{ kind: 'email', value: 'taken@example.com' }] });
    const second = await create(acme.member.token, { name: 'Second', channels: [{ kind: 'email', value: 'TAKEN@example.com' }] });
    expect(second.status).toBe(409);
    expect(second.body.conflictingContactId).toBe(first.body.id);
    expect(second.body.detail).toContain(first.body.id);
    const list = await stack.api('GET', '/v1/contacts/search', { token: acme.owner.token, query: { q: 'Second' } });
    expect(list.body.items).toEqual([]);
  });

  it('lets another workspace use the same channel value', async () => {
    const res = await create(globex.owner.token, { name: 'Other First', channels: [{ kind: 'email', value: 'taken@example.com' }] });
    expect(res.status).toBe(201);
  });

  it('rejects bad input with a 400 naming each field', async () => {
    const res = await create(acme.owner.token, {
      name: '',
      channels: [
        { kind: 'email', value: 'not an email' },
        { kind: 'fax', value: '123' },
      ],
    });
    expect(res.status).toBe(400);
    const fields = res.body.errors.map((e: { field: string }) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['body.name', 'body.channels.1.kind']));
    const invalidEmail = await create(acme.owner.token, { name: 'X', channels: [{ kind: 'email', value: 'not an email' }] });
    expect(invalidEmail.status).toBe(400);
    expect(invalidEmail.body.errors[0].field).toBe('body.channels.0.value');
  });

  it('refuses a number nearer 0 than DynamoDB stores (1e-130) with a 400 naming it, anywhere in a body', async () => {
    const res = await create(acme.owner.token, {
      name: 'Tiny Number',
      channels: [{ kind: 'email', value: 'tiny.number@example.com' }],
      customFields: { anything: 1.589856797283214e-204 },
    });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ field: 'body.customFields.anything', message: expect.stringMatching(/at least 1e-130 away from 0/) }]);
    const found = await stack.api('GET', '/v1/contacts/search', { token: acme.owner.token, query: { q: 'tiny.number@example.com' } });
    expect(found.body.items).toEqual([]);

    // The fuzzer's find: a classifier's confidence of 1.6e-204 used to fail the write with a 500.
    const contact = (await create(acme.owner.token, { name: 'Tiny Confidence', channels: [{ kind: 'email', value: 'tiny.confidence@example.com' }] })).body;
    const qualification = await stack.api('PUT', `/v1/contacts/${contact.id}/qualification`, {
      token: acme.owner.token,
      body: { kind: 'lead', score: 5, source: 'manual', confidence: 1.589856797283214e-204 },
    });
    expect(qualification.status).toBe(400);
    expect(qualification.body.errors).toEqual([{ field: 'body.confidence', message: expect.stringMatching(/1e-130/) }]);
    const after = await stack.api('GET', `/v1/contacts/${contact.id}`, { token: acme.owner.token });
    expect(after.body).toMatchObject({ version: contact.version, qualification: null });
  });

  it('refuses a field the request does not take, naming it, rather than dropping it: nothing asked for goes quietly undone', async () => {
    const contact = (await create(acme.owner.token, { name: 'Field Fay', channels: [{ kind: 'email', value: 'field.fay@example.com' }] })).body;
    const patched = await stack.api('PATCH', `/v1/contacts/${contact.id}`, { token: acme.owner.token, body: { city: 'Lyon', ownerId: acme.member.user.id } });
    expect(patched.status).toBe(400);
    expect(patched.body.errors).toEqual([{ field: 'body.ownerId', message: expect.stringMatching(/Not a field/) }]);
    expect((await stack.api('GET', `/v1/contacts/${contact.id}`, { token: acme.owner.token })).body).toMatchObject({ city: null, ownerId: null, version: contact.version });
    // With another mistake in the same body, both are named.
    const task = await stack.api('POST', '/v1/tasks', { token: acme.owner.token, body: { title: '', anchorKind: 'contact', anchorId: contact.id } });
    expect(task.status).toBe(400);
    expect(task.body.errors.map((error: { field: string }) => error.field).sort()).toEqual(['body.anchorId', 'body.anchorKind', 'body.title']);
    // A body of one of several shapes too: a misspelt subject is not a conversation without one.
    const conversation = await stack.api('POST', '/v1/conversations', {
      token: acme.owner.token,
      body: { kind: 'contact', contactId: contact.id, channel: 'email', subjct: 'Renewal' },
    });
    expect(conversation.status).toBe(400);
    expect(conversation.body.errors.map((error: { field: string }) => error.field)).toEqual(['body.subjct']);
    const direct = await stack.api('POST', '/v1/conversations', {
      token: acme.owner.token,
      body: { kind: 'direct', userIds: [acme.member.user.id], contactId: contact.id },
    });
    expect(direct.status).toBe(400);
    expect(direct.body.errors.map((error: { field: string }) => error.field)).toEqual(['body.contactId']);
  });

  it('refuses JSON nested deeper than a record holds (32 levels) with a 400 naming where, not a 500, however deep', async () => {
    const nestedText = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
    const nested = (levels: number): unknown => JSON.parse(nestedText(levels));
    const deep = await stack.api('POST', '/v1/contacts', {
      token: acme.owner.token,
      headers: { 'content-type': 'application/json' },
      body: `{"name":"Deep","a":${nestedText(20_000)}}`,
    });
    expect(deep.status).toBe(400);
    expect(deep.body.errors).toEqual([{ field: `body${'.a'.repeat(32)}`, message: expect.stringMatching(/32 levels/) }]);
    expect((await stack.api('GET', '/v1/contacts/search', { token: acme.owner.token, query: { q: 'deep' } })).body.items).toEqual([]);
    // A free-form payload: 31 levels under the body are stored (DynamoDB's 32 with the body's), 32 are refused before anything is written.
    let sent = 0;
    const send = (payload: unknown) =>
      stack.api('POST', '/v1/inbound-messages', {
        token: acme.owner.token,
        body: { channel: 'email', from: 'nested.payload@example.com', externalId: `nested-${(sent += 1)}`, body: 'Hi', payload },
      });
    const kept = await send(nested(31));
    expect(kept.status, JSON.stringify(kept.body)).toBe(201);
    const refused = await send(nested(32));
    expect(refused.status).toBe(400);
    expect(refused.body.errors[0].field).toBe(`body.payload${'.a'.repeat(31)}`);
  });

  it('refuses a number that JSON cannot carry exactly (past 2^53 − 1) with a 400, storing nothing', async () => {
    const res = await create(acme.owner.token, {
      name: 'Huge Number',
      channels: [{ kind: 'email', value: 'huge.number@example.com' }],
      customFields: { anything: 2 ** 60 },
    });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ field: 'body.customFields.anything', message: expect.stringMatching(/9007199254740991/) }]);
    const found = await stack.api('GET', '/v1/contacts/search', { token: acme.owner.token, query: { q: 'huge.number@example.com' } });
    expect(found.body.items).toEqual([]);
  });

  it('finds a contact by any channel value in its normalised form', async () => {
    const res = await create(acme.owner.token, {
      name: 'Lookup Lou',
      channels: [{ kind: 'phone', value: '+1 (415) 555-2671' }, { kind: 'telegram', value: '@LouBot_Fan' }],
    });
    const byPhone = await stack.api('GET', '/v1/contacts/lookup', {
      token: acme.member.token,
      query: { kind: 'phone', value: '415-555-2671', defaultCountry: 'US' },
    });
    expect(byPhone.status).toBe(200);
    expect(byPhone.body.id).toBe(res.body.id);
    const byTelegram = await stack.api('GET', '/v1/contacts/lookup', { token: acme.member.token, query: { kind: 'telegram', value: '@loubot_fan' } });
    expect(byTelegram.body.id).toBe(res.body.id);
    const elsewhere = await stack.api('GET', '/v1/contacts/lookup', {
      token: globex.owner.token,
      query: { kind: 'phone', value: '+14155552671' },
    });
    expect(elsewhere.status).toBe(404);
  });

  it('keeps another workspace’s contacts out of reach (404)', async () => {
    const res = await create(acme.owner.token, { name: 'Private Pat' });
    for (const [method, path] of [
      ['GET', `/v1/contacts/${res.body.id}`],
      ['PATCH', `/v1/contacts/${res.body.id}`],
      ['POST', `/v1/contacts/${res.body.id}/archive`],
      ['POST', `/v1/contacts/${res.body.id}/claim`],
    ] as const) {
      const attempt = await stack.api(method, path, { token: globex.owner.token, body: { name: 'Stolen' } });
      expect(attempt.status).toBe(404);
    }
    const read = await stack.api('GET', `/v1/contacts/${res.body.id}`, { token: acme.owner.token });
    expect(read.body).toMatchObject({ name: 'Private Pat', status: 'active', ownerId: null });
  });
});

describe('update', () => {
  it('changes fields, clears with null, replaces channels and frees the old values', async () => {
    const email = `${unique()}@old.example`;
    const res = await create(acme.owner.token, { name: 'Upd Ula', city: 'Paris', channels: [{ kind: 'email', value: email }] });
    const upd = await stack.api('PATCH', `/v1/contacts/${res.body.id}`, {
      token: acme.owner.token,
      headers: { 'if-match': '"1"' },
      body: { name: 'Ula Updated', city: null, channels: [{ kind: 'email', value: 'ula@new.example' }] },
    });
    expect(upd.status).toBe(200);
    expect(upd.body).toMatchObject({ name: 'Ula Updated', city: null, email: 'ula@new.example', version: 2 });
    const reuse = await create(acme.member.token, { name: 'Reuser', channels: [{ kind: 'email', value: email }] });
    expect(reuse.status).toBe(201);
    const events = await stack.api('GET', '/v1/events', { token: acme.owner.token, query: { entityType: 'contact', entityId: res.body.id } });
    expect(events.body.items[0]).toMatchObject({
      type: 'contact.updated',
      payload: { changes: { name: { from: 'Upd Ula', to: 'Ula Updated' }, city: { from: 'Paris', to: null } } },
    });
  });

  it('changes or clears a channel’s label alone; a channel sent without one keeps it; a record read back is a valid PATCH', async () => {
    const email = `${unique()}@label.example`;
    const res = await create(acme.owner.token, { name: 'Label Lou', channels: [{ kind: 'email', value: email, label: 'work' }] });
    const patch = (channels: unknown) =>
      stack.api('PATCH', `/v1/contacts/${res.body.id}`, { token: acme.owner.token, body: { channels } });
    const relabelled = await patch([{ kind: 'email', value: email, label: 'home' }]);
    expect(relabelled.status).toBe(200);
    expect(relabelled.body).toMatchObject({ version: 2, channels: [{ value: email, label: 'home' }] });
    expect((await patch([{ kind: 'email', value: email }])).body).toMatchObject({ version: 2, channels: [{ label: 'home' }] });
    const cleared = await patch([{ kind: 'email', value: email, label: null }]);
    expect(cleared.body).toMatchObject({ version: 3, channels: [{ value: email, label: null }] });
    // What GET answers (label: null) goes back as it is.
    const read = await stack.api('GET', `/v1/contacts/${res.body.id}`, { token: acme.owner.token });
    const roundTrip = await patch(
      read.body.channels.map(({ kind, value, label, primary }: Record<string, unknown>) => ({ kind, value, label, primary })),
    );
    expect(roundTrip.status).toBe(200);
    const events = await stack.api('GET', '/v1/events', { token: acme.owner.token, query: { entityType: 'contact', entityId: res.body.id } });
    expect(events.body.items[0]).toMatchObject({
      type: 'contact.updated',
      payload: { changes: { channels: { from: [`email:${email}* [home]`], to: [`email:${email}*`] } } },
    });
  });

  it('answers a stale If-Match with 412 and keeps the newer data', async () => {
    const res = await create(acme.owner.token, { name: 'Stale Stan' });
    await stack.api('PATCH', `/v1/contacts/${res.body.id}`, { token: acme.owner.token, body: { city: 'Rome' } });
    const late = await stack.api('PATCH', `/v1/contacts/${res.body.id}`, {
      token: acme.admin.token,
      headers: { 'if-match': '"1"' },
      body: { city: 'Oslo' },
    });
    expect(late.status).toBe(412);
    const read = await stack.api('GET', `/v1/contacts/${res.body.id}`, { token: acme.owner.token });
    expect(read.body.city).toBe('Rome');
  });

  it('loses no update when writers race: exactly one wins each version', async () => {
    const res = await create(acme.owner.token, { name: 'Racy Rae' });
    const attempts = await Promise.all(
      ['Lyon', 'Nice', 'Lille', 'Metz'].map((city) =>
        stack.api('PATCH', `/v1/contacts/${res.body.id}`, { token: acme.owner.token, headers: { 'if-match': '"1"' }, body: { city } }),
      ),
    );
    const winners = attempts.filter((a) => a.status === 200);
    expect(winners).toHaveLength(1);
    expect(attempts.filter((a) => a.status === 412 || a.status === 409)).toHaveLength(3);
    const read = await stack.api('GET', `/v1/contacts/${res.body.id}`, { token: acme.owner.token });
    expect(read.body).toMatchObject({ city: winners[0]!.body.city, version: 2 });
  });

  it('adds and removes single channels; the next of a kind becomes primary', async () => {
    const res = await create(acme.owner.token, { name: 'Chan Chen', channels: [{ kind: 'email', value: `${unique()}@a.example` }] });
    const added = await stack.api('POST', `/v1/contacts/${res.body.id}/channels`, {
      token: acme.owner.token,
      body: { kind: 'email', value: `${unique()}@b.example`, primary: true, label: 'personal' },
    });
    expect(added.status).toBe(200);
    expect(added.body.channels).toHaveLength(2);
    expect(added.body.channels.filter((c: { primary: boolean }) => c.primary)).toHaveLength(1);
    expect(added.body.email).toMatch(/@b\.example$/);
    const primaryId = added.body.channels.find((c: { primary: boolean }) => c.primary).id;
    const removed = await stack.api('DELETE', `/v1/contacts/${res.body.id}/channels/${primaryId}`, { token: acme.owner.token });
    expect(removed.status).toBe(200);
    expect(removed.body.channels).toHaveLength(1);
    expect(removed.body.email).toMatch(/@a\.example$/);
  });
});

describe('ownership (seed 000)', () => {
  it('lets a member claim an unclaimed contact, then write it; another member cannot', async () => {
    const res = await create(acme.owner.token, { name: 'Pool Paula' });
    const claim = await stack.api('POST', `/v1/contacts/${res.body.id}/claim`, { token: acme.member.token });
    expect(claim.status).toBe(200);
    expect(claim.body.ownerId).toBe(acme.member.user.id);
    const other = await stack.api('POST', '/v1/users', { token: acme.owner.token, body: { name: 'Other Otto', email: `${unique()}@acme.example` } });
    const otherToken = (await stack.api('POST', '/v1/tokens', { token: acme.owner.token, body: { userId: other.body.id } })).body.token;
    const denied = await stack.api('PATCH', `/v1/contacts/${res.body.id}`, { token: otherToken, body: { city: 'Nope' } });
    expect(denied.status).toBe(403);
    const stolen = await stack.api('POST', `/v1/contacts/${res.body.id}/claim`, { token: otherToken });
    expect(stolen.status).toBe(409);
    expect(stolen.body.ownerId).toBe(acme.member.user.id);
    const own = await stack.api('PATCH', `/v1/contacts/${res.body.id}`, { token: acme.member.token, body: { city: 'Bath' } });
    expect(own.status).toBe(200);
    const events = await stack.api('GET', '/v1/events', { token: acme.owner.token, query: { entityType: 'contact', entityId: res.body.id } });
    expect(events.body.items.map((e: { type: string }) => e.type)).toEqual(['contact.updated', 'owner.claimed', 'contact.created']);
  });

  it('lets the owner release, and only owner/admin assign', async () => {
    const res = await create(acme.owner.token, { name: 'Assign Ava' });
    const memberAssign = await stack.api('POST', `/v1/contacts/${res.body.id}/assign`, {
      token: acme.member.token,
      body: { ownerId: acme.member.user.id },
    });
    expect(memberAssign.status).toBe(403);
    const assigned = await stack.api('POST', `/v1/contacts/${res.body.id}/assign`, {
      token: acme.admin.token,
      body: { ownerId: acme.member.user.id },
    });
    expect(assigned.body.ownerId).toBe(acme.member.user.id);
    const released = await stack.api('POST', `/v1/contacts/${res.body.id}/release`, { token: acme.member.token });
    expect(released.body.ownerId).toBeNull();
    const events = await stack.api('GET', '/v1/events', { token: acme.owner.token, query: { entityType: 'contact', entityId: res.body.id } });
    expect(events.body.items.slice(0, 2)).toMatchObject([
      { type: 'owner.released', payload: { previousOwnerId: acme.member.user.id } },
      { type: 'owner.claimed', payload: { ownerId: acme.member.user.id, assignedBy: acme.admin.user.id } },
    ]);
    const unknownUser = await stack.api('POST', `/v1/contacts/${res.body.id}/assign`, { token: acme.admin.token, body: { ownerId: globex.owner.user.id } });
    expect(unknownUser.status).toBe(422);
    expect(unknownUser.body.errors[0].field).toBe('body.ownerId');
  });

  it('lists one owner’s contacts and the unclaimed pool by key', async () => {
    const mine = await create(acme.owner.token, { name: 'Owned Olga', ownerId: acme.admin.user.id });
    const pool = await create(acme.owner.token, { name: 'Pooled Pete' });
    const byOwner = await stack.api('GET', '/v1/contacts', { token: acme.member.token, query: { ownerId: acme.admin.user.id, limit: 100 } });
    const ids = byOwner.body.items.map((c: { id: string }) => c.id);
    expect(ids).toContain(mine.body.id);
    expect(ids).not.toContain(pool.body.id);
    const unclaimed = await stack.api('GET', '/v1/contacts', { token: acme.member.token, query: { ownerId: 'none', limit: 100 } });
    const poolIds = unclaimed.body.items.map((c: { id: string }) => c.id);
    expect(poolIds).toContain(pool.body.id);
    expect(poolIds).not.toContain(mine.body.id);
  });
});

describe('archive and suppress', () => {
  it('archives (never deletes), hides from lists and search, and brings back', async () => {
    const res = await create(acme.owner.token, { name: 'Archie Vault' });
    const archived = await stack.api('POST', `/v1/contacts/${res.body.id}/archive`, { token: acme.owner.token });
    expect(archived.body).toMatchObject({ status: 'archived', archivedAt: expect.any(String) });
    const again = await stack.api('POST', `/v1/contacts/${res.body.id}/archive`, { token: acme.owner.token });
    expect(again.body.version).toBe(archived.body.version);
    const active = await stack.api('GET', '/v1/contacts', { token: acme.owner.token, query: { limit: 100 } });
    expect(active.body.items.map((c: { id: string }) => c.id)).not.toContain(res.body.id);
    const search = await stack.api('GET', '/v1/contacts/search', { token: acme.owner.token, query: { q: 'archie' } });
    expect(search.body.items).toEqual([]);
    const archivedList = await stack.api('GET', '/v1/contacts', { token: acme.owner.token, query: { archived: 'true', limit: 100 } });
    expect(archivedList.body.items.map((c: { id: string }) => c.id)).toContain(res.body.id);
    const back = await stack.api('POST', `/v1/contacts/${res.body.id}/unarchive`, { token: acme.owner.token });
    expect(back.body.status).toBe('active');
    expect(back.body.archivedAt).toBeNull();
    expect((await stack.api('DELETE', `/v1/contacts/${res.body.id}`, { token: acme.owner.token })).status).toBe(405);
  });

  it('suppresses with a reason, filters on it, and lifts it', async () => {
    const res = await create(acme.owner.token, { name: 'Quiet Quinn' });
    const suppressed = await stack.api('POST', `/v1/contacts/${res.body.id}/suppress`, {
      token: acme.owner.token,
      body: { reason: 'asked to stop' },
    });
    expect(suppressed.body).toMatchObject({ suppressed: true, suppressedReason: 'asked to stop' });
    const list = await stack.api('GET', '/v1/contacts', { token: acme.owner.token, query: { suppressed: 'true', limit: 100 } });
    expect(list.body.items.map((c: { id: string }) => c.id)).toEqual([res.body.id]);
    const lifted = await stack.api('POST', `/v1/contacts/${res.body.id}/unsuppress`, { token: acme.owner.token });
    expect(lifted.body).toMatchObject({ suppressed: false, suppressedReason: null });
  });
});

describe('lists and search', () => {
  let ws: Awaited<ReturnType<typeof seedWorkspace>>;
  const names = ['Émile Zola', 'anna karenina', 'Boris Godunov', 'Çelik Ayşe', 'dmitri Karamazov', 'Zoë Bright'];
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    ws = await seedWorkspace(stack, 'Lists');
    for (const [index, name] of names.entries()) {
      const res = await create(ws.owner.token, {
        name,
        companyName: index % 2 ? 'Initech' : 'Globodyne',
        channels: [{ kind: 'email', value: `person${index}@lists.example` }, { kind: 'phone', value: `+4930123456${index}` }],
      });
      ids[name] = res.body.id;
    }
    stack.clock.advance(1000);
    await stack.api('PATCH', `/v1/contacts/${ids['anna karenina']}`, { token: ws.owner.token, body: { city: 'Moscow' } });
  });

  it('sorts by name, case- and accent-insensitively', async () => {
    const res = await stack.api('GET', '/v1/contacts', { token: ws.member.token, query: { sort: 'name' } });
    expect(res.body.items.map((c: { name: string }) => c.name)).toEqual([
      'anna karenina',
      'Boris Godunov',
      'Çelik Ayşe',
      'dmitri Karamazov',
      'Émile Zola',
      'Zoë Bright',
    ]);
  });

  it('sorts by created and by updated, newest first by default', async () => {
    const created = await stack.api('GET', '/v1/contacts', { token: ws.member.token, query: { sort: 'created' } });
    expect(created.body.items[0].name).toBe('Zoë Bright');
    const updated = await stack.api('GET', '/v1/contacts', { token: ws.member.token, query: { sort: 'updated' } });
    expect(updated.body.items[0].name).toBe('anna karenina');
    const oldest = await stack.api('GET', '/v1/contacts', { token: ws.member.token, query: { sort: 'created', order: 'asc', limit: 1 } });
    expect(oldest.body.items[0].name).toBe('Émile Zola');
  });

  it('pages through every contact exactly once, across shards, with small pages', async () => {
    for (const sort of ['name', 'created', 'updated']) {
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const res = await stack.api('GET', '/v1/contacts', { token: ws.member.token, query: { sort, limit: 2, cursor } });
        expect(res.status).toBe(200);
        seen.push(...res.body.items.map((c: { id: string }) => c.id));
        cursor = res.body.nextCursor ?? undefined;
      } while (cursor);
      expect(seen.sort()).toEqual(Object.values(ids).sort());
    }
  });

  it('filters by a created range under the created sort', async () => {
    const all = await stack.api('GET', '/v1/contacts', { token: ws.member.token, query: { sort: 'created', order: 'asc' } });
    const [, second, third] = all.body.items;
    const res = await stack.api('GET', '/v1/contacts', {
      token: ws.member.token,
      query: { sort: 'created', order: 'asc', createdFrom: second.createdAt, createdTo: third.createdAt },
    });
    expect(res.body.items.map((c: { id: string }) => c.id)).toEqual([second.id, third.id]);
  });

  it('refuses a cursor from another query', async () => {
    const page = await stack.api('GET', '/v1/contacts', { token: ws.member.token, query: { sort: 'name', limit: 1 } });
    const res = await stack.api('GET', '/v1/contacts', { token: ws.member.token, query: { sort: 'created', cursor: page.body.nextCursor } });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].field).toBe('query.cursor');
  });

  it.each([
    ['emile', 'Émile Zola'],
    ['ZOE', 'Zoë Bright'],
    ['karam', 'dmitri Karamazov'],
    ['anna kar', 'anna karenina'],
    ['celik', 'Çelik Ayşe'],
    ['person4@lists', 'dmitri Karamazov'],
    ['+49 30 1234 561', 'anna karenina'],
    ['030 1234 565', 'Zoë Bright'],
  ])('finds %s', async (q, name) => {
    const res = await stack.api('GET', '/v1/contacts/search', { token: ws.member.token, query: { q } });
    expect(res.status).toBe(200);
    expect(res.body.items.map((c: { name: string }) => c.name)).toContain(name);
  });

  it('keeps search hits and list items in step with the contact, fields in a stable order', async () => {
    const created = await create(ws.owner.token, { name: 'Hattie Hitchens', channels: [{ kind: 'email', value: 'hattie@hits.example' }] });
    const search = async (q: string, query: Record<string, string> = {}) =>
      (await stack.api('GET', '/v1/contacts/search', { token: ws.owner.token, query: { q, ...query } })).body.items as Record<string, unknown>[];
    expect((await stack.api('POST', `/v1/contacts/${created.body.id}/claim`, { token: ws.member.token })).status).toBe(200);
    await stack.api('POST', `/v1/contacts/${created.body.id}/suppress`, { token: ws.owner.token, body: { reason: 'bounced' } });
    await stack.api('PATCH', `/v1/contacts/${created.body.id}`, { token: ws.owner.token, body: { name: 'Harriet Hitchens' } });

    expect(await search('hattie hitch')).toEqual([]); // the old name's tokens went (the email still starts with hattie)
    const [hit] = await search('harriet', { suppressed: 'true', ownerId: ws.member.user.id });
    expect(hit).toEqual({
      id: created.body.id,
      name: 'Harriet Hitchens',
      companyName: null,
      ownerId: ws.member.user.id,
      status: 'active',
      suppressed: true,
      email: 'hattie@hits.example',
      phone: null,
      createdAt: created.body.createdAt,
    });
    expect(Object.keys(hit!)).toEqual(['id', 'name', 'companyName', 'ownerId', 'status', 'suppressed', 'email', 'phone', 'createdAt']);
    expect(await search('harriet', { suppressed: 'false' })).toEqual([]);

    const listed = await stack.api('GET', '/v1/contacts', { token: ws.owner.token, query: { suppressed: 'true', ownerId: ws.member.user.id } });
    expect(listed.body.items).toHaveLength(1);
    expect(Object.keys(listed.body.items[0])).toEqual([...Object.keys(hit!), 'updatedAt']);
    expect(listed.body.items[0]).toMatchObject({ ...hit, updatedAt: expect.any(String) });
  });

  it('finds by company prefix, each contact once', async () => {
    const res = await stack.api('GET', '/v1/contacts/search', { token: ws.member.token, query: { q: 'initech' } });
    const found = res.body.items.map((c: { name: string }) => c.name).sort();
    expect(found).toEqual(['Zoë Bright', 'anna karenina', 'Çelik Ayşe'].sort());
  });

  it('pages a search one contact at a time, each contact once however many of its tokens match', async () => {
    const own = await seedWorkspace(stack, 'Paging');
    const people = [
      { name: 'Ana Anderson', channels: [{ kind: 'email', value: 'ana@anderson.example' }] },
      { name: 'Ana María López', channels: [{ kind: 'email', value: 'ana.lopez@example.org' }] },
      { name: 'Antonio Ana', channels: [{ kind: 'email', value: 'antonio@ana-co.example' }] },
      { name: 'Anabel Zed', channels: [{ kind: 'email', value: 'zed@example.net' }] },
      { name: 'Bob Other', channels: [{ kind: 'email', value: 'bob@other.example' }] },
      { name: 'Jürgen Müller', channels: [{ kind: 'email', value: 'jm@example.de' }] },
    ];
    const ids = new Map<string, string>();
    for (const body of people) ids.set(body.name, (await create(own.owner.token, body)).body.id);
    const pageThrough = async (q: string) => {
      const names: string[] = [];
      let cursor: string | undefined;
      for (let pages = 0; pages < 50; pages++) {
        const res = await stack.api('GET', '/v1/contacts/search', { token: own.member.token, query: { q, limit: 1, ...(cursor ? { cursor } : {}) } });
        expect(res.status).toBe(200);
        names.push(...res.body.items.map((c: { name: string }) => c.name));
        cursor = res.body.nextCursor ?? undefined;
        if (!cursor) return names;
      }
      throw new Error('the search never ended');
    };
    // "ana" is a prefix of 2 to 4 tokens of each of the first four (name runs, email, domain).
    expect((await pageThrough('ana')).sort()).toEqual(['Ana Anderson', 'Ana María López', 'Anabel Zed', 'Antonio Ana']);
    expect(await pageThrough('ana lopez')).toEqual(['Ana María López']);
    expect(await pageThrough('ana ló')).toEqual(['Ana María López']);
    expect(await pageThrough('mueller')).toEqual(['Jürgen Müller']);
    expect(await pageThrough('juergen mü')).toEqual(['Jürgen Müller']);

    // A new name moves the contact's tokens: still once, found by the new name only.
    const renamed = await stack.api('PATCH', `/v1/contacts/${ids.get('Ana Anderson')}`, {
      token: own.owner.token,
      body: { name: 'Ana Beatriz Anderson' },
    });
    expect(renamed.status).toBe(200);
    const names = await pageThrough('ana');
    expect(names.sort()).toEqual(['Ana Beatriz Anderson', 'Ana María López', 'Anabel Zed', 'Antonio Ana']);
    expect(await pageThrough('ana anderson')).toEqual(['Ana Beatriz Anderson']);
  });

  it('never finds another workspace’s contacts', async () => {
    const res = await stack.api('GET', '/v1/contacts/search', { token: acme.owner.token, query: { q: 'zola' } });
    expect(res.body.items).toEqual([]);
  });

  it('refuses a one-character query', async () => {
    const res = await stack.api('GET', '/v1/contacts/search', { token: ws.member.token, query: { q: 'a' } });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].field).toBe('query.q');
  });
});

describe('custom fields on contacts', () => {
  it('validates values against the workspace’s definitions, and null clears one', async () => {
    const ws = await seedWorkspace(stack, 'Custom');
    await stack.api('POST', '/v1/custom-fields', {
      token: ws.owner.token,
      body: { entityType: 'contact', key: 'tier', label: 'Tier', type: 'select', options: [{ value: 'gold', label: 'Gold' }, { value: 'silver', label: 'Silver' }] },
    });
    await stack.api('POST', '/v1/custom-fields', {
      token: ws.owner.token,
      body: { entityType: 'contact', key: 'seats', label: 'Seats', type: 'number' },
    });
    const bad = await create(ws.owner.token, { name: 'Cus Tom', customFields: { tier: 'bronze', seats: 'many', nope: 1 } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([
      'body.customFields.nope',
      'body.customFields.seats',
      'body.customFields.tier',
    ]);
    const good = await create(ws.owner.token, { name: 'Cus Tom', customFields: { tier: 'gold', seats: 12 } });
    expect(good.status).toBe(201);
    expect(good.body.customFields).toEqual({ tier: 'gold', seats: 12 });
    const cleared = await stack.api('PATCH', `/v1/contacts/${good.body.id}`, { token: ws.owner.token, body: { customFields: { seats: null } } });
    expect(cleared.body.customFields).toEqual({ tier: 'gold' });
    const otherWorkspace = await create(acme.owner.token, { name: 'No Tier', customFields: { tier: 'gold' } });
    expect(otherWorkspace.status).toBe(400);
  });
});
