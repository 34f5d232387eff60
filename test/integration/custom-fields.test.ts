import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCustomFieldDefinitions } from '../../domain/custom-fields/custom-field-values';
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

const stageOptions = [
  { value: 'smb', label: 'Small business' },
  { value: 'mid', label: 'Mid-market' },
  { value: 'ent', label: 'Enterprise' },
];

const create = (token: string, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  stack.api('POST', '/v1/custom-fields', { token, body, headers });
const list = (token: string, entityType: string, includeArchived?: boolean) =>
  stack.api('GET', '/v1/custom-fields', { token, query: { entityType, includeArchived } });
const patch = (token: string, path: string, body: unknown, ifMatch?: string) =>
  stack.api('PATCH', `/v1/custom-fields/${path}`, {
    token,
    body,
    headers: ifMatch ? { 'if-match': ifMatch } : {},
  });
const keys = (res: { body: { items: { key: string }[] } }) => res.body.items.map((field) => field.key);

describe('defining custom fields', () => {
  it('creates a field of each type, with an ETag and a created event', async () => {
    const bodies = [
      { entityType: 'contact', key: 'nickname', label: 'Nickname', type: 'text' },
      { entityType: 'contact', key: 'employees', label: 'Employees', type: 'number', required: true },
      { entityType: 'contact', key: 'birthday', label: 'Birthday', type: 'date' },
      { entityType: 'contact', key: 'vip', label: 'VIP', type: 'boolean' },
      { entityType: 'contact', key: 'segment', label: 'Segment', type: 'select', options: stageOptions },
    ];
    for (const [index, body] of bodies.entries()) {
      const res = await create(index % 2 ? acme.admin.token : acme.owner.token, body);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.headers.etag).toBe('"1"');
      expect(res.body).toEqual({
        entityType: 'contact',
        key: body.key,
        label: body.label,
        type: body.type,
        options: body.options ?? [],
        required: body.required ?? false,
        archived: false,
        position: index + 1,
        version: 1,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });
    }
    const events = await stack.api('GET', '/v1/events', {
      token: acme.owner.token,
      query: { entityType: 'custom_field', entityId: 'contact.segment' },
    });
    expect(events.status).toBe(200);
    expect(events.body.items).toEqual([
      expect.objectContaining({
        type: 'custom_field.created',
        actorUserId: acme.owner.user.id,
        payload: {
          entityType: 'contact',
          key: 'segment',
          label: 'Segment',
          type: 'select',
          required: false,
          options: ['smb', 'mid', 'ent'],
        },
      }),
    ]);
  });

  it('lists the fields of one entity type in creation order, to members too', async () => {
    await create(acme.owner.token, {
      entityType: 'deal',
      key: 'segment',
      label: 'Deal segment',
      type: 'text',
    });
    const contacts = await list(acme.member.token, 'contact');
    expect(contacts.status).toBe(200);
    expect(keys(contacts)).toEqual(['nickname', 'employees', 'birthday', 'vip', 'segment']);
    const deals = await list(acme.member.token, 'deal');
    expect(deals.body.items).toEqual([
      expect.objectContaining({ entityType: 'deal', key: 'segment', position: 1 }),
    ]);
  });

  it('refuses a duplicate key with 409 naming body.key; another entity type may reuse it', async () => {
    const dup = await create(acme.admin.token, {
      entityType: 'contact',
      key: 'vip',
      label: 'Again',
      type: 'text',
    });
    expect(dup.status).toBe(409);
    expect(dup.body.errors).toEqual([expect.objectContaining({ field: 'body.key' })]);
    const other = await create(acme.admin.token, {
      entityType: 'deal',
      key: 'vip',
      label: 'VIP deal',
      type: 'boolean',
    });
    expect(other.status).toBe(201);
  });

  it('rejects bad input with a 400 naming each field', async () => {
    const res = await create(acme.owner.token, {
      entityType: 'company',
      key: 'Bad Key',
      label: '',
      type: 'color',
    });
    expect(res.status).toBe(400);
    const fields = res.body.errors.map((e: { field: string }) => e.field).sort();
    expect(fields).toEqual(['body.entityType', 'body.key', 'body.label', 'body.type']);

    const cases: [Record<string, unknown>, string][] = [
      [{ entityType: 'contact', key: 'tier', label: 'Tier', type: 'select' }, 'body.options'],
      [{ entityType: 'contact', key: 'tier', label: 'Tier', type: 'select', options: [] }, 'body.options'],
      [
        { entityType: 'contact', key: 'tier', label: 'Tier', type: 'text', options: stageOptions },
        'body.options',
      ],
      [
        {
          entityType: 'contact',
          key: 'tier',
          label: 'Tier',
          type: 'select',
          options: [stageOptions[0], stageOptions[0]],
        },
        'body.options.1.value',
      ],
      [{ entityType: 'contact', key: 'x'.repeat(41), label: 'Long', type: 'text' }, 'body.key'],
      [{ entityType: 'contact', key: '1st', label: 'Digit first', type: 'text' }, 'body.key'],
      [{ entityType: 'contact', key: 'ok', label: 'Ok', type: 'text', required: 'yes' }, 'body.required'],
    ];
    for (const [body, field] of cases) {
      const bad = await create(acme.owner.token, body);
      expect(bad.status, JSON.stringify(body)).toBe(400);
      expect(bad.body.errors.map((e: { field: string }) => e.field)).toEqual([field]);
    }
    const tooMany = Array.from({ length: 101 }, (_, i) => ({ value: `v${i}`, label: `V${i}` }));
    const big = await create(acme.owner.token, {
      entityType: 'contact',
      key: 'tier',
      label: 'Tier',
      type: 'select',
      options: tooMany,
    });
    expect(big.status).toBe(400);
    expect(keys(await list(acme.owner.token, 'contact', true))).not.toContain('tier');
  });

  it('requires a valid entityType to list', async () => {
    const res = await stack.api('GET', '/v1/custom-fields', { token: acme.owner.token });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].field).toBe('query.entityType');
  });

  it('replays a create with the same Idempotency-Key', async () => {
    const body = { entityType: 'deal', key: 'source', label: 'Source', type: 'text' };
    const first = await create(acme.owner.token, body, { 'idempotency-key': 'cf-source-1' });
    const again = await create(acme.owner.token, body, { 'idempotency-key': 'cf-source-1' });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
  });
});

describe('roles', () => {
  it('forbids a member to create or change a field (403) but lets them list', async () => {
    const created = await create(acme.member.token, {
      entityType: 'contact',
      key: 'sneaky',
      label: 'Sneaky',
      type: 'text',
    });
    expect(created.status).toBe(403);
    expect(created.body.code).toBe('forbidden');
    const changed = await patch(acme.member.token, 'contact/nickname', { label: 'Mine' });
    expect(changed.status).toBe(403);
    const listed = await list(acme.member.token, 'contact');
    expect(listed.status).toBe(200);
    expect(keys(listed)).not.toContain('sneaky');
    expect(listed.body.items.find((f: { key: string }) => f.key === 'nickname').label).toBe('Nickname');
  });
});

describe('changing custom fields', () => {
  it('updates with If-Match, bumps the version and ETag, and answers a stale ETag with 412', async () => {
    await create(acme.owner.token, { entityType: 'contact', key: 'region', label: 'Region', type: 'text' });
    const first = await patch(
      acme.admin.token,
      'contact/region',
      { label: 'Sales region', required: true },
      '"1"',
    );
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ label: 'Sales region', required: true, version: 2 });
    expect(first.headers.etag).toBe('"2"');
    const second = await patch(acme.owner.token, 'contact/region', { label: 'Territory' }, '"1"');
    expect(second.status).toBe(412);
    expect(second.body.code).toBe('precondition_failed');
    const listed = await list(acme.owner.token, 'contact');
    expect(listed.body.items.find((f: { key: string }) => f.key === 'region')).toMatchObject({
      label: 'Sales region',
      version: 2,
    });
    const events = await stack.api('GET', '/v1/events', {
      token: acme.owner.token,
      query: { entityType: 'custom_field', entityId: 'contact.region' },
    });
    expect(events.body.items[0]).toMatchObject({
      type: 'custom_field.updated',
      payload: {
        changes: { label: { from: 'Region', to: 'Sales region' }, required: { from: false, to: true } },
      },
    });
  });

  it('refuses to change the type with a 409 that says why; the same type is accepted', async () => {
    const res = await patch(acme.owner.token, 'contact/employees', { type: 'text' });
    expect(res.status).toBe(409);
    expect(res.body.detail).toMatch(/type of a custom field cannot change/);
    expect(res.body.errors).toEqual([expect.objectContaining({ field: 'body.type' })]);
    const same = await patch(acme.owner.token, 'contact/employees', { type: 'number', label: 'Headcount' });
    expect(same.status).toBe(200);
    expect(same.body).toMatchObject({ type: 'number', label: 'Headcount' });
  });

  it('refuses to rename the key or move the field to another entity type', async () => {
    const res = await patch(acme.owner.token, 'contact/vip', { key: 'very_important', entityType: 'deal' });
    expect(res.status).toBe(400);
    // Each unknown key named (and, as they leave nothing to change, the body as a whole).
    expect(res.body.errors.map((error: { field: string }) => error.field)).toEqual(expect.arrayContaining(['body.entityType', 'body.key']));
  });

  it('adds and relabels select options but never removes one', async () => {
    const removed = await patch(acme.owner.token, 'contact/segment', { options: stageOptions.slice(0, 2) });
    expect(removed.status).toBe(409);
    expect(removed.body.errors).toEqual([
      { field: 'body.options', message: 'Missing existing option values: "ent"' },
    ]);

    const options = [
      { value: 'ent', label: 'Enterprise (1000+)' },
      { value: 'smb', label: 'Small business' },
      { value: 'mid', label: 'Mid-market' },
      { value: 'gov', label: 'Public sector' },
    ];
    const grown = await patch(acme.owner.token, 'contact/segment', { options });
    expect(grown.status).toBe(200);
    expect(grown.body.options).toEqual(options);

    const onText = await patch(acme.owner.token, 'contact/nickname', { options });
    expect(onText.status).toBe(400);
    expect(onText.body.errors[0].field).toBe('body.options');

    const duplicate = await patch(acme.owner.token, 'contact/segment', { options: [...options, options[0]] });
    expect(duplicate.status).toBe(400);
    expect(duplicate.body.errors[0].field).toBe('body.options.4.value');
  });

  it('archives a field: hidden from lists unless includeArchived=true, key kept, archived event', async () => {
    const archived = await patch(acme.owner.token, 'contact/birthday', { archived: true });
    expect(archived.status).toBe(200);
    expect(archived.body.archived).toBe(true);
    expect(keys(await list(acme.owner.token, 'contact'))).not.toContain('birthday');
    const all = await list(acme.owner.token, 'contact', true);
    expect(all.body.items.find((f: { key: string }) => f.key === 'birthday')).toMatchObject({
      archived: true,
    });
    const reuse = await create(acme.owner.token, {
      entityType: 'contact',
      key: 'birthday',
      label: 'B',
      type: 'text',
    });
    expect(reuse.status).toBe(409);
    const events = await stack.api('GET', '/v1/events', {
      token: acme.owner.token,
      query: { entityType: 'custom_field', entityId: 'contact.birthday' },
    });
    expect(events.body.items[0]).toMatchObject({
      type: 'custom_field.archived',
      payload: { key: 'birthday', changes: { archived: { from: false, to: true } } },
    });
    const loaded = await loadCustomFieldDefinitions(stack.deps, acme.workspace.id, 'contact');
    expect(loaded.find((f) => f.key === 'birthday')?.archived).toBe(true);
  });

  it('answers 404 for an unknown field and 400 for an empty change', async () => {
    expect((await patch(acme.owner.token, 'contact/nope', { label: 'X' })).status).toBe(404);
    expect((await patch(acme.owner.token, 'company/nope', { label: 'X' })).status).toBe(400);
    const empty = await patch(acme.owner.token, 'contact/vip', {});
    expect(empty.status).toBe(400);
  });
});

describe('tenant isolation', () => {
  it('neither lists nor patches another workspace’s fields', async () => {
    const listed = await list(globex.owner.token, 'contact', true);
    expect(listed.status).toBe(200);
    expect(listed.body.items).toEqual([]);
    const hijack = await patch(globex.owner.token, 'contact/nickname', { label: 'Hijacked' });
    expect(hijack.status).toBe(404);
    const own = await create(globex.owner.token, {
      entityType: 'contact',
      key: 'nickname',
      label: 'Globex nick',
      type: 'text',
    });
    expect(own.status).toBe(201);
    expect(own.body.position).toBe(1);
    const acmeList = await list(acme.owner.token, 'contact');
    expect(acmeList.body.items.find((f: { key: string }) => f.key === 'nickname').label).toBe('Nickname');
  });
});

describe('limits and races', () => {
  it('lets concurrent creates all succeed, each with its own position', async () => {
    const results = await Promise.all(
      ['a1', 'a2', 'a3', 'a4', 'a5'].map((key) =>
        create(globex.admin.token, { entityType: 'deal', key, label: key.toUpperCase(), type: 'number' }),
      ),
    );
    expect(results.map((res) => res.status)).toEqual([201, 201, 201, 201, 201]);
    expect(results.map((res) => res.body.position as number).sort()).toEqual([1, 2, 3, 4, 5]);
    const listed = await list(globex.owner.token, 'deal');
    expect(keys(listed).sort()).toEqual(['a1', 'a2', 'a3', 'a4', 'a5']);
  });

  it('caps an entity type at 100 definitions, archived ones included', async () => {
    const team = await seedWorkspace(stack, 'Initech');
    for (let i = 1; i <= 100; i += 1) {
      const res = await create(team.owner.token, {
        entityType: 'deal',
        key: `f${i}`,
        label: `F${i}`,
        type: 'boolean',
      });
      expect(res.status).toBe(201);
    }
    await patch(team.owner.token, 'deal/f1', { archived: true });
    const over = await create(team.owner.token, {
      entityType: 'deal',
      key: 'f101',
      label: 'F101',
      type: 'boolean',
    });
    expect(over.status).toBe(422);
    expect(over.body).toMatchObject({ code: 'limit_exceeded', limit: 100, errors: [{ field: 'body.entityType' }] });
    expect(over.body.detail).toMatch(/maximum of 100/);
    const contact = await create(team.owner.token, {
      entityType: 'contact',
      key: 'f101',
      label: 'F101',
      type: 'boolean',
    });
    expect(contact.status).toBe(201);
    expect((await list(team.owner.token, 'deal', true)).body.items).toHaveLength(100);
  });
});

describe('a record past the 400 KB an item may hold', () => {
  it('refuses the write with a 413 `record_too_large` and writes nothing, on create and on update', async () => {
    const team = await seedWorkspace(stack, 'Wordy');
    // 14 text fields of 10,000 three-byte characters: each value is within its cap, together ~420 KB.
    const keys = Array.from({ length: 14 }, (_, i) => `essay_${i}`);
    await Promise.all(
      keys.map(async (key) =>
        expect((await create(team.owner.token, { entityType: 'contact', key, label: key, type: 'text' })).status).toBe(201),
      ),
    );
    const customFields = Object.fromEntries(keys.map((key) => [key, '中'.repeat(10_000)]));
    const contacts = (query?: Record<string, string>) => stack.api('GET', '/v1/contacts', { token: team.owner.token, query });

    const created = await stack.api('POST', '/v1/contacts', { token: team.owner.token, body: { name: 'Verbose Vera', customFields } });
    expect(created.status).toBe(413);
    expect(created.body).toMatchObject({ code: 'record_too_large', detail: expect.stringMatching(/400 KB/) });
    expect((await contacts()).body.items).toEqual([]);

    const small = await stack.api('POST', '/v1/contacts', { token: team.owner.token, body: { name: 'Brief Bob', customFields: { essay_0: 'short' } } });
    expect(small.status).toBe(201);
    const grown = await stack.api('PATCH', `/v1/contacts/${small.body.id}`, {
      token: team.owner.token,
      body: { customFields },
      headers: { 'if-match': `"${small.body.version}"` },
    });
    expect(grown.status).toBe(413);
    expect(grown.body.code).toBe('record_too_large');
    const after = await stack.api('GET', `/v1/contacts/${small.body.id}`, { token: team.owner.token });
    expect(after.body).toMatchObject({ version: small.body.version, customFields: { essay_0: 'short' } });
  });
});
