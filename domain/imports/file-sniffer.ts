import { ImportFileError } from './import-file-error';
import {
  isLegacyEncoding,
  legacyEncodingOf,
  legacyTextLeniently,
  type TextEncoding,
  utf8Evidence,
  readsAsUtf8,
} from './text-decoding';
import type { ImportFormat } from './import-formats';

export type { ImportFormat } from './import-formats';

export const csvDelimiters = [',', ';', '\t'] as const;
export type CsvDelimiter = (typeof csvDelimiters)[number];

export interface CsvSniff {
  format: 'csv';
  encoding: TextEncoding;
  /**
   * False while every byte seen is ASCII: the file is read as UTF-8, and becomes Windows-1252 or Mac
   * Roman if a later field is not valid UTF-8 (see FieldDecoder).
   */
  settled: boolean;
  /** Length of the byte-order mark the data starts after (0 without one). */
  bomBytes: number;
  delimiter: CsvDelimiter;
  /** The first line is Excel's `sep=;` hint (it names the delimiter and is not the header). */
  sepLine: boolean;
}

export interface XlsxSniff {
  format: 'xlsx';
}

export interface VcardSniff {
  format: 'vcf';
  encoding: 'utf-8' | 'utf-16le' | 'utf-16be';
  bomBytes: number;
}

/** How many bytes of the file's start `sniffImportFile` wants to see (it works with fewer). */
export const sniffBytes = 64 * 1024;

const startsWith = (bytes: Uint8Array, ...signature: number[]) =>
  bytes.length >= signature.length && signature.every((byte, i) => bytes[i] === byte);

const isZip = (bytes: Uint8Array) =>
  startsWith(bytes, 0x50, 0x4b, 0x03, 0x04) || startsWith(bytes, 0x50, 0x4b, 0x05, 0x06);
const isLegacyExcel = (bytes: Uint8Array) =>
  startsWith(bytes, 0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1);

/** Well-known binary formats people upload by mistake. */
const binarySignatures: [string, number[]][] = [
  ['a PDF document', [0x25, 0x50, 0x44, 0x46, 0x2d]],
  ['a gzip archive', [0x1f, 0x8b]],
  ['a PNG image', [0x89, 0x50, 0x4e, 0x47]],
  ['a JPEG image', [0xff, 0xd8, 0xff]],
  ['a UTF-32 text', [0xff, 0xfe, 0x00, 0x00]],
];

/**
 * Decides from the bytes of a file's start what it is, and refuses it when that is not what it
 * claims to be: `not_csv` (a zip, i.e. an .xlsx, or a legacy .xls claimed as CSV), `not_xlsx`
 * (anything but a zip claimed as XLSX), `binary` (NUL bytes in text that is not UTF-16, or a known
 * binary format), `empty` (no bytes). For CSV it also settles the encoding (BOM, else UTF-8 if the
 * start is valid UTF-8, else Windows-1252 or Mac Roman, whichever its words read in) and the delimiter (the most frequent of `,` `;` tab in the
 * header line, outside quotes; Excel's `sep=` first line wins). `whole` says `head` is the entire file.
 * A vCard file (`not_vcf` when it is not one) must start with BEGIN:VCARD, after a BOM and blank lines.
 */
export function sniffImportFile(
  head: Uint8Array,
  claimed: ImportFormat,
  whole: boolean,
): CsvSniff | XlsxSniff | VcardSniff {
  if (head.length === 0) throw new ImportFileError('empty', 'The file is empty');
  if (claimed === 'vcf') return sniffVcard(head);
  if (claimed === 'xlsx') {
    if (isZip(head)) return { format: 'xlsx' };
    if (isLegacyExcel(head)) {
      throw new ImportFileError(
        'not_xlsx',
        'This is a legacy Excel 97-2003 workbook (.xls): save it as .xlsx or CSV and upload that',
      );
    }
    throw new ImportFileError(
      'not_xlsx',
      looksLikeText(head)
        ? 'This is a text file, not an Excel workbook: upload it as CSV'
        : 'This is not an Excel workbook (.xlsx): an .xlsx file is a zip archive',
    );
  }
  if (isZip(head)) {
    throw new ImportFileError(
      'not_csv',
      'This is a zip archive (an Excel .xlsx workbook?), not a CSV file: upload it as XLSX',
    );
  }
  if (isLegacyExcel(head)) {
    throw new ImportFileError(
      'not_csv',
      'This is a legacy Excel 97-2003 workbook (.xls), not a CSV file: save it as CSV or .xlsx',
    );
  }
  for (const [what, signature] of binarySignatures) {
    if (startsWith(head, ...signature))
      throw new ImportFileError('binary', `This is ${what}, not a CSV file`);
  }
  const otherText = otherTextFormat(head);
  if (otherText) throw new ImportFileError('not_csv', otherText);

  let encoding: TextEncoding;
  let bomBytes = 0;
  let settled = true;
  if (startsWith(head, 0xef, 0xbb, 0xbf)) {
    [encoding, bomBytes] = ['utf-8', 3];
  } else if (startsWith(head, 0xff, 0xfe)) {
    [encoding, bomBytes] = ['utf-16le', 2];
  } else if (startsWith(head, 0xfe, 0xff)) {
    [encoding, bomBytes] = ['utf-16be', 2];
  } else {
    if (head.includes(0)) {
      throw new ImportFileError(
        'binary',
        looksLikeUtf16(head)
          ? 'This looks like UTF-16 text without a byte-order mark: save it as UTF-8 (or UTF-16 with a BOM)'
          : 'This file holds binary data (NUL bytes), not CSV text',
      );
    }
    // Neither valid nor invalid sequences (ASCII) leave it unsettled.
    const evidence = utf8Evidence(head, whole);
    encoding = readsAsUtf8(evidence) ? 'utf-8' : legacyEncodingOf(Buffer.from(head).toString('latin1'));
    settled = evidence.valid > 0 || evidence.invalid > 0;
  }

  const text = decodeStart(head.subarray(bomBytes), encoding);
  const sep = /^sep=([,;\t])(?:\r\n|\r|\n|$)/i.exec(text);
  const delimiter = sep ? (sep[1] as CsvDelimiter) : detectDelimiter(text);
  return { format: 'csv', encoding, settled, bomBytes, delimiter, sepLine: sep !== null };
}

/**
 * The delimiter of the header: the most frequent of `,` `;` tab outside quotes (`,` on ties or none)
 * on the first non-blank line that has at least two of one, i.e. three columns or more; else on the
 * first non-blank line. Lines of one or two "columns" above that are a report's title and filters
 * ("Contacts by Account", "Filtered By: Lead Source equals Web"), not the header.
 */
export function detectDelimiter(text: string): CsvDelimiter {
  const lines = lineDelimiterCounts(text, 50);
  const header = lines.find((counts) => Math.max(...Object.values(counts)) >= 2) ?? lines[0];
  if (!header) return ',';
  return csvDelimiters.reduce(
    (best, candidate) => (header[candidate] > header[best] ? candidate : best),
    ',',
  );
}

/** Delimiter counts outside quotes of the first `most` non-blank lines (a quoted line break stays in its line). */
function lineDelimiterCounts(text: string, most: number): Record<CsvDelimiter, number>[] {
  const lines: Record<CsvDelimiter, number>[] = [];
  let counts: Record<CsvDelimiter, number> = { ',': 0, ';': 0, '\t': 0 };
  let quoted = false;
  let seenText = false;
  for (const char of text) {
    if (char === '"') quoted = !quoted;
    else if (!quoted && (char === '\n' || char === '\r')) {
      if (seenText) {
        lines.push(counts);
        if (lines.length === most) return lines;
      }
      counts = { ',': 0, ';': 0, '\t': 0 };
      seenText = false;
      continue;
    } else if (!quoted && (char === ',' || char === ';' || char === '\t')) {
      counts[char]++;
    }
    if (char !== ' ') seenText = true;
  }
  if (seenText) lines.push(counts);
  return lines;
}

function decodeStart(bytes: Uint8Array, encoding: TextEncoding): string {
  if (isLegacyEncoding(encoding)) return legacyTextLeniently(Buffer.from(bytes).toString('latin1'), encoding);
  return new TextDecoder(encoding).decode(bytes, { stream: true });
}

/**
 * What a text file people export contacts as, but is not CSV, says to do: a vCard file (Apple and
 * iCloud Contacts, Outlook, Android) or a web page (a spreadsheet saved as HTML, or a download that
 * was an error page).
 */
function otherTextFormat(head: Uint8Array): string | undefined {
  const start = Buffer.from(head.subarray(0, 512))
    .toString('latin1')
    .replace(/^(?:\xef\xbb\xbf|\xff\xfe|\xfe\xff)/, '')
    .replace(/\0/g, '')
    .trimStart();
  if (/^BEGIN:VCARD\r?\n/i.test(start)) {
    return 'This is a vCard (.vcf) file of contacts, not CSV: upload it as vcf (a .vcf file name, or `format: vcf`)';
  }
  if (/^<(?:!doctype html|html[\s>])/i.test(start)) {
    return 'This is a web page (HTML), not a CSV file: save the sheet as CSV or .xlsx and upload that';
  }
  return undefined;
}

function sniffVcard(head: Uint8Array): VcardSniff {
  const [encoding, bomBytes]: [VcardSniff['encoding'], number] = startsWith(head, 0xef, 0xbb, 0xbf)
    ? ['utf-8', 3]
    : startsWith(head, 0xff, 0xfe)
      ? ['utf-16le', 2]
      : startsWith(head, 0xfe, 0xff)
        ? ['utf-16be', 2]
        : ['utf-8', 0];
  const start = (
    encoding === 'utf-8'
      ? Buffer.from(head.subarray(bomBytes)).toString('latin1')
      : new TextDecoder(encoding).decode(head.subarray(bomBytes, 1026))
  ).trimStart();
  if (/^BEGIN\s*:\s*VCARD\s*(?:\r|\n|$)/i.test(start)) return { format: 'vcf', encoding, bomBytes };
  const what = isZip(head)
    ? 'This is a zip archive (an Excel .xlsx workbook?), not a vCard file: upload it as XLSX'
    : isLegacyExcel(head)
      ? 'This is a legacy Excel 97-2003 workbook (.xls), not a vCard file: save it as CSV or .xlsx'
      : looksLikeText(head)
        ? 'This is not a vCard file: a vCard (.vcf) file starts with BEGIN:VCARD. A CSV file is uploaded as CSV'
        : 'This is not a vCard file: it holds binary data';
  throw new ImportFileError('not_vcf', what);
}

function looksLikeText(bytes: Uint8Array): boolean {
  const sample = bytes.subarray(0, 4096);
  return !sample.includes(0) || startsWith(sample, 0xff, 0xfe) || startsWith(sample, 0xfe, 0xff);
}

/** Every other byte NUL, as ASCII-range text in UTF-16 is. */
function looksLikeUtf16(bytes: Uint8Array): boolean {
  const sample = bytes.subarray(0, 4096);
  let even = 0;
  let odd = 0;
  sample.forEach((byte, i) => {
    if (byte === 0) {
      if (i % 2 === 0) even++;
      else odd++;
    }
  });
  const pairs = sample.length / 2;
  return pairs >= 2 && Math.max(even, odd) > pairs * 0.6 && Math.min(even, odd) < pairs * 0.05;
}
