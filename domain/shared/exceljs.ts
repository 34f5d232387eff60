import type ExcelJS from 'exceljs';
import { loadedOnFirstUse } from './built-on-first-use';

/**
 * exceljs, imported when a workbook is first read or written, not at cold start: evaluating it (and
 * its zip and stream dependencies) took ~100 ms of each import of the functions that carry it, and
 * most of their calls (a CSV import or export, the HTTP routes but the XLSX template) never use it.
 */
export const loadExcelJs: () => Promise<typeof ExcelJS> = /* @__PURE__ */ loadedOnFirstUse(
  async () => (await import('exceljs')).default,
);
