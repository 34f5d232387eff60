import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { listContacts } from '../../domain/contacts/contact-lists.service';
import { listContactsQuery } from '../../domain/contacts/contacts.schemas';
import {
  exportContactsStep,
  exportStateSchema,
  resolveExportColumns,
  type ExportOptions,
  type ExportState,
  type ExportStepOutcome,
} from '../../domain/exports/contact-export.service';
import { customFieldText, exportColumns } from '../../domain/exports/contact-rows';
import { exportContactsInput } from '../../domain/exports/exports.schemas';
import { openImportFile } from '../../domain/imports/import-file';
import { JobCanceled } from '../../domain/jobs/job-kind';
import type { ImportCandidate } from '../../domain/imports/import-row';
import { cleanCell } from '../../domain/imports/row-normaliser';
import type { CallerContext } from '../../domain/shared/context';
import type { BlobStore } from '../../domain/shared/ports';
import { setBlobStore } from '../../functions/shared/deps';
import { fakeBlobStore } from '../support/fakes';
import { startTestJobs, type TestJobs } from '../support/test-jobs';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';

let stack: TestStack;
let acme: Awaited<ReturnType<typeof seedWorkspace>>;
let globex: Awaited<ReturnType<typeof seedWorkspace>>;
let ownerCaller: CallerContext;
let memberCaller: CallerContext;
const ids: Record<string, string> = {};
let companyId: string;
/** Times between the contacts' creations, for the created/updated range filters. */
const marks: Record<string, string> = {};

const api = (method: string, path: string, token: string, body?: unknown) =>
  stack.api(method, path, { token, ...(body === undefined ? {} : { body }) }).then((res) => {
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  });

async function createContact(label: string, body: Record<string, unknown>, tags: string[] = [], token = acme.owner.token) {
  stack.clock.advance(60_000);
  const contact = await api('POST', '/v1/contacts', token, body);
  ids[label] = contact.id;
  if (tags.length > 0) await api('POST', `/v1/contacts/${contact.id}/tags`, token, { tags });
  return contact;
}

const formulaName = '=HYPERLINK("http://evil.example","click")';

beforeAll(async () => {
  stack = await createTestStack({ clockStart: '2026-03-01T08:00:00.000Z' });
  acme = await seedWorkspace(stack, 'Acme');
  globex = await seedWorkspace(stack, 'Globex');
  ownerCaller = { workspaceId: acme.workspace.id, userId: acme.owner.user.id, role: 'owner' };
  memberCaller = { workspaceId: acme.workspace.id, userId: acme.member.user.id, role: 'member' };
  const fields = [
    { key: 'notes', label: 'Notes', type: 'text' },
    { key: 'seats', label: 'Seats', type: 'number' },
    { key: 'renewal', label: 'Renewal', type: 'date' },
    { key: 'vip', label: 'VIP', type: 'boolean' },
    { key: 'plan', label: 'Plan', type: 'select', options: [{ value: 'starter', label: 'Starter' }, { value: 'pro', label: 'Pro' }] },
    { key: 'legacy', label: 'Legacy', type: 'text' },
  ];
  for (const field of fields) await api('POST', '/v1/custom-fields', acme.owner.token, { entityType: 'contact', ...field });
  await api('PATCH', '/v1/custom-fields/contact/legacy', acme.owner.token, { archived: true });
  companyId = (await api('POST', '/v1/companies', acme.owner.token, { name: 'Initrode', domains: ['initrode.example'] })).id;

  await createContact(
    'zoe',
    {
      name: 'Zoë Ångström-Łukasiewicz',
      jobTitle: 'Head of "Sales", EMEA',
      role: 'Decision maker',
      segment: 'Enterprise',
      city: 'São Paulo',
      state: 'SP',
      country: 'BR',
      companyName: 'Müller & Söhne',
      ownerId: acme.owner.user.id,
      channels: [
        { kind: 'email', value: 'zoe.work@example.org' },
        { kind: 'email', value: 'Zoe@Example.com', primary: true },
        { kind: 'phone', value: '+44 20 7946 0000' },
        { kind: 'phone', value: '+49 151 23456789' },
      ],
      customFields: { notes: 'He said "hi", then left,\nfor good', seats: 12, renewal: '2026-03-01', vip: true, plan: 'pro' },
    },
    ['VIP', 'Prospect 2026'],
  );
  stack.clock.advance(1000);
  marks.afterZoe = stack.clock.nowIso();
  await createContact('dmitry', {
    name: 'Дмитрий Иванов',
    ownerId: acme.member.user.id,
    channels: [{ kind: 'email', value: 'dmitry@example.ru' }, { kind: 'whatsapp', value: '+34 612 345 678' }],
    customFields: { seats: -3.5, vip: false },
  });
  await createContact(
    'yamada',
    {
      name: '山田太郎',
      channels: [
        { kind: 'email', value: 'yamada@example.jp' },
        { kind: 'telegram', value: '@yamada_taro' },
        { kind: 'linkedin', value: 'https://www.linkedin.com/in/yamada-taro' },
        { kind: 'phone', value: '+81 90 1234 5678' },
      ],
      customFields: { seats: 1.5e-7, renewal: '2027-12-31' },
    },
    ['lead'],
  );
  stack.clock.advance(1000);
  marks.afterYamada = stack.clock.nowIso();
  await createContact('mohammed', {
    name: 'محمد الأحمد',
    ownerId: acme.admin.user.id,
    channels: [{ kind: 'phone', value: '+971 50 123 4567' }],
  });
  await createContact('formula', {
    name: formulaName,
    jobTitle: "+cmd|' /C calc'!A0",
    role: '-2+3',
    channels: [{ kind: 'email', value: 'formula@example.com' }, { kind: 'telegram', value: '-1001234567' }],
    customFields: { notes: '@SUM(1+1)', seats: -12.5 },
  }, ['Partners, EMEA']);
  await createContact('ana', { name: 'Ana Initrode', channels: [{ kind: 'email', value: 'ana@initrode.example' }], companyId }, ['lead']);
  stack.clock.advance(1000);
  marks.afterAll = stack.clock.nowIso();
  // Changes after creation: archive one, suppress one, tag one (each moves updatedAt).
  stack.clock.advance(3_600_000);
  marks.beforeChanges = stack.clock.nowIso();
  await api('POST', `/v1/contacts/${ids.mohammed}/archive`, acme.owner.token);
  stack.clock.advance(60_000);
  await api('POST', `/v1/contacts/${ids.formula}/suppress`, acme.owner.token, { reason: 'asked' });
  stack.clock.advance(60_000);
  await api('POST', `/v1/contacts/${ids.dmitry}/tags`, acme.owner.token, { tags: ['lead'] });

  // Another workspace's contacts, which no export of Acme may show.
  stack.clock.advance(60_000);
  await api('POST', '/v1/contacts', globex.owner.token, { name: 'Globex Person', channels: [{ kind: 'email', value: 'person@globex.example' }] });
  await api('POST', '/v1/contacts', globex.owner.token, { name: 'Zoë Globex', channels: [{ kind: 'email', value: 'zoe@globex.example' }] });
});
afterAll(() => stack.destroy());

let jobCounter = 0;
interface RunOptions {
  caller?: CallerContext;
  blobs?: BlobStore;
  deadline?: () => boolean;
  options?: Partial<ExportOptions>;
  /** Called with each continuation state (after a JSON round trip, as the job stores it). */
  onState?: (state: ExportState) => void;
}

/** Runs an export step after step, as the job runner would, until it is done or failed. */
async function runExport(input: Record<string, unknown>, run: RunOptions = {}) {
  const blobs = run.blobs ?? stack.blobs;
  const parsed = exportContactsInput.parse(input);
  const key = run.options?.key ?? `exports/${acme.workspace.id}/jobs/job_${++jobCounter}/contacts.${parsed.format}`;
  let state: ExportState | undefined;
  let steps = 0;
  let outcome: ExportStepOutcome;
  for (;;) {
    steps += 1;
    outcome = await exportContactsStep(
      { ...stack.deps, blobs },
      run.caller ?? ownerCaller,
      parsed,
      state,
      { deadlineReached: run.deadline ?? (() => false) },
      { ...run.options, key },
    );
    if (outcome.status !== 'continue') break;
    state = exportStateSchema.parse(JSON.parse(JSON.stringify(outcome.state)));
    run.onState?.(state);
    if (steps > 500) throw new Error('the export does not end');
  }
  const bytes = await blobs.get(key);
  return { outcome, steps, key, bytes, blobs };
}

async function runDone(input: Record<string, unknown>, run: RunOptions = {}) {
  const result = await runExport(input, run);
  if (result.outcome.status !== 'done') throw new Error(`export ${result.outcome.status}: ${JSON.stringify(result.outcome)}`);
  return { ...result, result: result.outcome.result, bytes: result.bytes! };
}

const bom = [0xef, 0xbb, 0xbf];
function csvRecords(bytes: Uint8Array): string[][] {
  expect([...bytes.subarray(0, 3)]).toEqual(bom);
  return parse(Buffer.from(bytes).toString('utf8'), { bom: true, relax_column_count: false }) as string[][];
}

async function xlsxRecords(bytes: Uint8Array): Promise<{ records: string[][]; types: Set<ExcelJS.ValueType> }> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(Buffer.from(bytes) as unknown as ArrayBuffer);
  const sheet = workbook.getWorksheet('Contacts')!;
  const records: string[][] = [];
  const types = new Set<ExcelJS.ValueType>();
  const width = sheet.getRow(1).cellCount;
  sheet.eachRow({ includeEmpty: true }, (row) => {
    const record: string[] = [];
    for (let column = 1; column <= width; column += 1) {
      const cell = row.getCell(column);
      if (cell.value !== null && cell.value !== undefined) types.add(cell.type);
      record.push(cell.value === null || cell.value === undefined ? '' : String(cell.value));
    }
    records.push(record);
  });
  return { records, types };
}

/** Records as objects by header, each cell as the import reader takes it (`cleanCell`: the formula guard undone, trimmed). */
const byHeader = (records: string[][]) => {
  const [header, ...rows] = records;
  return rows.map((row) => Object.fromEntries(header!.map((name, index) => [name, cleanCell(row[index] ?? '')])));
};

/** The contacts the list shows for the same filters (its own paging), in the export's order. */
async function listed(filters: Record<string, unknown>, sort = 'name') {
  const query = Object.fromEntries(Object.entries(filters).map(([name, value]) => [name, String(value)]));
  const names: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await listContacts(stack.deps, ownerCaller, listContactsQuery.parse({ limit: 2, sort, order: 'asc', ...query, ...(cursor ? { cursor } : {}) }));
    names.push(...page.items.map((item) => item.name));
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return names;
}

const defaultHeader = [...exportColumns, 'Custom: notes', 'Custom: seats', 'Custom: renewal', 'Custom: vip', 'Custom: plan'];

describe('export content', () => {
  it('writes CSV with a BOM, CRLF, every column, and values that read back exactly', async () => {
    // Act
    const { result, bytes, key } = await runDone({ format: 'csv' });

    // Assess
    const records = csvRecords(bytes);
    expect(records[0]).toEqual(defaultHeader);
    const rows = byHeader(records);
    expect(rows.map((row) => row.Name)).toEqual(await listed({}));
    expect(result).toEqual({
      format: 'csv',
      key,
      contentType: 'text/csv; charset=utf-8',
      rows: 5,
      bytes: bytes.length,
      parts: 1,
      columns: defaultHeader,
    });
    const zoe = rows.find((row) => row.Name === 'Zoë Ångström-Łukasiewicz');
    expect(zoe).toEqual({
      Name: 'Zoë Ångström-Łukasiewicz',
      Email: 'Zoe@Example.com ::: zoe.work@example.org',
      Phone: '+44 20 7946 0000 ::: +49 1512 3456789',
      WhatsApp: '',
      Telegram: '',
      LinkedIn: '',
      Company: 'Müller & Söhne',
      'Job Title': 'Head of "Sales", EMEA',
      Role: 'Decision maker',
      Segment: 'Enterprise',
      City: 'São Paulo',
      State: 'SP',
      Country: 'BR',
      Tags: 'VIP ::: Prospect 2026',
      Owner: acme.owner.user.email,
      'Custom: notes': 'He said "hi", then left,\nfor good',
      'Custom: seats': '12',
      'Custom: renewal': '2026-03-01',
      'Custom: vip': 'true',
      'Custom: plan': 'pro',
    });
    expect(rows.find((row) => row.Name === 'Дмитрий Иванов')).toMatchObject({
      Email: 'dmitry@example.ru',
      WhatsApp: '+34 612 34 56 78',
      Tags: 'lead',
      Owner: acme.member.user.email,
      'Custom: seats': '-3.5',
      'Custom: vip': 'false',
      'Custom: plan': '',
    });
    // A lone tag with a comma is marked whole (a comma separates tags in other CRMs' files).
    expect(rows.find((row) => row.Name === formulaName)).toMatchObject({ Tags: 'Partners, EMEA :::' });
    expect(rows.find((row) => row.Name === '山田太郎')).toMatchObject({
      Telegram: '@yamada_taro',
      LinkedIn: 'https://www.linkedin.com/in/yamada-taro',
      Phone: '+81 90 1234 5678',
      Owner: '',
      'Custom: seats': '0.00000015',
      'Custom: renewal': '2027-12-31',
    });
    // Records end with CRLF; the line break inside a quoted value stays as it was.
    const text = Buffer.from(bytes).toString('utf8');
    expect(text.split('\r\n')).toHaveLength(records.length + 1 + 0 /* the value's \n is not a record end */);
    expect(text.endsWith('\r\n')).toBe(true);
    expect(text).toContain('"He said ""hi"", then left,\nfor good"');
    expect(rows.some((row) => row.Name === 'Globex Person' || row.Name === 'Zoë Globex')).toBe(false);
  });

  it('writes XLSX with the same cells, as text cells in one sheet', async () => {
    const csv = await runDone({ format: 'csv' });

    const { result, bytes } = await runDone({ format: 'xlsx' });

    const { records, types } = await xlsxRecords(bytes);
    expect(records).toEqual(csvRecords(csv.bytes));
    expect([...types]).toEqual([ExcelJS.ValueType.String]);
    expect(result).toMatchObject({
      format: 'xlsx',
      contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      rows: 5,
      bytes: bytes.length,
    });
  });

  it('writes the columns asked for, in their order, archived custom fields included when named', async () => {
    const { bytes } = await runDone({ fields: ['Email', 'Name', 'Custom: seats', 'Custom: legacy', 'Tags'], filters: { tag: 'lead' } });

    expect(csvRecords(bytes)).toEqual([
      ['Email', 'Name', 'Custom: seats', 'Custom: legacy', 'Tags'],
      ['ana@initrode.example', 'Ana Initrode', '', '', 'lead'],
      ['dmitry@example.ru', 'Дмитрий Иванов', '-3.5', '', 'lead'],
      ['yamada@example.jp', '山田太郎', '0.00000015', '', 'lead'],
    ]);
  });

  it('refuses a custom column that names no field, up front and in the run', async () => {
    const input = exportContactsInput.parse({ fields: ['Name', 'Custom: nope'] });

    await expect(resolveExportColumns(stack.deps, ownerCaller, input.fields)).rejects.toMatchObject({
      code: 'invalid_reference',
      details: { fields: [{ field: 'body.fields.1' }] },
    });
    const blobs = fakeBlobStore();
    const { outcome } = await runExport(input, { blobs });
    expect(outcome).toEqual({ status: 'failed', error: { code: 'invalid_input', message: 'No contact custom field has the key nope' }, progress: { processed: 0 } });
    expect(blobs.uploads.size).toBe(0);
    expect(blobs.objects.size).toBe(0);
  });

  it('writes only the header when nothing matches, in every format', async () => {
    const csv = await runDone({ filters: { ownerId: 'usr_nobody' } });
    const xlsx = await runDone({ format: 'xlsx', filters: { ownerId: 'usr_nobody' } });

    expect(csvRecords(csv.bytes)).toEqual([defaultHeader]);
    expect(Buffer.from(csv.bytes).toString('utf8')).toBe(`\ufeff${defaultHeader.join(',')}\r\n`);
    expect(csv.result.rows).toBe(0);
    expect((await xlsxRecords(xlsx.bytes)).records).toEqual([defaultHeader]);
    expect(xlsx.result.rows).toBe(0);
    // A vCard file has no header: it is empty, and still a file (an upload with no part cannot complete).
    // (The fake store refuses a complete without a part, as S3 does; the local emulator lets it pass.)
    for (const blobs of [stack.blobs, fakeBlobStore()]) {
      const vcf = await runDone({ format: 'vcf', filters: { ownerId: 'usr_nobody' } }, { blobs });
      expect(vcf.result).toMatchObject({ rows: 0, bytes: 0 });
      expect(vcf.bytes.length).toBe(0);
    }
  });

  it('costs one Query per page, one BatchGetItem per 100 contacts, and one for the owners', async () => {
    stack.calls.reset();

    await runDone({ fields: ['Name', 'Owner'] });

    // The custom field definitions, the list page, the contacts, the owners' users.
    expect(stack.calls.counts).toEqual({ QueryCommand: 2, BatchGetItemCommand: 2 });
  });
});

describe('filters: the same contacts as the list', () => {
  const cases: [string, Record<string, unknown>, string[], string?][] = [
    ['an owner', { ownerId: 'owner' }, ['Zoë Ångström-Łukasiewicz']],
    ['the unclaimed', { ownerId: 'none' }, ['Ana Initrode', formulaName, '山田太郎']],
    ['a tag', { tag: 'LEAD' }, ['Ana Initrode', 'Дмитрий Иванов', '山田太郎']],
    ['archived', { archived: true }, ['محمد الأحمد']],
    ['a company', { companyId: 'company' }, ['Ana Initrode']],
    ['suppressed', { suppressed: true }, [formulaName]],
    ['not suppressed', { suppressed: false }, ['Ana Initrode', 'Zoë Ångström-Łukasiewicz', 'Дмитрий Иванов', '山田太郎']],
    ['created from', { createdFrom: 'afterYamada' }, [formulaName, 'Ana Initrode'], 'created'],
    ['created to', { createdTo: 'afterZoe' }, ['Zoë Ångström-Łukasiewicz'], 'created'],
    ['created between', { createdFrom: 'afterZoe', createdTo: 'afterYamada' }, ['Дмитрий Иванов', '山田太郎'], 'created'],
    ['updated from', { updatedFrom: 'beforeChanges' }, [formulaName, 'Дмитрий Иванов'], 'updated'],
    ['updated to, with a tag (filtered, by name)', { tag: 'lead', updatedTo: 'afterAll' }, ['Ana Initrode', '山田太郎'], 'name'],
    ['an owner, suppressed (filtered)', { ownerId: 'none', suppressed: true }, [formulaName]],
  ];

  it.each(cases)('%s', async (_label, raw, expected, sort = 'name') => {
    const filters = Object.fromEntries(
      Object.entries(raw).map(([name, value]) => [
        name,
        value === 'owner' ? acme.owner.user.id : value === 'company' ? companyId : typeof value === 'string' && marks[value] ? marks[value] : value,
      ]),
    );

    const { bytes } = await runDone({ fields: ['Name'], filters });

    const names = byHeader(csvRecords(bytes)).map((row) => row.Name);
    expect(names).toEqual(expected);
    expect(names).toEqual(await listed(filters, sort));
  });

  it('refuses filters no list serves', () => {
    expect(exportContactsInput.safeParse({ filters: { tag: 'lead', companyId: 'cmp_1' } }).success).toBe(false);
    expect(exportContactsInput.safeParse({ filters: { tag: 'lead', sort: 'created' } }).success).toBe(false);
    expect(exportContactsInput.safeParse({ filters: { createdFrom: '2026-02-01T00:00:00Z', createdTo: '2026-01-01T00:00:00Z' } }).success).toBe(false);
    expect(exportContactsInput.safeParse({ fields: ['Name', 'Name'] }).success).toBe(false);
    expect(exportContactsInput.safeParse({ fields: ['Nickname'] }).success).toBe(false);
  });
});

describe('parts and continuations', () => {
  it('splits the file into parts at page ends and assembles the same bytes', async () => {
    const whole = await runDone({ format: 'csv' });
    const blobs = fakeBlobStore({ minPartBytes: 300 });

    const split = await runDone({ format: 'csv' }, { blobs, options: { partBytes: 300, pageSize: 1 } });

    expect(split.result.parts).toBeGreaterThan(2);
    expect(Buffer.from(split.bytes).equals(Buffer.from(whole.bytes))).toBe(true);
    expect(split.result.bytes).toBe(whole.bytes.length);
    expect(blobs.uploads.size).toBe(0);
  });

  it('continues a CSV export over several runs into the same file as one run', async () => {
    const whole = await runDone({ format: 'csv' });
    const blobs = fakeBlobStore({ minPartBytes: 1 });
    const states: ExportState[] = [];

    const continued = await runDone(
      { format: 'csv' },
      { blobs, deadline: () => true, options: { partBytes: 1, pageSize: 2 }, onState: (state) => states.push(state) },
    );

    expect(continued.steps).toBe(3); // pages of 2, 2 and 1 contacts (plus the archived one's place)
    expect(states.map((state) => [state.rows, state.parts.length])).toEqual([[2, 1], [4, 2]]);
    expect(Buffer.from(continued.bytes).equals(Buffer.from(whole.bytes))).toBe(true);
    expect(continued.result).toMatchObject({ rows: 5, parts: 3 });
  });

  it('repeats a run from the same state without duplicating anything (a redelivered message)', async () => {
    const whole = await runDone({ format: 'csv' });
    const blobs = fakeBlobStore({ minPartBytes: 1 });
    const input = exportContactsInput.parse({ format: 'csv' });
    const options = { key: `exports/${acme.workspace.id}/jobs/job_repeat/contacts.csv`, partBytes: 1, pageSize: 2 };
    const deps = { ...stack.deps, blobs };
    const stop = { deadlineReached: () => true };
    const first = await exportContactsStep(deps, ownerCaller, input, undefined, stop, options);
    if (first.status !== 'continue') throw new Error('expected a continuation');

    // The second run happens twice from the same state; the first of them is then lost.
    await exportContactsStep(deps, ownerCaller, input, first.state, stop, options);
    const second = await exportContactsStep(deps, ownerCaller, input, first.state, stop, options);
    if (second.status !== 'continue') throw new Error('expected a continuation');
    const last = await exportContactsStep(deps, ownerCaller, input, second.state, { deadlineReached: () => false }, options);

    expect(last.status).toBe('done');
    expect(Buffer.from((await blobs.get(options.key))!).equals(Buffer.from(whole.bytes))).toBe(true);
  });

  it('records its progress after each part, with a state a run that dies later resumes from', async () => {
    // Prepare: the bytes to expect; a store whose second part fails once (the run dies there)
    const whole = await runDone({ format: 'csv' });
    const fake = fakeBlobStore({ minPartBytes: 1 });
    let sent = 0;
    const blobs: BlobStore = { ...fake, uploadPart: (...args) => (++sent === 2 ? Promise.reject(new Error('S3 is down')) : fake.uploadPart(...args)) };
    const deps = { ...stack.deps, blobs };
    const input = exportContactsInput.parse({ format: 'csv' });
    const options = { key: `exports/${acme.workspace.id}/jobs/job_recorded/contacts.csv`, partBytes: 1, pageSize: 2 };
    const recorded: [number, ExportState][] = [];
    const control = {
      deadlineReached: () => false,
      // As the job saves it: through JSON
      recordProgress: async (progress: { processed: number }, state?: ExportState) =>
        void recorded.push([progress.processed, exportStateSchema.parse(JSON.parse(JSON.stringify(state)))]),
    };

    // Act
    await expect(exportContactsStep(deps, ownerCaller, input, undefined, control, options)).rejects.toThrow('S3 is down');
    const saved = recorded.at(-1)![1];
    const resumed = await exportContactsStep(deps, ownerCaller, input, saved, control, options);

    // Assess: the dead run's part and upload were kept, and the resumed run went on from there
    expect(recorded.map(([processed, state]) => [processed, state.rows, state.parts.length])).toEqual([[2, 2, 1], [4, 4, 2]]);
    expect(resumed).toMatchObject({ status: 'done', result: { rows: 5, parts: 3 } });
    expect(Buffer.from((await blobs.get(options.key))!).equals(Buffer.from(whole.bytes))).toBe(true);
    expect(fake.uploads.size).toBe(0);
  });

  it('aborts its upload when a recorded part finds the job canceled, even an upload an earlier run started', async () => {
    const blobs = fakeBlobStore({ minPartBytes: 1 });
    const input = exportContactsInput.parse({ format: 'csv' });
    const options = { key: `exports/${acme.workspace.id}/jobs/job_canceled/contacts.csv`, partBytes: 1, pageSize: 2 };
    const deps = { ...stack.deps, blobs };
    const first = await exportContactsStep(deps, ownerCaller, input, undefined, { deadlineReached: () => true }, options);
    if (first.status !== 'continue') throw new Error('expected a continuation');

    const canceled = { deadlineReached: () => false, recordProgress: () => Promise.reject(new JobCanceled('job_canceled')) };
    await expect(exportContactsStep(deps, ownerCaller, input, first.state, canceled, options)).rejects.toBeInstanceOf(JobCanceled);

    expect(blobs.uploads.size).toBe(0);
    expect(blobs.objects.size).toBe(0);
  });

  it('refuses a state from another export', async () => {
    const blobs = fakeBlobStore({ minPartBytes: 1 });
    const stop = { deadlineReached: () => true };
    const key = `exports/${acme.workspace.id}/jobs/job_x/contacts.csv`;
    const first = await exportContactsStep({ ...stack.deps, blobs }, ownerCaller, exportContactsInput.parse({}), undefined, stop, { key, partBytes: 1, pageSize: 2 });
    if (first.status !== 'continue') throw new Error('expected a continuation');

    const other = await exportContactsStep({ ...stack.deps, blobs }, ownerCaller, exportContactsInput.parse({ filters: { tag: 'lead' } }), first.state, stop, { key });

    expect(other).toMatchObject({ status: 'failed', error: { code: 'invalid_input' } });
  });

  it('writes XLSX in one run, whatever the deadline, in parts', async () => {
    const whole = await runDone({ format: 'xlsx' });
    const blobs = fakeBlobStore({ minPartBytes: 1000 });

    const split = await runDone({ format: 'xlsx' }, { blobs, deadline: () => true, options: { partBytes: 1000, pageSize: 1 } });

    expect(split.steps).toBe(1);
    expect(split.result.parts).toBeGreaterThan(1);
    expect((await xlsxRecords(split.bytes)).records).toEqual((await xlsxRecords(whole.bytes)).records);
  });

  it('fails an XLSX export that runs out of time rather than be killed, and aborts its upload', async () => {
    const blobs = fakeBlobStore({ minPartBytes: 1 });
    let pages = 0;
    const input = exportContactsInput.parse({ format: 'xlsx' });
    const key = `exports/${acme.workspace.id}/jobs/job_slow/contacts.xlsx`;

    const outcome = await exportContactsStep({ ...stack.deps, blobs }, ownerCaller, input, undefined, { deadlineReached: () => true, outOfTime: () => ++pages > 1 }, { key, pageSize: 2 });

    expect(outcome).toEqual({
      status: 'failed',
      error: { code: 'export_too_large', message: 'An XLSX export is written in one run, and this one ran out of time after 4 contacts: export them as CSV, which continues across runs, or narrow the filters' },
      progress: { processed: 4 },
    });
    expect(blobs.uploads.size).toBe(0);
    expect(blobs.objects.size).toBe(0);
  });

  it('fails an XLSX export with more rows than a sheet holds, and aborts its upload', async () => {
    const blobs = fakeBlobStore({ minPartBytes: 1 });

    const { outcome } = await runExport({ format: 'xlsx' }, { blobs, options: { maxXlsxRows: 4, pageSize: 2 } });

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'export_too_large' } });
    expect(blobs.uploads.size).toBe(0);
    expect(blobs.objects.size).toBe(0);
  });

  it('uploads real 5 MiB parts to the local S3', async () => {
    // Prepare: contacts carrying five 10,000-character notes each (~70 KB of UTF-8), ~6.3 MB in all
    const notes = 'Größe ändern, Ω≈ç√ '.repeat(500).trim();
    const keys = ['n1', 'n2', 'n3', 'n4', 'n5'];
    const bulk = { workspaceId: globex.workspace.id, userId: globex.owner.user.id, role: 'owner' as const };
    for (const key of keys) await api('POST', '/v1/custom-fields', globex.owner.token, { entityType: 'contact', key, label: key, type: 'text' });
    for (let i = 0; i < 90; i += 1) {
      await api('POST', '/v1/contacts', globex.owner.token, {
        name: `Bulk ${String(i).padStart(3, '0')}`,
        channels: [{ kind: 'email', value: `bulk${i}@globex.example` }],
        customFields: Object.fromEntries(keys.map((key) => [key, notes])),
      });
    }

    // Act
    const { result, bytes } = await runDone({}, { caller: bulk, options: { pageSize: 25 } });

    // Assess
    expect(result.parts).toBe(2);
    expect(result.bytes).toBeGreaterThan(5 * 1024 * 1024);
    expect(bytes.length).toBe(result.bytes);
    const rows = byHeader(csvRecords(bytes)).filter((row) => row.Name!.startsWith('Bulk'));
    expect(rows).toHaveLength(90);
    expect(rows.every((row) => keys.every((key) => row[`Custom: ${key}`] === notes))).toBe(true);
  });
});

describe('who sees what', () => {
  it('gives a member every contact of the workspace, as the owner gets them', async () => {
    const owner = await runDone({ format: 'csv' });

    const member = await runDone({ format: 'csv' }, { caller: memberCaller });

    expect(Buffer.from(member.bytes).equals(Buffer.from(owner.bytes))).toBe(true);
  });

  it('never shows another workspace’s contacts', async () => {
    const globexCaller = { workspaceId: globex.workspace.id, userId: globex.owner.user.id, role: 'owner' as const };

    const { bytes } = await runDone({ fields: ['Name', 'Email'] }, { caller: globexCaller });

    const names = byHeader(csvRecords(bytes)).map((row) => row.Name ?? '');
    expect(names).toContain('Globex Person');
    expect(names.filter((name) => !name.startsWith('Bulk')).sort()).toEqual(['Globex Person', 'Zoë Globex']);
  });
});

describe('never silently short', () => {
  /** A workspace of its own, so the injected items disturb no other test. */
  async function workspaceWithContacts(name: string) {
    const seeded = await seedWorkspace(stack, name);
    for (const person of ['Alma', 'Bea', 'Cleo']) {
      await api('POST', '/v1/contacts', seeded.owner.token, { name: person, channels: [{ kind: 'email', value: `${person.toLowerCase()}@${name.toLowerCase()}.example` }] });
    }
    const caller = { workspaceId: seeded.workspace.id, userId: seeded.owner.user.id, role: 'owner' as const };
    return { seeded, caller };
  }
  const listEntry = (workspaceId: string, contactId: string, name: string) => ({
    workspaceId,
    list: 'active',
    sort: 'n' as const,
    sortKey: `${name.toLowerCase()}#${contactId}`,
    contactId,
    summary: { id: contactId, name, companyName: null, ownerId: null, status: 'active', suppressed: false, email: null, phone: null, createdAt: '2026-03-01T00:00:00.000Z', updatedAt: '2026-03-01T00:00:00.000Z' },
  });

  it('fails when the list names a contact that does not exist, and aborts the upload', async () => {
    // Prepare: a list entry whose contact is missing, between Bea and Cleo
    const { caller } = await workspaceWithContacts('Initech');
    await stack.deps.db.entities.contactListEntry.put(listEntry(caller.workspaceId, 'ct_01MISSING', 'Bob')).go();
    const blobs = fakeBlobStore({ minPartBytes: 1 });

    // Act
    const { outcome } = await runExport({ fields: ['Name'] }, { caller, blobs, options: { partBytes: 1, pageSize: 1 } });

    // Assess
    expect(outcome).toEqual({
      status: 'failed',
      error: {
        code: 'export_incomplete',
        message: 'The list names contact ct_01MISSING, which cannot be read: the export stopped rather than leave it out',
      },
      progress: { processed: 2 },
    });
    expect(blobs.uploads.size).toBe(0);
    expect(blobs.objects.size).toBe(0);
  });

  it('fails when a listed contact belongs to another workspace', async () => {
    // Prepare: under this workspace's key, an item that says it is another workspace's contact
    const { caller } = await workspaceWithContacts('Hooli');
    const contactId = 'ct_01FOREIGN';
    await stack.deps.db.client.send(
      new PutCommand({
        TableName: stack.tableName,
        Item: {
          pk: `WS#${caller.workspaceId}#CONTACT#${contactId}`,
          sk: 'CONTACT',
          __edb_e__: 'contact',
          __edb_v__: '1',
          workspaceId: globex.workspace.id,
          contactId,
          name: 'Intruder',
          status: 'active',
          suppressed: false,
          channels: [],
          createdBy: 'usr_x',
          version: 1,
          createdAt: '2026-03-01T00:00:00.000Z',
          updatedAt: '2026-03-01T00:00:00.000Z',
        },
      }),
    );
    await stack.deps.db.entities.contactListEntry.put(listEntry(caller.workspaceId, contactId, 'Intruder')).go();
    const blobs = fakeBlobStore({ minPartBytes: 1 });

    const { outcome } = await runExport({ fields: ['Name'] }, { caller, blobs });

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'export_incomplete', message: expect.stringContaining(contactId) } });
    expect(blobs.uploads.size).toBe(0);
  });

  it('fails when the stored file is not the size written', async () => {
    const fake = fakeBlobStore();
    const lying: BlobStore = { ...fake, head: async (key) => ({ sizeBytes: ((await fake.head(key))?.sizeBytes ?? 0) - 1 }) };

    const { outcome } = await runExport({}, { blobs: lying });

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'export_incomplete', message: expect.stringMatching(/^The stored file holds \d+ bytes where \d+ were written$/) } });
  });

  it('aborts the upload it started when a run fails for another reason, and rethrows', async () => {
    const fake = fakeBlobStore();
    const failing: BlobStore = { ...fake, uploadPart: async () => Promise.reject(new Error('S3 is down')) };

    await expect(runExport({}, { blobs: failing })).rejects.toThrow('S3 is down');
    await expect(runExport({ format: 'xlsx' }, { blobs: failing })).rejects.toThrow('S3 is down');

    expect(fake.uploads.size).toBe(0);
  });
});

describe('formula injection', () => {
  it('guards cells a spreadsheet would run, leaves phone numbers and negative numbers alone', async () => {
    const { bytes } = await runDone({ fields: ['Name', 'Job Title', 'Role', 'Telegram', 'Phone', 'Custom: notes', 'Custom: seats'], filters: { suppressed: true } });

    const raw = csvRecords(bytes);
    expect(raw[1]).toEqual([
      `'${formulaName}`,
      "'+cmd|' /C calc'!A0",
      "'-2+3",
      '-1001234567',
      '',
      "'@SUM(1+1)",
      '-12.5',
    ]);
    const zoe = csvRecords((await runDone({ fields: ['Phone'], filters: { ownerId: acme.owner.user.id } })).bytes);
    expect(zoe[1]).toEqual(['+44 20 7946 0000 ::: +49 1512 3456789']);
    // Undone as the import reader does, the values are the contact's own.
    expect(byHeader(raw)[0]).toMatchObject({ Name: formulaName, 'Job Title': "+cmd|' /C calc'!A0", Role: '-2+3', 'Custom: notes': '@SUM(1+1)' });
  });

  it('guards XLSX cells the same way, and writes no formula cell', async () => {
    const { bytes } = await runDone({ format: 'xlsx', fields: ['Name', 'Role'], filters: { suppressed: true } });

    const { records, types } = await xlsxRecords(bytes);
    expect(records[1]).toEqual([`'${formulaName}`, "'-2+3"]);
    expect([...types]).toEqual([ExcelJS.ValueType.String]);
  });
});

describe('the import reader reads an export back', () => {
  it.each(['csv', 'xlsx', 'vcf'] as const)('%s: every contact, field, channel, tag, owner and custom field as stored', async (format) => {
    // Act: export, then read the file as an import reads it
    const { key, blobs } = await runDone({ format });
    const file = await openImportFile(blobs, key, { claimedFormat: format });
    const candidates: ImportCandidate[] = [];
    for await (const { row } of file.rows()) {
      if (row.kind !== 'candidate') throw new Error(`not a candidate: ${JSON.stringify(row)}`);
      candidates.push(row.candidate);
    }

    // Assess: a vCard file has columns no contact field fills (none of them written by the export)
    expect(file.info.skippedColumns.map((column) => column.header)).toEqual(
      format === 'vcf' ? ['Nickname', 'Fax', 'Department', 'Street', 'Postal Code', 'Website', 'Birthday', 'Notes'] : [],
    );
    const users = new Map([acme.owner.user, acme.admin.user, acme.member.user].map((user) => [user.id, user.email]));
    const exported = ['zoe', 'dmitry', 'yamada', 'formula', 'ana'];
    expect(candidates).toHaveLength(exported.length);
    for (const label of exported) {
      const contact = await api('GET', `/v1/contacts/${ids[label]}`, acme.owner.token);
      const candidate = candidates.find((found) => found.name === contact.name);
      expect(candidate, contact.name).toBeDefined();
      const sorted = (channels: { kind: string; value: string }[]) => channels.map((c) => `${c.kind} ${c.value}`).sort();
      expect(sorted(candidate!.channels)).toEqual(sorted(contact.channels.map((c: { kind: string; normalized: string }) => ({ kind: c.kind, value: c.normalized }))));
      const fields = { jobTitle: contact.jobTitle, role: contact.role, segment: contact.segment, city: contact.city, state: contact.state, country: contact.country, companyName: contact.companyName };
      expect(candidate!.fields).toEqual(Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== null)));
      expect(candidate!.tags).toEqual(contact.tags);
      expect(candidate!.owner).toBe(contact.ownerId ? users.get(contact.ownerId) : undefined);
      const custom = Object.entries(contact.customFields as Record<string, unknown>).filter(([name, value]) => name !== 'legacy' && value !== null);
      // A vCard carries custom fields as X-CRM-FIELD-<KEY> for other tools; the import reads the CSV and XLSX ones.
      if (format !== 'vcf') expect(candidate!.customFields).toEqual(Object.fromEntries(custom.map(([name, value]) => [name, customFieldText(value)])));
    }
  });
});

/**
 * The export as a job (the real runner, stream dispatcher and queues, the local S3): what a user sees of
 * its progress, and what a cancel leaves in the bucket (nothing) wherever it lands.
 */
describe('an export job', { timeout: 120_000 }, () => {
  /** A workspace of its own: 90 contacts of ~70 KB, so a CSV export's first 5 MiB part ends mid-way. */
  let bigco: Awaited<ReturnType<typeof seedWorkspace>>;
  let jobs: TestJobs;
  /** Called after each run of the export handler (a test's way to act between runs). */
  let afterRun: (() => Promise<void>) | undefined;

  /** The handlers' bucket, watched: every upload started and part sent (or tried), and hooks to act mid-export. */
  const watch = {
    uploads: [] as { key: string; uploadId: string }[],
    parts: [] as { key: string; partNumber: number }[],
    beforePart: undefined as ((key: string, partNumber: number) => Promise<void>) | undefined,
    afterStart: undefined as ((key: string) => Promise<void>) | undefined,
    afterComplete: undefined as ((key: string) => Promise<void>) | undefined,
  };
  const watched = (blobs: BlobStore): BlobStore => ({
    ...blobs,
    async startMultipartUpload(key, contentType) {
      const started = await blobs.startMultipartUpload(key, contentType);
      watch.uploads.push({ key, uploadId: started.uploadId });
      await watch.afterStart?.(key);
      return started;
    },
    async uploadPart(key, uploadId, partNumber, bytes) {
      watch.parts.push({ key, partNumber });
      await watch.beforePart?.(key, partNumber);
      return blobs.uploadPart(key, uploadId, partNumber, bytes);
    },
    async completeMultipartUpload(key, uploadId, parts) {
      await blobs.completeMultipartUpload(key, uploadId, parts);
      await watch.afterComplete?.(key);
    },
  });

  beforeAll(async () => {
    // Pages of 10 list entries: a part can end after any 10 contacts.
    process.env.EXPORT_PAGE_SIZE = '10';
    bigco = await seedWorkspace(stack, 'Bigco');
    const notes = 'Größe ändern, Ω≈ç√ '.repeat(500).trim();
    const keys = ['n1', 'n2', 'n3', 'n4', 'n5'];
    for (const key of keys) await api('POST', '/v1/custom-fields', bigco.owner.token, { entityType: 'contact', key, label: key, type: 'text' });
    for (let i = 0; i < 90; i += 1) {
      await api('POST', '/v1/contacts', bigco.owner.token, {
        name: `Big ${String(i).padStart(3, '0')}`,
        channels: [{ kind: 'email', value: `big${i}@bigco.example` }],
        customFields: Object.fromEntries(keys.map((key) => [key, notes])),
      });
    }
    setBlobStore(watched(stack.blobs));
    jobs = await startTestJobs(stack, ['export_contacts'], {
      wrap: (_kind, handler) => async (event, context) => {
        const response = await handler(event, context);
        await afterRun?.();
        return response;
      },
    });
  }, 300_000);
  afterAll(async () => {
    delete process.env.EXPORT_PAGE_SIZE;
    await jobs?.stop();
    setBlobStore(stack.blobs);
  });
  afterEach(() => {
    afterRun = undefined;
    watch.beforePart = undefined;
    watch.afterStart = undefined;
    watch.afterComplete = undefined;
    delete process.env.JOB_RUN_BUDGET_MS;
  });

  const token = () => bigco.owner.token;
  const startExport = async (format: 'csv' | 'xlsx') => (await api('POST', '/v1/exports', token(), { format })).id as string;
  const finished = (jobId: string) => jobs.finished(bigco.workspace.id, jobId);
  const shown = (jobId: string) => api('GET', `/v1/jobs/${jobId}`, token());
  const cancel = (jobId: string) => api('POST', `/v1/jobs/${jobId}/cancel`, token());
  const keyOf = (jobId: string, format: 'csv' | 'xlsx') => `exports/${bigco.workspace.id}/jobs/${jobId}/contacts.${format}`;
  const partsOf = (jobId: string) => watch.parts.filter((part) => part.key.includes(`/${jobId}/`)).map((part) => part.partNumber);
  /** The file as a user downloads it. */
  const download = async (jobId: string, format: 'csv' | 'xlsx') => {
    const link = await api('GET', `/v1/jobs/${jobId}/files/contacts.${format}`, token());
    return Buffer.from(await (await fetch(link.url)).arrayBuffer());
  };
  /**
   * The job's multipart uploads still open on the local S3: a part sent to one that was aborted or
   * completed is refused with NoSuchUpload (fauxqs has no ListMultipartUploads to ask).
   */
  const openUploads = async (jobId: string) => {
    const started = watch.uploads.filter((upload) => upload.key.includes(`/${jobId}/`));
    expect(started.length).toBeGreaterThan(0);
    const open: string[] = [];
    for (const { key, uploadId } of started) {
      const probe = await stack.blobs.uploadPart(key, uploadId, 10_000, new Uint8Array(1)).then(
        () => 'open',
        (error: Error) => error.name,
      );
      if (probe !== 'NoSuchUpload') open.push(`${uploadId}: ${probe}`);
    }
    return open;
  };
  /** Nothing of the export is left in the bucket, and the job names no file. */
  const expectNothingLeft = async (jobId: string, format: 'csv' | 'xlsx') => {
    expect(await openUploads(jobId)).toEqual([]);
    expect(await stack.blobs.head(keyOf(jobId, format))).toBeUndefined();
    expect((await stack.api('GET', `/v1/jobs/${jobId}/files/contacts.${format}`, { token: token() })).status).toBe(404);
  };

  it('shows its progress between parts, in the API, while it runs', async () => {
    let seen: Record<string, unknown> | undefined;
    let jobId = '';
    watch.beforePart = async (key, partNumber) => {
      if (key.includes(`/${jobId}/`) && partNumber === 2) seen = await shown(jobId);
    };

    jobId = await startExport('csv');
    const done = await finished(jobId);

    expect(done.status).toBe('succeeded');
    expect(seen).toMatchObject({ status: 'running', progress: { processed: 80, total: null }, result: null });
    expect(partsOf(jobId)).toEqual([1, 2]);
    expect(await shown(jobId)).toMatchObject({ status: 'succeeded', progress: { processed: 90, total: 90 }, result: { rows: 90 } });
  });

  it('resumes a run that died after a saved part from that part: the same bytes as a run that did not die', async () => {
    // Prepare: an export that runs undisturbed, for the bytes to expect
    const whole = await startExport('csv');
    expect((await finished(whole)).status).toBe('succeeded');
    // The other's run dies (its S3 call throws) sending its second part, after its first part was saved.
    let jobId = '';
    let died = false;
    watch.beforePart = async (key, partNumber) => {
      if (key.includes(`/${jobId}/`) && partNumber === 2 && !died) {
        died = true;
        throw new Error('the run died');
      }
    };

    // Act
    jobId = await startExport('csv');
    const done = await finished(jobId);

    // Assess: one upload; part 1 sent once, part 2 tried by the run that died and sent by the retry
    expect(done).toMatchObject({ status: 'succeeded', attempts: 1, lastError: 'the run died' });
    expect(watch.uploads.filter((upload) => upload.key.includes(`/${jobId}/`))).toHaveLength(1);
    expect(partsOf(jobId)).toEqual([1, 2, 2]);
    expect((await download(jobId, 'csv')).equals(await download(whole, 'csv'))).toBe(true);
  });

  it('a cancel while a CSV run works stops it at its next part: no upload, no file left', async () => {
    let jobId = '';
    watch.beforePart = async (key, partNumber) => {
      if (key.includes(`/${jobId}/`) && partNumber === 1) await cancel(jobId);
    };

    jobId = await startExport('csv');
    const done = await finished(jobId);

    expect(done.status).toBe('canceled');
    // The part under way was sent, its save refused: nothing after it.
    expect(partsOf(jobId)).toEqual([1]);
    expect(done.progress.processed).toBe(0);
    await expectNothingLeft(jobId, 'csv');
  });

  it('a cancel between runs of a CSV export: the next message finds it canceled and gives the upload back', async () => {
    // Prepare: every run stops after its first part; the first run is followed by a cancel
    process.env.JOB_RUN_BUDGET_MS = '1';
    let jobId = '';
    let runs = 0;
    afterRun = async () => {
      runs += 1;
      if (runs === 1) await cancel(jobId);
    };

    // Act
    jobId = await startExport('csv');
    const done = await finished(jobId);

    // Assess: the first run left a saved part and its upload; the second message released them
    expect(done).toMatchObject({ status: 'canceled', progress: { processed: 80 } });
    expect(done.dispatchSeq).toBe(2);
    expect(partsOf(jobId)).toEqual([1]);
    await expectNothingLeft(jobId, 'csv');
  });

  it('a cancel while an XLSX run works stops it at its next page: no upload left', async () => {
    let jobId = '';
    watch.afterStart = async (key) => {
      if (key.includes(`/${jobId}/`)) await cancel(jobId);
    };

    jobId = await startExport('xlsx');
    const done = await finished(jobId);

    expect(done).toMatchObject({ status: 'canceled', progress: { processed: 0 } });
    await expectNothingLeft(jobId, 'xlsx');
  });

  it.each(['csv', 'xlsx'] as const)('%s: a cancel that races the file’s completion deletes the completed file', async (format) => {
    // Prepare: the cancel lands once the file is complete, before the run marks the job succeeded
    let jobId = '';
    let progress: unknown;
    watch.afterComplete = async (key) => {
      if (!key.includes(`/${jobId}/`)) return;
      progress = (await shown(jobId)).progress;
      await cancel(jobId);
    };

    // Act
    jobId = await startExport(format);
    const done = await finished(jobId);

    // Assess: the run had shown its progress; its success lost to the cancel, and the file went
    // CSV: the rows of its first part (saved with it); XLSX: every page's rows, shown as they went.
    expect(progress).toMatchObject({ processed: { csv: 80, xlsx: 90 }[format] });
    expect(done).toMatchObject({ status: 'canceled' });
    expect(done.result).toBeUndefined();
    await expectNothingLeft(jobId, format);
  });
});
