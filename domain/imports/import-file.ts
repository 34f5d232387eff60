import type { CountryCode } from 'libphonenumber-js/max';
import * as z from 'zod';
import { maxCustomFieldsPerEntityType } from '../custom-fields/custom-field.entity';
import type { BlobStore } from '../shared/ports';
import { PeekableBytes, readAll, resumingRange } from './byte-streams';
import { customFieldHeader, customKeyPattern, planColumns, type ColumnMapping, type ColumnPlan, type PlannedColumn, type SkippedColumn } from './column-mapping';
import { readCsvRecords, type CsvRecord } from './csv-reader';
import { sniffBytes, sniffImportFile, type CsvDelimiter, type CsvSniff, type ImportFormat, type VcardSniff } from './file-sniffer';
import { ImportFileError, importLimits } from './import-file-error';
import type { NormalisedRow, RowPosition } from './import-row';
import { columnsRead, normaliseRecord } from './row-normaliser';
import { FieldDecoder, isLegacyEncoding, legacyEncodings, type TextEncoding } from './text-decoding';
import { readVcardRecords, vcardCustomFieldKeys, vcardHeaders } from './vcard-reader';
import { openXlsx, type XlsxRow, type XlsxWorkbook } from './xlsx-reader';
import { maxLegacyWorkbookBytes, openLegacyWorkbook, type LegacyWorkbookFormat } from './legacy-workbook';

/**
 * Where a continuation of an import resumes: saved by the job after the last row it handled, given
 * back to `openImportFile`. JSON, opaque to the job. A CSV cursor holds the byte offset of the next
 * record (the continuation reads from there with a range request, re-reading only the header); an
 * XLSX cursor holds the last sheet row handled (a zip entry is one deflate stream, which cannot be
 * entered in the middle: the continuation streams the sheet again and skips the rows before it).
 */
export const importCursorSchema = z.discriminatedUnion('format', [
  z.object({
    format: z.literal('csv'),
    /** The file's size: a continuation on a different file is refused. */
    size: z.number().int().nonnegative(),
    offset: z.number().int().nonnegative(),
    line: z.number().int().positive(),
    /** The last data row handled. */
    row: z.number().int().nonnegative(),
    encoding: z.enum(['utf-8', ...legacyEncodings, 'utf-16le', 'utf-16be']),
    /** Whether UTF-8 vs a one-byte encoding is settled (see FieldDecoder). */
    settled: z.boolean(),
    /** The record handled was blank: what follows may be a report's footer (see withoutReportFooter). */
    afterBlank: z.boolean().optional(),
  }),
  z.object({
    format: z.literal('vcf'),
    size: z.number().int().nonnegative(),
    /** Where the card after the last one handled may begin (the reader skips what is not a card). */
    offset: z.number().int().nonnegative(),
    line: z.number().int().positive(),
    /** The last card handled (its row number). */
    row: z.number().int().nonnegative(),
    /** What values without a CHARSET are in, when not UTF-8 (see FieldDecoder). */
    encoding: z.enum(['utf-8', ...legacyEncodings]),
    settled: z.boolean(),
    afterBlank: z.boolean().optional(),
    /** The custom field keys found in the file when the import started: its columns after `vcardHeaders`. */
    customKeys: z.array(z.string().regex(customKeyPattern)).max(maxCustomFieldsPerEntityType).optional(),
  }),
  ...(['xlsx', 'xls', 'ods'] as const).map((format) =>
    z.object({
      format: z.literal(format),
      size: z.number().int().nonnegative(),
      sheet: z.string(),
      /** The last sheet row handled (Excel's row number). */
      sheetRow: z.number().int().nonnegative(),
      row: z.number().int().nonnegative(),
      afterBlank: z.boolean().optional(),
    }),
  ),
]);
export type ImportCursor = z.infer<typeof importCursorSchema>;

export interface OpenImportFileOptions {
  /** What the upload says the file is; the bytes must agree. */
  claimedFormat: ImportFormat;
  /** XLSX: the sheet to read (exact name, else case-insensitive); default the first visible one. */
  sheet?: string;
  /** Header → target, overriding recognition. */
  mapping?: ColumnMapping;
  /** Country for phone numbers without `+`/`00` and a country code. */
  defaultCountry?: CountryCode;
  /** Continue after the row this cursor was yielded with (same file, same options). */
  cursor?: ImportCursor;
  /** Lower limits than `importLimits` (tests); `parseMs`: the time an .xls or .ods may take to parse (legacy-workbook.ts). */
  limits?: { maxBytes?: number; maxRows?: number; parseMs?: number };
  /** Largest CSV record in bytes (default 2 MiB): a longer one is malformed (usually a stray quote). */
  maxRecordBytes?: number;
}

export interface ImportFileInfo {
  format: ImportFormat;
  sizeBytes: number;
  /**
   * CSV: the text encoding. A file without BOM whose start is plain ASCII is read as UTF-8 and turns
   * to a legacy code page (`windows-1252`, `macintosh`, `windows-1250`, ..., `windows-874`,
   * `shift_jis`, `gbk`, `big5`, `euc-kr`) at its first record whose non-ASCII fields are not UTF-8, so
   * this can change while reading.
   */
  readonly encoding?: TextEncoding;
  /** CSV: the delimiter, detected from the header line (or Excel's `sep=` line). */
  delimiter?: CsvDelimiter;
  /** XLSX: the sheet read, and every worksheet of the workbook. */
  sheet?: string;
  sheets?: string[];
  /** The header: its physical line (CSV) or sheet row (XLSX), and its texts. A vCard file has none (0): its columns are `vcardHeaders`. */
  headerLine: number;
  headers: string[];
  /** The columns imported, with their targets. */
  columns: PlannedColumn[];
  /** The columns not imported (unrecognised or ignored), for the report. */
  skippedColumns: SkippedColumn[];
  /** The report footer found at the end of the file and skipped (set once `rows()` or `count()` reached it). */
  footer?: ReportFooter;
}

/** The lines a report export adds at the end of its rows (Salesforce's: totals, copyright, who ran it). */
export interface ReportFooter {
  /** Its first and last physical line (CSV) or sheet row (XLSX). */
  fromLine: number;
  toLine: number;
  /** Where a spreadsheet shows them (RowPosition.sheetRow). */
  fromSheetRow: number;
  toSheetRow: number;
  /** The text of each of its non-blank lines, as read. */
  lines: string[];
}

export interface ImportRowRead {
  row: NormalisedRow;
  /** Save this after handling `row`: a continuation resumes with the next one. */
  cursor: ImportCursor;
  /** How much of the file is read, 0 to 1 (for progress and an estimate of the time left). */
  fraction: number;
}

export interface ImportFile {
  info: ImportFileInfo;
  /**
   * The data rows after the header (or after the cursor), each normalised, in file order; blank
   * records included (as `blank`), so row numbers match the file. Iterate once. Breaking out of the
   * loop releases the S3 streams. Throws `too_many_rows` at the first non-blank row past the limit.
   */
  rows(): AsyncGenerator<ImportRowRead>;
  /**
   * Instead of `rows()`: reads the rest of the file without normalising it, to learn how many rows it
   * has (a job's first step: the progress total, and `too_many_rows` before anything is written).
   * `rows` counts data rows up to the last non-blank one; `nonBlank` the ones that are not blank.
   * Several times faster than `rows()` (no phone or email parsing).
   */
  count(): Promise<{ rows: number; nonBlank: number }>;
  /** Releases the streams when `rows()` is not iterated to its end (or at all). */
  close(): Promise<void>;
}

/**
 * Opens an uploaded import file for reading: checks its size (`too_large` up front), sniffs its
 * format from the bytes (`not_csv`, `not_xlsx`, `binary`, `empty`), reads the header and plans the
 * columns (`unknown_column`, `no_channel_column`, `sheet_not_found`). Streams from the BlobStore;
 * never holds the file in memory. With `cursor`, continues where a previous run stopped.
 *
 * A job step: `const file = await openImportFile(deps.blobs, key, {...options, cursor: job.cursor})`,
 * then `for await (const { row, cursor } of file.rows())` hand rows to the writer in batches, and
 * after a batch is written, `saveProgress(cursor)`; when the deadline nears, `break`.
 */
export async function openImportFile(blobs: BlobStore, key: string, options: OpenImportFileOptions): Promise<ImportFile> {
  const limits = { ...importLimits, ...options.limits };
  const head = await blobs.head(key);
  if (!head) throw new ImportFileError('not_found', 'The uploaded file is not there: was the upload finished?');
  const size = head.sizeBytes;
  if (size > limits.maxBytes) {
    throw new ImportFileError(
      'too_large',
      `The file is ${formatMb(size)}; an import takes at most ${formatMb(limits.maxBytes)}: split it`,
      { sizeBytes: size, maxBytes: limits.maxBytes },
    );
  }
  if (size === 0) throw new ImportFileError('empty', 'The file is empty');
  const { cursor } = options;
  if (cursor && (cursor.size !== size || cursor.format !== options.claimedFormat)) {
    throw new ImportFileError('file_changed', 'The file changed since the import started');
  }

  const openOnce = async (start: number, end?: number) => {
    const stream = await blobs.read(key, { start, ...(end === undefined ? {} : { end }) });
    if (!stream) throw new ImportFileError('not_found', 'The uploaded file is gone');
    return stream;
  };
  // A large file is read over many minutes: a connection dropped part-way is opened again where it broke.
  const open = async (start: number, end?: number) => resumingRange(openOnce, start, end, await openOnce(start, end));

  if (isLegacyWorkbookFormat(options.claimedFormat)) return openLegacyWorkbookFile(open, size, limits.maxRows, options, options.claimedFormat);

  // An XLSX is read by ranges: only its signature here. A CSV or vCard is read on from this first stream.
  const xlsx = options.claimedFormat === 'xlsx';
  const start = new PeekableBytes(await open(0, xlsx ? Math.min(8, size) : undefined));
  try {
    const sniff = sniffImportFile(await start.peek(xlsx ? 8 : sniffBytes), options.claimedFormat, start.exhausted && !xlsx);
    if (sniff.format === 'xlsx') {
      await start.close();
      return await openXlsxFile(open, size, limits.maxRows, options);
    }
    if (sniff.format === 'vcf') return await openVcardFile(open, start, sniff, size, limits.maxRows, options);
    return await openCsvFile(open, start, sniff, size, limits.maxRows, options);
  } catch (error) {
    await start.close();
    throw error;
  }
}

type Open = (start: number, end?: number) => Promise<AsyncIterable<Uint8Array>>;

async function openCsvFile(
  open: Open,
  start: PeekableBytes,
  sniff: CsvSniff,
  size: number,
  maxRows: number,
  options: OpenImportFileOptions,
): Promise<ImportFile> {
  const { cursor } = options;
  const resumed = cursor?.format === 'csv' ? cursor : undefined;
  // UTF-8 and the legacy code pages are parsed as bytes and decoded field by field (FieldDecoder).
  const fieldDecoded = (encoding: TextEncoding | undefined): encoding is FieldDecoder['encoding'] =>
    encoding === 'utf-8' || isLegacyEncoding(encoding);
  const decoder = fieldDecoded(sniff.encoding)
    ? resumed
      ? new FieldDecoder(fieldDecoded(resumed.encoding) ? resumed.encoding : 'utf-8', resumed.settled)
      : new FieldDecoder(sniff.encoding, sniff.settled)
    : undefined;
  const settings = {
    encoding: sniff.encoding,
    delimiter: sniff.delimiter,
    ...(decoder ? { decoder } : {}),
    ...(options.maxRecordBytes ? { maxRecordBytes: options.maxRecordBytes } : {}),
  };

  let records: AsyncGenerator<CsvRecord> = readCsvRecords(open, { offset: sniff.bomBytes, line: 1 }, settings, start.rest(sniff.bomBytes));
  try {
    const search = new HeaderSearch(options.mapping, 'line');
    // Records up to the header, as a spreadsheet numbers its rows (see RowPosition.sheetRow).
    let headerSheetRow = 0;
    for (;;) {
      const next = await records.next();
      if (next.done) break;
      const record = next.value;
      if (sniff.sepLine && record.line === 1) continue;
      headerSheetRow += 1;
      if (record.fields.every((field) => field.trim() === '')) continue;
      if (record.problem) {
        if (search.tried === 0) throw new ImportFileError('unreadable', `The header line cannot be read: ${record.problem}`);
        continue;
      }
      if (search.consider(record.fields, record.line) || search.done) break;
    }
    const { plan, number: headerLine } = search.result('The file has no header line (and no rows)');
    if (resumed) {
      await records.return(undefined);
      records = readCsvRecords(open, { offset: resumed.offset, line: resumed.line }, settings);
    }

    const info: ImportFileInfo = {
      format: 'csv',
      sizeBytes: size,
      get encoding() {
        return decoder?.encoding ?? sniff.encoding;
      },
      delimiter: sniff.delimiter,
      ...planInfo(headerLine, plan),
    };
    const source = records;
    return fileOf(info, plan, options, maxRows, async function* () {
      let row = resumed?.row ?? 0;
      for await (const record of source) {
        row += 1;
        yield {
          fields: record.fields,
          position: { row, line: record.line, sheetRow: headerSheetRow + row },
          ...(record.problem ? { problem: record.problem } : {}),
          cursor: {
            format: 'csv',
            size,
            offset: record.next.offset,
            line: record.next.line,
            row,
            encoding: decoder?.encoding ?? sniff.encoding,
            settled: decoder?.settled ?? true,
          },
          fraction: Math.min(1, record.next.offset / size),
        };
      }
    }, source);
  } catch (error) {
    await records.return(undefined);
    throw error;
  }
}

async function openXlsxFile(open: Open, size: number, maxRows: number, options: OpenImportFileOptions): Promise<ImportFile> {
  const read = async (start: number, end: number) => readAll(await open(start, end));
  let sheetBytes = 0;
  let sheetSize = 1;
  const book = await openXlsx(read, (start, end) => open(start, end), size, (streamed, total) => {
    sheetBytes = streamed;
    sheetSize = total;
  });
  return openWorkbookFile(book, 'xlsx', { size, maxRows, options, progress: () => Math.min(1, sheetBytes / sheetSize) });
}

/**
 * An .xls or .ods (or an HTML or XML spreadsheet named .xls): read whole and parsed in memory
 * (legacy-workbook.ts), so it may be at most `maxLegacyWorkbookBytes`; then as an .xlsx.
 */
async function openLegacyWorkbookFile(
  open: Open,
  size: number,
  maxRows: number,
  options: OpenImportFileOptions,
  format: LegacyWorkbookFormat,
): Promise<ImportFile> {
  if (size > maxLegacyWorkbookBytes) {
    throw new ImportFileError(
      'too_large',
      `The file is ${formatMb(size)}; an .${format} file is read whole and may have at most ${formatMb(maxLegacyWorkbookBytes)}: save it as .xlsx or CSV, which have no such limit`,
      { sizeBytes: size, maxBytes: maxLegacyWorkbookBytes },
    );
  }
  const parseMs = options.limits?.parseMs;
  const parsed = await openLegacyWorkbook(await readAll(await open(0)), format, parseMs === undefined ? {} : { parseMs });
  // Progress: the last row read, of the sheet's rows.
  let at = { row: 0, of: 1 };
  const book: XlsxWorkbook = {
    sheets: parsed.sheets,
    async *rows(sheet) {
      const of = Math.max(1, parsed.rowCount(sheet));
      for await (const row of parsed.rows(sheet)) {
        at = { row: row.number, of };
        yield row;
      }
    },
  };
  return openWorkbookFile(book, format, { size, maxRows, options, progress: () => Math.min(1, at.row / at.of) });
}

async function openWorkbookFile(
  book: XlsxWorkbook,
  format: 'xlsx' | LegacyWorkbookFormat,
  context: { size: number; maxRows: number; options: OpenImportFileOptions; progress: () => number },
): Promise<ImportFile> {
  const { size, maxRows, options } = context;
  const visible = book.sheets.filter((sheet) => !sheet.hidden);
  const sheetNames = book.sheets.map((sheet) => sheet.name);
  let sheets: string[];
  if (options.sheet !== undefined) {
    const wanted = options.sheet;
    const match =
      book.sheets.find((candidate) => candidate.name === wanted) ??
      book.sheets.find((candidate) => candidate.name.trim().toLowerCase() === wanted.trim().toLowerCase());
    if (!match) {
      throw new ImportFileError(
        'sheet_not_found',
        `The workbook has no sheet "${wanted}"; its sheets: ${sheetNames.map((name) => JSON.stringify(name)).join(', ')}`,
        { sheets: sheetNames },
      );
    }
    sheets = [match.name];
  } else {
    // The first visible sheet with contacts: a workbook often starts with an empty or a notes sheet.
    sheets = (visible.length > 0 ? visible : book.sheets).map((candidate) => candidate.name);
  }
  const cursor = options.cursor;
  const resumed = cursor && cursor.format === format && 'sheet' in cursor ? cursor : undefined;
  if (resumed) sheets = sheets.includes(resumed.sheet) ? [resumed.sheet] : [];
  if (sheets.length === 0) throw new ImportFileError('file_changed', 'The sheet changed since the import started');

  let firstProblem: ImportFileError | undefined;
  for (const sheet of sheets) {
    const rows: AsyncGenerator<XlsxRow> = book.rows(sheet);
    let found: { plan: ColumnPlan; number: number };
    try {
      const search = new HeaderSearch(options.mapping, 'row');
      for (;;) {
        const next = await rows.next();
        if (next.done) break;
        if (next.value.cells.every((cell) => cell.trim() === '')) continue;
        if (search.consider(next.value.cells, next.value.number) || search.done) break;
      }
      found = search.result(`The sheet "${sheet}" is empty`);
    } catch (error) {
      await rows.return(undefined);
      if (!(error instanceof ImportFileError) || sheets.length === 1) throw error;
      firstProblem ??= error;
      continue;
    }
    return xlsxFile(sheet, rows, found, { format, size, maxRows, options, sheetNames, resumed, progress: context.progress });
  }
  throw firstProblem!.code === 'empty'
    ? new ImportFileError('empty', `Every sheet of the workbook is empty: ${sheets.map((name) => JSON.stringify(name)).join(', ')}`, { sheets: sheetNames })
    : firstProblem!;
}

function xlsxFile(
  sheet: string,
  rows: AsyncGenerator<XlsxRow>,
  { plan, number: headerRow }: { plan: ColumnPlan; number: number },
  context: {
    format: 'xlsx' | LegacyWorkbookFormat;
    size: number;
    maxRows: number;
    options: OpenImportFileOptions;
    sheetNames: string[];
    resumed: Extract<ImportCursor, { sheet: string }> | undefined;
    progress: () => number;
  },
): ImportFile {
  const { format, size, maxRows, options, sheetNames, progress, resumed } = context;
  const info: ImportFileInfo = { format, sizeBytes: size, sheet, sheets: sheetNames, ...planInfo(headerRow, plan) };
  return fileOf(info, plan, options, maxRows, async function* () {
    let last = Math.max(headerRow, resumed?.sheetRow ?? 0);
    const record = (sheetRow: number, fields: string[]): SourceRecord => ({
      fields,
      position: { row: sheetRow - headerRow, line: sheetRow, sheetRow },
      cursor: { format, size, sheet, sheetRow, row: sheetRow - headerRow },
      fraction: progress(),
    });
    for await (const { number, cells } of rows) {
      if (number <= last) continue;
      // Rows a sheet does not store are empty rows: blank, so that row numbers match the sheet.
      for (let gap = last + 1; gap < number; gap++) yield record(gap, []);
      last = number;
      yield record(number, cells);
    }
  }, rows);
}

/**
 * A vCard file: each card is a row under `vcardHeaders`, then a `Custom: <key>` column per custom field
 * key its cards carry (`X-CRM-FIELD-<KEY>`, found by reading the file once first; the cursor keeps them).
 * That header is planned with the mapping like a sheet's; a continuation reads on from the byte after
 * the last card handled.
 */
async function openVcardFile(
  open: Open,
  start: PeekableBytes,
  sniff: VcardSniff,
  size: number,
  maxRows: number,
  options: OpenImportFileOptions,
): Promise<ImportFile> {
  const resumed = options.cursor?.format === 'vcf' ? options.cursor : undefined;
  const customKeys = resumed ? (resumed.customKeys ?? []) : await vcardCustomFieldKeys(await open(sniff.bomBytes), sniff.encoding);
  const search = new HeaderSearch(options.mapping, 'line');
  search.consider([...vcardHeaders, ...customKeys.map(customFieldHeader)], 0);
  const found = search.result('');
  const decoder = resumed ? new FieldDecoder(resumed.encoding, resumed.settled) : new FieldDecoder('utf-8', false);
  let source: AsyncIterable<Uint8Array>;
  if (resumed) {
    await start.close();
    source = await open(resumed.offset);
  } else {
    source = start.rest(sniff.bomBytes);
  }
  const cards = readVcardRecords(source, resumed ? { offset: resumed.offset, line: resumed.line } : { offset: sniff.bomBytes, line: 1 }, {
    encoding: sniff.encoding,
    decoder,
    customKeys,
  });
  const info: ImportFileInfo = {
    format: 'vcf',
    sizeBytes: size,
    get encoding() {
      return sniff.encoding === 'utf-8' ? decoder.encoding : sniff.encoding;
    },
    ...planInfo(found.number, found.plan),
  };
  return fileOf(info, found.plan, options, maxRows, async function* () {
    let row = resumed?.row ?? 0;
    for await (const card of cards) {
      row += 1;
      yield {
        fields: card.fields,
        position: { row, line: card.line },
        ...(card.problem ? { problem: card.problem } : {}),
        cursor: {
          format: 'vcf',
          size,
          offset: card.next.offset,
          line: card.next.line,
          row,
          encoding: decoder.encoding,
          settled: decoder.settled,
          ...(customKeys.length > 0 ? { customKeys } : {}),
        },
        fraction: Math.min(1, card.next.offset / size),
      };
    }
  }, cards);
}

/** How many non-blank lines (rows) before the header a file may have: a report's title, its filters. */
export const maxLinesAboveHeader = 10;

/**
 * Finds the header: the first non-blank record that has an email or phone column (by recognition or
 * by the mapping), among the first `maxLinesAboveHeader + 1` non-blank ones, as report exports put a
 * title and their filters above the header. When none has, the file is refused with the first
 * record's problem (in a file with its header on top, the header's), saying where it looked.
 */
class HeaderSearch {
  tried = 0;
  private firstProblem: ImportFileError | undefined;
  /** The mapping's failure on a line that is a header without it: the file's header, which lacks a column the mapping names. */
  private mappingProblem: ImportFileError | undefined;
  private found: { plan: ColumnPlan; number: number } | undefined;

  constructor(
    private readonly mapping: ColumnMapping | undefined,
    private readonly unit: 'line' | 'row',
  ) {}

  get done(): boolean {
    return this.found !== undefined || this.tried > maxLinesAboveHeader;
  }

  /** Tries a record as the header; true when it is. */
  consider(fields: string[], number: number): boolean {
    this.tried += 1;
    const headers = fields.map((field) => field.normalize('NFC').trim());
    try {
      this.found = { plan: planColumns(headers, this.mapping), number };
      return true;
    } catch (error) {
      if (!(error instanceof ImportFileError)) throw error;
      this.firstProblem ??= error;
      if (error.code === 'unknown_column' && !this.mappingProblem && isHeader(headers)) this.mappingProblem = error;
      return false;
    }
  }

  result(whenEmpty: string): { plan: ColumnPlan; number: number } {
    if (this.found) return this.found;
    // Not "no line is a header": one is, and the mapping names a column it lacks.
    if (this.mappingProblem) throw this.mappingProblem;
    const problem = this.firstProblem;
    if (!problem) throw new ImportFileError('empty', whenEmpty);
    if (this.tried === 1) throw problem;
    throw new ImportFileError(
      problem.code,
      `${problem.message}. (No ${this.unit} of the first ${this.tried} that hold text is a header with an email or phone column: put the header on the first ${this.unit}, or name the columns in the mapping.)`,
      problem.details,
    );
  }
}

/** Whether a line is a header with an email or phone column by its own headers (no mapping). */
function isHeader(headers: string[]): boolean {
  try {
    planColumns(headers, undefined);
    return true;
  } catch (error) {
    if (error instanceof ImportFileError) return false;
    throw error;
  }
}

/** A record of either format, before normalisation. */
interface SourceRecord {
  fields: string[];
  position: RowPosition;
  problem?: string;
  cursor: ImportCursor;
  fraction: number;
}

function fileOf(
  info: ImportFileInfo,
  plan: ColumnPlan,
  options: OpenImportFileOptions,
  maxRows: number,
  records: () => AsyncGenerator<SourceRecord>,
  streams: AsyncGenerator<unknown>,
): ImportFile {
  // A sheet's cells right of its header's last are not a CSV record's extra fields (see columnsRead).
  const sheetRow = info.format !== 'csv' && info.format !== 'vcf';
  const rowOptions = { ...(options.defaultCountry ? { defaultCountry: options.defaultCountry } : {}), sheetRow };
  const fieldsRead = (fields: string[]) => fields.slice(0, columnsRead(fields.length, plan, sheetRow).width);
  let used = false;
  const once = () => {
    if (used) throw new Error('An import file is read once: rows() or count()');
    used = true;
    return withoutReportFooter(records(), options.cursor?.afterBlank ?? false, (footer) => {
      info.footer = footer;
    });
  };
  return {
    info,
    rows: async function* () {
      for await (const { fields, position, problem, cursor, fraction } of once()) {
        const row = problem ? malformed(position, problem, fields) : normaliseRecord(fields, position, plan, rowOptions);
        if (position.row > maxRows && row.kind !== 'blank') throw tooManyRows(maxRows);
        yield { row, cursor, fraction };
      }
    },
    count: async () => {
      let rows = 0;
      let nonBlank = 0;
      for await (const { fields, position, problem } of once()) {
        if (!problem && fieldsRead(fields).every((field) => field.trim() === '')) continue;
        if (position.row > maxRows) throw tooManyRows(maxRows);
        rows = position.row;
        nonBlank += 1;
      }
      return { rows, nonBlank };
    },
    close: async () => {
      await streams.return(undefined);
    },
  };
}

function planInfo(headerLine: number, plan: ColumnPlan) {
  return { headerLine, headers: plan.headers, columns: plan.columns, skippedColumns: plan.skipped };
}

const malformed = (position: RowPosition, message: string, raw: string[]): NormalisedRow => ({
  kind: 'rejected',
  rejection: { ...position, code: 'malformed_record', message, raw },
});

const tooManyRows = (maxRows: number) =>
  new ImportFileError(
    'too_many_rows',
    `The file has more than ${maxRows.toLocaleString('en-US')} rows, the most one import takes: split it`,
    { maxRows },
  );

const isLegacyWorkbookFormat = (format: ImportFormat): format is LegacyWorkbookFormat => format === 'xls' || format === 'ods';

const formatMb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0)} MB`;

/** The most non-blank lines a report footer has (Salesforce writes up to five), and records held in all. */
const maxFooterLines = 8;
const maxFooterRecords = 40;

/**
 * What a footer line of a report export says (Salesforce's "Details Only" CSV and XLSX: a blank line,
 * then `Grand Totals (N records)`, the copyright, `Confidential Information - Do Not Distribute`,
 * `Generated By: <user> <date>` and the org's name on the line after it). Each sits alone in the
 * first column.
 */
const footerLinePatterns = [
  /^grand totals?\s*\(\s*[\d,.\s]+\s+records?\s*\)$/i,
  /^copyright\s*(?:\(c\)|©)?\s*\d{4}.*all rights reserved\.?$/i,
  /^confidential information\s*-\s*do not distribute$/i,
  /^generated by:/i,
];
const generatedBy = /^generated by:/i;

const isBlankRecord = (record: SourceRecord) => !record.problem && record.fields.every((field) => field.trim() === '');
const firstColumnOnly = (record: SourceRecord) =>
  !record.problem && (record.fields[0] ?? '').trim() !== '' && record.fields.slice(1).every((field) => field.trim() === '');

/**
 * A report's footer is no contact: the records at the very end of the file, after a blank record,
 * that have only their first column filled and each say what a footer line says (the line after
 * `Generated By:` may be anything: the org's name) are skipped and reported once (`found`), not
 * rejected one by one. Conservative: one record that is not such a line, anywhere in that block, or
 * any record after it, and the block is rows as before (a last contact with only a name is still
 * rejected `no_channel`). Blank records are passed on as they come; the candidate footer lines are
 * held until the end of the file or the first record that rules them out. A blank record's cursor
 * says so (`afterBlank`), so a run resumed just after it still knows a footer may follow.
 */
async function* withoutReportFooter(
  records: AsyncGenerator<SourceRecord>,
  startsAfterBlank: boolean,
  found: (footer: ReportFooter) => void,
): AsyncGenerator<SourceRecord> {
  let afterBlank = startsAfterBlank;
  let held: SourceRecord[] = [];
  const release = function* (): Generator<SourceRecord> {
    yield* held;
    held = [];
  };
  for await (const record of records) {
    const blank = isBlankRecord(record);
    if (held.length > 0) {
      const lines = held.filter((candidate) => !isBlankRecord(candidate)).length;
      if ((blank || (firstColumnOnly(record) && lines < maxFooterLines)) && held.length < maxFooterRecords) {
        held.push(record);
        continue;
      }
      yield* release();
    } else if (afterBlank && firstColumnOnly(record)) {
      held.push(record);
      continue;
    }
    afterBlank = blank;
    yield blank ? { ...record, cursor: { ...record.cursor, afterBlank: true } } : record;
  }
  const lines = held.filter((record) => !isBlankRecord(record));
  const isFooter =
    lines.length > 0 &&
    lines.every((record, index) => {
      const text = record.fields[0]!.trim();
      const previous = lines[index - 1]?.fields[0]?.trim() ?? '';
      return footerLinePatterns.some((pattern) => pattern.test(text)) || generatedBy.test(previous);
    });
  if (!isFooter) {
    yield* release();
    return;
  }
  const first = lines[0]!.position;
  const last = held[held.length - 1]!.position;
  found({
    fromLine: first.line,
    toLine: last.line,
    fromSheetRow: first.sheetRow ?? first.line,
    toSheetRow: last.sheetRow ?? last.line,
    lines: lines.map((record) => record.fields[0]!.trim()),
  });
}
