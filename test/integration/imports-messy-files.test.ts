import ExcelJS from 'exceljs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvFixtures, fixturesDirectory } from '../fixtures/imports/csv-fixtures';
import { crmReportWorkbook, emptyWorkbook } from '../fixtures/imports/xlsx-fixtures';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';
import { startTestJobs, type TestJobs } from '../support/test-jobs';
import { ok } from '../support/ok';

/**
 * Files exported from other CRMs, address books and spreadsheets (test/fixtures/imports/), imported
 * the way a user does: upload, `POST /v1/imports`, the job, then what the user sees: the counts, the
 * contacts, and each row the import rejected or imported without some value, at the line and row of
 * the file.
 */

/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies */

let stack: TestStack;
let acme: Awaited<ReturnType<typeof seedWorkspace>>;
let jobs: TestJobs;

beforeAll(async () => {
  stack = await createTestStack();
  acme = await seedWorkspace(stack, 'Acme');
  jobs = await startTestJobs(stack, ['import_contacts']);
  const token = acme.owner.token;
  for (const field of [
    { key: 'birthday', label: 'Birthday', type: 'date' },
    { key: 'revenue', label: 'Revenue', type: 'number' },
  ]) {
    await ok(stack.api('POST', '/v1/custom-fields', { token, body: { entityType: 'contact', ...field } }), 201);
  }
});
afterAll(async () => {
  await jobs?.stop();
  await stack?.destroy();
});

const fixture = (name: keyof typeof csvFixtures) => {
  const { file } = csvFixtures[name];
  return { file, bytes: readFileSync(join(fixturesDirectory, file)) };
};

async function upload(bytes: Uint8Array, fileName: string) {
  const body = Buffer.from(bytes);
  const created = await ok(
    stack.api('POST', '/v1/imports/uploads', {
      token: acme.owner.token,
      body: { fileName, sizeBytes: body.length, ...(/\.(csv|xlsx)$/.test(fileName) ? {} : { format: 'csv' }) },
    }),
    201,
  );
  const put = await fetch(created.uploadUrl, { method: 'PUT', headers: created.uploadHeaders, body });
  expect(put.status).toBe(200);
  return created as { uploadId: string; format: 'csv' | 'xlsx' };
}

/** Uploads and imports a file, waits for the job, returns it as the API shows it, with its error report. */
async function importFile(bytes: Uint8Array, fileName: string, options: Record<string, unknown> = {}) {
  const { uploadId, format } = await upload(bytes, fileName);
  const started = await ok(stack.api('POST', '/v1/imports', { token: acme.owner.token, body: { uploadId, format, ...options } }), 201);
  await jobs.finished(acme.workspace.id, started.id);
  const job = await ok(stack.api('GET', `/v1/jobs/${started.id}`, { token: acme.owner.token }));
  expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
  const counts = job.result.counts;
  expect(counts.blank + counts.rejected + counts.created + counts.updated + counts.unchanged + counts.skipped + counts.merged).toBe(counts.rowsRead);
  return { job, counts, errors: await errorsOf(job.id) };
}

/** Refused before any job: the status and the problem's body. */
async function refused(bytes: Uint8Array, fileName: string, options: Record<string, unknown> = {}) {
  const { uploadId, format } = await upload(bytes, fileName);
  const res = await stack.api('POST', '/v1/imports', { token: acme.owner.token, body: { uploadId, format, ...options } });
  expect(res.status, JSON.stringify(res.body)).toBeGreaterThanOrEqual(400);
  expect(res.status).toBeLessThan(500);
  return res;
}

const errorsOf = async (jobId: string) => {
  const items: any[] = [];
  let cursor: string | undefined;
  do {
    const page = await ok(stack.api('GET', `/v1/imports/${jobId}/errors`, { token: acme.owner.token, query: { limit: '50', ...(cursor ? { cursor } : {}) } }));
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return items;
};

const contact = async (kind: 'email' | 'phone', value: string) => {
  const res = await stack.api('GET', '/v1/contacts/lookup', { token: acme.owner.token, query: { kind, value } });
  expect(res.status, `${kind} ${value}: ${JSON.stringify(res.body)}`).toBe(200);
  return res.body;
};

const channelsOf = (found: any, kind?: string) =>
  found.channels.filter((c: any) => kind === undefined || c.kind === kind).map((c: any) => (kind ? c.normalized : `${c.kind} ${c.normalized}`));

/** The error report's entries, as `line/row code` (rejected) or `line/row code (kept)`, plus the column. */
const shortly = (errors: any[]) =>
  errors.map((e) => `${e.line}/${e.row} ${e.code}${e.rejected ? '' : ' (kept)'}${e.column ? ` [${e.column}]` : ''}`);

describe('HubSpot contacts export (BOM, CRLF, multi-line note, owner names, two emails in a cell)', () => {
  let result: Awaited<ReturnType<typeof importFile>>;
  beforeAll(async () => {
    const { bytes, file } = fixture('hubspot');
    result = await importFile(bytes, file, { defaultCountry: 'US' });
  });

  it('creates a contact per person, skips the blank record, rejects the one without email or phone', () => {
    expect(result.counts).toMatchObject({ rowsRead: 6, created: 3, blank: 2, rejected: 1, rejectedByCode: { no_channel: 1 } });
    expect(result.job.result.file).toMatchObject({ encoding: 'utf-8', delimiter: ',', headerLine: 1 });
    expect(result.job.result.file.skippedColumns.map((c: any) => c.header)).toEqual(['Record ID', 'Lifecycle Stage', 'Create Date', 'Notes']);
  });

  it('joins first and last name, keeps the company with its comma, and gives the contact to the owner named', async () => {
    const anna = await contact('email', 'anna.schmidt@example.de');
    expect(anna).toMatchObject({ name: 'Anna Schmidt', companyName: 'Schmidt & Söhne, GmbH', jobTitle: 'CEO', ownerId: acme.owner.user.id });
    expect(channelsOf(anna, 'phone')).toEqual(['+49301234567', '+4915123456789']);
  });

  it('takes both emails of a `;`-separated cell, and the number before its extension', async () => {
    const bob = await contact('email', 'bob.oneil@example.net');
    expect(bob).toMatchObject({ name: "Bob O'Neil", companyName: 'Acme Inc', jobTitle: 'VP, Sales' });
    expect(channelsOf(bob, 'email')).toEqual(['bob@example.com', 'bob.oneil@example.net']);
    expect(channelsOf(bob, 'phone')).toEqual(['+14155550132']);
    expect((await contact('email', 'chloe.durand@example.fr')).name).toBe('Chloé Durand');
  });

  it('reports what it left out at the line a text editor shows and the row, past the two-line note', () => {
    expect(shortly(result.errors)).toEqual([
      '4/2 value_not_kept (kept) [Phone Number]',
      '4/2 unknown_owner (kept) [Contact owner]',
      '6/4 no_channel',
    ]);
    const [extension, owner] = result.errors;
    expect(extension.message).toMatch(/extension 45/);
    expect(owner.message).toMatch(/Someone Who Left/);
    expect(result.errors[2].raw.slice(0, 7)).toEqual(['1003', '', '', '', '', '', 'Ghost Corp']);
  });
});

describe('Salesforce report export (all quoted, LF inside a value, footer)', () => {
  let result: Awaited<ReturnType<typeof importFile>>;
  beforeAll(async () => {
    const { bytes, file } = fixture('salesforceReport');
    result = await importFile(bytes, file, { defaultCountry: 'GB' });
  });

  it('imports the three people, and skips the report footer, saying so once', async () => {
    expect(result.counts).toMatchObject({ rowsRead: 5, created: 3, blank: 2, rejected: 0, rejectedByCode: {} });
    expect(result.errors).toEqual([]);
    expect(result.job.result.file.footer).toEqual({
      fromLine: 8,
      toLine: 11,
      fromSheetRow: 7,
      toSheetRow: 10,
      lines: [
        'Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved.',
        'Confidential Information - Do Not Distribute',
        'Generated By:  Olivia Owner  15/01/2026 09:41',
        'Acme Ltd',
      ],
    });
    expect(result.job.result.notes).toEqual([
      { code: 'report_footer_skipped', message: expect.stringMatching(/^Lines 8–11 \(rows 7–10 in a spreadsheet\) are the footer .*"Confidential Information - Do Not Distribute"/) },
    ]);
    const maria = await contact('email', 'maria.garcia@iberia.example');
    expect(maria).toMatchObject({ name: 'Maria García López', jobTitle: 'Directora Comercial', companyName: 'Iberia Foods S.A.', city: 'Madrid', country: 'Spain', ownerId: acme.owner.user.id });
    const tom = await contact('email', 'tom@bakerandsons.example');
    expect(channelsOf(tom, 'phone')).toEqual(['+442079460018', '+447400123456']);
    expect(tom.ownerId).toBe(acme.admin.user.id);
    expect(channelsOf(await contact('email', 'priya@cloudnine.example'), 'phone')).toEqual(['+919845012345']);
  });

});

describe('report footers: skipped only when they are one', () => {
  const header = '"First Name","Last Name","Email"';
  const csv = (lines: string[]) => Buffer.from(`${lines.join('\n')}\n`, 'utf8');

  it('skips Salesforce’s footer as it writes it: totals, a blank line, confidentiality and copyright', async () => {
    const result = await importFile(
      csv([
        header,
        '"Ada","Footer","ada@footer.example"',
        '"Bo","Footer","bo@footer.example"',
        '',
        '"Grand Totals (2 records)"',
        '',
        '"Confidential Information - Do Not Distribute"',
        '"Copyright (c) 2000-2024 salesforce.com, inc. All rights reserved."',
        '',
      ]),
      'report1736934060000.csv',
    );
    expect(result.counts).toMatchObject({ rowsRead: 3, created: 2, blank: 1, rejected: 0 });
    expect(result.job.result.file.footer).toMatchObject({ fromLine: 5, toLine: 9, lines: ['Grand Totals (2 records)', 'Confidential Information - Do Not Distribute', expect.stringMatching(/^Copyright/)] });
    expect(result.job.result.notes).toHaveLength(1);
  });

  it('skips the same footer at the end of an XLSX report, by sheet rows', async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('Report');
    sheet.getRow(1).values = ['First Name', 'Last Name', 'Email'];
    sheet.getRow(2).values = ['Hu', 'Sheet', 'hu@footer.example'];
    sheet.getRow(4).values = ['Grand Totals (1 records)'];
    sheet.getRow(6).values = ['Confidential Information - Do Not Distribute'];
    sheet.getRow(7).values = ['Copyright (c) 2000-2024 salesforce.com, inc. All rights reserved.'];
    sheet.getRow(8).values = ['Generated By:  Olivia Owner  15/01/2026 09:41'];
    sheet.getRow(9).values = ['Acme Ltd'];
    const result = await importFile(new Uint8Array(await workbook.xlsx.writeBuffer()), 'report.xlsx');
    expect(result.counts).toMatchObject({ rowsRead: 2, created: 1, blank: 1, rejected: 0 });
    expect(result.job.result.file.footer).toMatchObject({ fromLine: 4, toLine: 9, fromSheetRow: 4, toSheetRow: 9 });
    expect(result.job.result.notes).toEqual([{ code: 'report_footer_skipped', message: expect.stringMatching(/^Rows 4–9 are the footer/) }]);
  });

  it('still rejects a last contact with only a name after a blank line', async () => {
    const result = await importFile(csv([header, '"Cy","Named","cy@footer.example"', '', '"Zed Zero"']), 'last-name-only.csv');
    expect(result.counts).toMatchObject({ rowsRead: 3, created: 1, blank: 1, rejected: 1, rejectedByCode: { no_channel: 1 } });
    expect(shortly(result.errors)).toEqual(['4/3 no_channel']);
    expect(result.job.result.file.footer).toBeUndefined();
    expect(result.job.result.notes).toEqual([]);
  });

  it('keeps as rows a footer-like block that a contact follows, or that holds a line no footer has', async () => {
    const followed = await importFile(
      csv([header, '"Di","One","di@footer.example"', '', '"Confidential Information - Do Not Distribute"', '"Ed","Two","ed@footer.example"']),
      'followed.csv',
    );
    expect(followed.counts).toMatchObject({ created: 2, rejected: 1, rejectedByCode: { no_channel: 1 } });
    expect(followed.job.result.file.footer).toBeUndefined();

    const mixed = await importFile(
      csv([header, '"Fi","Three","fi@footer.example"', '', '"Copyright (c) 2024 Fi Ltd. All rights reserved."', '"Gus Only"']),
      'mixed.csv',
    );
    expect(mixed.counts).toMatchObject({ created: 1, rejected: 2, rejectedByCode: { no_channel: 2 } });
    expect(shortly(mixed.errors)).toEqual(['4/3 no_channel', '5/4 no_channel']);
    expect(mixed.job.result.notes).toEqual([]);
  });
});

describe('Pipedrive people export (Person - … headers, ", "-separated values, owner names)', () => {
  it('takes every email and phone, the labels as tags, the owner by name', async () => {
    const { bytes, file } = fixture('pipedrive');
    const result = await importFile(bytes, file, { defaultCountry: 'JP' });
    expect(result.counts).toMatchObject({ rowsRead: 2, created: 2, rejected: 0 });
    expect(result.errors).toEqual([]);
    const lars = await contact('email', 'lars.private@example.com');
    expect(lars).toMatchObject({ name: 'Lars Øberg', companyName: 'Nordlys AS', ownerId: acme.member.user.id });
    expect(channelsOf(lars, 'email')).toEqual(['lars@nordlys.example', 'lars.oberg@nordlys.example', 'lars.private@example.com']);
    expect(channelsOf(lars, 'phone')).toEqual(['+4722123456', '+4741234567']);
    expect(lars.tags).toContain('Hot lead');
    expect(channelsOf(await contact('email', 'keiko@tanaka.example'), 'phone')).toEqual(['+81312345678', '+819012345678']);
  });
});

describe('Zoho CRM contacts export (MM/dd/yyyy dates, Secondary Email, Record Id)', () => {
  it('reads an unambiguous date into a date field, and refuses to guess an ambiguous one, saying how to write it', async () => {
    const { bytes, file } = fixture('zoho');
    const result = await importFile(bytes, file, { defaultCountry: 'IT', mapping: { 'Date of Birth': 'custom:birthday' } });
    expect(result.counts).toMatchObject({ rowsRead: 2, created: 1, rejected: 1, rejectedByCode: { invalid_custom_field: 1 } });
    const sofia = await contact('email', 'sofia.rossi@example.it');
    expect(sofia).toMatchObject({ name: 'Sofia Rossi', jobTitle: 'Buyer', companyName: 'Rossi SRL', city: 'Roma', ownerId: acme.owner.user.id, customFields: { birthday: '1985-03-15' } });
    expect(channelsOf(sofia, 'email')).toEqual(['sofia.rossi@example.it', 's.rossi@example.com']);
    expect(sofia.tags).toContain('VIP');
    expect(shortly(result.errors)).toEqual(['3/2 invalid_custom_field [Date of Birth]']);
    expect(result.errors[0].message).toMatch(/YYYY-MM-DD.*11\/02\/1979/);
  });
});

describe('Google Contacts CSV (::: values, system labels)', () => {
  it('splits ::: cells into channels and tags, leaves the system label out, joins three name parts', async () => {
    const { bytes, file } = fixture('google');
    const result = await importFile(bytes, file);
    expect(result.counts).toMatchObject({ rowsRead: 2, created: 2, rejected: 0 });
    const ana = await contact('email', 'ana@pereira.example');
    expect(ana).toMatchObject({ name: 'Ana Maria Pereira', companyName: 'Pereira Lda', jobTitle: 'Sócia', city: 'São Paulo', country: 'Brazil' });
    expect(channelsOf(ana)).toEqual(['email ana@pereira.example', 'email ana.pereira@example.com', 'phone +5511912345678', 'phone +551134567890']);
    expect(ana.tags).toEqual(['Clients']);
    expect((await contact('phone', '+861065529988')).name).toBe('Wei Zhang');
  });
});

describe('Outlook contacts CSV (Windows-1252, all quoted)', () => {
  it('reads the accents and the euro sign, the name without its prefix, the job title', async () => {
    const { bytes, file } = fixture('outlook');
    const result = await importFile(bytes, file, { defaultCountry: 'IE' });
    expect(result.counts).toMatchObject({ rowsRead: 2, created: 2, rejected: 0 });
    expect(result.job.result.file.encoding).toBe('windows-1252');
    const jose = await contact('email', 'jose.mueller@cafe-mueller.example');
    expect(jose).toMatchObject({ name: 'José Müller', companyName: 'Café Müller & Söhne', jobTitle: 'Geschäftsführer', city: 'München' });
    expect(channelsOf(jose, 'phone')).toEqual(['+49891234567', '+491712345678']);
    const zoe = await contact('email', 'zoe@brasserie.example');
    expect(zoe).toMatchObject({ name: 'Zoë O’Brien', companyName: 'Brasserie Zoë' });
    expect(channelsOf(zoe, 'phone')).toEqual(['+353871234567']);
  });
});

describe('Excel for Windows "CSV (Comma delimited)"', () => {
  let result: Awaited<ReturnType<typeof importFile>>;
  beforeAll(async () => {
    const { bytes, file } = fixture('excelWindows');
    result = await importFile(bytes, file, { defaultCountry: 'GB' });
  });

  it('reads both "Phone" columns, the \'+ text form, national numbers with extensions; trailing delimiters are no data', async () => {
    expect(result.counts).toMatchObject({ rowsRead: 7, created: 3, blank: 3, rejected: 1 });
    const soren = await contact('email', 'soren@example.dk');
    expect(soren.name).toBe('Søren Kierkegaard');
    expect(channelsOf(soren, 'phone')).toEqual(['+4532123456', '+4520123456']);
    const martin = await contact('email', 'martin.schulz@example.de');
    expect(channelsOf(martin, 'phone')).toEqual(['+447911123456', '+442079460958']);
    expect(await contact('email', 'renee@faure.example')).toMatchObject({ name: 'Renée Faure', companyName: 'Faure & Fils' });
  });

  it('keeps the first of two "Company Name" values, and lists the second', () => {
    const second = result.errors.find((error) => error.code === 'value_not_kept' && error.column === 'Company Name');
    expect(second.message).toBe('The contact has one place for this value and keeps "Faure & Fils" from "Company Name": "Faure et Fils SARL" is not kept');
  });

  it('never imports a number Excel cut to scientific notation, and says how to get it back', () => {
    expect(shortly(result.errors)).toEqual([
      '2/1 invalid_phone (kept) [Phone]',
      '2/1 value_not_kept (kept) [Company Name]',
      '4/3 value_not_kept (kept) [Phone]',
      '6/5 invalid_phone [Phone]',
    ]);
    expect(result.errors[0].message).toMatch(/scientific notation.*Text/);
    expect(result.errors[2].message).toMatch(/extension 123/);
    expect(result.errors[3].message).toMatch(/scientific notation/);
  });
});

describe('Excel for Mac, German locale (semicolons, lone CR, decimal commas, dd.mm.yyyy)', () => {
  it('reads German headers, decimal-comma amounts and dotted dates into custom fields', async () => {
    const { bytes, file } = fixture('excelMacGerman');
    const result = await importFile(bytes, file, { defaultCountry: 'DE', mapping: { Umsatz: 'custom:revenue', Geburtstag: 'custom:birthday' } });
    expect(result.job.result.file).toMatchObject({ delimiter: ';', encoding: 'utf-8' });
    expect(result.counts).toMatchObject({ rowsRead: 2, created: 2, rejected: 0 });
    const juergen = await contact('email', 'juergen.gross@example.de');
    expect(juergen).toMatchObject({ name: 'Jürgen Groß', companyName: 'Groß & Partner GmbH', customFields: { revenue: 1234.56, birthday: '1985-03-15' } });
    expect(channelsOf(juergen, 'phone')).toEqual(['+49307654321', '+4915198765432']);
    const aenne = await contact('email', 'aenne@example.at');
    expect(aenne).toMatchObject({ name: 'Änne Weiß', companyName: 'Weiß; Söhne', customFields: { revenue: 99.9, birthday: '1990-12-01' } });
  });
});

describe('Excel for Mac "Comma Separated Values" (Mac Roman, lone CR)', () => {
  it('reads it as Mac Roman: the accents, the curly apostrophe and quotes, the euro sign', async () => {
    const { bytes, file } = fixture('excelMacRoman');
    const result = await importFile(bytes, file);
    expect(result.job.result.file).toMatchObject({ encoding: 'macintosh', delimiter: ',' });
    expect(result.counts).toMatchObject({ rowsRead: 5, created: 5, rejected: 0 });
    expect(await contact('email', 'rene.lefevre@example.fr')).toMatchObject({ name: 'René Lefèvre', companyName: 'Lefèvre & Fils' });
    expect(await contact('email', 'soren.agard@example.dk')).toMatchObject({ name: 'Søren Ågård', companyName: 'Ågård ApS' });
    expect(await contact('email', 'jose.martinez@example.es')).toMatchObject({ name: 'José Martínez', companyName: 'Peña, García y Cía' });
    expect((await contact('email', 'siobhan@example.ie')).name).toBe('Siobhán O’Brien');
    expect(await contact('email', 'juergen.weiss@example.de')).toMatchObject({ name: 'Jürgen Weiß', companyName: 'Weiß GmbH' });
  });
});

describe('Excel for Windows, Russian locale (Windows-1251, semicolons, Russian headers)', () => {
  it('reads it as Windows-1251 and knows the Russian headers: ФИО, Телефон, Компания, Должность, Город', async () => {
    const { bytes, file } = fixture('excelWindowsRussian');
    const result = await importFile(bytes, file, { defaultCountry: 'RU' });
    expect(result.job.result.file).toMatchObject({ encoding: 'windows-1251', delimiter: ';', headerLine: 1 });
    expect(result.counts).toMatchObject({ rowsRead: 3, created: 3, rejected: 0 });
    expect(result.job.result.file.skippedColumns.map((column: { header: string }) => column.header)).toEqual(['Комментарий']);
    const ivanov = await contact('email', 'ivanov@example.ru');
    expect(ivanov).toMatchObject({ name: 'Иванов Иван Иванович', companyName: 'ООО «Ромашка»', jobTitle: 'Директор', city: 'Москва' });
    expect(channelsOf(ivanov, 'phone')).toEqual(['+74951234567']);
    const alena = await contact('email', 'alena.petrova@example.ru');
    expect(alena).toMatchObject({ name: 'Петрова Алёна Сергеевна', companyName: 'ИП Петрова', city: 'Санкт-Петербург' });
    expect(channelsOf(alena, 'phone')).toEqual(['+79167654321']);
    expect(await contact('email', 'yevheniia@example.com.ua')).toMatchObject({ name: 'Шевченко Євгенія', companyName: 'ТОВ «Їжак і Ґудзик»', city: 'Київ' });
  });
});

describe('Excel for Windows, Polish locale (Windows-1250, semicolons, Polish headers)', () => {
  it('reads it as Windows-1250: Polish and Czech letters, „quotes”, Polish headers', async () => {
    const { bytes, file } = fixture('excelWindowsPolish');
    const result = await importFile(bytes, file, { defaultCountry: 'PL' });
    expect(result.job.result.file).toMatchObject({ encoding: 'windows-1250', delimiter: ';' });
    expect(result.counts).toMatchObject({ rowsRead: 3, created: 3, rejected: 0 });
    const lukasz = await contact('email', 'lukasz.kozlowski@example.pl');
    expect(lukasz).toMatchObject({ name: 'Łukasz Kozłowski', companyName: 'Przedsiębiorstwo „Żuraw” Sp. z o.o.', jobTitle: 'Kierownik sprzedaży', city: 'Łódź' });
    const malgorzata = await contact('email', 'm.wisniewska@example.pl');
    expect(malgorzata).toMatchObject({ name: 'Małgorzata Wiśniewska', companyName: 'Wiśniewska & Dąbrowski', city: 'Kraków' });
    expect(channelsOf(malgorzata, 'phone')).toEqual(['+48513456789']);
    expect(await contact('email', 'jiri.dvorak@example.cz')).toMatchObject({ name: 'Jiří Dvořák', companyName: 'Šťastný s.r.o.', jobTitle: 'Obchodník' });
  });
});

describe('Excel for Windows, Portuguese (Brazil) locale (Windows-1252, semicolons, Nome beside Sobrenome)', () => {
  it('joins Nome and Sobrenome, reads (DDD) numbers with the default country, and the UF as the state', async () => {
    const { bytes, file } = fixture('excelWindowsBrazil');
    const result = await importFile(bytes, file, { defaultCountry: 'BR' });
    expect(result.job.result.file).toMatchObject({ encoding: 'windows-1252', delimiter: ';', skippedColumns: [] });
    expect(result.counts).toMatchObject({ rowsRead: 3, created: 3, rejected: 0 });
    const joao = await contact('email', 'joao.silva@example.com.br');
    expect(joao).toMatchObject({ name: 'João da Silva', companyName: 'Padaria Pão de Açúcar Ltda.', jobTitle: 'Gerente', city: 'São Paulo', state: 'SP' });
    expect(channelsOf(joao, 'phone')).toEqual(['+5511987654321']);
    const malu = await contact('email', 'malu@example.com.br');
    expect(malu).toMatchObject({ name: 'Maria Luísa Gonçalves', companyName: 'Construtora Ipê S.A.', city: 'Rio de Janeiro', state: 'RJ' });
    expect(channelsOf(malu, 'phone')).toEqual(['+552134567890']);
    expect(await contact('email', 'antonio@example.com.br')).toMatchObject({ name: 'Antônio Conceição', companyName: 'Café Três Corações', city: 'Belo Horizonte' });
  });
});

describe('Excel for Windows, Vietnamese locale (Windows-1258, Vietnamese headers, family name first)', () => {
  it('reads Windows-1258 tones into composed letters, and writes Họ, Tên đệm, Tên as the name is written', async () => {
    const { bytes, file } = fixture('excelWindowsVietnamese');
    const result = await importFile(bytes, file, { defaultCountry: 'VN' });
    expect(result.job.result.file).toMatchObject({ encoding: 'windows-1258', delimiter: ';', skippedColumns: [] });
    expect(result.counts).toMatchObject({ rowsRead: 3, created: 3, rejected: 0 });
    const an = await contact('email', 'an.nguyen@example.vn');
    expect(an).toMatchObject({ name: 'Nguyễn Văn An', companyName: 'Công ty TNHH Thương mại Sài Gòn', jobTitle: 'Giám đốc', city: 'Hồ Chí Minh' });
    expect(an.name).toBe(an.name.normalize('NFC'));
    expect(channelsOf(an, 'phone')).toEqual(['+84912345678']);
    expect(await contact('email', 'ngoc.tran@example.vn')).toMatchObject({ name: 'Trần Thị Bích Ngọc', companyName: 'Công ty Cổ phần Đầu tư Hà Nội', jobTitle: 'Trưởng phòng kinh doanh', city: 'Hà Nội' });
    expect(await contact('email', 'hoang.le@example.vn')).toMatchObject({ name: 'Lê Hoàng', companyName: 'Dương & Trương', city: 'Đà Nẵng' });
  });
});

describe('Excel for Windows, Icelandic locale (Windows-1252 with ð þ ý, Icelandic headers)', () => {
  it('reads ð, þ and ý as Icelandic, not as Turkish ğ ş ı, and knows Nafn, Netfang, Farsími, Fyrirtæki, Starfsheiti, Staður', async () => {
    const { bytes, file } = fixture('excelWindowsIcelandic');
    const result = await importFile(bytes, file, { defaultCountry: 'IS' });
    expect(result.job.result.file).toMatchObject({ encoding: 'windows-1252', delimiter: ';', skippedColumns: [] });
    expect(result.counts).toMatchObject({ rowsRead: 3, created: 3, rejected: 0 });
    const thordur = await contact('email', 'thordur@example.is');
    expect(thordur).toMatchObject({ name: 'Þórður Guðmundsson', companyName: 'Marel hf.', jobTitle: 'Sölustjóri', city: 'Garðabær' });
    expect(channelsOf(thordur, 'phone')).toEqual(['+3548621234']);
    expect(await contact('email', 'sigga@example.is')).toMatchObject({ name: 'Sigríður Jónsdóttir', companyName: 'Íslandsbanki hf.', jobTitle: 'Framkvæmdastjóri', city: 'Reykjavík' });
    expect(await contact('email', 'gudrun@example.is')).toMatchObject({ name: 'Guðrún Ýr Þorsteinsdóttir', companyName: 'Eyþór & Co ehf.', city: 'Hafnarfjörður' });
  });
});

describe('Excel for Windows, Hebrew locale (Windows-1255, Hebrew headers)', () => {
  it('reads it as Windows-1255: Hebrew names and headers, quoted abbreviations, local numbers', async () => {
    const { bytes, file } = fixture('excelWindowsHebrew');
    const result = await importFile(bytes, file, { defaultCountry: 'IL' });
    expect(result.job.result.file).toMatchObject({ encoding: 'windows-1255', delimiter: ',', headerLine: 1 });
    expect(result.counts).toMatchObject({ rowsRead: 3, created: 3, rejected: 0 });
    expect(result.job.result.file.skippedColumns.map((column: { header: string }) => column.header)).toEqual(['הערות']);
    const moshe = await contact('email', 'moshe.cohen@example.co.il');
    expect(moshe).toMatchObject({ name: 'משה כהן', companyName: 'אלפא טכנולוגיות בע"מ', jobTitle: 'מנכ״ל', city: 'תל אביב' });
    expect(channelsOf(moshe, 'phone')).toEqual(['+972507312468']);
    expect(await contact('email', 'yossi.avraham@example.com')).toMatchObject({ name: 'יוסי אברהם', companyName: 'מזרחי ובניו, שותפות', city: 'ירושלים' });
  });
});

describe('Excel for Windows, Arabic locale (Windows-1256, semicolons, Arabic headers)', () => {
  it('reads it as Windows-1256: Arabic names and headers, ، and ؛ inside values, local numbers', async () => {
    const { bytes, file } = fixture('excelWindowsArabic');
    const result = await importFile(bytes, file, { defaultCountry: 'SA' });
    expect(result.job.result.file).toMatchObject({ encoding: 'windows-1256', delimiter: ';', headerLine: 1 });
    expect(result.counts).toMatchObject({ rowsRead: 3, created: 3, rejected: 0 });
    expect(result.job.result.file.skippedColumns.map((column: { header: string }) => column.header)).toEqual(['ملاحظات']);
    const mohammed = await contact('email', 'm.alotaibi@example.sa');
    expect(mohammed).toMatchObject({ name: 'محمد العتيبي', companyName: 'شركة النور للتجارة', jobTitle: 'مدير المبيعات', city: 'الرياض' });
    expect(channelsOf(mohammed, 'phone')).toEqual(['+966503716284']);
    const fatima = await contact('email', 'fatima.zahra@example.ae');
    expect(fatima).toMatchObject({ name: 'فاطمة الزهراء', companyName: 'مؤسسة الأمل، فرع دبي', city: 'دبي' });
    expect(channelsOf(fatima, 'phone')).toEqual(['+971504829163']);
    expect(channelsOf(await contact('email', 'abdullah@example.com.sa'), 'phone')).toEqual(['+966556928471']);
  });
});

describe('Excel for Windows, Japanese, Chinese and Korean locales (Shift_JIS, GBK, code page 949)', () => {
  it('reads a Japanese sheet as Shift_JIS: names, half-width furigana left out, national numbers, prefecture and city', async () => {
    const { bytes, file } = fixture('excelWindowsJapanese');
    const result = await importFile(bytes, file, { defaultCountry: 'JP' });
    expect(result.job.result.file).toMatchObject({ encoding: 'shift_jis', delimiter: ',', headerLine: 1 });
    expect(result.counts).toMatchObject({ rowsRead: 3, created: 3, rejected: 0 });
    expect(result.job.result.file.skippedColumns.map((column: { header: string }) => column.header)).toEqual(['フリガナ', '部署']);
    const taro = await contact('email', 'taro.yamada@example.co.jp');
    expect(taro).toMatchObject({ name: '山田 太郎', companyName: '株式会社サンプル', jobTitle: '部長', state: '東京都', city: '千代田区' });
    expect(channelsOf(taro, 'phone')).toEqual(['+81354127780', '+819044172368']);
    expect(await contact('email', 'ichiro.suzuki@example.co.jp')).toMatchObject({ name: '鈴木 一郎', companyName: '鈴木商事株式会社, 本社', jobTitle: '代表取締役' });
  });

  it('reads a Simplified Chinese sheet as GBK', async () => {
    const { bytes, file } = fixture('excelWindowsChinese');
    const result = await importFile(bytes, file, { defaultCountry: 'CN' });
    expect(result.job.result.file).toMatchObject({ encoding: 'gbk', delimiter: ',' });
    expect(result.counts).toMatchObject({ rowsRead: 3, created: 3, rejected: 0 });
    const fang = await contact('email', 'fang.wang@example.cn');
    expect(fang).toMatchObject({ name: '王芳', companyName: '北京科技有限公司', jobTitle: '销售经理', city: '北京' });
    expect(channelsOf(fang, 'phone')).toEqual(['+8613800138001']);
    expect(await contact('email', 'li.na@example.com.cn')).toMatchObject({ name: '李娜', companyName: '深圳创新科技有限公司, 南山分公司' });
  });

  it('reads a Korean sheet as EUC-KR (code page 949)', async () => {
    const { bytes, file } = fixture('excelWindowsKorean');
    const result = await importFile(bytes, file, { defaultCountry: 'KR' });
    expect(result.job.result.file).toMatchObject({ encoding: 'euc-kr', delimiter: ',' });
    expect(result.counts).toMatchObject({ rowsRead: 3, created: 3, rejected: 0 });
    const minsu = await contact('email', 'minsu.kim@example.kr');
    expect(minsu).toMatchObject({ name: '김민수', companyName: '삼성전자', jobTitle: '영업팀장', city: '서울' });
    expect(channelsOf(minsu, 'phone')).toEqual(['+821023456781']);
    expect(await contact('email', 'jiyoung.park@example.co.kr')).toMatchObject({ name: '박지영', companyName: '현대자동차 주식회사, 울산공장' });
  });
});

describe('Excel for Windows, Thai locale (Windows-874, Thai headers)', () => {
  it('reads it as Windows-874: Thai names and headers, national mobile numbers', async () => {
    const { bytes, file } = fixture('excelWindowsThai');
    const result = await importFile(bytes, file, { defaultCountry: 'TH' });
    expect(result.job.result.file).toMatchObject({ encoding: 'windows-874', delimiter: ',', headerLine: 1 });
    expect(result.counts).toMatchObject({ rowsRead: 2, created: 2, rejected: 0 });
    expect(result.job.result.file.skippedColumns.map((column: { header: string }) => column.header)).toEqual(['หมายเหตุ']);
    const somchai = await contact('email', 'somchai.jaidee@example.co.th');
    expect(somchai).toMatchObject({ name: 'สมชาย ใจดี', companyName: 'บริษัท ไทยเทค จำกัด', jobTitle: 'ผู้จัดการฝ่ายขาย', state: 'กรุงเทพมหานคร' });
    expect(channelsOf(somchai, 'phone')).toEqual(['+66817342956']);
    expect(await contact('email', 'somying@example.co.th')).toMatchObject({ name: 'สมหญิง รักไทย', companyName: 'ห้างหุ้นส่วน สยามการค้า, สาขาเชียงใหม่' });
  });
});

describe('Mailchimp audience export (TAGS as a quoted list, upper-case system columns)', () => {
  it('takes each quoted tag as a tag, and leaves Mailchimp’s own columns out', async () => {
    const { bytes, file } = fixture('mailchimp');
    const result = await importFile(bytes, file, { defaultCountry: 'US' });
    expect(result.counts).toMatchObject({ rowsRead: 2, created: 2, rejected: 0 });
    const grace = await contact('email', 'grace.hopper@example.com');
    expect(grace).toMatchObject({ name: 'Grace Hopper', tags: ['VIP', 'Webinar 2026'] });
    expect(channelsOf(grace, 'phone')).toEqual(['+17035550187']);
    expect((await contact('email', 'ken.ito@example.jp')).tags).toEqual(['Webinar 2026']);
    expect(result.job.result.file.skippedColumns.map((column: { header: string }) => column.header)).toEqual(
      expect.arrayContaining(['Address', 'MEMBER_RATING', 'OPTIN_TIME', 'LEID', 'EUID']),
    );
  });
});

describe('LinkedIn Connections.csv (Notes preamble, "URL" column, most emails missing)', () => {
  it('finds the header below the notes, keeps each profile, and says why a profile alone is not imported', async () => {
    const { bytes, file } = fixture('linkedInConnections');
    const result = await importFile(bytes, file);
    expect(result.job.result.file).toMatchObject({ headerLine: 4, delimiter: ',', encoding: 'utf-8' });
    expect(result.job.result.file.columns).toContainEqual(expect.objectContaining({ header: 'URL', target: 'linkedin' }));
    expect(result.counts).toMatchObject({ rowsRead: 4, created: 2, rejected: 2 });
    const priya = await contact('email', 'priya.raman@example.in');
    expect(priya).toMatchObject({ name: 'Priya Raman', companyName: 'Northwind Traders, Inc.', jobTitle: 'VP, Sales' });
    expect(channelsOf(priya, 'linkedin')).toEqual(['https://www.linkedin.com/in/priya-raman-4b2a1c9']);
    const zoe = await contact('email', 'zoe.lambert@example.fr');
    expect(channelsOf(zoe, 'linkedin')).toEqual(['https://www.linkedin.com/in/zoë-lambert-0a1b2c3d']);
    expect(shortly(result.errors)).toEqual(['6/2 no_channel', '8/4 no_channel']);
    expect(result.errors[0].message).toBe('The row has only a LinkedIn profile: an imported contact needs an email address or phone number too');
    expect(result.errors[1].message).toBe('The row has no email address or phone number');
  });
});

describe('Excel "Unicode Text" (UTF-16LE, tabs)', () => {
  it('reads it as tab-separated UTF-16, with the multi-line job title as one line', async () => {
    const { bytes, file } = fixture('excelUnicodeText');
    const result = await importFile(bytes, file);
    expect(result.job.result.file).toMatchObject({ encoding: 'utf-16le', delimiter: '\t' });
    expect(result.counts).toMatchObject({ rowsRead: 3, created: 3, rejected: 0 });
    expect(await contact('email', 'lukasz@example.pl')).toMatchObject({ name: 'Łukasz Wiśniewski', jobTitle: 'Kierownik sprzedaży' });
    expect(await contact('email', 'wang.fang@example.cn')).toMatchObject({ name: '王芳', companyName: '北京科技' });
    expect((await contact('phone', '+306912345678')).name).toBe('Ολυμπία Παπαδοπούλου');
  });
});

describe('a report with its title above the header', () => {
  it('finds the header below the title lines, and counts lines from the top of the file', async () => {
    const { bytes, file } = fixture('reportWithTitle');
    const result = await importFile(bytes, file);
    expect(result.job.result.file).toMatchObject({ delimiter: '\t', headerLine: 4 });
    expect(result.counts).toMatchObject({ rowsRead: 2, created: 2, rejected: 0 });
    expect(await contact('email', 'hana@novak.example')).toMatchObject({ name: 'Hana Novák', companyName: 'Novák s.r.o.' });
  });

  it('refuses a file with no header it can find, naming the lines it looked at', async () => {
    const res = await refused(Buffer.from('Quarterly report\r\nNothing to see\r\n'), 'report.csv');
    expect(res.status).toBe(422);
    expect(res.body.reason).toBe('no_channel_column');
    expect(res.body.detail ?? res.body.title).toMatch(/email or phone/i);
  });
});

describe('an XLSX report (hidden sheet, empty sheet, merged title and header, formulas, dates, rich text)', () => {
  let result: Awaited<ReturnType<typeof importFile>>;
  beforeAll(async () => {
    result = await importFile(await crmReportWorkbook(), 'report.xlsx', { defaultCountry: 'GB', mapping: { Birthday: 'custom:birthday' } });
  });

  it('reads the first visible sheet with data, below its merged title', () => {
    expect(result.job.result.file).toMatchObject({ sheet: 'Contacts', headerLine: 2 });
    expect(result.counts).toMatchObject({ rowsRead: 4, created: 2, blank: 1, rejected: 1 });
  });

  it('takes formulas’ results, rich text, numbers as phones, a date cell, trimmed cells, both columns under the merged "Phone"', async () => {
    const grace = await contact('email', 'grace@navy.example');
    expect(grace).toMatchObject({ name: 'Grace Hopper', companyName: 'US NAVY', ownerId: acme.owner.user.id, customFields: { birthday: '1906-12-09' } });
    expect(channelsOf(grace, 'phone')).toEqual(['+447400123457', '+12025550143']);
    const alan = await contact('email', 'alan@bletchley.example');
    expect(alan).toMatchObject({ name: 'Alan Turing', companyName: 'Bletchley Park', customFields: { birthday: '1912-06-23' } });
    expect(channelsOf(alan, 'phone')).toEqual(['+442079460017']);
  });

  it('reports the row without a channel at its sheet row, and never reads the hidden sheet', async () => {
    expect(shortly(result.errors)).toEqual(['6/4 no_channel']);
    const hidden = await stack.api('GET', '/v1/contacts/lookup', { token: acme.owner.token, query: { kind: 'email', value: 'hidden@lookup.example' } });
    expect(hidden.status).toBe(404);
  });

  it('refuses a workbook with nothing in it, saying so', async () => {
    const res = await refused(await emptyWorkbook(), 'empty.xlsx');
    expect(res.status).toBe(422);
    expect(res.body.reason).toBe('empty');
    expect(res.body.detail ?? res.body.title).toMatch(/Sheet1.*empty/);
  });
});

describe('files it cannot read', () => {
  it.each([
    ['a PDF saved as .csv', Buffer.from('%PDF-1.7\n%âãÏÓ\n1 0 obj\n'), 'contacts.csv', 'binary', /PDF/],
    ['UTF-16 text without a byte-order mark', Buffer.from('Name\tEmail\r\nAna\tana@example.com\r\n', 'utf16le'), 'contacts.csv', 'binary', /UTF-16.*save it as UTF-8/],
    ['an .xlsx workbook named .csv', Buffer.from('PK\u0003\u0004 workbook bytes'), 'contacts.csv', 'not_csv', /upload it as XLSX/],
    ['a CSV named .xlsx', Buffer.from('Name,Email\nAna,ana@example.com\n'), 'contacts.xlsx', 'not_xlsx', /upload it as CSV/],
  ])('refuses %s with a 422 that says what to do', async (_what, bytes, fileName, reason, message) => {
    const res = await refused(bytes, fileName);
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ reason, detail: expect.stringMatching(message) });
  });

  it('refuses an .xls too large to read whole before the upload, saying to save it as .xlsx or CSV', async () => {
    const res = await stack.api('POST', '/v1/imports/uploads', { token: acme.owner.token, body: { fileName: 'contacts.xls', sizeBytes: 33 * 1024 * 1024 } });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ code: 'limit_exceeded', limit: 32 * 1024 * 1024, detail: expect.stringMatching(/\.xlsx or CSV/) });
    const small = await stack.api('POST', '/v1/imports/uploads', { token: acme.owner.token, body: { fileName: 'contacts.xls', sizeBytes: 1024 } });
    expect(small.status).toBe(201);
    expect(small.body).toMatchObject({ format: 'xls', uploadHeaders: { 'content-type': 'application/vnd.ms-excel' } });
  });
});
