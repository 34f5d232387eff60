import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normaliseChannelValue, type ChannelKind } from '../../domain/contacts/channels';
import type { ImportableTextField, NormalisedRow, RejectCode } from '../../domain/imports/import-row';
import { listImportErrors, tallyImportRows, writeErrorReportCsv } from '../../domain/imports/import-report';
import {
  addImportCounts,
  emptyImportCounts,
  writeImportChunk,
  type ImportWriteJob,
  type WriteChunkOptions,
} from '../../domain/imports/import-writer';
import { importWriteOptions, type ImportCounts } from '../../domain/imports/import-writer.schemas';
import type { CallerContext } from '../../domain/shared/context';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';

type Workspace = Awaited<ReturnType<typeof seedWorkspace>>;

let stack: TestStack;

beforeAll(async () => {
  stack = await createTestStack();
});
afterAll(() => stack.destroy());

// ---------------------------------------------------------------------------------------------
// Rows as the file reader hands them over

interface Person {
  name?: string;
  emails?: string[];
  phones?: string[];
  fields?: Partial<Record<ImportableTextField, string>>;
  tags?: string[];
  owner?: string;
  customFields?: Record<string, string>;
  /** Invalid phone values the reader left out of the row. */
  droppedPhones?: string[];
}

/** A candidate row, normalised as the reader does (default country FR for phones). */
function person(row: number, p: Person): NormalisedRow {
  const channels = [
    ...(p.emails ?? []).map((value) => ({ kind: 'email' as ChannelKind, value })),
    ...(p.phones ?? []).map((value) => ({ kind: 'phone' as ChannelKind, value })),
  ].map(({ kind, value }) => ({ kind, value: normaliseChannelValue(kind, value, { defaultCountry: 'FR' }).normalized }));
  return {
    kind: 'candidate',
    candidate: {
      row,
      line: row + 1,
      name: p.name ?? channels[0]!.value,
      named: p.name !== undefined,
      channels,
      fields: p.fields ?? {},
      customFields: p.customFields ?? {},
      tags: p.tags ?? [],
      ...(p.owner ? { owner: p.owner } : {}),
      ...(p.droppedPhones
        ? { dropped: p.droppedPhones.map((value) => ({ code: 'invalid_phone' as const, column: 'Phone', value, message: `That is not a valid phone number ("${value}"): left out, the row was imported without it` })) }
        : {}),
      raw: [p.name ?? '', (p.emails ?? []).join(' ::: '), (p.phones ?? []).join(' ::: '), (p.tags ?? []).join(' ::: ')],
    },
  };
}
const blank = (row: number): NormalisedRow => ({ kind: 'blank', position: { row, line: row + 1 } });
const rejected = (row: number, code: RejectCode, column?: string): NormalisedRow => ({
  kind: 'rejected',
  rejection: { row, line: row + 1, code, ...(column ? { column } : {}), message: `reader: ${code}`, raw: [`raw ${row}`, 'x'] },
});

// ---------------------------------------------------------------------------------------------
// Jobs

let jobs = 0;
const callerOf = (ws: Workspace, who: 'owner' | 'admin' | 'member' = 'owner'): CallerContext => ({
  workspaceId: ws.workspace.id,
  userId: ws[who].user.id,
  role: who,
});
const newJob = (ws: Workspace, options: Record<string, unknown> = {}, who: 'owner' | 'admin' | 'member' = 'owner'): ImportWriteJob => {
  jobs += 1;
  return {
    workspaceId: ws.workspace.id,
    jobId: `job_TEST${String(jobs).padStart(6, '0')}`,
    caller: callerOf(ws, who),
    options: importWriteOptions.parse(options),
  };
};

/** Runs the rows through the writer in chunks of `size`, one after the other, and adds the chunks' counts. */
async function runJob(job: ImportWriteJob, rows: NormalisedRow[], size = rows.length, options?: WriteChunkOptions) {
  let total = emptyImportCounts();
  for (let start = 0; start < rows.length; start += size) {
    const counts = await writeImportChunk(stack.deps, job, rows.slice(start, start + size), options);
    expect(sumOf(counts)).toBe(counts.rowsRead);
    total = addImportCounts(total, counts);
  }
  return total;
}

const sumOf = (counts: ImportCounts) =>
  counts.blank + counts.rejected + counts.created + counts.updated + counts.unchanged + counts.skipped + counts.merged;

const counts = (partial: Partial<ImportCounts>): ImportCounts => ({ ...emptyImportCounts(), ...partial });

// ---------------------------------------------------------------------------------------------
// What a user sees

interface ApiContact {
  id: string;
  name: string;
  version: number;
  updatedAt: string;
  ownerId: string | null;
  city: string | null;
  jobTitle: string | null;
  companyId: string | null;
  companyName: string | null;
  status: string;
  tags: string[];
  customFields: Record<string, unknown>;
  channels: { kind: string; normalized: string; primary: boolean }[];
}

/** Every active contact of the workspace, through the API (the list, then each contact). */
async function contactsOf(ws: Workspace): Promise<ApiContact[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const res = await stack.api('GET', '/v1/contacts', { token: ws.owner.token, query: { limit: 100, cursor } });
    expect(res.status).toBe(200);
    ids.push(...res.body.items.map((item: { id: string }) => item.id));
    cursor = res.body.nextCursor ?? undefined;
  } while (cursor);
  return Promise.all(ids.map(async (id) => (await stack.api('GET', `/v1/contacts/${id}`, { token: ws.owner.token })).body));
}

const values = (contact: ApiContact) => contact.channels.map((channel) => channel.normalized).sort();
const byValue = (contacts: ApiContact[], value: string) => contacts.filter((contact) => values(contact).includes(value));

/** No channel value is held by two contacts. */
function expectOneContactPerValue(contacts: ApiContact[]) {
  const seen = new Map<string, string>();
  for (const contact of contacts) {
    for (const value of values(contact)) {
      expect(seen.get(value), `${value} is on ${seen.get(value)} and ${contact.id}`).toBeUndefined();
      seen.set(value, contact.id);
    }
  }
}

const createContact = async (ws: Workspace, body: Record<string, unknown>, token = ws.owner.token) => {
  stack.clock.advance(1000);
  const res = await stack.api('POST', '/v1/contacts', { token, body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as ApiContact;
};
const getContact = async (ws: Workspace, id: string) =>
  (await stack.api('GET', `/v1/contacts/${id}`, { token: ws.owner.token })).body as ApiContact;

const fresh = (name: string) => seedWorkspace(stack, name);

const email = (n: number) => `person${n}@mail.test`;
/** French mobiles: all valid. */
const phone = (n: number) => `+33 6 12 34 ${String(Math.floor(n / 100) % 100).padStart(2, '0')} ${String(n % 100).padStart(2, '0')}`;

// ---------------------------------------------------------------------------------------------

describe('dedupe', () => {
  it('folds rows sharing an email or phone into one contact, transitively along the file', async () => {
    const ws = await fresh('Transitive');
    const rows = [
      person(1, { name: 'Ana Lopez', emails: ['ana@x.test'] }),
      person(2, { emails: ['ANA@X.test', 'ana.work@y.test'], fields: { city: 'Lyon' } }),
      person(3, { name: 'Ana L.', emails: ['Ana.Work@y.test'], phones: ['06 11 22 33 44'], tags: ['vip'] }),
      person(4, { name: 'Ben', phones: ['+33611223344'] }),
      person(5, { name: 'Carl', emails: ['carl@x.test'] }),
    ];
    const total = await runJob(newJob(ws), rows);
    expect(total).toEqual(counts({ rowsRead: 5, created: 2, merged: 3 }));

    const contacts = await contactsOf(ws);
    expect(contacts).toHaveLength(2);
    const ana = byValue(contacts, 'ana@x.test')[0]!;
    expect(values(ana)).toEqual(['+33611223344', 'ana.work@y.test', 'ana@x.test']);
    // The first row's name and values stay; later rows fill what was empty.
    expect(ana).toMatchObject({ name: 'Ana Lopez', city: 'Lyon', tags: ['vip'] });
    expectOneContactPerValue(contacts);
  });

  it('folds across chunks the same way: a row reaching a contact of this job counts as merged', async () => {
    const ws = await fresh('Across chunks');
    const rows = [
      person(1, { name: 'Dora', emails: ['dora@x.test'] }),
      person(2, { emails: ['dora@x.test', 'dora2@x.test'] }),
      person(3, { emails: ['dora2@x.test'], phones: [phone(1)] }),
      person(4, { name: 'Dora Phone', phones: [phone(1)], fields: { jobTitle: 'CTO' } }),
    ];
    const total = await runJob(newJob(ws), rows, 1);
    expect(total).toEqual(counts({ rowsRead: 4, created: 1, merged: 3 }));
    const contacts = await contactsOf(ws);
    expect(contacts).toHaveLength(1);
    expect(contacts[0]).toMatchObject({ name: 'Dora', jobTitle: 'CTO' });
    expect(values(contacts[0]!)).toHaveLength(3);
  });

  it('rejects a row joining two contacts (channel_conflict), whatever the chunking', async () => {
    for (const size of [1, 3]) {
      const ws = await fresh(`Bridge ${size}`);
      const rows = [
        person(1, { name: 'Eve', emails: ['eve@x.test'] }),
        person(2, { name: 'Frank', phones: [phone(2)] }),
        person(3, { name: 'Eve or Frank', emails: ['eve@x.test'], phones: [phone(2)] }),
      ];
      const job = newJob(ws);
      const total = await runJob(job, rows, size);
      expect(total).toEqual(counts({ rowsRead: 3, created: 2, rejected: 1, rejectedByCode: { channel_conflict: 1 } }));
      const errors = await listImportErrors(stack.deps, job, { limit: 10 });
      expect(errors.items).toEqual([
        expect.objectContaining({ row: 3, line: 4, code: 'channel_conflict', column: null, raw: expect.any(Array) }),
      ]);
      expect(errors.items[0]!.message).toMatch(/2 different contacts/);
    }
  });

  it('matches existing contacts by email whatever its case, and by phone whatever its format', async () => {
    const ws = await fresh('Existing');
    const existing = await createContact(ws, {
      name: 'Gina Existing',
      channels: [{ kind: 'email', value: 'Gina.Existing@Example.COM' }],
    });
    const withPhone = await createContact(ws, {
      name: 'Hugo Existing',
      channels: [{ kind: 'phone', value: '+33 6 12 34 99 01' }],
    });
    const rows = [
      person(1, { name: 'Gina', emails: ['  gina.existing@EXAMPLE.com '], fields: { city: 'Nice' } }),
      person(2, { name: 'Hugo', phones: ['06.12.34.99.01'] }),
      person(3, { name: 'Hugo', phones: ['0033 6 12 34 99 01'.replace(/^0033/, '+33')] }),
    ];
    const total = await runJob(newJob(ws), rows);
    expect(total).toEqual(counts({ rowsRead: 3, updated: 1, unchanged: 2 }));
    expect(await getContact(ws, existing.id)).toMatchObject({ name: 'Gina Existing', city: 'Nice', version: 2 });
    expect(await getContact(ws, withPhone.id)).toMatchObject({ version: 1 });
    expect(await contactsOf(ws)).toHaveLength(2);
  });

  it('never matches another workspace’s contacts', async () => {
    const ws = await fresh('Mine');
    const other = await fresh('Theirs');
    await createContact(other, { name: 'Theirs', channels: [{ kind: 'email', value: 'shared@x.test' }] });
    const total = await runJob(newJob(ws), [person(1, { name: 'Mine', emails: ['shared@x.test'] })]);
    expect(total).toEqual(counts({ rowsRead: 1, created: 1 }));
    expect((await contactsOf(ws)).map((contact) => contact.name)).toEqual(['Mine']);
    expect((await contactsOf(other)).map((contact) => contact.name)).toEqual(['Theirs']);
  });
});

describe('modes', () => {
  const setUp = async (name: string) => {
    const ws = await fresh(name);
    const existing = await createContact(ws, {
      name: 'Ivy',
      city: 'Paris',
      channels: [{ kind: 'email', value: 'ivy@x.test' }],
    });
    const rows = [
      person(1, { name: 'Ivy New Name', emails: ['ivy@x.test'], phones: [phone(10)], fields: { city: 'Lyon', jobTitle: 'CEO' }, tags: ['Imported'] }),
      person(2, { name: 'Ivy', emails: ['ivy@x.test'] }),
      person(3, { name: 'Jack', emails: ['jack@x.test'] }),
      person(4, { emails: ['jack@x.test'], fields: { city: 'Rome' } }),
    ];
    return { ws, existing, rows };
  };

  it('create_and_update adds what the contact lacks, and a row adding nothing writes nothing', async () => {
    const { ws, existing, rows } = await setUp('Create and update');
    const total = await runJob(newJob(ws, { mode: 'create_and_update' }), rows);
    expect(total).toEqual(counts({ rowsRead: 4, updated: 1, unchanged: 1, created: 1, merged: 1 }));
    const after = await getContact(ws, existing.id);
    expect(after).toMatchObject({ name: 'Ivy', city: 'Paris', jobTitle: 'CEO', tags: ['Imported'], version: 2 });
    expect(values(after)).toEqual(['+33612340010', 'ivy@x.test']);
    const jack = byValue(await contactsOf(ws), 'jack@x.test')[0]!;
    expect(jack).toMatchObject({ name: 'Jack', city: 'Rome' });
  });

  it('overwrite replaces the contact’s values with the row’s', async () => {
    const { ws, existing, rows } = await setUp('Overwrite');
    const total = await runJob(newJob(ws, { overwrite: true }), rows.slice(0, 1));
    expect(total).toEqual(counts({ rowsRead: 1, updated: 1 }));
    expect(await getContact(ws, existing.id)).toMatchObject({ name: 'Ivy New Name', city: 'Lyon', jobTitle: 'CEO', version: 2 });
  });

  it('skip_existing leaves existing contacts alone and counts their rows skipped', async () => {
    const { ws, existing, rows } = await setUp('Skip existing');
    const total = await runJob(newJob(ws, { mode: 'skip_existing' }), rows);
    expect(total).toEqual(counts({ rowsRead: 4, skipped: 2, created: 1, merged: 1 }));
    expect(await getContact(ws, existing.id)).toMatchObject({ name: 'Ivy', city: 'Paris', jobTitle: null, version: 1 });
  });

  it('create_only rejects the rows of existing contacts (already_exists), so the report lists them', async () => {
    const { ws, existing, rows } = await setUp('Create only');
    const job = newJob(ws, { mode: 'create_only' });
    const total = await runJob(job, rows);
    expect(total).toEqual(counts({ rowsRead: 4, rejected: 2, rejectedByCode: { already_exists: 2 }, created: 1, merged: 1 }));
    expect(await getContact(ws, existing.id)).toMatchObject({ version: 1 });
    const errors = await listImportErrors(stack.deps, job, { limit: 10 });
    expect(errors.items.map((error) => [error.row, error.code])).toEqual([
      [1, 'already_exists'],
      [2, 'already_exists'],
    ]);
    expect(errors.items[0]!.message).toContain(existing.id);
  });
});

describe('owner, tags, custom fields, company', () => {
  it('gives the job’s tags and owner to every contact; the row’s owner column wins; null ignores it', async () => {
    const ws = await fresh('Owners');
    const existing = await createContact(ws, { name: 'Kim', channels: [{ kind: 'email', value: 'kim@x.test' }] });
    const rows = [
      person(1, { name: 'Lea', emails: ['lea@x.test'], tags: ['From file', ' from  FILE '] }),
      person(2, { name: 'Max', emails: ['max@x.test'], owner: ws.member.user.email.toUpperCase() }),
      person(3, { name: 'Kim', emails: ['kim@x.test'] }),
      person(4, { name: 'Nia', emails: ['nia@x.test'], owner: ws.member.user.id }),
    ];
    const job = newJob(ws, { tags: ['Webinar 2026'], ownerId: ws.admin.user.id });
    expect(await runJob(job, rows)).toEqual(counts({ rowsRead: 4, created: 3, updated: 1 }));
    const contacts = await contactsOf(ws);
    const of = (value: string) => byValue(contacts, value)[0]!;
    expect(of('lea@x.test')).toMatchObject({ ownerId: ws.admin.user.id, tags: ['From file', 'Webinar 2026'] });
    expect(of('max@x.test')).toMatchObject({ ownerId: ws.member.user.id, tags: ['Webinar 2026'] });
    expect(of('kim@x.test')).toMatchObject({ ownerId: ws.admin.user.id, tags: ['Webinar 2026'], version: 2 });
    expect(of('nia@x.test')).toMatchObject({ ownerId: ws.member.user.id });
    expect(existing.ownerId).toBeNull();

    // The tags are in the library (created on first use), and the events name the job.
    const library = await stack.api('GET', '/v1/tags', { token: ws.owner.token });
    expect(library.body.items.map((tag: { name: string }) => tag.name).sort()).toEqual(['From file', 'Webinar 2026']);
    const events = await stack.api('GET', '/v1/events', {
      token: ws.owner.token,
      query: { entityType: 'contact', entityId: of('lea@x.test').id, limit: 20 },
    });
    expect(events.body.items.map((event: { type: string }) => event.type).sort()).toEqual([
      'contact.created',
      'owner.claimed',
      'tag.added',
      'tag.added',
    ]);
    const created = events.body.items.find((event: { type: string }) => event.type === 'contact.created');
    expect(created).toMatchObject({ actorUserId: ws.owner.user.id, payload: { jobId: job.jobId } });

    const ws2 = await fresh('Owner null');
    await runJob(newJob(ws2, { ownerId: null }), [person(1, { name: 'Ola', emails: ['ola@x.test'], owner: ws2.member.user.email })]);
    expect((await contactsOf(ws2))[0]).toMatchObject({ ownerId: null });
  });

  it('imports a row whose owner is no active user of the workspace without that owner, and lists it (unknown_owner)', async () => {
    const ws = await fresh('Unknown owner');
    const other = await fresh('Other owners');
    const job = newJob(ws);
    const total = await runJob(job, [
      person(1, { name: 'Pia', emails: ['pia@x.test'], owner: 'nobody@x.test' }),
      person(2, { name: 'Quin', emails: ['quin@x.test'], owner: other.owner.user.id }),
      // Other CRMs' exports name the owner: a name one active user has is that user.
      person(3, { name: 'Rui', emails: ['rui@x.test'], owner: ' adam  ADMIN ' }),
    ]);
    expect(total).toEqual(counts({ rowsRead: 3, created: 3, droppedValues: 2 }));
    const errors = await listImportErrors(stack.deps, job, { limit: 10 });
    expect(errors.items.map(({ row, code, column, rejected }) => ({ row, code, column, rejected }))).toEqual([
      { row: 1, code: 'unknown_owner', column: 'Owner', rejected: false },
      { row: 2, code: 'unknown_owner', column: 'Owner', rejected: false },
    ]);
    const byName = Object.fromEntries((await contactsOf(ws)).map((contact) => [contact.name, contact.ownerId ?? null]));
    expect(byName).toEqual({ Pia: null, Quin: null, Rui: ws.admin.user.id });
  });

  it('holds a member to their rights (not_permitted)', async () => {
    const ws = await fresh('Member rights');
    const claimed = await createContact(ws, { name: 'Claimed', ownerId: ws.admin.user.id, channels: [{ kind: 'email', value: 'claimed@x.test' }] });
    const unclaimed = await createContact(ws, { name: 'Unclaimed', channels: [{ kind: 'email', value: 'free@x.test' }] });
    const job = newJob(ws, {}, 'member');
    const total = await runJob(job, [
      person(1, { emails: ['claimed@x.test'], fields: { city: 'Oslo' } }),
      person(2, { emails: ['free@x.test'], fields: { city: 'Oslo' } }),
      person(3, { name: 'Rex', emails: ['rex@x.test'], owner: ws.admin.user.email }),
      person(4, { name: 'Sam', emails: ['sam@x.test'], tags: ['bot:off'] }),
      person(5, { name: 'Tia', emails: ['tia@x.test'], owner: ws.member.user.email }),
    ]);
    expect(total).toEqual(counts({ rowsRead: 5, rejected: 3, rejectedByCode: { not_permitted: 3 }, updated: 1, created: 1 }));
    expect(await getContact(ws, claimed.id)).toMatchObject({ city: null, version: 1 });
    expect(await getContact(ws, unclaimed.id)).toMatchObject({ city: 'Oslo', version: 2 });
    const errors = await listImportErrors(stack.deps, job, { limit: 10 });
    expect(errors.items.map((error) => [error.row, error.code, error.column])).toEqual([
      [1, 'not_permitted', null],
      [3, 'not_permitted', 'Owner'],
      [4, 'not_permitted', 'Tags'],
    ]);
  });

  it('reads custom field values by type and rejects the ones the catalogue refuses, naming the column', async () => {
    const ws = await fresh('Custom fields');
    for (const body of [
      { entityType: 'contact', key: 'employees', label: 'Employees', type: 'number' },
      { entityType: 'contact', key: 'since', label: 'Customer since', type: 'date' },
      { entityType: 'contact', key: 'vip', label: 'VIP', type: 'boolean' },
      { entityType: 'contact', key: 'plan', label: 'Plan', type: 'select', options: [{ value: 'pro', label: 'Professional' }, { value: 'free', label: 'Free' }] },
    ]) {
      const res = await stack.api('POST', '/v1/custom-fields', { token: ws.owner.token, body });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    }
    const job = newJob(ws);
    const total = await runJob(job, [
      person(1, { name: 'Uma', emails: ['uma@x.test'], customFields: { employees: '1,200', since: '2024-02-29', vip: 'Yes', plan: 'professional' } }),
      person(2, { name: 'Vic', emails: ['vic@x.test'], customFields: { employees: 'many' } }),
      person(3, { name: 'Wes', emails: ['wes@x.test'], customFields: { since: '2023-02-29' } }),
      person(4, { name: 'Xan', emails: ['xan@x.test'], customFields: { colour: 'blue' } }),
      person(5, { name: 'Yara', emails: ['yara@x.test'], customFields: { plan: 'gold', employees: '' } }),
    ]);
    expect(total).toEqual(counts({ rowsRead: 5, created: 1, rejected: 4, rejectedByCode: { invalid_custom_field: 4 } }));
    const [uma] = await contactsOf(ws);
    expect(uma!.customFields).toEqual({ employees: 1200, since: '2024-02-29', vip: true, plan: 'pro' });
    const errors = await listImportErrors(stack.deps, job, { limit: 10 });
    expect(errors.items.map((error) => [error.row, error.column])).toEqual([
      [2, 'Custom: employees'],
      [3, 'Custom: since'],
      [4, 'Custom: colour'],
      [5, 'Custom: plan'],
    ]);
  });

  it('links a new contact to the company holding its email domain, as creating one does', async () => {
    const ws = await fresh('Companies');
    const company = await stack.api('POST', '/v1/companies', { token: ws.owner.token, body: { name: 'Initech', domains: ['initech.test'] } });
    expect(company.status).toBe(201);
    await runJob(newJob(ws), [
      person(1, { name: 'Zoe', emails: ['zoe@initech.test'], fields: { companyName: 'Initech Ltd (typed)' } }),
      person(2, { name: 'Abe', emails: ['abe@gmail.com'], fields: { companyName: 'Side Gig' } }),
    ]);
    const contacts = await contactsOf(ws);
    expect(byValue(contacts, 'zoe@initech.test')[0]).toMatchObject({ companyId: company.body.id, companyName: 'Initech' });
    expect(byValue(contacts, 'abe@gmail.com')[0]).toMatchObject({ companyId: null, companyName: 'Side Gig' });
  });
});

// ---------------------------------------------------------------------------------------------
// Exactness

/** A file of 43 rows with every kind of row: new people, repeats (case, format), bridges, existing contacts, blanks, the reader's rejections. */
function messyFile(): NormalisedRow[] {
  const rows: NormalisedRow[] = [];
  let row = 0;
  const add = (make: (row: number) => NormalisedRow) => rows.push(make(++row));
  for (let n = 0; n < 12; n += 1) {
    add((r) => person(r, { name: `Person ${n}`, emails: [email(n)], tags: n % 3 ? [] : ['Triple'], ...(n === 1 ? { droppedPhones: ['12'] } : {}) }));
  }
  add(blank);
  for (let n = 0; n < 6; n += 1) {
    add((r) => person(r, { emails: [email(n).toUpperCase()], phones: [phone(n)], ...(n === 0 ? { droppedPhones: ['34', '56'] } : {}) }));
  }
  add((r) => rejected(r, 'invalid_email', 'Email'));
  for (let n = 0; n < 6; n += 1) add((r) => person(r, { name: `Phone only ${n}`, phones: [phone(n)], fields: { city: `City ${n}` } }));
  for (let n = 20; n < 24; n += 1) add((r) => person(r, { name: `Phone person ${n}`, phones: [phone(n)] }));
  add((r) => person(r, { name: 'Bridge', emails: [email(7)], phones: [phone(20)] }));
  add(blank);
  add((r) => person(r, { name: 'Existing One', emails: ['existing1@x.test'], fields: { jobTitle: 'Buyer' } }));
  add((r) => person(r, { name: 'Existing One', emails: ['existing1@x.test'], phones: [phone(30)] }));
  add((r) => person(r, { name: 'Existing Two', emails: ['EXISTING2@x.test'], droppedPhones: ['78'] }));
  add((r) => person(r, { name: 'Unknown owner', emails: ['uo@x.test'], owner: 'ghost@x.test' }));
  add((r) => rejected(r, 'no_channel'));
  for (let n = 40; n < 45; n += 1) add((r) => person(r, { name: `Chain ${n}`, emails: [email(n), email(n + 1)] }));
  add((r) => person(r, { name: 'Too many tags', emails: ['tags@x.test'], tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }));
  return rows;
}

/** A workspace with the two contacts the messy file meets. */
async function messyWorkspace(name: string) {
  const ws = await fresh(name);
  await createContact(ws, { name: 'Existing One', channels: [{ kind: 'email', value: 'existing1@x.test' }] });
  await createContact(ws, { name: 'Existing Two', city: 'Bern', channels: [{ kind: 'email', value: 'existing2@x.test' }] });
  return ws;
}

const messyCounts = counts({
  rowsRead: 43,
  blank: 2,
  rejected: 4,
  rejectedByCode: { invalid_email: 1, no_channel: 1, channel_conflict: 1, too_many_tags: 1 },
  // The row naming an unknown owner is imported without one.
  created: 12 + 4 + 1 + 1,
  merged: 6 + 6 + 4,
  updated: 2,
  unchanged: 1,
  // Values left out of imported rows: one of a created row, two of a merged one, one of an unchanged one,
  // the unknown owner.
  droppedValues: 5,
});

describe('the report is exact', () => {
  it('gives the same counts and contacts whatever the chunk size (1, 7, all)', async () => {
    const results = [];
    for (const size of [1, 7, 43]) {
      const ws = await messyWorkspace(`Chunks of ${size}`);
      const job = newJob(ws);
      const total = await runJob(job, messyFile(), size);
      const contacts = await contactsOf(ws);
      expectOneContactPerValue(contacts);
      results.push({ total, tally: await tallyImportRows(stack.deps, job), contacts: contacts.length });
    }
    for (const result of results) {
      expect(result.total).toEqual(messyCounts);
      expect(result.tally).toEqual(messyCounts);
      // 18 created + the 2 that existed.
      expect(result.contacts).toBe(20);
    }
  });

  it('re-running the same file as a new job creates nothing, reports every row unchanged and writes no contact', async () => {
    const ws = await messyWorkspace('Re-run');
    await runJob(newJob(ws), messyFile());
    const before = await contactsOf(ws);
    const again = await runJob(newJob(ws), messyFile(), 7);
    expect(again).toEqual(
      counts({ rowsRead: 43, blank: 2, rejected: 4, rejectedByCode: messyCounts.rejectedByCode, unchanged: 43 - 2 - 4, droppedValues: 5 }),
    );
    const after = await contactsOf(ws);
    expect(after.map(({ id, version, updatedAt }) => ({ id, version, updatedAt }))).toEqual(
      before.map(({ id, version, updatedAt }) => ({ id, version, updatedAt })),
    );
  });

  it('a redelivered chunk returns the same counts and writes nothing twice', async () => {
    const ws = await messyWorkspace('Redelivery');
    const job = newJob(ws);
    const rows = messyFile();
    const first = await runJob(job, rows, 20);
    stack.calls.reset();
    const second = await runJob(job, rows, 20);
    expect(second).toEqual(first);
    expect(first).toEqual(messyCounts);
    // Each chunk read its rows' outcomes (two Queries) and did nothing else.
    expect(stack.calls.counts).toEqual({ QueryCommand: 3 * 2 });
    expect(await contactsOf(ws)).toHaveLength(20);
    expect(await tallyImportRows(stack.deps, job)).toEqual(messyCounts);
  });

  it('a chunk interrupted after some of its transactions, then run again, ends with the exact counts', async () => {
    const ws = await messyWorkspace('Interrupted');
    const job = newJob(ws);
    const rows = messyFile();
    const crash: WriteChunkOptions = {
      concurrency: 4,
      beforeTransaction: (index) => {
        if (index >= 9) throw new Error('Lambda timed out');
      },
    };
    await expect(writeImportChunk(stack.deps, job, rows, crash)).rejects.toThrow('Lambda timed out');
    const partial = await contactsOf(ws);
    expect(partial.length).toBeGreaterThan(2);
    expect(partial.length).toBeLessThan(20);
    // Resumed with another chunking: the rows done are counted from their outcomes, the rest applied.
    expect(await runJob(job, rows, 10)).toEqual(messyCounts);
    expect(await tallyImportRows(stack.deps, job)).toEqual(messyCounts);
    const contacts = await contactsOf(ws);
    expect(contacts).toHaveLength(20);
    expectOneContactPerValue(contacts);
  });

  it('two chunks of one job writing at once, sharing values, make one contact per value', async () => {
    const a = Array.from({ length: 30 }, (_, i) => person(i + 1, { name: `A${i}`, emails: [email(100 + i)], phones: [phone(100 + i)] }));
    // The second chunk meets each of the first's people once (in reverse order), by phone or by email.
    const b = Array.from({ length: 30 }, (_, i) =>
      person(31 + i, i % 2 ? { name: `B${i}`, phones: [phone(129 - i)], emails: [email(300 + i)] } : { emails: [email(129 - i).toUpperCase()] }),
    );
    const check = async (ws: Workspace, job: ImportWriteJob, total: ImportCounts) => {
      expect(total).toEqual(counts({ rowsRead: 60, created: 30, merged: 30 }));
      expect(await tallyImportRows(stack.deps, job)).toEqual(total);
      const contacts = await contactsOf(ws);
      expect(contacts).toHaveLength(30);
      expectOneContactPerValue(contacts);
    };

    // Deterministic: the second chunk runs whole between the first's reads and its first transaction,
    // so the first loses on the guards, reads again, and folds its rows into the second's contacts.
    const ws = await fresh('Interleaved chunks');
    const job = newJob(ws);
    let second: ImportCounts | undefined;
    const first = await writeImportChunk(stack.deps, job, a, {
      beforeTransaction: async (index) => {
        if (index === 0 && !second) second = await writeImportChunk(stack.deps, job, b);
      },
    });
    await check(ws, job, addImportCounts(first, second!));

    // And truly at once.
    const ws2 = await fresh('Concurrent chunks');
    const job2 = newJob(ws2);
    const [ca, cb] = await Promise.all([writeImportChunk(stack.deps, job2, a), writeImportChunk(stack.deps, job2, b)]);
    await check(ws2, job2, addImportCounts(ca, cb));
  });

  it('a user creating the same contact while a chunk runs: the user’s contact is the one, the row updates it', async () => {
    const ws = await fresh('Race with a user');
    const job = newJob(ws);
    const rows = Array.from({ length: 20 }, (_, i) => person(i + 1, { name: `R${i}`, emails: [email(500 + i)], fields: { city: 'Turin' } }));
    const users: string[] = [];
    const chunk = await writeImportChunk(stack.deps, job, rows, {
      concurrency: 1,
      // After the chunk read the guards, a user creates three of its people.
      beforeTransaction: async (index) => {
        if (index !== 0 || users.length > 0) return;
        for (const i of [3, 9, 15]) {
          const res = await stack.api('POST', '/v1/contacts', {
            token: ws.admin.token,
            body: { name: `User ${i}`, channels: [{ kind: 'email', value: email(500 + i) }] },
          });
          expect(res.status).toBe(201);
          users.push(res.body.id);
        }
      },
    });
    expect(chunk).toEqual(counts({ rowsRead: 20, created: 17, updated: 3 }));
    const contacts = await contactsOf(ws);
    expect(contacts).toHaveLength(20);
    expectOneContactPerValue(contacts);
    for (const id of users) expect(await getContact(ws, id)).toMatchObject({ city: 'Turin', version: 2 });

    // And truly at once: whoever wins, one contact per value.
    const ws2 = await fresh('Race with users');
    const job2 = newJob(ws2);
    const [atOnce, ...responses] = await Promise.all([
      writeImportChunk(stack.deps, job2, rows),
      ...[3, 9, 15].map((i) =>
        stack.api('POST', '/v1/contacts', { token: ws2.admin.token, body: { name: `User ${i}`, channels: [{ kind: 'email', value: email(500 + i) }] } }),
      ),
    ]);
    const usersWon = responses.filter((res) => res.status === 201).length;
    for (const res of responses) expect([201, 409]).toContain(res.status);
    expect(atOnce).toEqual(counts({ rowsRead: 20, created: 20 - usersWon, updated: usersWon }));
    const all = await contactsOf(ws2);
    expect(all).toHaveLength(20);
    expectOneContactPerValue(all);
  });
});

describe('errors', () => {
  it('lists the values left out of imported rows beside the rejected rows, in row order', async () => {
    const ws = await fresh('Dropped values');
    const job = newJob(ws);
    const manyBad = Array.from({ length: 12 }, (_, i) => `bad${i}`);
    const rows = [
      person(1, { name: 'Ada', emails: ['ada@x.test'], droppedPhones: ['123'] }),
      rejected(2, 'no_channel'),
      person(3, { emails: ['ada@x.test'], droppedPhones: manyBad }),
    ];
    const total = await runJob(job, rows);
    expect(total).toEqual(counts({ rowsRead: 3, created: 1, merged: 1, rejected: 1, rejectedByCode: { no_channel: 1 }, droppedValues: 13 }));
    const errors = await listImportErrors(stack.deps, job, { limit: 100 });
    expect(errors.items.map((error) => [error.row, error.rejected, error.code, error.column])).toEqual([
      [1, false, 'invalid_phone', 'Phone'],
      [2, true, 'no_channel', null],
      ...Array.from({ length: 9 }, () => [3, false, 'invalid_phone', 'Phone']),
    ]);
    expect(errors.items[0]!.message).toBe('That is not a valid phone number ("123"): left out, the row was imported without it');
    expect(errors.items.at(-1)!.message).toMatch(/bad8"\): left out, the row was imported without it \(and 3 more values left out of this row\)$/);
    // Run again (a redelivery): the same counts, the same entries.
    expect(await runJob(job, rows)).toEqual(total);
    expect((await listImportErrors(stack.deps, job, { limit: 100 })).items).toEqual(errors.items);
    expect(await tallyImportRows(stack.deps, job)).toEqual(total);
  });

  it('pages the errors in row order and streams them as a CSV', async () => {
    const ws = await fresh('Errors');
    const job = newJob(ws);
    const rows = [
      ...Array.from({ length: 7 }, (_, i) => rejected(i + 1, 'invalid_phone', 'Phone')),
      person(8, { name: 'Ok', emails: ['ok@x.test'] }),
      {
        kind: 'rejected',
        rejection: { row: 9, line: 12, code: 'malformed_record', message: 'An unclosed quote', raw: ['Ana, "the one"', 'line\nbreak', 'x'.repeat(3000)] },
      } satisfies NormalisedRow,
    ];
    await runJob(job, rows.reverse(), 4);
    const first = await listImportErrors(stack.deps, job, { limit: 5 });
    expect(first.items.map((error) => error.row)).toEqual([1, 2, 3, 4, 5]);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await listImportErrors(stack.deps, job, { limit: 5, cursor: first.nextCursor! });
    expect(second.items.map((error) => error.row)).toEqual([6, 7, 9]);
    expect(second.nextCursor).toBeNull();
    expect(second.items[2]).toMatchObject({ line: 12, code: 'malformed_record', column: null });
    expect(second.items[2]!.raw[2]).toHaveLength(2000);

    let csv = '';
    for await (const piece of writeErrorReportCsv(stack.deps, job, { header: ['Name', 'Notes', 'Long'] })) csv += piece;
    expect(csv.startsWith('\ufeffline,row,column,code,message,sheetRow,Name,Notes,Long\r\n')).toBe(true);
    // These rows were made without a spreadsheet row: its column is empty.
    expect(csv).toContain('2,1,Phone,invalid_phone,reader: invalid_phone,,raw 1,x\r\n');
    expect(csv).toContain(`12,9,,malformed_record,An unclosed quote,,"Ana, ""the one""","line\nbreak",${'x'.repeat(2000)}\r\n`);
    expect(csv.split('\r\n').filter(Boolean)).toHaveLength(1 + 8);
  });
});

describe('a row whose contact DynamoDB refuses as past 400 KB', () => {
  it('is rejected `record_too_large` on its own, the chunk written, and a rerun changes nothing', async () => {
    const ws = await seedWorkspace(stack, 'Oversized');
    const keys = Array.from({ length: 14 }, (_, i) => `essay_${i}`);
    for (const key of keys) {
      const created = await stack.api('POST', '/v1/custom-fields', { token: ws.owner.token, body: { entityType: 'contact', key, label: key, type: 'text' } });
      expect(created.status).toBe(201);
    }
    const job = newJob(ws);
    const rows = [
      person(1, { name: 'Small One', emails: ['small-one@oversized.example'], tags: ['kept'] }),
      person(2, { name: 'Huge', emails: ['huge@oversized.example'], tags: ['never'], customFields: Object.fromEntries(keys.map((key) => [key, '中'.repeat(10_000)])) }),
      person(3, { name: 'Small Two', emails: ['small-two@oversized.example'] }),
    ];
    // Without the check before writing, DynamoDB itself refuses the item: the writer rejects the row.
    const seam: WriteChunkOptions = { checkItemSize: false };
    const expected = counts({ rowsRead: 3, created: 2, rejected: 1, rejectedByCode: { record_too_large: 1 } });
    expect(await runJob(job, rows, 3, seam)).toEqual(expected);
    expect(await runJob(job, rows, 3, seam)).toEqual(expected);
    expect(await tallyImportRows(stack.deps, job)).toEqual(expected);
    const errors = await listImportErrors(stack.deps, job, { limit: 10 });
    expect(errors.items).toEqual([expect.objectContaining({ row: 2, rejected: true, code: 'record_too_large' })]);
    const lookup = (value: string) => stack.api('GET', '/v1/contacts/lookup', { token: ws.owner.token, query: { kind: 'email', value } });
    expect((await lookup('huge@oversized.example')).status).toBe(404);
    expect((await lookup('small-two@oversized.example')).status).toBe(200);
  });
});
