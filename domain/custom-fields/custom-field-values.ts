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
 * `validateCustomFieldValues` to check: number `1234.5` (`,` thousands separators and spaces
 * dropped); date `YYYY-MM-DD` (also the date of an ISO timestamp); boolean true/false, yes/no, y/n,
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
      const compact = trimmed.replace(/[\s,]/g, '');
      return numberText.test(compact) ? Number(compact) : text;
    }
    case 'date': {
      const date = /^(\d{4}-\d{2}-\d{2})(?:T[\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/.exec(trimmed);
      return date ? date[1] : text;
    }
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
