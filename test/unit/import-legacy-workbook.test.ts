import XLSX from '@e965/xlsx';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openImportFile, type OpenImportFileOptions } from '../../domain/imports/import-file';
import type { NormalisedRow } from '../../domain/imports/import-row';
import {
  decodeCharacterReferences,
  markupText,
  maxLegacyWorkbookBytes,
  openLegacyWorkbook,
  sniffLegacyWorkbook,
} from '../../domain/imports/legacy-workbook';
import { fixturesDirectory } from '../fixtures/imports/csv-fixtures';
import { fakeBlobStore } from '../support/fakes';

const summary = (row: NormalisedRow) =>
  row.kind === 'candidate'
    ? `${row.candidate.sheetRow}: ${row.candidate.name} | ${row.candidate.channels.map((c) => c.value).join(' ')} | ${JSON.stringify(row.candidate.fields)}`
    : `${row.kind === 'rejected' ? `${row.rejection.sheetRow}: ${row.rejection.code}` : row.kind}`;

async function readRows(
  bytes: Uint8Array | string,
  options: Partial<OpenImportFileOptions> & { claimedFormat: 'xls' | 'ods' },
) {
  const blobs = fakeBlobStore({ readChunkBytes: 4096 });
  await blobs.put(
    'uploads/ws_1/jobs/job_1/upload.xls',
    typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes,
    'application/vnd.ms-excel',
  );
  const file = await openImportFile(blobs, 'uploads/ws_1/jobs/job_1/upload.xls', {
    defaultCountry: 'GB',
    ...options,
  });
  const rows: NormalisedRow[] = [];
  const cursors = [];
  for await (const read of file.rows()) {
    rows.push(read.row);
    cursors.push(read.cursor);
  }
  return { info: file.info, rows: rows.map(summary), cursors };
}

/** A workbook as SheetJS writes it (the fixtures of other writers are imported in imports-legacy.test.ts). */
function workbook(bookType: 'biff8' | 'xlml' | 'ods') {
  const book = XLSX.utils.book_new();
  XLSX.utils.book_append_sheet(book, XLSX.utils.aoa_to_sheet([['nothing here']]), 'Hidden one');
  XLSX.utils.book_append_sheet(
    book,
    XLSX.utils.aoa_to_sheet([
      ['Contacts by account'],
      [],
      ['First Name', 'Last Name', 'Email', 'Phone', 'Account Name', 'Created'],
      [
        'Zoë',
        'Ångström',
        'zoe@example.com',
        442079460123,
        'Müller & Söhne',
        { t: 'n', v: 45000, z: 'yyyy-mm-dd' },
      ],
      [],
      ['Bo', 'Chen', '', '020 7946 0958', 'Initech', { t: 'n', v: 45001.5, z: 'yyyy-mm-dd hh:mm' }],
      ['No', 'Channel', '', '', 'Nowhere'],
    ]),
    'Contacts',
  );
  book.Workbook = { Sheets: [{ Hidden: 1 }, { Hidden: 0 }] };
  return XLSX.write(book, { type: 'buffer', bookType }) as Buffer;
}

describe('legacy workbooks (.xls, Excel 2003 XML, .ods)', () => {
  it.each(['biff8', 'xlml', 'ods'] as const)(
    '%s: skips the hidden sheet and the title rows, reads numbers, dates and text as an .xlsx import does',
    async (bookType) => {
      const { info, rows } = await readRows(workbook(bookType), {
        claimedFormat: bookType === 'ods' ? 'ods' : 'xls',
      });
      expect(info).toMatchObject({
        format: bookType === 'ods' ? 'ods' : 'xls',
        sheet: 'Contacts',
        sheets: ['Hidden one', 'Contacts'],
        headerLine: 3,
      });
      expect(rows).toEqual([
        '4: Zoë Ångström | zoe@example.com +442079460123 | {"companyName":"Müller & Söhne"}',
        'blank',
        '6: Bo Chen | +442079460958 | {"companyName":"Initech"}',
        '7: no_channel',
      ]);
    },
  );

  it('continues from a cursor with the rows after it', async () => {
    const bytes = workbook('biff8');
    const whole = await readRows(bytes, { claimedFormat: 'xls' });
    const rest = await readRows(bytes, { claimedFormat: 'xls', cursor: whole.cursors[1] });
    expect(rest.rows).toEqual(whole.rows.slice(2));
  });

  it('reads an HTML table named .xls in the code page its meta tag declares', async () => {
    const html =
      '<html xmlns:x="urn:schemas-microsoft-com:office:excel"><head><meta http-equiv=Content-Type content="text/html; charset=windows-1252"><meta name=ProgId content=Excel.Sheet></head><body>' +
      '<table x:str><tr><td colspan=3>Report \x96 all contacts</td></tr><tr><td>Name</td><td>Email</td><td>Phone</td></tr>' +
      '<tr><td>Fran\xe7oise D\x92Arcy</td><td>francoise@example.fr</td><td>007</td></tr>' +
      '<tr><td>Ren\xe9 \x80uro</td><td>rene@example.fr</td><td>+33 1 23 45 67 89</td></tr></table></body></html>';
    expect(markupText(Buffer.from(html, 'latin1'))).toContain('Françoise D’Arcy');
    const { rows } = await readRows(html, { claimedFormat: 'xls' });
    // "007" stays text (no number guessing): not a valid phone, left out of the row.
    expect(rows).toEqual([
      '3: Françoise D’Arcy | francoise@example.fr | {}',
      '4: René €uro | rene@example.fr +33123456789 | {}',
    ]);
  });

  it('decodes character references in markup, but leaves the ones that are markup for the parser', () => {
    expect(decodeCharacterReferences('&#321;ukasz &#x15B; &eacute;t&eacute; &euro;5 &ndash; &nbsp;')).toBe(
      'Łukasz ś été €5 – \u00a0',
    );
    expect(decodeCharacterReferences('&lt;b&gt; &amp;amp; &#60;script&#62; &#38; &#34;q&#34; &#39;')).toBe(
      '&lt;b&gt; &amp;amp; &lt;script&gt; &amp; &quot;q&quot; &#39;',
    );
    expect(decodeCharacterReferences('&unknown; &#0; &#xD800; &#1114112;')).toBe(
      '&unknown; &#0; &#xD800; &#1114112;',
    );
  });

  it('refuses what is not a workbook of the claimed kind, saying what it is', () => {
    expect(sniffLegacyWorkbook(Buffer.from('d0cf11e0a1b11ae1', 'hex'), 'xls')).toBe('binary');
    expect(sniffLegacyWorkbook(Buffer.from('PK\x03\x04', 'latin1'), 'xls')).toBe('zip');
    expect(sniffLegacyWorkbook(Buffer.from('\ufeff<?xml version="1.0"?><Workbook>', 'utf8'), 'xls')).toBe(
      'markup',
    );
    expect(() => sniffLegacyWorkbook(Buffer.from('Name,Email\nAna,ana@example.com\n'), 'xls')).toThrow(
      expect.objectContaining({ code: 'not_xls', message: expect.stringContaining('upload it as CSV') }),
    );
    expect(() => sniffLegacyWorkbook(Buffer.from('%PDF-1.7\x00\x00', 'latin1'), 'xls')).toThrow(
      expect.objectContaining({ code: 'not_xls' }),
    );
    expect(() => sniffLegacyWorkbook(Buffer.from('d0cf11e0a1b11ae1', 'hex'), 'ods')).toThrow(
      expect.objectContaining({ code: 'not_ods' }),
    );
  });

  it('stops parsing a damaged workbook that would never end, and refuses it as unreadable', async () => {
    // One byte of a BIFF8 record changed (a record length) sends SheetJS round a loop that never ends.
    const looping = Buffer.from(readFileSync(join(fixturesDirectory, 'legacy', 'hubspot-export.xls')));
    looping[5521] = 4;
    const started = Date.now();
    await expect(openLegacyWorkbook(looping, 'xls', { parseMs: 500 })).rejects.toMatchObject({
      code: 'unreadable',
      message: expect.stringContaining('could not be read in'),
    });
    expect(Date.now() - started).toBeLessThan(5000);
    // The process goes on: the next workbook parses.
    expect((await openLegacyWorkbook(workbook('biff8'), 'xls')).sheets.map((sheet) => sheet.name)).toEqual([
      'Hidden one',
      'Contacts',
    ]);
  });

  it('refuses a damaged workbook as unreadable, and one over the size it reads whole as too large', async () => {
    const damaged = Buffer.concat([Buffer.from('d0cf11e0a1b11ae1', 'hex'), Buffer.alloc(600, 7)]);
    await expect(openLegacyWorkbook(damaged, 'xls')).rejects.toMatchObject({ code: 'unreadable' });
    const blobs = fakeBlobStore();
    await blobs.put('big.xls', Buffer.alloc(maxLegacyWorkbookBytes + 1), 'application/vnd.ms-excel');
    await expect(openImportFile(blobs, 'big.xls', { claimedFormat: 'xls' })).rejects.toMatchObject({
      code: 'too_large',
      message: expect.stringContaining('save it as .xlsx or CSV'),
    });
  });
});
