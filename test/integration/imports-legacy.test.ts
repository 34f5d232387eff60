import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixturesDirectory } from '../fixtures/imports/csv-fixtures';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';
import { startTestJobs, type TestJobs } from '../support/test-jobs';
import { importThroughApi } from '../support/import-through-api';
import { ok } from '../support/ok';

/**
 * Spreadsheets in the formats before .xlsx (test/fixtures/imports/legacy/, EXPECTED.md says what each
 * row holds, which writer made it and the sources of its shape): an Excel 97-2003 workbook, HTML
 * tables and Excel 2003 XML spreadsheets named .xls, and an OpenDocument file, imported the way a user
 * does: upload, `POST /v1/imports`, the job, then the contacts and the error report.
 */

/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies */

let stack: TestStack;
let acme: Awaited<ReturnType<typeof seedWorkspace>>;
let jobs: TestJobs;

beforeAll(async () => {
  stack = await createTestStack();
  acme = await seedWorkspace(stack, 'Acme');
  jobs = await startTestJobs(stack, ['import_contacts']);
});
afterAll(async () => {
  await jobs?.stop();
  await stack?.destroy();
});

const legacy = (name: string) => readFileSync(join(fixturesDirectory, 'legacy', name));

const importFile = (name: string, options: Record<string, unknown>, format?: 'xls' | 'ods') =>
  importThroughApi(
    { stack, jobs, token: acme.owner.token, workspaceId: acme.workspace.id },
    legacy(name),
    name,
    options,
    format,
  );

const contact = async (value: string, kind = 'email') => {
  const res = await stack.api('GET', '/v1/contacts/lookup', {
    token: acme.owner.token,
    query: { kind, value },
  });
  expect(res.status, `${value}: ${JSON.stringify(res.body)}`).toBe(200);
  return res.body;
};
const absent = async (value: string, kind = 'email') =>
  (await stack.api('GET', '/v1/contacts/lookup', { token: acme.owner.token, query: { kind, value } }))
    .status === 404;
const phonesOf = (found: any) =>
  found.channels.filter((c: any) => c.kind === 'phone').map((c: any) => c.normalized);
const shortly = (errors: any[]) =>
  errors.map(
    (e) => `${e.sheetRow} ${e.code}${e.rejected ? '' : ' (kept)'}${e.column ? ` [${e.column}]` : ''}`,
  );

describe('a HubSpot export kept as an Excel 97-2003 workbook (BIFF8, LibreOffice)', () => {
  let result: Awaited<ReturnType<typeof importFile>>;
  beforeAll(async () => {
    result = await importFile('hubspot-export.xls', {
      defaultCountry: 'GB',
      mapping: { 'Lifecycle Stage': 'tags' },
    });
  });

  it('reads the visible sheet only, a contact per row with an email or phone', async () => {
    expect(result.file).toMatchObject({ format: 'xls', sheet: 'Contacts', headerLine: 1 });
    expect(result.file.skippedColumns.map((c: any) => c.header)).toEqual(['Record ID', 'Create Date']);
    expect(result.counts).toMatchObject({
      rowsRead: 8,
      created: 6,
      blank: 1,
      rejected: 1,
      rejectedByCode: { no_channel: 1 },
    });
    expect(await absent('old.contact@example.net')).toBe(true);
  });

  it('reads a phone typed as a number, a text phone with its leading 0, a formula’s text and a line break', async () => {
    expect(phonesOf(await contact('soren.kjaergaard@example.org'))).toEqual(['+442079460123']);
    const misaki = await contact('misaki.sato@example.com');
    expect(misaki).toMatchObject({ name: '美咲 佐藤', companyName: '株式会社サンプル商事', tags: ['Lead'] });
    expect(phonesOf(misaki)).toEqual(['+442079460456']);
    expect(await contact('jl.alvarez@example.com')).toMatchObject({
      name: 'José Luis Álvarez Peña',
      jobTitle: 'Head of Partnerships EMEA & LATAM',
    });
  });

  it('reports the row without a channel, and the owners it does not know, at their sheet rows', () => {
    expect(shortly(result.errors.filter((e) => e.code !== 'unknown_owner'))).toEqual(['7 no_channel']);
    expect(new Set(result.errors.filter((e) => e.code === 'unknown_owner').map((e) => e.sheetRow))).toEqual(
      new Set([2, 3, 4, 6, 9]),
    );
  });
});

describe.each([
  ['excel-web-page.xls', 'as Excel 2003 saves a web page (Windows-1252, character references, x:num)'],
  ['excel-web-page-libreoffice.xls', 'as LibreOffice exports HTML (UTF-8)'],
])('a Salesforce report saved as an HTML table named .xls: %s', (name, _how) => {
  let result: Awaited<ReturnType<typeof importFile>>;
  beforeAll(async () => {
    result = await importFile(name, { defaultCountry: 'FR' });
  });

  it('finds the header under the title, reads every contact, and skips the report footer', async () => {
    expect(result.file).toMatchObject({ format: 'xls', headerLine: 3, footer: { fromLine: 12, toLine: 15 } });
    expect(result.counts).toMatchObject({
      rowsRead: 8,
      created: name === 'excel-web-page.xls' ? 5 : 0,
      rejected: 1,
      rejectedByCode: { no_channel: 1 },
    });
    expect(shortly(result.errors)).toEqual(['8 no_channel']);
    expect(result.errors[0].raw).toEqual([
      'Jürgen',
      'Weiß',
      'Geschäftsführer',
      'Bäckerei Sonnenschön GmbH',
      '',
      '',
      'München',
      'Germany',
    ]);
  });

  it('reads the letters of both code pages and the references', async () => {
    expect(await contact('sean.oconnor@example.org')).toMatchObject({
      name: 'Seán O’Connor',
      companyName: 'Example Freight Ltd',
    });
    expect(await contact('lukasz.wisniewski@example.com')).toMatchObject({
      name: 'Łukasz Wiśniewski',
      jobTitle: 'Kierownik sprzedaży',
      city: 'Warszawa',
    });
    expect(phonesOf(await contact('berenice.faure@example.com'))).toEqual(['+33199005218']);
    const amelie = await contact('amelie.dubois@example.com');
    expect(amelie).toMatchObject({
      companyName: 'Éditions Étoile',
      jobTitle: 'Directrice marketing Europe du Sud',
    });
    expect(phonesOf(amelie)).toEqual(['+33123456789']);
  });
});

describe.each(['spreadsheetml-2003.xml', 'spreadsheetml-2003-libreoffice.xml'])(
  'a Zoho export as an Excel 2003 XML spreadsheet: %s',
  (name) => {
    it('reads rows after a missing one, cells after skipped ones, number and text phones, and rich text', async () => {
      const result = await importFile(name, { defaultCountry: 'DE' }, 'xls');
      expect(result.file).toMatchObject({ format: 'xls', sheet: 'Contacts', headerLine: 1 });
      expect(result.counts).toMatchObject({
        rowsRead: 7,
        blank: 1,
        rejected: 1,
        rejectedByCode: { no_channel: 1 },
      });
      expect(await contact('fang.wang@example.com')).toMatchObject({ name: '王芳', tags: ['Asia', 'Lead'] });
      expect(phonesOf(await contact('fang.wang@example.com'))).toEqual(['+493090182033']);
      expect(phonesOf(await contact('dmitry.volkov@example.org'))).toEqual(['+493090182032']);
      expect(await contact('m.goessling@example.org')).toMatchObject({
        jobTitle: 'Senior Berater Digitalisierung',
        tags: [],
      });
      expect(phonesOf(await contact('m.goessling@example.org'))).toEqual(['+493090182034']);
      expect(await contact('aurelie.chevalier@example.com')).toMatchObject({
        jobTitle: 'Head of Sales',
        companyName: 'Éditions du Parc',
      });
    });
  },
);

describe('a Pipedrive export tidied in LibreOffice (.ods)', () => {
  it('reads the first sheet: repeated cells, a hyperlinked email, a float phone, two values to a cell', async () => {
    const result = await importFile('libreoffice.ods', { defaultCountry: 'AU' });
    expect(result.file).toMatchObject({ format: 'ods', sheet: 'People', headerLine: 1 });
    expect(result.counts).toMatchObject({ rowsRead: 8, created: 6, blank: 1, rejected: 1 });
    expect(await contact('orders@example.org')).toMatchObject({
      name: 'Fjord Bakeri AS',
      companyName: 'Fjord Bakeri AS',
      tags: ['Supplier'],
    });
    expect(phonesOf(await contact('meiling.chen@example.com'))).toEqual(['+61491570156']);
    expect(phonesOf(await contact('alex.papadopoulos@example.com'))).toEqual(['+61491570157']);
    const renee = await contact('renee.bronte@example.org');
    expect(renee).toMatchObject({
      companyName: 'Brontë & Co. Manchester office',
      tags: ['Partner', 'Newsletter'],
    });
    expect(phonesOf(renee)).toEqual(['+441614960234', '+61491570159']);
    expect(
      (await contact('lars@example.com')).channels
        .filter((c: any) => c.kind === 'email')
        .map((c: any) => c.normalized),
    ).toEqual(['lars@example.com', 'lars.oberg@example.org']);
  });
});

describe('files claimed as .xls or .ods that are not', () => {
  it.each([
    [
      'a CSV named .xls',
      Buffer.from('Name,Email\nAna,ana@example.com\n'),
      'contacts.xls',
      'not_xls',
      /upload it as CSV/,
    ],
    [
      'a workbook named .ods that is an .xls',
      legacy('hubspot-export.xls'),
      'contacts.ods',
      'not_ods',
      /zip archive/,
    ],
    [
      'a damaged .xls',
      Buffer.concat([legacy('hubspot-export.xls').subarray(0, 2048), Buffer.alloc(2048)]),
      'contacts.xls',
      'unreadable',
      /cannot be read/,
    ],
  ])('refuses %s with a 422 that says why', async (_what, bytes, fileName, reason, message) => {
    const created = await ok(
      stack.api('POST', '/v1/imports/uploads', {
        token: acme.owner.token,
        body: { fileName, sizeBytes: bytes.length },
      }),
      201,
    );
    await fetch(created.uploadUrl, { method: 'PUT', headers: created.uploadHeaders, body: bytes });
    const res = await stack.api('POST', '/v1/imports', {
      token: acme.owner.token,
      body: { uploadId: created.uploadId, format: created.format },
    });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ reason, detail: expect.stringMatching(message) });
  });
});
