import { stringify } from 'csv-stringify/sync';
import type { CoreDeps } from '../shared/deps';
import { checkCursor, type Page, type PageQuery } from '../shared/pagination';
import type { RejectCode } from './import-row';
import type { ImportRowOutcome } from './import-row.entity';
import { countDecision, emptyImportCounts, type ImportJobRef } from './import-writer';
import type { ImportCounts, ImportRowError } from './import-writer.schemas';

/** The error report's own columns; the record's fields as read follow them. */
export const errorReportColumns = ['line', 'row', 'column', 'code', 'message', 'sheetRow'] as const;

/** Errors read per Query by the CSV report (each item is small; a page stays far under 1 MB). */
const reportPageSize = 500;

interface StoredError {
  row: number;
  part: number;
  line: number;
  sheetRow?: number;
  column?: string;
  code: RejectCode;
  message: string;
  raw: string[];
}

const toRowError = (item: StoredError): ImportRowError => ({
  line: item.line,
  row: item.row,
  sheetRow: item.sheetRow ?? null,
  column: item.column ?? null,
  rejected: item.part === 0,
  code: item.code,
  message: item.message,
  raw: item.raw,
});

/**
 * An import job's error report in row order, a page at a time (one Query of the job's `ERR#` items):
 * the rejected rows, and the values left out of rows that were imported (`rejected: false`). Who may
 * read the job is the caller's concern (the job's routes).
 */
export async function listImportErrors(
  deps: CoreDeps,
  job: ImportJobRef,
  page: Pick<PageQuery, 'limit' | 'cursor'>,
): Promise<Page<ImportRowError>> {
  const result = await deps.db.entities.importError.query
    .byRow({ workspaceId: job.workspaceId, jobId: job.jobId })
    .go({ limit: page.limit, cursor: checkCursor(job.workspaceId, page.cursor) ?? null });
  return { items: (result.data as StoredError[]).map(toRowError), nextCursor: result.cursor ?? null };
}

/**
 * The error report as CSV (RFC 4180, CRLF, UTF-8 with a BOM so spreadsheet apps read accents right),
 * streamed a page of 500 errors at a time: `line,row,column,code,message,sheetRow` (the first five as they
 * always were, so a reader by position still finds them), then the record's fields as
 * read. `header`: the file's header row, to head those fields (the report then reads like the file,
 * each row with why it was not imported); without it they are unheaded. A value left out of an imported
 * row is a line too, its message saying so.
 */
export async function* writeErrorReportCsv(
  deps: CoreDeps,
  job: ImportJobRef,
  options: { header?: readonly string[] } = {},
): AsyncIterable<string> {
  // A bare line feed inside a field is quoted too (csv-stringify quotes only the record delimiter, CRLF).
  const csv = (records: unknown[][]) => stringify(records, { record_delimiter: 'windows', quoted_match: /[\r\n]/ });
  yield `\ufeff${csv([[...errorReportColumns, ...(options.header ?? [])]])}`;
  let cursor: string | null = null;
  do {
    const page: { data: unknown[]; cursor: string | null } = await deps.db.entities.importError.query
      .byRow({ workspaceId: job.workspaceId, jobId: job.jobId })
      .go({ limit: reportPageSize, cursor });
    const errors = page.data as StoredError[];
    if (errors.length > 0) {
      yield csv(errors.map((error) => [error.line, error.row, error.column ?? '', error.code, error.message, error.sheetRow ?? '', ...error.raw]));
    }
    cursor = page.cursor;
  } while (cursor);
}

/**
 * The counts of an import job recounted from its rows' recorded outcomes (a Query of the job's
 * partition, page by page: ~100 bytes a row, so a million rows read ~100 MB in ~100 requests). The
 * sum of the chunks' outcomes must equal it; it is the check, or the total when chunks' counts were
 * not kept.
 */
export async function tallyImportRows(deps: CoreDeps, job: ImportJobRef): Promise<ImportCounts> {
  const counts = emptyImportCounts();
  const key = { workspaceId: job.workspaceId, jobId: job.jobId };
  let cursor: string | null = null;
  do {
    const page: { data: unknown[]; cursor: string | null } = await deps.db.entities.importRow.query
      .byRow(key)
      .go({ cursor, attributes: ['outcome', 'droppedValues'] });
    for (const item of page.data as { outcome: ImportRowOutcome; droppedValues?: number }[]) countDecision(counts, item);
    cursor = page.cursor;
  } while (cursor);
  do {
    const page: { data: unknown[]; cursor: string | null } = await deps.db.entities.importError.query
      .byRow(key)
      .go({ cursor, attributes: ['part', 'code'] });
    for (const item of page.data as { part: number; code: RejectCode }[]) if (item.part === 0) countDecision(counts, item);
    cursor = page.cursor;
  } while (cursor);
  return counts;
}
