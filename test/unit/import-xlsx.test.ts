import { randomBytes } from 'node:crypto';
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { cellText, dateText, excelSerialToDate, isDateFormat, numberText } from '../../domain/imports/cell-text';
import { openImportFile, type ImportRowRead, type OpenImportFileOptions } from '../../domain/imports/import-file';
import type { ImportCandidate, NormalisedRow } from '../../domain/imports/import-row';
import { flattenStrings } from '../../domain/imports/xlsx-reader';
import { fakeBlobStore } from '../support/fakes';
import { buildXlsx, zip, type XlsxOptions, type XlsxSheetSpec } from '../support/xlsx-files';

const key = 'uploads/ws_1/jobs/job_1/contacts.xlsx';

/** Text that does not compress, so that a sheet's size in the zip is what the test needs. */
const randomText = (length: number) => randomBytes(length).toString('base64url').slice(0, length);

async function storeWith(bytes: Uint8Array, readChunkBytes = 512) {
  const blobs = fakeBlobStore({ readChunkBytes });
  await blobs.put(key, bytes, 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
  return blobs;
}

async function readRows(bytes: Uint8Array, options: Partial<OpenImportFileOptions> = {}) {
  const blobs = await storeWith(bytes);
  const file = await openImportFile(blobs, key, { claimedFormat: 'xlsx', ...options });
  const reads: ImportRowRead[] = [];
  for await (const read of file.rows()) reads.push(read);
  return { file, reads, rows: reads.map((read) => read.row), blobs };
}

const candidates = (rows: NormalisedRow[]): ImportCandidate[] => rows.flatMap((row) => (row.kind === 'candidate' ? [row.candidate] : []));

function summary(row: NormalisedRow): string {
  if (row.kind === 'blank') return `${row.position.row}@${row.position.line} blank`;
  if (row.kind === 'rejected') return `${row.rejection.row}@${row.rejection.line} ${row.rejection.code}`;
  return `${row.candidate.row}@${row.candidate.line} ${row.candidate.name} | ${row.candidate.channels.map((c) => c.value).join(' ')}`;
}

const header = ['Name', 'Email', 'Phone', 'Custom: born', 'Custom: seen', 'Custom: score', 'Custom: active', 'Custom: lookup', 'Custom: note'];
const contacts: XlsxSheetSpec = {
  name: 'Contacts',
  rows: [
    header,
    ['Анна Каренина', 'ANNA@example.ru', 4915112345678, { date: 45352 }, { date: 45352.6041666667, format: 'datetime' }, 1.5, true, { formula: 'VLOOKUP(A2,X,2)', result: 'found' }, { rich: ['Bold', ' and plain'] }],
    ['李小龍', 'lee@example.com', 2079460958, { date: 36526 }, null, 0.1 + 0.2, false, { formula: 'B1', result: 45352, format: 'date' }, { phonetic: ['東京', 'トウキョウ'] }],
    undefined,
    ['محمد', 'mo@example.com', '+971 50 123 4567', null, null, 1e21, null, { error: '#N/A' }, 'x'],
  ],
};

describe('XLSX reading', () => {
  it.each<[string, XlsxOptions]>([
    ['Excel’s order (sheets before shared strings and styles)', { order: 'excel' }],
    ['shared strings and styles first', { order: 'parts-first' }],
    ['data descriptors (streaming writers)', { dataDescriptors: true }],
    ['inline strings', { strings: 'inline' }],
    ['the workbook at another path', { workbookPath: 'xl/book.xml' }],
  ])('reads values as text: %s', async (_name, options) => {
    const { file, rows } = await readRows(buildXlsx([contacts], options), { defaultCountry: 'GB' });

    expect(file.info).toMatchObject({ format: 'xlsx', sheet: 'Contacts', sheets: ['Contacts'], headerLine: 1, headers: header });
    expect(rows.map(summary)).toEqual([
      '1@2 Анна Каренина | anna@example.ru +4915112345678',
      '2@3 李小龍 | lee@example.com +442079460958',
      '3@4 blank',
      '4@5 محمد | mo@example.com +971501234567',
    ]);
    const [anna, lee, mo] = candidates(rows);
    // A phone stored as a number is its digits, Excel having dropped its +: not a GB number, a German one.
    expect(anna!.dropped).toBeUndefined();
    // Dates are ISO; numbers have no float noise or exponent.
    expect(anna!.raw.slice(2)).toEqual(['4915112345678', '2024-03-01', '2024-03-01T14:30:00', '1.5', 'true', 'found', 'Bold and plain']);
    expect(lee!.customFields).toEqual({ born: '2000-01-01', score: '0.3', active: 'false', lookup: '2024-03-01', note: '東京' });
    expect(mo!.customFields).toEqual({ score: '1000000000000000000000', note: 'x' });
  });

  it('keeps a row with text right of the last header cell (notes under a merged header, a stray cell), reading only the cells under a header', async () => {
    // "Notes" merged over D1:F1 heads column D alone; there is no delimiter a spreadsheet cell could have been split on.
    const book = buildXlsx([
      {
        name: 'S',
        rows: [
          ['Name', 'Email', 'Phone', 'Notes'],
          ['Merged Notes', 'merged@example.com', '+1 303 555 0101', 'called', 'left voicemail', 'follow up'],
          ['Stray Note', 'stray@example.com', null, '', 'call back Monday'],
          [null, null, null, null, null, 'a note alone'],
          ['Plain Row', 'plain@example.com'],
        ],
      },
    ]);
    const { rows } = await readRows(book);

    expect(rows.map(summary)).toEqual([
      '1@2 Merged Notes | merged@example.com +13035550101',
      '2@3 Stray Note | stray@example.com',
      '3@4 blank',
      '4@5 Plain Row | plain@example.com',
    ]);
    expect(candidates(rows)[0]!.raw).toEqual(['Merged Notes', 'merged@example.com', '+1 303 555 0101', 'called', 'left voicemail', 'follow up']);
    expect(candidates(rows).every((candidate) => candidate.dropped === undefined)).toBe(true);
    expect(await (await openImportFile(await storeWith(book), key, { claimedFormat: 'xlsx' })).count()).toEqual({ rows: 4, nonBlank: 3 });

    // A last "Phone" merged over two columns names both, as an unnamed column inside the header would be.
    const phones = await readRows(buildXlsx([{ name: 'S', rows: [['Name', 'Email', 'Phone'], ['Two Phones', null, '+1 303 555 0101', '+1 303 555 0102']] }]));
    expect(phones.rows.map(summary)).toEqual(['1@2 Two Phones | +13035550101 +13035550102']);
  });

  it('reads dates in the 1904 date system', async () => {
    const { rows } = await readRows(buildXlsx([{ name: 'S', rows: [['Email', 'Custom: born'], ['a@example.com', { date: 43890 }]] }], { date1904: true }));

    expect(candidates(rows)[0]!.customFields.born).toBe('2024-03-01');
  });

  it('reads the first visible sheet by default, a named one when asked (case-insensitively), and lists the sheets when the name is unknown', async () => {
    const book = buildXlsx([
      { name: 'Hidden', hidden: true, rows: [['Email'], ['hidden@example.com']] },
      { name: 'Leads', rows: [['Email'], ['lead@example.com']] },
      { name: 'Kunden 2024', rows: [['E-Mail-Adresse'], ['kunde@example.de']] },
    ]);

    expect(candidates((await readRows(book)).rows)[0]!.channels[0]!.value).toBe('lead@example.com');
    const named = await readRows(book, { sheet: 'kunden 2024' });
    expect(named.file.info.sheet).toBe('Kunden 2024');
    expect(candidates(named.rows)[0]!.channels[0]!.value).toBe('kunde@example.de');
    await expect(readRows(book, { sheet: 'Customers' })).rejects.toMatchObject({
      code: 'sheet_not_found',
      message: 'The workbook has no sheet "Customers"; its sheets: "Hidden", "Leads", "Kunden 2024"',
      details: { sheets: ['Hidden', 'Leads', 'Kunden 2024'] },
    });
  });

  it('streams only the chosen sheet and the parts it needs, never the other sheets', async () => {
    const filler = Array.from({ length: 3000 }, () => [randomText(40)]);
    const book = buildXlsx([
      { name: 'Big', rows: [['Email'], ...filler] },
      { name: 'Small', rows: [['Email'], ['a@example.com']] },
    ], { strings: 'inline' });
    const { blobs } = await readRows(book, { sheet: 'Small' });

    const served = blobs.reads.reduce((sum, read) => sum + read.bytesServed, 0);
    expect(served).toBeLessThan(book.length / 2);
  });

  it('takes the first non-empty row as the header, and empty rows the sheet leaves out as blank rows', async () => {
    const { file, rows } = await readRows(
      buildXlsx([{ name: 'S', rows: [undefined, [null, ''], ['Name', 'Email'], ['A', 'a@example.com'], undefined, undefined, ['B', 'b@example.com']] }]),
    );

    expect(file.info.headerLine).toBe(3);
    expect(rows.map(summary)).toEqual(['1@4 A | a@example.com', '2@5 blank', '3@6 blank', '4@7 B | b@example.com']);
  });

  it('reads non-Latin text from a large workbook written by exceljs without damaging characters at chunk boundaries', async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('Контакты');
    sheet.addRow(['Имя', 'Email']);
    const names = Array.from({ length: 4000 }, (_, i) => `Анна-Мария Каренина ${i} 東京都渋谷区 ${i % 7 ? 'ü' : '😀'}`);
    names.forEach((name, i) => sheet.addRow([name, `p${i}@example.com`]));
    const bytes = new Uint8Array(await workbook.xlsx.writeBuffer());

    const { file, rows } = await readRows(bytes, { mapping: { Имя: 'name' } });

    expect(file.info.sheet).toBe('Контакты');
    expect(candidates(rows).map((c) => c.name)).toEqual(names);
  });

  it('reads phones stored as numbers as their digits, and takes them as the numbers they were', async () => {
    // What a sheet holds when phones were typed as numbers: Excel dropped the + (and a national 0);
    // other writers spell the same numbers with an exponent or a trailing .0.
    const sheet = `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>${[
      ['<c r="A1" t="s"><v>0</v></c>', '<c r="B1" t="s"><v>1</v></c>'],
      ['<c r="A2" t="s"><v>2</v></c>', '<c r="B2"><v>33612345678</v></c>'],
      ['<c r="A3" t="s"><v>3</v></c>', '<c r="B3"><v>3.3612345679E+10</v></c>'],
      ['<c r="A4" t="s"><v>4</v></c>', '<c r="B4"><v>612345670.0</v></c>'],
      ['<c r="A5" t="s"><v>5</v></c>', '<c r="B5"><v>447911123456</v></c>'],
      // A string index past the table (a damaged file) reads as an empty cell.
      ['<c r="A6" t="s"><v>6</v></c>', '<c r="B6" t="s"><v>99</v></c>'],
    ]
      .map((cells, r) => `<row r="${r + 1}">${cells.join('')}</row>`)
      .join('')}</sheetData></worksheet>`;
    const strings = ['Email', 'Phone', 'a@example.com', 'b@example.com', 'c@example.com', 'd@example.com', 'e@example.com'];
    const book = zip(
      [
        ['xl/workbook.xml', '<workbook xmlns:r="r"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>'],
        [
          'xl/_rels/workbook.xml.rels',
          '<Relationships><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
        ],
        ['xl/worksheets/sheet1.xml', sheet],
        ['xl/sharedStrings.xml', `<sst>${strings.map((text) => `<si><t>${text}</t></si>`).join('')}</sst>`],
      ].map(([name, xml]) => [name!, Buffer.from(xml!)] as [string, Uint8Array]),
    );

    const { rows } = await readRows(book, { defaultCountry: 'FR' });

    expect(rows.map(summary)).toEqual([
      '1@2 a@example.com | a@example.com +33612345678',
      '2@3 b@example.com | b@example.com +33612345679',
      '3@4 c@example.com | c@example.com +33612345670',
      '4@5 d@example.com | d@example.com +447911123456',
      '5@6 e@example.com | e@example.com',
    ]);
    expect(rows.map((row) => (row.kind === 'candidate' ? row.candidate.raw : []))).toEqual([
      ['a@example.com', '33612345678'],
      ['b@example.com', '33612345679'],
      ['c@example.com', '612345670'],
      ['d@example.com', '447911123456'],
      ['e@example.com', ''],
    ]);
  });

  it('flattens string items to their text (runs joined, phonetic readings dropped) even when a chunk ends inside one', async () => {
    const xml =
      '<sst><si><t>東京</t><rPh sb="0" eb="2"><t>トウキョウ</t></rPh><phoneticPr fontId="1"/></si><si><r><rPr><b/></rPr><t>Bo</t></r><r><t xml:space="preserve">ld &amp; x</t></r></si><si/><si><t/></si></sst>';
    const flat = '<sst><si><t xml:space="preserve">東京</t></si><si><t xml:space="preserve">Bold &amp; x</t></si><si/><si><t xml:space="preserve"></t></si></sst>';
    for (let cut = 1; cut < xml.length; cut++) {
      const out: string[] = [];
      for await (const text of flattenStrings((async function* () { yield xml.slice(0, cut); yield xml.slice(cut); })(), 'si')) out.push(text);
      expect(out.join('')).toBe(flat);
    }
  });
});

describe('XLSX continuation', () => {
  const rows: XlsxSheetSpec['rows'] = [['Name', 'Email'], ['A', 'a@example.com'], undefined, ['B', 'not-an-email'], ['C', 'c@example.com'], [null, ''], ['D', 'd@example.com']];

  it('resuming after any row streams the sheet again, skips what was handled and gives exactly the remaining rows', async () => {
    const book = buildXlsx([{ name: 'Other', rows: [['x']] }, { name: 'People', rows }]);
    const all = await readRows(book, { sheet: 'People' });
    expect(all.rows.map(summary)).toEqual(['1@2 A | a@example.com', '2@3 blank', '3@4 invalid_email', '4@5 C | c@example.com', '5@6 blank', '6@7 D | d@example.com']);

    for (const [i, { cursor }] of all.reads.entries()) {
      const blobs = await storeWith(book);
      const resumed = await openImportFile(blobs, key, { claimedFormat: 'xlsx', sheet: 'People', cursor: JSON.parse(JSON.stringify(cursor)) });
      const rest: NormalisedRow[] = [];
      for await (const read of resumed.rows()) rest.push(read.row);
      expect(rest).toEqual(all.rows.slice(i + 1));
    }
  });

  it('reads to the end a sheet whose reader waits between rows (a job writing a chunk), from the start or a cursor', async () => {
    // The zip stream given to exceljs ended without a directory: its unzipper failed with FILE_ENDED when
    // the stream's end came while the reader was busy, after the sheet's last row.
    const many = Array.from({ length: 60 }, (_, i) => [`Person ${i}`, `p${i}@example.com`]);
    const book = buildXlsx([{ name: 'S', rows: [['Name', 'Email'], ...many] }]);
    for (const cursor of [undefined, { format: 'xlsx' as const, size: book.length, sheet: 'S', sheetRow: 31, row: 30 }]) {
      const file = await openImportFile(await storeWith(book), key, { claimedFormat: 'xlsx', ...(cursor ? { cursor } : {}) });
      const names: string[] = [];
      for await (const { row } of file.rows()) {
        if (row.kind === 'candidate') names.push(row.candidate.name);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      expect(names).toEqual(many.slice(cursor?.row ?? 0).map(([name]) => name));
    }
  });

  it('refuses a cursor of another sheet or another file', async () => {
    const book = buildXlsx([{ name: 'A', rows: [['Email'], ['a@example.com']] }, { name: 'B', rows: [['Email'], ['b@example.com']] }]);
    const { reads } = await readRows(book, { sheet: 'A' });
    const blobs = await storeWith(book);

    await expect(openImportFile(blobs, key, { claimedFormat: 'xlsx', sheet: 'B', cursor: reads[0]!.cursor })).rejects.toMatchObject({ code: 'file_changed' });
  });

  // With shared strings the sheet must stream too (exceljs spools a sheet to a file when it holds no
  // strings table by the sheet: the first row would come after the whole sheet was read). Such a sheet
  // holds indexes that compress well: more rows, and a number that does not, so that the sheet is
  // larger than what the streams buffer ahead (~130 KB).
  it.each([
    ['inline', 5000],
    ['shared', 20_000],
  ] as const)('stops streaming when the loop breaks (%s strings)', async (strings, length) => {
    const many = Array.from({ length }, (_, i) => [randomText(30), `p${i}@example.com`, ...(strings === 'shared' ? [Math.random()] : [])]);
    const blobs = await storeWith(buildXlsx([{ name: 'S', rows: [['Name', 'Email'], ...many] }], { strings, order: 'parts-first' }), 256);
    const file = await openImportFile(blobs, key, { claimedFormat: 'xlsx' });
    const size = blobs.objects.get(key)!.body.length;

    let count = 0;
    for await (const read of file.rows()) {
      expect(read.fraction).toBeLessThan(1);
      if (++count === 5) break;
    }

    const served = blobs.reads.reduce((sum, read) => sum + read.bytesServed, 0);
    expect(served).toBeLessThan(size);
  });

  it('counts the rows, gaps included, without normalising them', async () => {
    const book = buildXlsx([{ name: 'S', rows: [['Email'], ['a@example.com'], undefined, ['bad'], [''], undefined] }]);
    const blobs = await storeWith(book);

    expect(await (await openImportFile(blobs, key, { claimedFormat: 'xlsx' })).count()).toEqual({ rows: 3, nonBlank: 2 });
    await expect((await openImportFile(blobs, key, { claimedFormat: 'xlsx', limits: { maxRows: 2 } })).count()).rejects.toMatchObject({ code: 'too_many_rows' });
  });

  it('stops with too_many_rows past the row limit', async () => {
    const book = buildXlsx([{ name: 'S', rows: [['Email'], ['a@example.com'], ['b@example.com'], ['c@example.com']] }]);
    const blobs = await storeWith(book);
    const file = await openImportFile(blobs, key, { claimedFormat: 'xlsx', limits: { maxRows: 2 } });

    await expect(async () => {
      for await (const _read of file.rows());
    }).rejects.toMatchObject({ code: 'too_many_rows' });
  });
});

describe('XLSX wrong files', () => {
  it.each([
    ['a CSV claimed as XLSX', Buffer.from('Name,Email\nA,a@example.com\n'), 'not_xlsx', 'upload it as CSV'],
    ['a legacy .xls', Buffer.from('d0cf11e0a1b11ae10000000000000000', 'hex'), 'not_xlsx', '.xls'],
    ['a zip that is not a workbook', zip([['word/document.xml', Buffer.from('<w:document/>')]]), 'not_xlsx', 'no workbook'],
    ['a workbook without a worksheet', zip([['xl/workbook.xml', Buffer.from('<workbook><sheets/></workbook>')], ['xl/_rels/workbook.xml.rels', Buffer.from('<Relationships/>')]]), 'not_xlsx', 'no worksheet'],
    ['a truncated upload', buildXlsx([contacts]).subarray(0, 900), 'unreadable', 'no zip directory'],
  ])('refuses %s', async (_name, bytes, code, message) => {
    await expect(readRows(bytes)).rejects.toMatchObject({ code, message: expect.stringContaining(message) });
  });
});

describe('cell text', () => {
  it.each([
    [4915112345678, '4915112345678'],
    // Phones that a spreadsheet stored as numbers: their digits, never 3.3612345678E+10 or a trailing .0.
    [33612345678, '33612345678'],
    [Number.parseFloat('3.3612345678E+10'), '33612345678'],
    [Number.parseFloat('612345678.0'), '612345678'],
    [447911123456, '447911123456'],
    [1.5, '1.5'],
    [0.1 + 0.2, '0.3'],
    [1e21, '1000000000000000000000'],
    [1e-7, '0.0000001'],
    [-0, '0'],
    [-42.25, '-42.25'],
    [123456789012345678, '123456789012346000'],
    [Number.NaN, ''],
  ])('writes the number %d as %s', (value, text) => {
    expect(numberText(value)).toBe(text);
  });

  it('writes dates as ISO, with the time of day when there is one', () => {
    expect(dateText(new Date(Date.UTC(2024, 2, 1)))).toBe('2024-03-01');
    expect(dateText(new Date(Date.UTC(2024, 2, 1, 14, 29, 59, 999)))).toBe('2024-03-01T14:30:00');
    expect(dateText(excelSerialToDate(45352.5))).toBe('2024-03-01T12:00:00');
    expect(dateText(new Date(Number.NaN))).toBe('');
  });

  it('reads every kind of exceljs value', () => {
    expect(cellText(null)).toBe('');
    expect(cellText('text')).toBe('text');
    expect(cellText(true)).toBe('true');
    expect(cellText({ richText: [{ text: 'a' }, { text: 'b' }] })).toBe('ab');
    expect(cellText({ formula: 'A1', result: 7 })).toBe('7');
    expect(cellText({ sharedFormula: 'A1', result: 45352 }, 'yyyy-mm-dd')).toBe('2024-03-01');
    expect(cellText({ formula: 'A1', result: { error: '#DIV/0!' } })).toBe('');
    expect(cellText({ error: '#N/A' })).toBe('');
    expect(cellText({ text: 'site', hyperlink: 'https://example.com' })).toBe('site');
    expect(cellText({ text: { richText: [{ text: 'rich link' }] }, hyperlink: 'https://example.com' })).toBe('rich link');
  });

  it('tells date formats from number formats', () => {
    for (const format of ['yyyy-mm-dd', 'm/d/yy', 'h:mm', 'dd.mm.yyyy hh:mm', '[$-409]mmmm d, yyyy']) expect(isDateFormat(format)).toBe(true);
    for (const format of ['General', '0.00', '#,##0 "pcs"', '0%', '[Red]0.00', '@', '[<=9999999]###-####;(###) ###-####', '+## # ## ## ## ##']) {
      expect(isDateFormat(format)).toBe(false);
    }
  });
});
