import type { CellObject, WorkBook, WorkSheet } from '@e965/xlsx';
import { runInNewContext } from 'node:vm';
import { loadedOnFirstUse } from '../shared/built-on-first-use';
import { cellText, dateText, excelSerialToDate, isDateFormat } from './cell-text';
import { ImportFileError } from './import-file-error';
import {
  legacyEncodingOf,
  legacyText,
  readsAsUtf8,
  utf8Evidence,
  type LegacyEncoding,
} from './text-decoding';
import type { XlsxRow, XlsxWorkbook } from './xlsx-reader';

/**
 * Workbooks the import reads whole, through SheetJS (the community build `@e965/xlsx`, Apache-2.0),
 * imported on first use: Excel 97-2003 binary workbooks (.xls, BIFF8 and older), the "Excel" files
 * web apps and Excel's "Save as Web Page" write as an HTML table named .xls, Excel 2003 XML
 * Spreadsheets (SpreadsheetML), and OpenDocument spreadsheets (.ods). They become an `XlsxWorkbook`,
 * so sheets, header search and rows go as for an .xlsx. Unlike an .xlsx (streamed from S3), such a
 * file is parsed in memory: at most `maxLegacyWorkbookBytes`.
 */
export const maxLegacyWorkbookBytes = 32 * 1024 * 1024;

export const legacyWorkbookFormats = ['xls', 'ods'] as const;
export type LegacyWorkbookFormat = (typeof legacyWorkbookFormats)[number];

const loadSheetJs = /* @__PURE__ */ loadedOnFirstUse(async () => (await import('@e965/xlsx')).default);

const startsWith = (bytes: Uint8Array, ...signature: number[]) =>
  bytes.length >= signature.length && signature.every((byte, i) => bytes[i] === byte);
const isZip = (bytes: Uint8Array) => startsWith(bytes, 0x50, 0x4b, 0x03, 0x04);
const isCompoundFile = (bytes: Uint8Array) =>
  startsWith(bytes, 0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1);

/** What the bytes of a file claimed as .xls or .ods are, or the error that refuses them. */
export function sniffLegacyWorkbook(
  bytes: Uint8Array,
  claimed: LegacyWorkbookFormat,
): 'binary' | 'zip' | 'markup' {
  const refuse = (why: string) => new ImportFileError(claimed === 'xls' ? 'not_xls' : 'not_ods', why);
  if (claimed === 'ods') {
    if (isZip(bytes)) return 'zip';
    throw refuse('This is not an OpenDocument spreadsheet (.ods): an .ods file is a zip archive');
  }
  if (isCompoundFile(bytes)) return 'binary';
  // An .xlsx renamed .xls: Excel opens it, so does the import.
  if (isZip(bytes)) return 'zip';
  const start = markupStart(bytes);
  if (/^<(?:\?xml|!doctype html|html|table|workbook|ss:workbook|!--)/i.test(start)) return 'markup';
  if (bytes.subarray(0, 4096).includes(0))
    throw refuse('This is not an Excel workbook: it holds binary data that is not a workbook');
  throw refuse(
    'This is a text file named .xls, not an Excel workbook: if it is CSV (values separated by commas, semicolons or tabs), upload it as CSV',
  );
}

/** The start of a text file, past a BOM and white space, as Latin-1 (UTF-16 decoded). */
function markupStart(bytes: Uint8Array): string {
  const head = bytes.subarray(0, 1024);
  if (startsWith(head, 0xff, 0xfe)) return new TextDecoder('utf-16le').decode(head.subarray(2)).trimStart();
  if (startsWith(head, 0xfe, 0xff)) return new TextDecoder('utf-16be').decode(head.subarray(2)).trimStart();
  return Buffer.from(startsWith(head, 0xef, 0xbb, 0xbf) ? head.subarray(3) : head)
    .toString('latin1')
    .trimStart();
}

/**
 * Markup (HTML or SpreadsheetML) as text: its BOM, else the charset its `<meta>` or XML declaration
 * names (Excel's web pages declare windows-1252 and are), else UTF-8 when the bytes are, else the code
 * page they read in (as a CSV's).
 */
export function markupText(bytes: Uint8Array): string {
  if (startsWith(bytes, 0xef, 0xbb, 0xbf)) return Buffer.from(bytes.subarray(3)).toString('utf8');
  if (startsWith(bytes, 0xff, 0xfe)) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (startsWith(bytes, 0xfe, 0xff)) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  const latin1 = Buffer.from(bytes).toString('latin1');
  const head = latin1.slice(0, 4096);
  const declared = (/<meta[^>]+charset\s*=\s*["']?([\w.:-]+)/i.exec(head) ??
    /<\?xml[^>]+encoding\s*=\s*["']([\w.:-]+)/i.exec(head))?.[1]?.toLowerCase();
  const legacy = declared ? declaredCodePage(declared) : undefined;
  if (legacy) {
    const text = legacyText(latin1, legacy);
    if (text !== undefined) return text;
  }
  if (readsAsUtf8(utf8Evidence(bytes, true))) return Buffer.from(bytes).toString('utf8');
  const guessed = legacyEncodingOf(latin1.replace(/[\x00-\x7f]+/g, ' '));
  return legacyText(latin1, guessed) ?? Buffer.from(bytes).toString('utf8');
}

const declaredCodePage = (label: string): LegacyEncoding | undefined => {
  if (/^(?:iso-8859-1|latin-?1|us-ascii|windows-1252|cp1252)$/.test(label)) return 'windows-1252';
  const windows = /^(?:windows-|cp)(125[0-8]|874)$/.exec(label)?.[1];
  if (windows) return `windows-${windows}` as LegacyEncoding;
  if (/^(?:shift[_-]jis|sjis|windows-31j)$/.test(label)) return 'shift_jis';
  if (/^(?:gb2312|gbk|gb18030)$/.test(label)) return 'gbk';
  if (label === 'big5') return 'big5';
  if (/^(?:euc-kr|ks_c_5601-1987)$/.test(label)) return 'euc-kr';
  if (/^(?:macintosh|x-mac-roman)$/.test(label)) return 'macintosh';
  return undefined;
};

// HTML 4's Latin-1 entities name U+00A0 to U+00FF in order; then the others web pages use for text.
const latin1EntityNames =
  'nbsp iexcl cent pound curren yen brvbar sect uml copy ordf laquo not shy reg macr deg plusmn sup2 sup3 acute micro para middot cedil sup1 ordm raquo frac14 frac12 frac34 iquest Agrave Aacute Acirc Atilde Auml Aring AElig Ccedil Egrave Eacute Ecirc Euml Igrave Iacute Icirc Iuml ETH Ntilde Ograve Oacute Ocirc Otilde Ouml times Oslash Ugrave Uacute Ucirc Uuml Yacute THORN szlig agrave aacute acirc atilde auml aring aelig ccedil egrave eacute ecirc euml igrave iacute icirc iuml eth ntilde ograve oacute ocirc otilde ouml divide oslash ugrave uacute ucirc uuml yacute thorn yuml';
const entityCodePoints: Record<string, number> = {
  ...Object.fromEntries(latin1EntityNames.split(' ').map((name, index) => [name, 0xa0 + index])),
  OElig: 0x152,
  oelig: 0x153,
  Scaron: 0x160,
  scaron: 0x161,
  Yuml: 0x178,
  fnof: 0x192,
  circ: 0x2c6,
  tilde: 0x2dc,
  ensp: 0x2002,
  emsp: 0x2003,
  thinsp: 0x2009,
  zwnj: 0x200c,
  zwj: 0x200d,
  lrm: 0x200e,
  rlm: 0x200f,
  ndash: 0x2013,
  mdash: 0x2014,
  lsquo: 0x2018,
  rsquo: 0x2019,
  sbquo: 0x201a,
  ldquo: 0x201c,
  rdquo: 0x201d,
  bdquo: 0x201e,
  dagger: 0x2020,
  Dagger: 0x2021,
  bull: 0x2022,
  hellip: 0x2026,
  permil: 0x2030,
  lsaquo: 0x2039,
  rsaquo: 0x203a,
  euro: 0x20ac,
  trade: 0x2122,
};
const markupCharacters: Record<string, string> = {
  '<': '&lt;',
  '>': '&gt;',
  '&': '&amp;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * Character references in markup as the characters they stand for (`&#321;` is Ł: Excel's web pages
 * write so what their charset lacks; `&eacute;`), which SheetJS's HTML reader leaves as written. The
 * five that are markup (`&lt;` `&amp;` ...) stay references for the parser to read; a name not known
 * stays as it is.
 */
export function decodeCharacterReferences(markup: string): string {
  return markup.replace(/&(#\d{1,7}|#x[0-9a-f]{1,6}|[a-z][a-z0-9]{1,31});/gi, (reference, body: string) => {
    const codePoint = /^#x/i.test(body)
      ? parseInt(body.slice(2), 16)
      : body.startsWith('#')
        ? Number(body.slice(1))
        : entityCodePoints[body];
    if (
      codePoint === undefined ||
      codePoint === 0 ||
      codePoint > 0x10ffff ||
      (codePoint >= 0xd800 && codePoint <= 0xdfff)
    )
      return reference;
    const character = String.fromCodePoint(codePoint);
    return markupCharacters[character] ?? character;
  });
}

/** How long a workbook may take to parse: a 32 MiB one takes a few seconds. */
export const legacyParseMs = 20_000;

/**
 * Runs a synchronous parse, stopped when it takes longer than `ms`: a damaged workbook can send SheetJS
 * round a loop that never ends (one changed byte in a BIFF8 record is enough), which would hold the
 * import's function until its own timeout. The vm's watchdog terminates whatever JavaScript runs then.
 */
function parseWithin<T>(ms: number, parse: () => T): T {
  const sandbox: { parse: () => T; result?: T } = { parse };
  runInNewContext('result = parse()', sandbox, { timeout: ms });
  return sandbox.result as T;
}

/** Parses the whole file and gives its sheets and rows as an .xlsx reader would. */
export async function openLegacyWorkbook(
  bytes: Uint8Array,
  claimed: LegacyWorkbookFormat,
  options: { parseMs?: number } = {},
): Promise<XlsxWorkbook & { rowCount(sheet: string): number }> {
  const kind = sniffLegacyWorkbook(bytes, claimed);
  const sheetJs = await loadSheetJs();
  // Cell values, number formats and nothing else: no styles, no formulas' text, no HTML of cells.
  // `raw` keeps the text of HTML cells as written (SheetJS would read "007" or "1-2" as numbers).
  const settings = {
    dense: true,
    cellNF: true,
    cellDates: false,
    cellFormula: false,
    cellHTML: false,
    cellStyles: false,
    raw: true,
  } as const;
  let book: WorkBook;
  try {
    book = parseWithin(options.parseMs ?? legacyParseMs, () =>
      kind === 'markup'
        ? sheetJs.read(decodeCharacterReferences(markupText(bytes)), { ...settings, type: 'string' })
        : sheetJs.read(bytes, { ...settings, type: 'buffer' }),
    );
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') {
      throw new ImportFileError(
        'unreadable',
        `The workbook could not be read in ${Math.round((options.parseMs ?? legacyParseMs) / 1000)} s (it may be damaged): save it again as .xlsx or CSV`,
      );
    }
    const message = (error as Error).message ?? String(error);
    throw new ImportFileError(
      'unreadable',
      /password|encrypt/i.test(message)
        ? 'The workbook is protected with a password: save a copy without one'
        : `The workbook cannot be read: ${message}`,
    );
  }
  const date1904 = Boolean(book.Workbook?.WBProps?.date1904);
  const sheets = book.SheetNames.map((name, index) => ({
    name,
    hidden: Boolean(book.Workbook?.Sheets?.[index]?.Hidden),
  }));
  return {
    sheets,
    rowCount: (sheet) => ((book.Sheets[sheet]?.['!data'] as unknown[] | undefined) ?? []).length,
    async *rows(sheet: string) {
      const worksheet = book.Sheets[sheet];
      if (worksheet) yield* sheetRows(worksheet, date1904);
    },
  };
}

function* sheetRows(sheet: WorkSheet, date1904: boolean): Generator<XlsxRow> {
  const data = (sheet['!data'] ?? []) as (CellObject[] | undefined)[];
  for (const [index, row] of data.entries()) {
    if (!row) continue;
    const cells: string[] = [];
    row.forEach((cell, column) => {
      if (cell) cells[column] = cellValueText(cell, date1904);
    });
    yield { number: index + 1, cells: Array.from(cells, (cell) => cell ?? '') };
  }
}

/** A cell's text as the .xlsx reader gives it (cell-text.ts): what a person would type to get it again. */
function cellValueText(cell: CellObject, date1904: boolean): string {
  switch (cell.t) {
    case 's':
      return typeof cell.v === 'string' ? cell.v : String(cell.v ?? '');
    case 'n': {
      const value = Number(cell.v);
      const format = typeof cell.z === 'string' ? cell.z : undefined;
      return format && isDateFormat(format) ? dateText(excelSerialToDate(value, date1904)) : cellText(value);
    }
    case 'b':
      return cell.v ? 'true' : 'false';
    case 'd':
      return cell.v instanceof Date ? dateText(cell.v) : String(cell.v ?? '');
    default:
      // 'e' (an error such as #N/A) and 'z' (a stub): empty, as in an .xlsx.
      return '';
  }
}
