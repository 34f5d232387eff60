import { describe, expect, it } from 'vitest';
import { planColumns } from '../../domain/imports/column-mapping';
import type { ImportCandidate, NormalisedRow, RowRejection } from '../../domain/imports/import-row';
import { cleanCell, importValueLimits, normaliseRecord, splitValues, type RowNormaliseOptions } from '../../domain/imports/row-normaliser';

const position = { row: 7, line: 9 };
const headers = ['Name', 'First Name', 'Last Name', 'Email', 'Phone', 'WhatsApp', 'LinkedIn', 'Telegram', 'Company', 'Job Title', 'Country', 'Tags', 'Owner', 'Custom: plan', 'Notes'];
const plan = planColumns(headers);

/** A record from named cells (the rest blank). */
function record(cells: Partial<Record<string, string>>): string[] {
  return headers.map((header) => cells[header] ?? '');
}

function normalise(cells: Partial<Record<string, string>>, options: RowNormaliseOptions = {}): NormalisedRow {
  return normaliseRecord(record(cells), position, plan, options);
}

function candidate(cells: Partial<Record<string, string>>, options?: RowNormaliseOptions): ImportCandidate {
  const row = normalise(cells, options);
  if (row.kind !== 'candidate') throw new Error(`expected a candidate, got ${JSON.stringify(row)}`);
  return row.candidate;
}

function rejection(cells: Partial<Record<string, string>>, options?: RowNormaliseOptions): RowRejection {
  const row = normalise(cells, options);
  if (row.kind !== 'rejected') throw new Error(`expected a rejection, got ${JSON.stringify(row)}`);
  return row.rejection;
}

describe('cells', () => {
  it('are NFC, trimmed, and lose the quote that guards a formula-like value', () => {
    expect(cleanCell('  Jose\u0301  ')).toBe('José');
    expect(cleanCell("'=SUM(A1)")).toBe('=SUM(A1)');
    expect(cleanCell(" '+49 151 1234567")).toBe('+49 151 1234567');
    expect(cleanCell("'-5")).toBe('-5');
    expect(cleanCell("'@handle")).toBe('@handle');
    expect(cleanCell("'Ohana")).toBe("'Ohana");
  });

  it('split on ::: (Google Contacts), dropping empty values', () => {
    expect(splitValues('a@x.com ::: b@x.com ::: ')).toEqual(['a@x.com', 'b@x.com']);
    expect(splitValues('one')).toEqual(['one']);
  });
});

describe('row rules', () => {
  it('skips a record whose every field is blank after trimming', () => {
    expect(normaliseRecord(['', '  ', '\t'], position, plan)).toEqual({ kind: 'blank', position });
    expect(normaliseRecord([], position, plan)).toEqual({ kind: 'blank', position });
  });

  it('accepts a short record, and one whose extra fields are empty; refuses extra text', () => {
    expect(normaliseRecord(['Ana', '', '', 'ana@example.com'], position, plan).kind).toBe('candidate');
    expect(normaliseRecord([...record({ Email: 'a@example.com' }), '', ' '], position, plan).kind).toBe('candidate');
    expect(normaliseRecord([...record({ Email: 'a@example.com' }), 'surprise'], position, plan)).toMatchObject({
      kind: 'rejected',
      rejection: { code: 'malformed_record', row: 7, line: 9 },
    });
  });

  it('keeps names in any script, NFC-normalised (combining accents = precomposed)', () => {
    for (const name of ['Анна Каренина', '李小龍', 'محمد عبد الله', 'Ζωή', 'Nguyễn Thị Minh Khai']) {
      expect(candidate({ Name: name, Email: 'x@example.com' }).name).toBe(name);
    }
    const combining = candidate({ Name: 'Rene\u0301e Zoe\u0308', Email: 'x@example.com' }).name;
    expect(combining).toBe('Ren\u00e9e Zo\u00eb');
  });

  it('joins first and last name when there is no name; a name column wins', () => {
    expect(candidate({ 'First Name': 'Ana', 'Last Name': 'López García', Email: 'a@example.com' })).toMatchObject({ name: 'Ana López García', named: true });
    expect(candidate({ Name: 'Dr. Ana', 'First Name': 'Ana', Email: 'a@example.com' }).name).toBe('Dr. Ana');
    expect(candidate({ 'Last Name': 'Solo', Email: 'a@example.com' }).name).toBe('Solo');
  });

  it('names a row without a name after its first valid channel value', () => {
    expect(candidate({ Email: 'Ana@Example.com' })).toMatchObject({ name: 'ana@example.com', named: false });
    expect(candidate({ Phone: '+442079460958', Email: 'not-an-email' })).toMatchObject({ name: '+44 20 7946 0958', named: false });
  });

  it('lower-cases and trims emails, so the same person twice normalises to the same values', () => {
    const first = candidate({ Name: 'Ana', Email: ' ANA.Lopez@Example.COM ', Phone: '+34 612 34 56 78' });
    const second = candidate({ Name: 'ana', Email: 'ana.lopez@example.com', Phone: '0034-612-345-678' });

    expect(first.channels).toEqual([
      { kind: 'email', value: 'ana.lopez@example.com' },
      { kind: 'phone', value: '+34612345678' },
    ]);
    expect(second.channels).toEqual(first.channels);
  });

  it.each([
    ['+44 20 7946 0958', {}, '+442079460958'],
    ['0044 20 7946 0958', {}, '+442079460958'],
    ['00 49 (0)30 123456', {}, '+4930123456'],
    ['12 34', { defaultCountry: 'DE' }, undefined],
    ['0049 30 1234567', {}, '+49301234567'],
    ['(020) 7946-0958', { defaultCountry: 'GB' }, '+442079460958'],
    ['020 7946 0958', { defaultCountry: 'GB' }, '+442079460958'],
    ['(415) 555-2671', { defaultCountry: 'US' }, '+14155552671'],
    ['415.555.2671', { defaultCountry: 'US' }, '+14155552671'],
    ['+1-415-555-2671', { defaultCountry: 'DE' }, '+14155552671'],
    ['030 1234567', { defaultCountry: 'DE' }, '+49301234567'],
    ['0151 12345678', { defaultCountry: 'DE' }, '+4915112345678'],
    ['06 12 34 56 78', { defaultCountry: 'FR' }, '+33612345678'],
    ['+7 (912) 345-67-89', {}, '+79123456789'],
    ['090-1234-5678', { defaultCountry: 'JP' }, '+819012345678'],
    ['+971 50 123 4567', {}, '+971501234567'],
    ['+55 11 91234-5678', {}, '+5511912345678'],
    ['＋４４ ２０ ７９４６ ０９５８', {}, '+442079460958'],
    ['tel:+442079460958', {}, '+442079460958'],
  ] as const)('reads the phone %s (%o) as %s', (phone, options, expected) => {
    const row = normalise({ Phone: phone }, options);
    if (expected === undefined) expect(row).toMatchObject({ kind: 'rejected', rejection: { code: 'invalid_phone' } });
    else expect(row).toMatchObject({ kind: 'candidate', candidate: { channels: [{ kind: 'phone', value: expected }] } });
  });

  it('needs a default country for a phone without + or 00', () => {
    expect(rejection({ Phone: '020 7946 0958' })).toMatchObject({ code: 'invalid_phone', column: 'Phone', message: expect.stringContaining('international format') });
  });

  // Excel stores `+44 7911 123456` typed into a cell as the number 447911123456 (its + and a 00 gone).
  it.each([
    ['447911123456', { defaultCountry: 'FR' }, '+447911123456'],
    ['4915112345678', { defaultCountry: 'GB' }, '+4915112345678'],
    ['971501234567', {}, '+971501234567'],
    ['33612345678', { defaultCountry: 'FR' }, '+33612345678'],
    // A national number whose leading 0 the spreadsheet dropped is valid in the default country as it is.
    ['612345678', { defaultCountry: 'FR' }, '+33612345678'],
    ['2079460958', { defaultCountry: 'GB' }, '+442079460958'],
    // Valid in the default country: that reading stays (+49 30 12345 would be a Berlin number).
    ['493012345', { defaultCountry: 'FR' }, '+33493012345'],
    ['4155552671', { defaultCountry: 'US' }, '+14155552671'],
    // Digits alone only: a leading 0, spaces or a + keep their one reading.
    ['0447911123456', { defaultCountry: 'FR' }, undefined],
    ['44 7911 123456', { defaultCountry: 'FR' }, undefined],
    ['12345', { defaultCountry: 'FR' }, undefined],
  ] as const)('reads digits alone, %s (%o), as an international number when the default country has no such number: %s', (phone, options, expected) => {
    for (const column of ['Phone', 'WhatsApp']) {
      const row = normalise({ Email: 'a@example.com', [column]: phone }, options);
      const kind = column === 'Phone' ? 'phone' : 'whatsapp';
      if (expected === undefined) expect(row).toMatchObject({ kind: 'candidate', candidate: { channels: [{ kind: 'email' }], dropped: [{ code: 'invalid_phone', value: phone }] } });
      else expect(row).toMatchObject({ kind: 'candidate', candidate: { channels: [{ kind: 'email' }, { kind, value: expected }] } });
    }
  });

  it('explains a number that is valid neither way by the default country’s reading', () => {
    expect(rejection({ Phone: '12345' }, { defaultCountry: 'FR' })).toMatchObject({ code: 'invalid_phone', message: expect.stringContaining('+33 12345') });
  });

  it('takes several values from one cell (:::), each a channel, deduplicated', () => {
    const c = candidate({ Email: 'a@example.com ::: B@example.com ::: a@EXAMPLE.com', Phone: '+442079460958 ::: 0044 20 7946 0958', Tags: 'VIP ::: vip ::: Partners' });

    expect(c.channels).toEqual([
      { kind: 'email', value: 'a@example.com' },
      { kind: 'email', value: 'b@example.com' },
      { kind: 'phone', value: '+442079460958' },
    ]);
    expect(c.tags).toEqual(['VIP', 'Partners']);
  });

  it('imports a row with a valid email or phone without its invalid values, and lists them', () => {
    const c = candidate({ Email: 'ana@example.com ::: not-an-email', Phone: 'call reception', LinkedIn: 'https://example.com/ana' });

    expect(c.channels).toEqual([{ kind: 'email', value: 'ana@example.com' }]);
    expect(c.dropped).toEqual([
      { code: 'invalid_email', column: 'Email', value: 'not-an-email', message: expect.stringContaining('@') },
      { code: 'invalid_phone', column: 'Phone', value: 'call reception', message: expect.any(String) },
      { code: 'invalid_channel', column: 'LinkedIn', value: 'https://example.com/ana', message: expect.any(String) },
    ]);
  });

  it('rejects a row with no valid email or phone: the first invalid one’s code, else no_channel', () => {
    expect(rejection({ Name: 'Ana', Phone: '12', Email: 'ana(at)example.com' })).toMatchObject({ code: 'invalid_email', column: 'Email' });
    expect(rejection({ Name: 'Ana', Phone: '12' })).toMatchObject({ code: 'invalid_phone', column: 'Phone', raw: record({ Name: 'Ana', Phone: '12' }) });
    expect(rejection({ Name: 'Ana', LinkedIn: 'https://www.linkedin.com/in/ana-lopez', WhatsApp: '+442079460958' })).toMatchObject({ code: 'no_channel', row: 7, line: 9 });
    expect(rejection({ Name: 'Ana', Company: 'Acme' }).code).toBe('no_channel');
  });

  it('keeps values over 1,000 characters whole up to the field’s limit, and rejects longer ones as too_long', () => {
    const plan1000 = planColumns(['Email', 'Custom: notes']);
    const notes = 'ñ'.repeat(importValueLimits.custom);
    const kept = normaliseRecord(['a@example.com', notes], position, plan1000);
    expect(kept.kind === 'candidate' && kept.candidate.customFields.notes).toBe(notes);

    expect(normaliseRecord(['a@example.com', `${notes}x`], position, plan1000)).toMatchObject({
      kind: 'rejected',
      rejection: { code: 'too_long', column: 'Custom: notes' },
    });
    expect(rejection({ Name: 'N'.repeat(201), Email: 'a@example.com' })).toMatchObject({ code: 'too_long', column: 'Name' });
    expect(rejection({ 'First Name': 'F'.repeat(150), 'Last Name': 'L'.repeat(60), Email: 'a@example.com' })).toMatchObject({ code: 'too_long', column: 'First Name + Last Name' });
    expect(rejection({ Company: 'C'.repeat(1500), Email: 'a@example.com' })).toMatchObject({ code: 'too_long', column: 'Company' });
    expect(rejection({ Tags: 'T'.repeat(51), Email: 'a@example.com' })).toMatchObject({ code: 'too_long', column: 'Tags' });
    expect(rejection({ Email: `${'a'.repeat(1200)}@example.com` })).toMatchObject({ code: 'too_long', column: 'Email' });
    expect(candidate({ Company: 'C'.repeat(200), Email: 'a@example.com' }).fields.companyName).toHaveLength(200);
  });

  it('rejects more than 10 channels as too_many_channels', () => {
    const emails = Array.from({ length: 11 }, (_, i) => `p${i}@example.com`).join(' ::: ');

    expect(rejection({ Email: emails })).toMatchObject({ code: 'too_many_channels' });
    expect(candidate({ Email: emails.split(' ::: ').slice(0, 10).join(' ::: ') }).channels).toHaveLength(10);
  });

  it('fills fields, tags, owner and custom fields, one line each, the first value of a repeated field winning', () => {
    const twoCities = planColumns(['Email', 'Business City', 'Home City', 'Group Membership', 'Contact Owner', 'Custom: plan']);
    const row = normaliseRecord(
      ['a@example.com', '', 'Zürich', '* myContacts ::: Friends ::: * starred', ' owner@example.com ', '  Pro\nplus '],
      position,
      twoCities,
    );

    expect(row).toMatchObject({
      kind: 'candidate',
      candidate: { fields: { city: 'Zürich' }, tags: ['Friends'], owner: 'owner@example.com', customFields: { plan: 'Pro\nplus' } },
    });
    expect(candidate({ Email: 'a@example.com', Company: 'Acme\r\n  Inc', 'Job Title': ' CTO ', Country: 'España' }).fields).toEqual({
      companyName: 'Acme Inc',
      jobTitle: 'CTO',
      country: 'España',
    });
  });

  it('keeps the record as read for the report, and the row position', () => {
    const fields = record({ Name: '  Ana  ', Email: "'=HYPERLINK(\"x\")", Notes: 'n' });
    const row = normaliseRecord(fields, position, plan);

    expect(row).toMatchObject({ kind: 'rejected', rejection: { row: 7, line: 9, raw: fields, code: 'invalid_email' } });
  });
});

describe('values as other tools write them', () => {
  const channels = (c: ImportCandidate) => c.channels.map(({ kind, value }) => `${kind} ${value}`);

  it('splits email and phone cells on ; , and line breaks as well as :::', () => {
    const c = candidate({ Email: 'a@example.com; b@example.com,c@example.com\nd@example.com', Phone: '07911 123456, 020 7946 0958' }, { defaultCountry: 'GB' });
    expect(channels(c)).toEqual([
      'email a@example.com',
      'email b@example.com',
      'email c@example.com',
      'email d@example.com',
      'phone +447911123456',
      'phone +442079460958',
    ]);
    // Other cells keep their commas.
    expect(candidate({ Email: 'a@example.com', Company: 'Acme, Inc.' }).fields.companyName).toBe('Acme, Inc.');
  });

  it('takes the address out of a display form or a mailto: link', () => {
    for (const written of ['"Ana Lima" <ana@example.com>', '<ana@example.com>', 'Ana Lima (ana@example.com)', 'mailto:ana@example.com']) {
      expect(channels(candidate({ Email: written })), written).toEqual(['email ana@example.com']);
    }
  });

  it('splits a cell of display forms between them, not on a comma inside a quoted name', () => {
    expect(channels(candidate({ Email: '"Doe, John" <john@example.com>; "Roe, Jane" <jane@example.com>, bo@example.com' }))).toEqual([
      'email john@example.com',
      'email jane@example.com',
      'email bo@example.com',
    ]);
    // An unbalanced quote is no quoting: the cell splits on every separator, as before.
    expect(channels(candidate({ Email: 'a@example.com, "b@example.com; c@example.com' }))).toEqual(['email a@example.com', 'email c@example.com']);
  });

  it('keeps a phone without its extension, and lists the extension', () => {
    const c = candidate({ Email: 'a@example.com', Phone: '(415) 555-0132 ext. 45 ::: +44 20 7946 0958 x123' }, { defaultCountry: 'US' });
    expect(channels(c)).toEqual(['email a@example.com', 'phone +14155550132', 'phone +442079460958']);
    expect(c.dropped).toEqual([
      { code: 'value_not_kept', column: 'Phone', value: '(415) 555-0132 ext. 45', message: expect.stringMatching(/^The extension 45 is not kept .*\+14155550132 was imported$/) },
      { code: 'value_not_kept', column: 'Phone', value: '+44 20 7946 0958 x123', message: expect.stringContaining('extension 123') },
    ]);
  });

  it("reads a phone behind Excel's text apostrophe", () => {
    expect(channels(candidate({ Phone: "'07911 123456" }, { defaultCountry: 'GB' }))).toEqual(['phone +447911123456']);
    expect(channels(candidate({ Phone: "'+45 32 12 34 56" }))).toEqual(['phone +4532123456']);
  });

  it('never reads a number Excel wrote in scientific notation (its digits are gone), and says how to fix the sheet', () => {
    const c = candidate({ Email: 'a@example.com', Phone: '4.47911E+11' });
    expect(c.channels).toHaveLength(1);
    expect(c.dropped).toEqual([expect.objectContaining({ code: 'invalid_phone', message: expect.stringMatching(/scientific notation.*Text/) })]);
    expect(rejection({ Phone: '4,47911E+11' })).toMatchObject({ code: 'invalid_phone', column: 'Phone' });
  });

  it('keeps the first value of a one-value field given by two columns, and lists a different second one', () => {
    const twice = planColumns(['Email', 'Company', 'Account Name', 'Name', 'Full Name']);
    const row = normaliseRecord(['a@example.com', 'Acme', 'Acme Corp', 'Ana', 'ana'], position, twice);
    if (row.kind !== 'candidate') throw new Error('expected a candidate');
    expect(row.candidate).toMatchObject({ name: 'Ana', fields: { companyName: 'Acme' } });
    // The same value again (in any case) is no loss.
    expect(row.candidate.dropped).toEqual([
      { code: 'value_not_kept', column: 'Account Name', value: 'Acme Corp', message: 'The contact has one place for this value and keeps "Acme" from "Company": "Acme Corp" is not kept' },
    ]);
  });

  it('joins two surname columns in column order (Spanish paternal and maternal surnames), a repeated one once', () => {
    const spanish = planColumns(['Nombre', 'Segundo nombre', 'Apellido paterno', 'Apellido materno', 'Correo']);
    const row = normaliseRecord(['María', 'José', 'García', 'Márquez', 'mj@example.mx'], position, spanish);
    if (row.kind !== 'candidate') throw new Error('expected a candidate');
    expect(row.candidate).toMatchObject({ name: 'María José García Márquez' });
    expect(row.candidate.dropped ?? []).toEqual([]);
    const repeated = normaliseRecord(['Ana', '', 'López', 'lópez', 'ana@example.mx'], position, spanish);
    if (repeated.kind !== 'candidate') throw new Error('expected a candidate');
    expect(repeated.candidate.name).toBe('Ana López');
  });

  it('writes the family name first where the language does: Vietnamese with spaces, Chinese, Japanese and Korean without', () => {
    const nameOf = (headers: string[], cells: string[]) => {
      const row = normaliseRecord([...cells, 'x@example.com'], position, planColumns([...headers, 'Email']));
      if (row.kind !== 'candidate') throw new Error('expected a candidate');
      return row.candidate.name;
    };
    expect(nameOf(['Họ', 'Tên đệm', 'Tên'], ['Nguyễn', 'Văn', 'An'])).toBe('Nguyễn Văn An');
    expect(nameOf(['Vezetéknév', 'Keresztnév'], ['Kovács', 'Anna'])).toBe('Kovács Anna');
    expect(nameOf(['姓', '名'], ['王', '伟'])).toBe('王伟');
    expect(nameOf(['Last Name', 'First Name'], ['山田', '太郎'])).toBe('山田太郎');
    expect(nameOf(['성', '이름'], ['김', '민수'])).toBe('김민수');
    // Latin letters keep the given name first, whatever the column order.
    expect(nameOf(['Last Name', 'First Name'], ['Wang', 'Wei'])).toBe('Wei Wang');
  });

  it('says which column the owner came from', () => {
    expect(candidate({ Email: 'a@example.com', Owner: 'Olivia Owner' })).toMatchObject({ owner: 'Olivia Owner', ownerColumn: 'Owner' });
  });
});
