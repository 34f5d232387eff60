import { describe, expect, it } from 'vitest';
import { sniffImportFile } from '../../domain/imports/file-sniffer';
import {
  openImportFile,
  type ImportCursor,
  type OpenImportFileOptions,
} from '../../domain/imports/import-file';
import type { NormalisedRow } from '../../domain/imports/import-row';
import { vcardHeaders } from '../../domain/imports/vcard-reader';
import { fakeBlobStore } from '../support/fakes';

const crlf = (...lines: string[]) => `${lines.join('\r\n')}\r\n`;
const key = 'uploads/ws_1/jobs/job_1/upload.vcf';

async function readVcf(
  bytes: Buffer | string,
  options: Partial<OpenImportFileOptions> = {},
  readChunkBytes = 53,
) {
  const blobs = fakeBlobStore({ readChunkBytes });
  await blobs.put(key, typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes, 'text/vcard');
  const file = await openImportFile(blobs, key, { claimedFormat: 'vcf', ...options });
  const rows: { row: NormalisedRow; cursor: ImportCursor }[] = [];
  for await (const read of file.rows()) rows.push(read);
  return {
    info: file.info,
    rows: rows.map((read) => read.row),
    cursors: rows.map((read) => read.cursor),
    blobs,
  };
}

const candidate = (row: NormalisedRow | undefined) => {
  if (row?.kind !== 'candidate') throw new Error(`Expected an imported row, got ${JSON.stringify(row)}`);
  return row.candidate;
};
const rejection = (row: NormalisedRow | undefined) => {
  if (row?.kind !== 'rejected') throw new Error(`Expected a rejected row, got ${JSON.stringify(row)}`);
  return row.rejection;
};
const channelValues = (row: NormalisedRow | undefined) =>
  candidate(row).channels.map((channel) => `${channel.kind}:${channel.value}`);

const apple30 = crlf(
  'BEGIN:VCARD',
  'VERSION:3.0',
  'PRODID:-//Apple Inc.//macOS 15.1//EN',
  'N:Lindqvist;Åsa;Maria;;',
  'FN:Åsa Maria Lindqvist',
  'ORG:Nordvind AB;Inköp',
  'TITLE:Head of Procurement',
  'item1.EMAIL;type=INTERNET;type=pref:asa.lindqvist@example.com',
  'item1.X-ABLabel:_$!<Other>!$_',
  'EMAIL;type=INTERNET;type=HOME:asa@example.org',
  'TEL;type=CELL;type=VOICE:+46 70 123 45 67',
  'TEL;type=WORK;type=VOICE;type=pref:+46 8 123 456 78',
  'TEL;type=WORK;type=FAX:+46 8 123 456 79',
  'item2.ADR;type=WORK;type=pref:;;Sveavägen 12;Stockholm;;111 57;Sweden',
  'item2.X-ABADR:se',
  'NOTE:Met at the Nordic SaaS fair.\\nPrefers email\\, not calls.',
  'CATEGORIES:Customers,Nordics\\, Baltics',
  'X-SOCIALPROFILE;type=linkedin;x-user=asalindqvist:http://www.linkedin.com/in/asalindqvist',
  'URL;type=WORK:https://nordvind.example.com',
  'BDAY:1984-03-09',
  'PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQAASABIAAD/4QBMRXhpZgAATU0AKgAAAAgAAYdpAAQAAAABAAAAGgAAAAAAA6ABAAMAAAAB',
  ' AAEAAKACAAQAAAABAAAAZKADAAQAAAABAAAAZAAAAAD/7QA4UGhvdG9zaG9wIDMuMAA4QklNBAQAAAAAAAA4QklNBCUAAAAAABDUHYzZjwCy',
  ' BOmACYjs+EJ+/8AAEQgAZABkAwEiAAIRAQMRAf/EAB8AAAEFAQEBAQEBAAAAAAAAAAABAgMEBQYHCAkKC//EALUQAAIBAwMCBAMFBQQE',
  'END:VCARD',
);

describe('a vCard file', () => {
  it('reads an Apple Contacts card (3.0): name parts, preferred values first, company, address, tags; faxes, notes and photos are not channels', async () => {
    const { info, rows } = await readVcf(apple30);
    expect(info).toMatchObject({
      format: 'vcf',
      encoding: 'utf-8',
      headerLine: 0,
      headers: [...vcardHeaders],
    });
    expect(info.skippedColumns.map((column) => column.header)).toEqual(
      expect.arrayContaining([
        'Fax',
        'Notes',
        'Website',
        'Birthday',
        'Street',
        'Postal Code',
        'Department',
        'Nickname',
      ]),
    );
    expect(rows).toHaveLength(1);
    const contact = candidate(rows[0]);
    expect(contact).toMatchObject({
      row: 1,
      line: 1,
      name: 'Åsa Maria Lindqvist',
      fields: {
        companyName: 'Nordvind AB',
        jobTitle: 'Head of Procurement',
        city: 'Stockholm',
        country: 'Sweden',
      },
      tags: ['Customers', 'Nordics, Baltics'],
    });
    // The preferred email and phone come first; the fax is not a phone to call or text.
    expect(channelValues(rows[0])).toEqual([
      'email:asa.lindqvist@example.com',
      'email:asa@example.org',
      'phone:+46812345678',
      'phone:+46701234567',
      'linkedin:https://www.linkedin.com/in/asalindqvist',
    ]);
    expect(contact.raw[vcardHeaders.indexOf('Notes')]).toBe(
      'Met at the Nordic SaaS fair.\nPrefers email, not calls.',
    );
    expect(contact.raw[vcardHeaders.indexOf('Fax')]).toBe('+46 8 123 456 79');
  });

  it('sends the columns it does not import to custom fields when mapped', async () => {
    const { rows } = await readVcf(apple30, {
      mapping: { Notes: 'custom:notes', Birthday: 'custom:birthday' },
    });
    expect(candidate(rows[0]).customFields).toEqual({
      notes: 'Met at the Nordic SaaS fair.\nPrefers email, not calls.',
      birthday: '1984-03-09',
    });
  });

  it('reads the custom fields this CRM’s export writes (X-CRM-FIELD-<KEY>) into `Custom: <key>` columns, continuing with them', async () => {
    const cards = [
      crlf(
        'BEGIN:VCARD',
        'VERSION:3.0',
        'FN:Ada',
        'EMAIL:ada@example.com',
        'X-CRM-FIELD-PLAN:Enterprise\\, yearly',
        'END:VCARD',
      ),
      crlf('BEGIN:VCARD', 'VERSION:3.0', 'FN:Bo', 'EMAIL:bo@example.com', 'END:VCARD'),
      // A group prefix, lower case, a folded value, a key with `_` (written `-`); not keys: a digit first, no name.
      crlf(
        'BEGIN:VCARD',
        'VERSION:3.0',
        'FN:Cy',
        'EMAIL:cy@example.com',
        'item3.x-crm-field-renewal-month:Mar',
        ' ch',
        'X-CRM-FIELD-PLAN:Starter',
        'X-CRM-FIELD-9LIVES:no',
        'X-CRM-FIELD-:no',
        'NOTE:X-CRM-FIELD-NOTAKEY:inside a value',
        'END:VCARD',
      ),
    ];
    const bytes = Buffer.from(cards.join(''), 'utf8');
    // Read in chunks of 7 bytes: property names split across chunks are still found.
    const whole = await readVcf(bytes, {}, 7);
    expect(whole.info.headers.slice(vcardHeaders.length)).toEqual(['Custom: plan', 'Custom: renewal_month']);
    expect(whole.info.columns).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ header: 'Custom: plan', target: 'custom:plan' }),
        expect.objectContaining({ header: 'Custom: renewal_month', target: 'custom:renewal_month' }),
      ]),
    );
    expect(whole.rows.map((row) => candidate(row).customFields)).toEqual([
      { plan: 'Enterprise, yearly' },
      {},
      { plan: 'Starter', renewal_month: 'March' },
    ]);
    // A continuation keeps the columns the file had when the import started.
    const rest = await readVcf(bytes, { cursor: whole.cursors[0] });
    expect(rest.rows.map((row) => candidate(row).customFields)).toEqual([
      {},
      { plan: 'Starter', renewal_month: 'March' },
    ]);
    // The mapping decides as for any column; UTF-16 files are scanned too.
    const utf16 = Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(cards.join(''), 'utf16le').swap16()]);
    const mapped = await readVcf(utf16, { mapping: { 'Custom: plan': 'ignore' } });
    expect(mapped.rows.map((row) => candidate(row).customFields)).toEqual([
      {},
      {},
      { renewal_month: 'March' },
    ]);
  });

  it('reads Android and Outlook cards (2.1): quoted-printable UTF-8 with soft line breaks, CHARSET=Windows-1252, bare types, base64 photos to a blank line', async () => {
    const android = Buffer.from(
      crlf(
        'BEGIN:VCARD',
        'VERSION:2.1',
        'N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E5=BC=A0;=E4=BC=9F;;;',
        'FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E5=BC=A0=E4=BC=9F',
        'TEL;CELL;PREF:+86 138 0013 8000',
        'EMAIL;HOME:zhang.wei@example.cn',
        'NOTE;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E5=AE=A2=E6=88=B7=E5=96=9C=E6=AC=A2=E7=94=B5=E8=AF=9D=E8=81=94=E7=B3=BB=0D=0A=',
        'Second line of the note',
        'PHOTO;ENCODING=BASE64;JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwg',
        ' JC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/2wBDAQkJCQwLDBgNDRgyIRwhMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIy',
        '',
        'END:VCARD',
      ),
      'latin1',
    );
    const outlook = Buffer.from(
      crlf(
        'BEGIN:VCARD',
        'VERSION:2.1',
        'N;LANGUAGE=de;CHARSET=Windows-1252:Müller;Jürgen',
        'FN;CHARSET=Windows-1252:Jürgen Müller',
        'ORG;CHARSET=Windows-1252:Bäckerei Müller GmbH',
        'TEL;WORK;VOICE:+49 30 90182055',
        'ADR;WORK;PREF;CHARSET=Windows-1252:;;Hauptstraße 5;Berlin;;10115;Deutschland',
        'LABEL;WORK;PREF;CHARSET=Windows-1252;ENCODING=QUOTED-PRINTABLE:Hauptstra=DFe 5=0D=0A=',
        'Berlin 10115',
        'EMAIL;PREF;INTERNET:juergen.mueller@example.de',
        'X-MS-OL-DEFAULT-POSTAL-ADDRESS:2',
        'END:VCARD',
      ),
      'latin1',
    );
    const { rows } = await readVcf(
      Buffer.concat([Buffer.from(android.toString('latin1'), 'latin1'), outlook]),
    );
    expect(rows).toHaveLength(2);
    expect(candidate(rows[0])).toMatchObject({ name: '张伟', line: 1 });
    expect(channelValues(rows[0])).toEqual(['email:zhang.wei@example.cn', 'phone:+8613800138000']);
    expect(candidate(rows[0]).raw[vcardHeaders.indexOf('Notes')]).toBe(
      '客户喜欢电话联系\nSecond line of the note',
    );
    expect(candidate(rows[1])).toMatchObject({
      name: 'Jürgen Müller',
      fields: { companyName: 'Bäckerei Müller GmbH', city: 'Berlin', country: 'Deutschland' },
    });
    expect(channelValues(rows[1])).toEqual(['email:juergen.mueller@example.de', 'phone:+493090182055']);
  });

  it('reads vCard 4.0: tel: URIs, PREF=1, quoted TYPE lists; an extension is left out and said so', async () => {
    const { rows } = await readVcf(
      crlf(
        'BEGIN:VCARD',
        'VERSION:4.0',
        'FN:Simon Perreault',
        'N:Perreault;Simon;;;ing. jr,M.Sc.',
        'ORG:Viagenie',
        'TEL;VALUE=uri;TYPE="work,voice";PREF=1:tel:+1-418-656-9254;ext=102',
        'TEL;VALUE=uri;TYPE="work,cell,voice,video,text":tel:+1-418-262-6501',
        'EMAIL;TYPE=work:simon.perreault@example.com',
        'ADR;TYPE=work:;Suite D2-630;2875 Laurier;Quebec;QC;G1V 2M2;Canada',
        'END:VCARD',
      ),
    );
    const contact = candidate(rows[0]);
    expect(contact).toMatchObject({
      name: 'Simon Perreault',
      fields: { companyName: 'Viagenie', city: 'Quebec', state: 'QC', country: 'Canada' },
    });
    expect(channelValues(rows[0])).toEqual([
      'email:simon.perreault@example.com',
      'phone:+14186569254',
      'phone:+14182626501',
    ]);
    expect(contact.dropped).toEqual([expect.objectContaining({ code: 'value_not_kept', column: 'Phone' })]);
    expect(contact.raw[vcardHeaders.indexOf('Street')]).toBe('2875 Laurier, Suite D2-630');
  });

  it('reports a card cut short and a card without email or phone, and reads every card around them', async () => {
    const { rows } = await readVcf(
      crlf(
        'BEGIN:VCARD',
        'VERSION:3.0',
        'FN:Ana Lopez',
        'EMAIL:ana@example.com',
        'BEGIN:VCARD',
        'VERSION:3.0',
        'FN:Only A Name',
        'END:VCARD',
        '',
        'BEGIN:VCARD',
        'VERSION:3.0',
        'FN:Bo Chen',
        'TEL:+44 20 7946 0958',
        'END:VCARD',
        'BEGIN:VCARD',
        'VERSION:3.0',
        'FN:Cut Off',
        'EMAIL:cut@example.com',
      ),
    );
    expect(rows).toHaveLength(4);
    expect(rejection(rows[0])).toMatchObject({
      code: 'malformed_record',
      line: 1,
      row: 1,
      message: expect.stringContaining('no END:VCARD'),
    });
    expect(rejection(rows[1])).toMatchObject({ code: 'no_channel', line: 5, row: 2 });
    expect(candidate(rows[2])).toMatchObject({ name: 'Bo Chen', line: 10, row: 3 });
    expect(rejection(rows[3])).toMatchObject({
      code: 'malformed_record',
      line: 15,
      message: expect.stringContaining('cut short'),
    });
  });

  it('reads values without CHARSET that are not UTF-8 in the code page they read in', async () => {
    // Windows-1250 bytes, as an old Czech Outlook writes them without saying so.
    const cp1250 = (text: string) =>
      Buffer.from(
        [...text].map(
          (char) =>
            ({ ř: 0xf8, í: 0xed, Š: 0x8a, ť: 0x9d, ý: 0xfd, á: 0xe1 })[char as 'ř'] ?? char.charCodeAt(0),
        ),
      );
    const read = await readVcf(
      cp1250(
        crlf(
          'BEGIN:VCARD',
          'VERSION:2.1',
          'N:Dvořák;Jiří',
          'FN:Jiří Dvořák',
          'ORG:Šťastný s.r.o.',
          'EMAIL:jiri@example.cz',
          'END:VCARD',
        ),
      ),
    );
    expect(read.info.encoding).toBe('windows-1250');
    expect(candidate(read.rows[0])).toMatchObject({
      name: 'Jiří Dvořák',
      fields: { companyName: 'Šťastný s.r.o.' },
    });
  });

  it('reads Outlook’s Windows-1252 without CHARSET as such when a note’s curly quotes come before any accent', async () => {
    // “hot” is "ìhotî" in Mac Roman: letters there, punctuation in Windows-1252.
    const read = await readVcf(
      Buffer.from(
        crlf(
          'BEGIN:VCARD',
          'VERSION:2.1',
          'N:Carter;John',
          'FN:John Carter',
          'EMAIL;INTERNET:john@example.com',
          'NOTE:\x93hot\x94 lead, asked for \x93demo\x94 \x96 call back\x85',
          'END:VCARD',
          'BEGIN:VCARD',
          'VERSION:2.1',
          'N:N\xfa\xf1ez;Jos\xe9',
          'FN:Jos\xe9 N\xfa\xf1ez',
          'EMAIL;INTERNET:jose@example.com',
          'END:VCARD',
        ),
        'latin1',
      ),
    );
    expect(read.info.encoding).toBe('windows-1252');
    expect(candidate(read.rows[0]).raw).toContain('“hot” lead, asked for “demo” – call back…');
    expect(candidate(read.rows[1]).name).toBe('José Núñez');
  });

  it('reads a UTF-16 file with a BOM, and continues from any card’s cursor with the cards after it', async () => {
    const cards = Array.from({ length: 40 }, (_, i) =>
      crlf(
        'BEGIN:VCARD',
        'VERSION:3.0',
        `FN:Persona ${i} Ñandú`,
        `EMAIL:persona${i}@example.com`,
        'END:VCARD',
      ),
    ).join('');
    for (const bytes of [
      Buffer.from(cards, 'utf8'),
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(cards, 'utf16le')]),
    ]) {
      const whole = await readVcf(bytes);
      expect(whole.rows.map((row) => candidate(row).name)).toEqual(
        Array.from({ length: 40 }, (_, i) => `Persona ${i} Ñandú`),
      );
      for (const at of [0, 7, 38]) {
        const rest = await readVcf(bytes, { cursor: whole.cursors[at] });
        expect(rest.rows.map((row) => candidate(row).name)).toEqual(
          whole.rows.slice(at + 1).map((row) => candidate(row).name),
        );
        expect(rest.rows.map((row) => candidate(row).row)).toEqual(
          whole.rows.slice(at + 1).map((row) => candidate(row).row),
        );
      }
    }
  });

  it('keeps a card whose photo is one unfolded line of megabytes, and rejects one with megabytes of text', async () => {
    const photo = 'A'.repeat(3 * 1024 * 1024);
    const { rows } = await readVcf(
      crlf(
        'BEGIN:VCARD',
        'VERSION:3.0',
        'FN:Big Photo',
        `PHOTO;ENCODING=b;TYPE=JPEG:${photo}`,
        'EMAIL:big@example.com',
        'END:VCARD',
        'BEGIN:VCARD',
        'VERSION:3.0',
        'FN:Big Note',
        `NOTE:${'x'.repeat(3 * 1024 * 1024)}`,
        'EMAIL:note@example.com',
        'END:VCARD',
        'BEGIN:VCARD',
        'VERSION:3.0',
        'FN:After Them',
        'EMAIL:after@example.com',
        'END:VCARD',
      ),
      {},
      64 * 1024,
    );
    expect(candidate(rows[0])).toMatchObject({
      name: 'Big Photo',
      channels: [{ kind: 'email', value: 'big@example.com' }],
    });
    expect(rejection(rows[1])).toMatchObject({
      code: 'malformed_record',
      line: 7,
      message: expect.stringContaining('MB'),
    });
    expect(candidate(rows[2])).toMatchObject({ name: 'After Them', line: 13 });
  });
});

describe('sniffing a file claimed as vCard', () => {
  const bytes = (text: string, encoding: BufferEncoding = 'utf8') => Buffer.from(text, encoding);
  it('takes one that starts with BEGIN:VCARD (after a BOM or blank lines), refuses anything else with what it is', () => {
    expect(sniffImportFile(bytes('\r\nBEGIN:VCARD\r\nVERSION:3.0\r\n'), 'vcf', false)).toEqual({
      format: 'vcf',
      encoding: 'utf-8',
      bomBytes: 0,
    });
    expect(sniffImportFile(bytes('\ufeffbegin:vcard\nVERSION:3.0\n'), 'vcf', false)).toEqual({
      format: 'vcf',
      encoding: 'utf-8',
      bomBytes: 3,
    });
    expect(
      sniffImportFile(
        Buffer.concat([Buffer.from([0xff, 0xfe]), bytes('BEGIN:VCARD\r\n', 'utf16le')]),
        'vcf',
        false,
      ),
    ).toEqual({
      format: 'vcf',
      encoding: 'utf-16le',
      bomBytes: 2,
    });
    expect(() => sniffImportFile(bytes('Name,Email\nAna,ana@example.com\n'), 'vcf', true)).toThrow(
      expect.objectContaining({ code: 'not_vcf', message: expect.stringContaining('upload') }),
    );
    expect(() => sniffImportFile(bytes('PK\x03\x04rest', 'latin1'), 'vcf', false)).toThrow(
      expect.objectContaining({ code: 'not_vcf', message: expect.stringContaining('XLSX') }),
    );
    expect(() => sniffImportFile(bytes('BEGIN:VCALENDAR\r\n'), 'vcf', false)).toThrow(
      expect.objectContaining({ code: 'not_vcf' }),
    );
  });
});
