import { DomainError, type FieldIssue } from '../shared/errors';
import { isStorableNumber, unstorableNumberMessage } from '../shared/storable-numbers';
import type { CustomFieldType } from './custom-field.entity';

export { loadCustomFieldDefinitions } from './custom-fields.service';

export const maxTextValueLength = 10_000;

/** A stored custom field value; null clears it. */
export type CustomFieldValue = string | number | boolean | null;
export type CustomFieldValues = Record<string, CustomFieldValue>;

/** What validation needs of a definition (a `CustomField` from the service has it all). */
export interface CustomFieldRule {
  key: string;
  type: CustomFieldType;
  required: boolean;
  archived?: boolean;
  options?: readonly { value: string }[];
}

/**
 * Checks the custom field values a contact or deal write carries against the workspace's definitions
 * of that entity type, and returns the values to store.
 * - A key with no definition is refused; a key of an archived definition is ignored (dropped).
 * - text: a string of at most 10,000 characters; number: finite, within ±(2^53 − 1), and 0 or at least
 *   1e-130 from 0 (what DynamoDB stores); date: a real `YYYY-MM-DD` calendar
 *   date; boolean; select: one of the option values.
 * - `null` clears a value (returned as null on update, dropped on create); a required field can't be
 *   cleared, and on create every active required field must have a value.
 * Every problem is reported at once, in one `validation_failed` error naming `body.customFields.<key>`.
 */
export function validateCustomFieldValues(
  definitions: readonly CustomFieldRule[],
  values: Record<string, unknown> | undefined,
  mode: 'create' | 'update',
): CustomFieldValues {
  const issues: FieldIssue[] = [];
  const result: CustomFieldValues = {};
  if (values !== undefined && (values === null || typeof values !== 'object' || Array.isArray(values))) {
    throw invalidValues([
      { field: 'body.customFields', message: 'Give an object of custom field keys to values' },
    ]);
  }
  const byKey = new Map(definitions.map((definition) => [definition.key, definition]));
  const given = new Set<string>();
  for (const [key, value] of Object.entries(values ?? {})) {
    const field = `body.customFields.${key}`;
    const definition = byKey.get(key);
    if (!definition) {
      issues.push({
        field,
        message: 'No custom field has this key: define it first',
        code: 'unknown_custom_field',
      });
      continue;
    }
    if (definition.archived || value === undefined) continue;
    given.add(key);
    if (value === null) {
      if (definition.required)
        issues.push({ field, message: 'Required: it cannot be cleared', code: 'required' });
      else if (mode === 'update') result[key] = null;
      continue;
    }
    const problem = checkValue(definition, value);
    if (problem) issues.push({ field, message: problem, code: 'invalid_value' });
    else result[key] = value as CustomFieldValue;
  }
  if (mode === 'create') {
    for (const definition of definitions) {
      if (definition.required && !definition.archived && !given.has(definition.key)) {
        issues.push({
          field: `body.customFields.${definition.key}`,
          message: 'Required: give a value',
          code: 'required',
        });
      }
    }
  }
  if (issues.length > 0) throw invalidValues(issues);
  return result;
}

const invalidValues = (fields: FieldIssue[]) =>
  new DomainError('validation_failed', 'The request is invalid', { fields });

/** The problem with a non-null value, or undefined when it fits the definition. */
function checkValue(definition: CustomFieldRule, value: unknown): string | undefined {
  switch (definition.type) {
    case 'text':
      if (typeof value !== 'string') return 'Give a string';
      if (value.length > maxTextValueLength) return `Give at most ${maxTextValueLength} characters`;
      if (definition.required && value.trim() === '') return 'Required: give a non-empty text';
      return undefined;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) return 'Give a finite number';
      // Beyond 2^53 − 1 a number is no longer exact (and DynamoDB's document client refuses it).
      if (Math.abs(value) > Number.MAX_SAFE_INTEGER) return `Give a number between ${-Number.MAX_SAFE_INTEGER} and ${Number.MAX_SAFE_INTEGER}`;
      return isStorableNumber(value) ? undefined : unstorableNumberMessage;
    case 'date':
      return typeof value === 'string' && isCalendarDate(value)
        ? undefined
        : 'Give a calendar date as YYYY-MM-DD';
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'Give true or false';
    case 'select': {
      const allowed = (definition.options ?? []).map((option) => option.value);
      if (typeof value === 'string' && allowed.includes(value)) return undefined;
      const shown = allowed.slice(0, 10).map((option) => JSON.stringify(option));
      return `Give one of the field's option values: ${shown.join(', ')}${allowed.length > 10 ? ', …' : ''}`;
    }
  }
}

const numberText = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i;
const trueWords = new Set(['true', 'yes', 'y', '1']);
const falseWords = new Set(['false', 'no', 'n', '0']);

/**
 * A custom field value written as text (a cell of an import file) in the field's type, for
 * `validateCustomFieldValues` to check: number `1234.5` in any locale's form (see `plainNumber`);
 * date `YYYY-MM-DD` from the forms exports write (see `isoDateOf`); boolean true/false, yes/no, y/n,
 * 1/0 in any case; select an option's value, or its value or label in any case; text as given.
 * Text this cannot read comes back unchanged: validation then names the problem.
 */
export function customFieldValueFromText(
  definition: Pick<CustomFieldRule, 'type'> & { options?: readonly { value: string; label?: string }[] },
  text: string,
): unknown {
  const trimmed = text.trim();
  switch (definition.type) {
    case 'text':
      return text;
    case 'number': {
      const plain = plainNumber(trimmed);
      return plain !== undefined && numberText.test(plain) ? Number(plain) : text;
    }
    case 'date':
      return isoDateOf(trimmed) ?? text;
    case 'boolean': {
      const word = trimmed.toLowerCase();
      return trueWords.has(word) ? true : falseWords.has(word) ? false : text;
    }
    case 'select': {
      const options = definition.options ?? [];
      const folded = trimmed.toLowerCase();
      const option =
        options.find((candidate) => candidate.value === trimmed) ??
        options.find(
          (candidate) => candidate.value.toLowerCase() === folded || candidate.label?.trim().toLowerCase() === folded,
        );
      return option ? option.value : text;
    }
  }
}

/**
 * A number as spreadsheets of any locale write it, in plain `1234.5` form: thousands separators
 * (`,` `.` space, `'`) dropped, the decimal comma read. With both `,` and `.`, the later one is the
 * decimal separator (`1,234.56`, `1.234,56`); a lone `,` is thousands when followed by groups of
 * three digits (`1,234`, `12,345,678`), else decimal (`99,9`, `12,50`); several `.` are thousands.
 */
function plainNumber(text: string): string | undefined {
  const compact = text.replace(/[\s\u00a0\u202f']/g, '');
  const lastComma = compact.lastIndexOf(',');
  const lastDot = compact.lastIndexOf('.');
  if (lastComma >= 0 && lastDot >= 0) {
    const [thousands, decimal] = lastComma > lastDot ? ['.', ','] : [',', '.'];
    return compact.split(thousands).join('').replace(decimal, '.');
  }
  if (lastComma >= 0) return /^[+-]?\d{1,3}(?:,\d{3})+$/.test(compact) ? compact.replace(/,/g, '') : compact.includes(',', compact.indexOf(',') + 1) ? undefined : compact.replace(',', '.');
  if (compact.indexOf('.') !== lastDot) return /^[+-]?\d{1,3}(?:\.\d{3})+$/.test(compact) ? compact.replace(/\./g, '') : undefined;
  return compact;
}

const monthNames = 'january february march april may june july august september october november december'.split(' ');
const pad = (n: number) => String(n).padStart(2, '0');
const ymd = (year: number, month: number, day: number) => `${String(year).padStart(4, '0')}-${pad(month)}-${pad(day)}`;
// A time of day after the date, as exports add it ("2024-03-15 10:22", "03/15/2024 09:15:00 AM", ISO's "T10:22:00Z").
const timeOfDay = String.raw`(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s?[AP]M)?(?:Z|\s?[+-]\d{2}:?\d{2})?)?`;

/**
 * A date as exports and spreadsheets write it, as `YYYY-MM-DD`: ISO (with a time, `T` or space);
 * `YYYY/MM/DD` and `YYYY.MM.DD`; `DD.MM.YYYY` (the dotted form is day first everywhere); `D/M/YYYY`
 * and `M/D/YYYY` (also with `-`) when one of the first two numbers is over 12 and so names the day;
 * `15 Mar 2024`, `15-Mar-2024`, `Mar 15, 2024`, `March 15 2024`. Undefined for anything else, and for
 * `03/04/2024`, which is 3 April or 4 March depending on who wrote it: the value is not guessed.
 */
function isoDateOf(text: string): string | undefined {
  let match = new RegExp(`^(\\d{4})[-/.](\\d{1,2})[-/.](\\d{1,2})${timeOfDay}$`, 'i').exec(text);
  if (match) return ymd(Number(match[1]), Number(match[2]), Number(match[3]));
  match = new RegExp(`^(\\d{1,2})\\.(\\d{1,2})\\.(\\d{4})${timeOfDay}$`, 'i').exec(text);
  if (match) return ymd(Number(match[3]), Number(match[2]), Number(match[1]));
  match = new RegExp(`^(\\d{1,2})[/-](\\d{1,2})[/-](\\d{4})${timeOfDay}$`, 'i').exec(text);
  if (match) {
    const [first, second, year] = [Number(match[1]), Number(match[2]), Number(match[3])];
    if (first > 12 && second <= 12) return ymd(year, second, first);
    if (second > 12 && first <= 12) return ymd(year, first, second);
    if (first === second) return ymd(year, first, second);
    return undefined;
  }
  match = /^(\d{1,2})[\s-]+([a-z]{3,9})\.?[\s-]+(\d{4})$/i.exec(text);
  if (match) {
    const month = monthNumber(match[2]!);
    return month ? ymd(Number(match[3]), month, Number(match[1])) : undefined;
  }
  match = /^([a-z]{3,9})\.?\s+(\d{1,2}),?\s+(\d{4})$/i.exec(text);
  if (match) {
    const month = monthNumber(match[1]!);
    return month ? ymd(Number(match[3]), month, Number(match[2])) : undefined;
  }
  return undefined;
}

/** A month's English name or its abbreviation (3 letters or more: `Mar`, `Sept`, `March`), as 1–12. */
function monthNumber(name: string): number | undefined {
  const lower = name.toLowerCase();
  const index = monthNames.findIndex((month) => lower.length >= 3 && month.startsWith(lower));
  return index >= 0 ? index + 1 : undefined;
}

/** `YYYY-MM-DD` naming a day that exists (leap years included), years 0001 to 9999. */
export function isCalendarDate(value: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const daysInMonth = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
  return day <= daysInMonth;
}
