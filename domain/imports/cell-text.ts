/**
 * The text of a spreadsheet cell, as exceljs gives its value: what a person would type to get it
 * again, not what the cell's display format shows.
 * - numbers: plain decimal text without exponent or float noise, at Excel's 15 significant digits
 *   (4915112345678 → "4915112345678", 1.5 → "1.5", 0.1 + 0.2 → "0.3");
 * - dates: `YYYY-MM-DD`, or `YYYY-MM-DDTHH:MM:SS` when there is a time of day (no zone: Excel has none);
 * - booleans: `true` / `false`;
 * - formulas: their cached result (a number formatted as a date becomes a date), an error result
 *   (`#N/A`, `#REF!`, ...) an empty cell;
 * - rich text: its runs' text; hyperlinks: their text.
 */
export function cellText(value: unknown, numFmt?: string): string {
  if (value === null || value === undefined) return '';
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
      return numFmt && isDateFormat(numFmt) ? dateText(excelSerialToDate(value)) : numberText(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      break;
    default:
      return String(value);
  }
  if (value instanceof Date) return dateText(value);
  const object = value as Record<string, unknown>;
  if (Array.isArray(object.richText)) {
    return (object.richText as { text?: unknown }[]).map((run) => (typeof run.text === 'string' ? run.text : '')).join('');
  }
  if ('error' in object) return '';
  if ('formula' in object || 'sharedFormula' in object) return cellText(object.result, numFmt);
  if ('hyperlink' in object || 'text' in object) return cellText(object.text, numFmt);
  return '';
}

const plainNumber = new Intl.NumberFormat('en-US', { useGrouping: false, maximumSignificantDigits: 15 });

/** A number as plain decimal text: no exponent, no grouping, 15 significant digits (as Excel keeps). */
export function numberText(value: number): string {
  if (!Number.isFinite(value)) return '';
  if (value === 0) return '0';
  return plainNumber.format(value);
}

/** ISO date, with the time of day (to the second) when it is not midnight. */
export function dateText(date: Date): string {
  const ms = date.getTime();
  if (Number.isNaN(ms)) return '';
  const iso = new Date(Math.round(ms / 1000) * 1000).toISOString();
  return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso.slice(0, 19);
}

/** Excel's day number (1900 system; 1 = 1900-01-01, with its fictitious 1900-02-29) as a UTC date. */
export function excelSerialToDate(serial: number, date1904 = false): Date {
  return new Date(Math.round((serial - 25569 + (date1904 ? 1462 : 0)) * 86_400_000));
}

/** Whether a number format shows a date or time (as exceljs decides: y, m, d, h, s outside quotes and brackets). */
export function isDateFormat(format: string): boolean {
  const bare = format.replace(/\[[^\]]*]/g, '').replace(/"[^"]*"/g, '');
  return /[ymdhsb]/i.test(bare.replace(/General/gi, ''));
}
