import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixturesDirectory } from '../fixtures/imports/csv-fixtures';
import {
  openImportFile,
  type ImportCursor,
  type OpenImportFileOptions,
} from '../../domain/imports/import-file';
import { ImportFileError } from '../../domain/imports/import-file-error';
import type { NormalisedRow } from '../../domain/imports/import-row';
import { fakeBlobStore } from '../support/fakes';

/**
 * Whatever bytes come as a vCard, an .xls or an .ods, the import either reads rows or refuses the file
 * with an ImportFileError (a 422 that says why): it never throws anything else, and a continuation from
 * any row's cursor reads the rows after it, the same as reading on.
 */
const runs = Number(process.env.FUZZ_RUNS ?? 60);
const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : 20261207;

async function readAll(bytes: Uint8Array, options: OpenImportFileOptions, chunk: number) {
  const blobs = fakeBlobStore({ readChunkBytes: chunk });
  await blobs.put('upload', bytes, 'application/octet-stream');
  const file = await openImportFile(blobs, 'upload', options);
  const rows: { row: NormalisedRow; cursor: ImportCursor }[] = [];
  for await (const read of file.rows()) rows.push({ row: read.row, cursor: read.cursor });
  return rows;
}

const outcome = async (bytes: Uint8Array, options: OpenImportFileOptions, chunk: number) => {
  try {
    return { rows: await readAll(bytes, options, chunk) };
  } catch (error) {
    if (error instanceof ImportFileError) return { refused: error.code };
    throw error;
  }
};

const text = fc.string({
  unit: fc.oneof(
    fc.constantFrom(
      ':',
      ';',
      ',',
      '\\',
      '=',
      '"',
      ' ',
      '\t',
      '\r',
      '\n',
      'é',
      '中',
      '\u0000',
      '=0D=0A',
      'BEGIN:VCARD',
      'END:VCARD',
    ),
    fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }),
  ),
  maxLength: 40,
});
const property = fc
  .tuple(
    fc.constantFrom(
      'FN',
      'N',
      'EMAIL',
      'TEL',
      'ORG',
      'ADR',
      'NOTE',
      'CATEGORIES',
      'PHOTO',
      'X-SOCIALPROFILE',
      'item1.EMAIL',
      'X-CRM-FIELD-PLAN',
      'x-crm-field-renewal-month',
      'VERSION',
      'X-Y',
      '',
    ),
    fc.array(
      fc.constantFrom(
        ';TYPE=pref',
        ';CHARSET=UTF-8',
        ';CHARSET=Windows-1252',
        ';CHARSET=nonsense',
        ';ENCODING=QUOTED-PRINTABLE',
        ';ENCODING=b',
        ';BASE64',
        ';PREF=1',
        ';TYPE="a,b"',
        ';X="unclosed',
      ),
      { maxLength: 3 },
    ),
    text,
  )
  .map(([name, params, value]) => `${name}${params.join('')}:${value}`);
const card = fc
  .tuple(fc.array(property, { maxLength: 8 }), fc.boolean())
  .map(([lines, ended]) => ['BEGIN:VCARD', ...lines, ...(ended ? ['END:VCARD'] : [])]);
const vcardFile = fc
  .tuple(
    fc.array(card, { minLength: 1, maxLength: 6 }),
    fc.constantFrom('\r\n', '\n'),
    fc.integer({ min: 0, max: 100 }),
  )
  .map(([cards, eol, fold]) => {
    const lines = cards
      .flat()
      .flatMap((line) =>
        fold > 0 && line.length > fold ? [line.slice(0, fold), ` ${line.slice(fold)}`] : [line],
      );
    return Buffer.from(lines.join(eol) + eol, 'utf8');
  });

describe('import readers under generated input', () => {
  it('vCard: rows or a refusal, and a continuation from any cursor reads the rows after it', async () => {
    await fc.assert(
      fc.asyncProperty(vcardFile, fc.integer({ min: 1, max: 97 }), async (bytes, chunk) => {
        const whole = await outcome(bytes, { claimedFormat: 'vcf', defaultCountry: 'GB' }, chunk);
        if (!whole.rows) return;
        for (const at of [0, Math.floor(whole.rows.length / 2), whole.rows.length - 1]) {
          const cursor = whole.rows[at]?.cursor;
          if (!cursor) continue;
          const rest = await readAll(bytes, { claimedFormat: 'vcf', defaultCountry: 'GB', cursor }, chunk);
          expect(rest.map((read) => read.row)).toEqual(whole.rows.slice(at + 1).map((read) => read.row));
        }
      }),
      { numRuns: runs, seed },
    );
  });

  it.each([
    ['hubspot-export.xls', 'xls'],
    ['excel-web-page.xls', 'xls'],
    ['spreadsheetml-2003.xml', 'xls'],
    ['libreoffice.ods', 'ods'],
  ] as const)(
    '%s with bytes changed or cut: rows or a refusal, never another error',
    async (name, claimedFormat) => {
      const original = readFileSync(join(fixturesDirectory, 'legacy', name));
      const damaged = fc
        .tuple(
          fc.array(fc.tuple(fc.nat({ max: original.length - 1 }), fc.integer({ min: 0, max: 255 })), {
            maxLength: 12,
          }),
          fc.nat({ max: original.length }),
        )
        .map(([changes, cut]) => {
          const bytes = Buffer.from(original);
          for (const [at, value] of changes) bytes[at] = value;
          return bytes.subarray(0, Math.max(1, cut));
        });
      await fc.assert(
        fc.asyncProperty(damaged, async (bytes) => {
          // A parse that would never end is stopped (legacy-workbook.ts): a short limit keeps the test short.
          await outcome(bytes, { claimedFormat, defaultCountry: 'GB', limits: { parseMs: 1000 } }, 4096);
        }),
        { numRuns: Math.ceil(runs / 2), seed },
      );
    },
  );
});
