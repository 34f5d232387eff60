import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ImportFileError } from '../../domain/imports/import-file-error';
import { openImportFile, type ImportCursor, type ImportRowRead, type OpenImportFileOptions } from '../../domain/imports/import-file';
import type { NormalisedRow } from '../../domain/imports/import-row';
import { csvFixtures, fixturesDirectory } from '../fixtures/imports/csv-fixtures';
import { fakeBlobStore } from '../support/fakes';

const key = 'uploads/ws_1/jobs/job_1/contacts.csv';

/** A store serving the file in tiny chunks, so that every chunk boundary (mid-character, mid-CRLF) is met. */
async function storeWith(bytes: Uint8Array | string, readChunkBytes = 7) {
  const blobs = fakeBlobStore({ readChunkBytes });
  await blobs.put(key, bytes, 'text/csv');
  return blobs;
}

async function readRows(bytes: Uint8Array | string, options: Partial<OpenImportFileOptions> = {}, readChunkBytes = 7) {
  const blobs = await storeWith(bytes, readChunkBytes);
  const file = await openImportFile(blobs, key, { claimedFormat: 'csv', ...options });
  const reads: ImportRowRead[] = [];
  for await (const read of file.rows()) reads.push(read);
  return { file, reads, rows: reads.map((read) => read.row), blobs };
}

/** Each row as one short line, for readable expectations. */
function summary(row: NormalisedRow): string {
  switch (row.kind) {
    case 'blank':
      return `${row.position.row}@${row.position.line} blank`;
    case 'rejected':
      return `${row.rejection.row}@${row.rejection.line} ${row.rejection.code}${row.rejection.column ? ` (${row.rejection.column})` : ''}`;
    case 'candidate': {
      const c = row.candidate;
      return `${c.row}@${c.line} ${c.name} | ${c.channels.map((channel) => channel.value).join(' ')}`;
    }
  }
}

const utf16le = (text: string) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
const utf16be = (text: string) => Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, 'utf16le').swap16()]);

const people = 'Name,Email,Phone\r\nAna López,ana@example.com,+34 612 345 678\r\nБорис,boris@example.ru,\r\n';

describe('CSV encodings and line ends', () => {
  it.each([
    ['UTF-8 without BOM, CRLF', Buffer.from(people, 'utf8'), 'utf-8'],
    ['UTF-8 with BOM', Buffer.from(`\ufeff${people}`, 'utf8'), 'utf-8'],
    ['UTF-8, LF', Buffer.from(people.replaceAll('\r\n', '\n'), 'utf8'), 'utf-8'],
    ['UTF-8, lone CR (classic Mac)', Buffer.from(people.replaceAll('\r\n', '\r'), 'utf8'), 'utf-8'],
    ['UTF-16 LE with BOM', utf16le(people), 'utf-16le'],
    ['UTF-16 BE with BOM', utf16be(people), 'utf-16be'],
  ])('reads %s', async (_name, bytes, encoding) => {
    const { file, rows } = await readRows(bytes);

    expect(file.info).toMatchObject({ format: 'csv', encoding, delimiter: ',', headers: ['Name', 'Email', 'Phone'], headerLine: 1 });
    expect(rows.map(summary)).toEqual([
      '1@2 Ana López | ana@example.com +34612345678',
      '2@3 Борис | boris@example.ru',
    ]);
  });

  it('reads Windows-1252 (Excel "CSV" on Western Windows) and says so', async () => {
    const bytes = Buffer.from('Name;Email\r\nJos\xe9 M\xfcller \x96 \x80;jose@example.com\r\n', 'latin1');

    const { file, rows } = await readRows(bytes);

    expect(file.info.encoding).toBe('windows-1252');
    expect(file.info.delimiter).toBe(';');
    expect(rows.map(summary)).toEqual(['1@2 José Müller – € | jose@example.com']);
  });

  it('reads Windows-1252 with curly quotes, dashes and an ellipsis around words as Windows-1252, not Mac Roman', async () => {
    // Those bytes are lowercase letters in Mac Roman ("“hot”" would be "ìhotî"), which outnumbered the names' accents.
    const { file: fixtureFile, text } = csvFixtures.excelWindowsSmartQuotes;
    const { file, reads, rows } = await readRows(readFileSync(join(fixturesDirectory, fixtureFile)));

    expect(file.info.encoding).toBe('windows-1252');
    expect(rows.map(summary)).toEqual([
      '1@2 John Carter | john.c@example.com',
      '2@3 Mary Jones | mary.j@example.com',
      '3@4 Bill Stone | bill.s@example.com',
      '4@5 José Núñez | jose.n@example.com',
      '5@6 Zoë Weiß | zoe.w@example.de',
    ]);
    expect(reads.map((read) => (read.row.kind === 'candidate' ? read.row.candidate.raw.join(',') : ''))).toEqual(
      text.split('\r\n').slice(1, -1),
    );
  });

  it('settles Windows-1252 on a first non-ASCII record whose curly quotes come before its accents', async () => {
    const ascii = Array.from({ length: 3000 }, (_, i) => `Person ${i},p${i}@example.com,\r\n`).join('');
    const bytes = Buffer.from(`Name,Email,Notes\r\n${ascii}Anna Schmidt,anna@example.de,\x93two\x94\r\nZo\xeb Wei\xdf,zoe@example.de,\r\n`, 'latin1');
    expect(bytes.length).toBeGreaterThan(64 * 1024);

    const { file, rows } = await readRows(bytes, {}, 4096);

    expect(file.info.encoding).toBe('windows-1252');
    expect(summary(rows[3001]!)).toBe('3002@3003 Zoë Weiß | zoe@example.de');
  });

  it('turns to Windows-1252 when the first non-ASCII byte comes after the sniffed start, losing nothing before it', async () => {
    const ascii = Array.from({ length: 3000 }, (_, i) => `Person ${i},p${i}@example.com\r\n`).join('');
    const bytes = Buffer.from(`Name,Email\r\n${ascii}Ren\xe9e,renee@example.com\r\n`, 'latin1');
    expect(bytes.length).toBeGreaterThan(64 * 1024);

    const { file, rows } = await readRows(bytes, {}, 4096);

    expect(rows).toHaveLength(3001);
    expect(summary(rows[0]!)).toBe('1@2 Person 0 | p0@example.com');
    expect(summary(rows[3000]!)).toBe('3001@3002 Renée | renee@example.com');
    expect(file.info.encoding).toBe('windows-1252');
  });

  it('tells the one-byte encoding from the whole first record that needs it, not its first field alone', async () => {
    const ascii = Array.from({ length: 3000 }, (_, i) => `Person ${i},p${i}@example.com,Acme\r\n`).join('');
    // "Jiří Dvořák" alone reads as letters in Windows-1252 too ("Jiøí Dvoøák"); "Šťastný" beside it does not.
    const record = Buffer.from([...'Jiří Dvořák,jiri@example.cz,Šťastný s.r.o.\r\n'].map((char) => windows1250Byte(char)));
    const bytes = Buffer.concat([Buffer.from(`Name,Email,Company\r\n${ascii}`, 'latin1'), record]);
    expect(bytes.length).toBeGreaterThan(64 * 1024);

    const { file, rows } = await readRows(bytes, {}, 4096);

    expect(file.info.encoding).toBe('windows-1250');
    expect(summary(rows[3000]!)).toBe('3001@3002 Jiří Dvořák | jiri@example.cz');
  });

  it('rejects a record with invalid UTF-8 in a file that is otherwise UTF-8, and reads the rest', async () => {
    const bytes = Buffer.concat([
      Buffer.from('Name,Email\nZoë,zoe@example.com\n', 'utf8'),
      Buffer.from('Bad\xff name,bad@example.com\n', 'latin1'),
      Buffer.from('Émile,emile@example.com\n', 'utf8'),
    ]);

    const { file, rows } = await readRows(bytes);

    expect(file.info.encoding).toBe('utf-8');
    expect(rows.map(summary)).toEqual(['1@2 Zoë | zoe@example.com', '2@3 malformed_record', '3@4 Émile | emile@example.com']);
  });

  it('reads a header-only file as no rows, and a file of blank lines as having no header', async () => {
    expect((await readRows('Name,Email\r\n')).rows).toEqual([]);
    await expect(readRows('\r\n\r\n  \r\n')).rejects.toMatchObject({ code: 'empty' });
  });
});

describe('CSV records (RFC 4180)', () => {
  it('reads quoted fields with delimiters, doubled quotes and line breaks, counting physical lines', async () => {
    const csv = [
      'Name,Email,Company',
      '"Smith, Jane",jane@example.com,"The ""Best"" Co"',
      '"Multi',
      'line ""name""",multi@example.com,"A\r\nB"',
      'Last,last@example.com,Acme',
    ].join('\r\n');

    const { rows } = await readRows(csv);

    expect(rows.map(summary)).toEqual([
      '1@2 Smith, Jane | jane@example.com',
      '2@3 Multi line "name" | multi@example.com',
      '3@6 Last | last@example.com',
    ]);
    const multi = rows[1]!.kind === 'candidate' ? rows[1]!.candidate : undefined;
    expect(multi?.fields.companyName).toBe('A B');
    expect(multi?.raw).toEqual(['Multi\r\nline "name"', 'multi@example.com', 'A\r\nB']);
  });

  it.each([
    ['semicolons', 'Name;Email;Company\nAna;ana@example.com;Acme, Inc\n', ';'],
    ['tabs (Excel "Unicode Text")', 'Name\tEmail\tCompany\nAna\tana@example.com\tAcme, Inc\n', '\t'],
    ['Excel\'s sep= line', 'sep=;\nName;Email;Company\nAna;ana@example.com;Acme, Inc\n', ';'],
    ['commas', 'Name,Email,Company\nAna,ana@example.com,"Acme, Inc"\n', ','],
  ])('detects the delimiter: %s', async (_name, csv, delimiter) => {
    const { file, rows } = await readRows(csv);

    expect(file.info.delimiter).toBe(delimiter);
    expect(file.info.headers).toEqual(['Name', 'Email', 'Company']);
    expect(rows[0]!.kind === 'candidate' && rows[0]!.candidate.fields.companyName).toBe('Acme, Inc');
  });

  it('counts blank records as rows, skips blank lines before the header, accepts short rows, refuses long ones', async () => {
    const csv = '\n\nName,Email,Phone,City\nAna,ana@example.com\n\n , , \nBob,bob@example.com,,Paris,\nEve,eve@example.com,,Rome,extra\n';

    const { file, rows } = await readRows(csv);

    expect(file.info.headerLine).toBe(3);
    expect(rows.map(summary)).toEqual([
      '1@4 Ana | ana@example.com',
      '2@5 blank',
      '3@6 blank',
      '4@7 Bob | bob@example.com',
      '5@8 malformed_record',
    ]);
  });

  it('rejects a record whose quote is never closed, and goes on with the next line', async () => {
    const csv = 'Name,Email\n"Ana,ana@example.com\nBob,bob@example.com\nCy,cy@example.com\n';

    const { rows } = await readRows(csv);

    expect(rows.map(summary)).toEqual(['1@2 malformed_record', '2@3 Bob | bob@example.com', '3@4 Cy | cy@example.com']);
    expect(rows[0]!.kind === 'rejected' && rows[0]!.rejection).toMatchObject({
      raw: ['"Ana,ana@example.com'],
      message: expect.stringContaining('never closed'),
    });
  });

  it('never joins lines silently: a stray quote that would pair with a later one rejects its line', async () => {
    const csv = 'Name,Email\n"Ana,ana@example.com\nBob,bob@example.com\n"Cy",cy@example.com\n';

    const { rows } = await readRows(csv);

    expect(rows.map(summary)).toEqual(['1@2 malformed_record', '2@3 Bob | bob@example.com', '3@4 Cy | cy@example.com']);
  });

  it.each([
    ['a quote inside an unquoted field', 'Name,Email\n5" Tall,tall@example.com\nOk,ok@example.com\n', '5" Tall | tall@example.com'],
    ['a nickname in quotes', 'Name,Email\nRobert "Bob" Smith,bob@example.com\nOk,ok@example.com\n', 'Robert "Bob" Smith | bob@example.com'],
    ['text after a closing quote', 'Name,Email\n"Ana" Lopez,ana@example.com\nOk,ok@example.com\n', '"Ana" Lopez | ana@example.com'],
  ])('reads a line with %s (not RFC 4180) as written, the quote as text, and reads on', async (_name, csv, first) => {
    const { rows } = await readRows(csv);

    expect(rows.map(summary)).toEqual([`1@2 ${first}`, '2@3 Ok | ok@example.com']);
  });

  it('reads such a line in the file’s encoding, and a continuation after it lands on the next line', async () => {
    const csv = Buffer.from('Name,Email\r\nJos\xe9 "Pepe" Garc\xeda,pepe@example.es\r\n"Zo\xeb",zoe@example.com\r\n', 'latin1');

    const { file, rows } = await readRows(csv);

    expect(file.info.encoding).toBe('windows-1252');
    expect(rows.map(summary)).toEqual(['1@2 José "Pepe" García | pepe@example.es', '2@3 Zoë | zoe@example.com']);
  });

  it('reads such a line in a UTF-16 file (Excel "Unicode Text") too', async () => {
    const text = 'Name\tEmail\r\nRobert "Bob" Smith\tbob@example.com\r\nZoë\tzoe@example.com\r\n';

    const { rows } = await readRows(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));

    expect(rows.map(summary)).toEqual(['1@2 Robert "Bob" Smith | bob@example.com', '2@3 Zoë | zoe@example.com']);
  });

  it('reads a file with a stray quote on every line from one request, and a malformed line in it too', async () => {
    const lines = Array.from({ length: 200 }, (_, i) => `Robert "Bob" Smith ${i},bob${i}@example.com`);
    lines.splice(100, 0, '"Never closed,never@example.com');
    const csv = `Name,Email\r\n${lines.join('\r\n')}\r\n`;

    const { rows, blobs } = await readRows(csv, {}, 64);

    expect(rows).toHaveLength(201);
    expect(rows.map(summary).slice(99, 102)).toEqual([
      '100@101 Robert "Bob" Smith 99 | bob99@example.com',
      '101@102 malformed_record',
      '102@103 Robert "Bob" Smith 100 | bob100@example.com',
    ]);
    expect(blobs.reads).toHaveLength(1);
  });

  it('bounds a record by maxRecordBytes, so a stray quote early in a big file costs one row', async () => {
    const tail = Array.from({ length: 50 }, (_, i) => `P${i},p${i}@example.com\n`).join('');
    const csv = `Name,Email\n"Ana ""the"" Best",ana@example.com\n"Stray,stray@example.com\n${tail}`;

    const { rows } = await readRows(csv, { maxRecordBytes: 200 });

    // The stray quote swallows what follows up to 200 bytes, then only its own line is dropped.
    expect(rows.map(summary).slice(0, 3)).toEqual(['1@2 Ana "the" Best | ana@example.com', '2@3 malformed_record', '3@4 P0 | p0@example.com']);
    expect(rows[1]).toMatchObject({ rejection: { message: 'The record is longer than 200 bytes (a stray "?): the line was skipped' } });
    expect(rows).toHaveLength(52);
  });

  it('rejects a line longer than the record limit as such, not as a stray quote, and reads on', async () => {
    const notes = `"${'x'.repeat(150)}, ""quoted"" ${'y'.repeat(150)}"`;
    const csv = `Name,Email,Notes
Huge Note,huge@example.com,${notes}
Next,next@example.com,
`;

    const { rows } = await readRows(csv, { maxRecordBytes: 200 });

    expect(rows.map(summary)).toEqual(['1@2 malformed_record', '2@3 Next | next@example.com']);
    expect(rows[0]).toMatchObject({ rejection: { message: 'The line is longer than 200 bytes, the most a record may hold: the line was skipped' } });
  });

});

describe('CSV continuation from a cursor', () => {
  const csv = [
    'Name,Email,Note',
    'Ana,ana@example.com,"one',
    'two"',
    '',
    'Zoë,zoe@example.com,',
    '"Unclosed,bad@example.com',
    'Борис,boris@example.com,x',
    '李小龍,lee@example.com,y',
  ].join('\r\n');

  it.each([
    ['UTF-8', Buffer.from(csv, 'utf8')],
    ['UTF-8 with BOM', Buffer.from(`\ufeff${csv}`, 'utf8')],
    ['UTF-16 LE', utf16le(csv)],
    ['UTF-16 BE', utf16be(csv)],
  ])('%s: resuming after any row gives exactly the remaining rows, reading from the cursor’s byte offset', async (_name, bytes) => {
    const all = await readRows(bytes);
    expect(all.rows.map(summary)).toEqual([
      '1@2 Ana | ana@example.com',
      '2@4 blank',
      '3@5 Zoë | zoe@example.com',
      '4@6 malformed_record',
      '5@7 Борис | boris@example.com',
      '6@8 李小龍 | lee@example.com',
    ]);

    for (const [i, { cursor }] of all.reads.entries()) {
      const blobs = await storeWith(bytes);
      const resumed = await openImportFile(blobs, key, { claimedFormat: 'csv', cursor: JSON.parse(JSON.stringify(cursor)) as ImportCursor });
      const rest: NormalisedRow[] = [];
      for await (const read of resumed.rows()) rest.push(read.row);

      expect(rest).toEqual(all.rows.slice(i + 1));
      // Only the header is read again; the rows come from a range read at the cursor (and the
      // malformed record's line, once more, when it is among them).
      const offset = cursor.format === 'csv' ? cursor.offset : -1;
      expect(blobs.reads[1]?.start).toBe(offset);
      const served = blobs.reads.slice(1).reduce((sum, read) => sum + read.bytesServed, 0);
      expect(served).toBeLessThanOrEqual(2 * (bytes.length - offset) + 60);
    }
  });

  it('keeps Windows-1252 once settled, across a continuation', async () => {
    const bytes = Buffer.from('Name,Email\r\nJos\xe9,jose@example.com\r\nRen\xe9e,renee@example.com\r\n', 'latin1');
    const first = await readRows(bytes);
    const blobs = await storeWith(bytes);

    const resumed = await openImportFile(blobs, key, { claimedFormat: 'csv', cursor: first.reads[0]!.cursor });
    const rest: NormalisedRow[] = [];
    for await (const read of resumed.rows()) rest.push(read.row);

    expect(first.reads[0]!.cursor).toMatchObject({ encoding: 'windows-1252', settled: true });
    expect(rest.map(summary)).toEqual(['2@3 Renée | renee@example.com']);
  });

  it('refuses a cursor made on another file', async () => {
    const first = await readRows(people);
    const blobs = await storeWith(`${people}Extra,extra@example.com\r\n`);

    await expect(openImportFile(blobs, key, { claimedFormat: 'csv', cursor: first.reads[0]!.cursor })).rejects.toMatchObject({ code: 'file_changed' });
  });

  it('reports how much of the file is read', async () => {
    const { reads } = await readRows(people);

    const afterFirst = Buffer.byteLength('Name,Email,Phone\r\nAna López,ana@example.com,+34 612 345 678\r\n');
    expect(reads.map((read) => read.fraction)).toEqual([afterFirst / Buffer.byteLength(people), 1]);
  });

  it('stops reading, and releases the stream, when the loop breaks', async () => {
    const big = `Name,Email\n${Array.from({ length: 5000 }, (_, i) => `P${i},p${i}@example.com\n`).join('')}`;
    const blobs = await storeWith(big, 1024);
    const file = await openImportFile(blobs, key, { claimedFormat: 'csv' });

    let count = 0;
    for await (const _read of file.rows()) if (++count === 10) break;

    expect(blobs.reads).toHaveLength(1);
    expect(blobs.reads[0]!.bytesServed).toBeLessThan(80 * 1024);
  });
});

describe('CSV limits and wrong files', () => {
  it('refuses a file over the size limit before reading it', async () => {
    const blobs = await storeWith(people);

    const error = await openImportFile(blobs, key, { claimedFormat: 'csv', limits: { maxBytes: 50 } }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ImportFileError);
    expect(error).toMatchObject({ code: 'too_large', details: { sizeBytes: Buffer.byteLength(people), maxBytes: 50 } });
    expect(blobs.reads).toEqual([]);
  });

  it('stops with too_many_rows at the first non-blank row past the limit, blank rows after it being fine', async () => {
    const rows = 'Name,Email\na,a@example.com\nb,b@example.com\n\nc,c@example.com\n';
    const ok = await readRows('Name,Email\na,a@example.com\nb,b@example.com\n\n\n', { limits: { maxRows: 2 } });
    expect(ok.rows.map(summary)).toEqual(['1@2 a | a@example.com', '2@3 b | b@example.com', '3@4 blank', '4@5 blank']);

    const blobs = await storeWith(rows);
    const file = await openImportFile(blobs, key, { claimedFormat: 'csv', limits: { maxRows: 3 } });
    const seen: string[] = [];
    await expect(async () => {
      for await (const read of file.rows()) seen.push(summary(read.row));
    }).rejects.toMatchObject({ code: 'too_many_rows', message: expect.stringContaining('more than 3 rows') });
    expect(seen).toEqual(['1@2 a | a@example.com', '2@3 b | b@example.com', '3@4 blank']);
  });

  it('counts the rows without normalising them, refusing too many before anything is imported', async () => {
    const csv = 'Name,Email\na,a@example.com\n\nnot a row,\n"Unclosed\nb,b@example.com\n\n\n';
    const blobs = await storeWith(csv);

    const file = await openImportFile(blobs, key, { claimedFormat: 'csv' });
    expect(await file.count()).toEqual({ rows: 5, nonBlank: 4 });
    await expect(file.rows().next()).rejects.toThrow('read once');

    const capped = await openImportFile(blobs, key, { claimedFormat: 'csv', limits: { maxRows: 4 } });
    await expect(capped.count()).rejects.toMatchObject({ code: 'too_many_rows' });
  });

  it.each([
    ['an XLSX (zip) claimed as CSV', Buffer.from('PK\x03\x04\x14\x00\x00\x00', 'latin1'), 'not_csv'],
    ['a legacy .xls', Buffer.from('d0cf11e0a1b11ae1000000', 'hex'), 'not_csv'],
    ['a PDF', Buffer.from('%PDF-1.7\n...', 'latin1'), 'binary'],
    ['binary data with NUL bytes', Buffer.from([0x4e, 0x61, 0x00, 0x01, 0x02, 0x6d, 0x65]), 'binary'],
    ['UTF-16 without BOM', Buffer.from('Name,Email\r\n', 'utf16le'), 'binary'],
    ['an empty file', Buffer.alloc(0), 'empty'],
  ])('refuses %s', async (_name, bytes, code) => {
    await expect(readRows(bytes)).rejects.toMatchObject({ code });
  });

  it('says where a missing upload is not', async () => {
    await expect(openImportFile(fakeBlobStore(), key, { claimedFormat: 'csv' })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('refuses a file with no email or phone column, and a mapping naming a column the file lacks', async () => {
    await expect(readRows('Name,City\nAna,Paris\n')).rejects.toMatchObject({ code: 'no_channel_column' });
    await expect(readRows('Name,Mail Addr\nAna,a@example.com\n', { mapping: { 'Mail Adress': 'email' } })).rejects.toMatchObject({
      code: 'unknown_column',
      message: expect.stringContaining('"Mail Addr"'),
    });
    const mapped = await readRows('Name,Mail Addr\nAna,a@example.com\n', { mapping: { 'mail addr': 'email' } });
    expect(mapped.rows.map(summary)).toEqual(['1@2 Ana | a@example.com']);
  });
});

describe('a header below a report title', () => {
  it('skips the title and filter lines above the header, counting lines from the top, continuing from a cursor', async () => {
    const file = 'Contacts by Account\r\nFiltered By: Source equals Web\r\n\r\nName\tEmail\tPhone\r\nAna\tana@example.com\t\r\nBo\tbo@example.com\t\r\n';
    const { file: opened, reads, rows } = await readRows(file);
    expect(opened.info).toMatchObject({ delimiter: '\t', headerLine: 4, headers: ['Name', 'Email', 'Phone'] });
    expect(rows.map(summary)).toEqual(['1@5 Ana | ana@example.com', '2@6 Bo | bo@example.com']);
    const resumed = await readRows(file, { cursor: reads[0]!.cursor });
    expect(resumed.rows.map(summary)).toEqual(['2@6 Bo | bo@example.com']);
  });

  it('looks at most 10 lines down, then says where it looked', async () => {
    const titles = Array.from({ length: 11 }, (_, i) => `Title ${i}`).join('\n');
    await expect(readRows(`${titles}\nName,Email\nAna,ana@example.com\n`)).rejects.toMatchObject({
      code: 'no_channel_column',
      message: expect.stringContaining('No line of the first 11 that hold text is a header with an email or phone column'),
    });
    const underTen = Array.from({ length: 10 }, (_, i) => `Title ${i}`).join('\n');
    expect((await readRows(`${underTen}\nName,Email\nAna,ana@example.com\n`)).file.info.headerLine).toBe(11);
  });

  it('says only that the mapping names a missing column when a line is a header without it', async () => {
    const file = 'Contacts by Account\nFull Name,Primary Email,Work Phone,Organisation\nWrong Map,wrongmap@example.com,+1 212 555 0111,WrongCo\n';
    const refused = readRows(file, { mapping: { Nonexistent: 'email' } });

    await expect(refused).rejects.toMatchObject({
      code: 'unknown_column',
      message: 'The mapping names a column the file does not have: "Nonexistent". The file\'s columns: "Full Name", "Primary Email", "Work Phone", "Organisation"',
      details: { unknownColumns: ['Nonexistent'], headers: ['Full Name', 'Primary Email', 'Work Phone', 'Organisation'] },
    });
  });

  it('names the first line\'s columns when no line is a header with an email or phone column', async () => {
    await expect(readRows('Name,City\nAna,Paris\n')).rejects.toMatchObject({
      code: 'no_channel_column',
      message: expect.stringMatching(/^No column holds emails or phone numbers.*"Name", "City"\. \(No line of the first 2 /),
    });
  });
});

/** A character's byte in Windows-1250, from the platform's table. */
function windows1250Byte(char: string): number {
  if (char.charCodeAt(0) < 0x80) return char.charCodeAt(0);
  const decoder = new TextDecoder('windows-1250');
  for (let byte = 0x80; byte <= 0xff; byte++) if (decoder.decode(Uint8Array.of(byte)) === char) return byte;
  throw new Error(`${char} is not in Windows-1250`);
}

