/**
 * Why a whole import file cannot be read (as opposed to one row: see `RowRejection`). The job fails
 * with this code and message; nothing of the file is imported when it is raised before the first row.
 * - `not_found`: no object at the key (the upload never happened or expired);
 * - `empty`: the file has no bytes, or no header record;
 * - `too_large`: over the size limit (512 MB), checked before reading;
 * - `too_many_rows`: over the row limit (1,048,576 data rows), raised at the first row past it;
 * - `not_csv` / `not_xlsx` / `not_vcf` / `not_xls` / `not_ods`: the bytes are not what the claimed format says (a zip claimed
 *   as CSV, a text file or a legacy .xls claimed as XLSX, a zip that holds no workbook, a file claimed
 *   as vCard that does not start with BEGIN:VCARD, a text file claimed as .xls that is no HTML or XML
 *   spreadsheet, an .ods that is no zip);
 * - `binary`: a file claimed as CSV holds binary data (NUL bytes outside UTF-16, a PDF, an image...);
 * - `unreadable`: a damaged zip or worksheet;
 * - `sheet_not_found`: the named sheet is not in the workbook (the message lists the sheets);
 * - `no_channel_column`: no column is recognised or mapped as an email or phone column, so every row
 *   would be rejected;
 * - `unknown_column`: the mapping names a column the header does not have;
 * - `file_changed`: a continuation found a different file than the one its cursor was made on.
 */
export const importFileErrorCodes = [
  'not_found',
  'empty',
  'too_large',
  'too_many_rows',
  'not_csv',
  'not_xlsx',
  'not_vcf',
  'not_xls',
  'not_ods',
  'binary',
  'unreadable',
  'sheet_not_found',
  'no_channel_column',
  'unknown_column',
  'file_changed',
] as const;
export type ImportFileErrorCode = (typeof importFileErrorCodes)[number];

export class ImportFileError extends Error {
  override readonly name = 'ImportFileError';

  constructor(
    readonly code: ImportFileErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** HubSpot's limits: the largest file and the most data rows (the header not counted) one import takes. */
export const importLimits = {
  maxBytes: 512 * 1024 * 1024,
  maxRows: 1_048_576,
} as const;
