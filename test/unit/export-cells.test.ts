import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { contactRow, customFieldText, plainNumber } from '../../domain/exports/contact-rows';
import type { ContactItem } from '../../domain/contacts/contact-record';
import { guardCell, isPlainData, unguardCell } from '../../domain/imports/formula-guard';
import { cleanCell } from '../../domain/imports/row-normaliser';

describe('formula guard', () => {
  it.each([
    ['=1+1', "'=1+1"],
    ['=HYPERLINK("http://x","y")', `'=HYPERLINK("http://x","y")`],
    ["+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"],
    ['-2+3+cmd|x', "'-2+3+cmd|x"],
    ['-2+3', "'-2+3"],
    ['@SUM(1)', "'@SUM(1)"],
    ['@ana_telegram', "'@ana_telegram"],
    ['\tx', "'\tx"],
    ['\r=1', "'\r=1"],
    ['-', "'-"],
    ['- call back', "'- call back"],
    ['+1:1', "'+1:1"],
    ["'=1", "''=1"],
    ["''+x", "'''+x"],
    ["'+49 151 2345", "''+49 151 2345"],
  ])('guards %j as %j', (value, guarded) => {
    expect(guardCell(value)).toBe(guarded);
    expect(unguardCell(guarded)).toBe(value);
  });

  it.each([
    '+49 151 23456789',
    '+44 20 7946 0000 ::: +49 1512 3456789',
    '+1 (212) 555-0100',
    '-12.5',
    '-1,5',
    '-100123',
    '+4915123456789',
    'Ana',
    '',
    "'quoted'",
    ' =1 (a leading space: no spreadsheet runs it)',
    'a=b',
  ])('leaves %j as it is', (value) => {
    expect(guardCell(value)).toBe(value);
    expect(unguardCell(value)).toBe(value);
  });

  it('is plain data only when every value of the cell is a number', () => {
    expect(isPlainData('+44 20 ::: +49 1')).toBe(true);
    expect(isPlainData('+44 20 ::: =1')).toBe(false);
    expect(isPlainData('+')).toBe(false);
  });

  it('reads back every string exactly: unguardCell(guardCell(v)) === v', () => {
    const tricky = fc.constantFrom("'", '=', '+', '-', '@', '\t', '\r', '\n', '1', ' ', ':', 'a', '|', '"', ',');
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.array(tricky, { maxLength: 8 }).map((chars) => chars.join(''))), (value) => {
        expect(unguardCell(guardCell(value))).toBe(value);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('the import reader undoes the guard', () => {
  it('reads back every value without surrounding whitespace exactly: cleanCell(guardCell(v)) === v', () => {
    const tricky = fc.constantFrom("'", '=', '+', '-', '@', '\t', '\r', '\n', '1', ' ', ':', 'a', '|', '"', ',');
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.array(tricky, { maxLength: 8 }).map((chars) => chars.join(''))), (raw) => {
        const value = raw.normalize('NFC').trim();
        expect(cleanCell(guardCell(value))).toBe(value);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('Excel text literals in others’ files', () => {
  it.each([
    ['="07912 345678"', '07912 345678'],
    ['="+44 20 7946 0000"', '+44 20 7946 0000'],
    ['  ="02134"  ', '02134'],
    ['="say ""hi"""', 'say "hi"'],
    ['=""', ''],
    // Not a literal: a formula, or a guarded cell of ours.
    ['="a"&"b"', '="a"&"b"'],
    ["'=\"007\"", '="007"'],
  ])('reads %j as %j', (cell, text) => {
    expect(cleanCell(cell)).toBe(text);
  });
});

describe('cell text', () => {
  it.each([
    [12, '12'],
    [-3.5, '-3.5'],
    [0.1, '0.1'],
    [1e21, '1000000000000000000000'],
    [1.2345e25, '12345000000000000000000000'],
    [1.5e-7, '0.00000015'],
    [-2.5e-10, '-0.00000000025'],
    [Number.MAX_VALUE, Number.MAX_VALUE.toLocaleString('en-US', { useGrouping: false })],
  ])('writes the number %d as %j, which parses back to it', (value, text) => {
    expect(plainNumber(value)).toBe(text);
    expect(Number(text)).toBe(value);
  });

  it('reads back any finite number', () => {
    fc.assert(fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (value) => {
      const text = plainNumber(value);
      expect(text).not.toMatch(/e/i);
      expect(Object.is(Number(text), value) || (value === 0 && Number(text) === 0)).toBe(true);
    }));
  });

  it('writes booleans, dates and missing values as the import reads them', () => {
    expect(customFieldText(true)).toBe('true');
    expect(customFieldText(false)).toBe('false');
    expect(customFieldText('2026-03-01')).toBe('2026-03-01');
    expect(customFieldText(undefined)).toBe('');
    expect(customFieldText(null)).toBe('');
  });

  it('puts the primary channel of a kind first and joins values with " ::: "', () => {
    const item = {
      workspaceId: 'ws_1',
      contactId: 'ct_1',
      name: 'Ana',
      status: 'active',
      suppressed: false,
      channels: [
        { channelId: 'ch_1', kind: 'email', value: 'a@x.example', normalized: 'a@x.example', primary: false },
        { channelId: 'ch_2', kind: 'phone', value: '+44 20 7946 0000', normalized: '+442079460000', primary: true },
        { channelId: 'ch_3', kind: 'email', value: 'B@y.example', normalized: 'b@y.example', primary: true },
        { channelId: 'ch_4', kind: 'email', value: 'c@z.example', normalized: 'c@z.example', primary: false },
      ],
      tags: ['vip', 'bot:off'],
      ownerId: 'usr_gone',
      createdBy: 'usr_1',
      version: 1,
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
    } satisfies ContactItem;

    expect(contactRow(item, ['Email', 'Phone', 'Tags', 'Owner', 'Custom: none'], new Map([['usr_2', 'x@y.example']]))).toEqual([
      'B@y.example ::: a@x.example ::: c@z.example',
      '+44 20 7946 0000',
      'vip ::: bot:off',
      'usr_gone',
      '',
    ]);
  });
});
