import { stringify } from 'csv-stringify/sync';
import { loadExcelJs } from '../shared/exceljs';
import { canonicalColumns, customFieldHeader } from './column-mapping';
import type { ImportTemplateFormat } from './imports.schemas';

/** The template's columns: the canonical ones, then one per custom field key (`Custom: <key>`). */
export const templateHeaders = (customFieldKeys: readonly string[]): string[] => [
  ...canonicalColumns.map((column) => column.header),
  ...customFieldKeys.map(customFieldHeader),
];

export const importTemplateContentTypes: Record<ImportTemplateFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

/**
 * An empty import file with the canonical header and nothing else (no example row: it would be
 * imported by whoever forgets to delete it). CSV is UTF-8 with a BOM, so that Excel opens accented
 * and non-Latin text correctly, and CRLF line ends (RFC 4180).
 */
export async function importTemplate(format: ImportTemplateFormat, customFieldKeys: readonly string[]): Promise<Uint8Array> {
  const headers = templateHeaders(customFieldKeys);
  if (format === 'csv') {
    return Buffer.from(`\ufeff${stringify([headers], { record_delimiter: '\r\n' })}`, 'utf8');
  }
  const workbook = new (await loadExcelJs()).Workbook();
  const sheet = workbook.addWorksheet('Contacts', { views: [{ state: 'frozen', ySplit: 1 }] });
  sheet.addRow(headers).font = { bold: true };
  sheet.columns.forEach((column) => {
    column.width = 20;
    // Text format, so that a phone typed as digits keeps its leading 0 or +.
    column.numFmt = '@';
  });
  return new Uint8Array(await workbook.xlsx.writeBuffer());
}
