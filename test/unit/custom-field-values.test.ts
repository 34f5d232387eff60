import { describe, expect, it } from 'vitest';
import {
  customFieldValueFromText,
  isCalendarDate,
  validateCustomFieldValues,
  type CustomFieldRule,
} from '../../domain/custom-fields/custom-field-values';
import { DomainError, type FieldIssue } from '../../domain/shared/errors';

const makeField = (
  overrides: Partial<CustomFieldRule> & Pick<CustomFieldRule, 'key' | 'type'>,
): CustomFieldRule => ({
  required: false,
  archived: false,
  ...overrides,
});

const definitions: CustomFieldRule[] = [
  makeField({ key: 'nickname', type: 'text' }),
  makeField({ key: 'employees', type: 'number' }),
  makeField({ key: 'founded', type: 'date' }),
  makeField({ key: 'vip', type: 'boolean' }),
  makeField({ key: 'tier', type: 'select', options: [{ value: 'gold' }, { value: 'silver' }] }),
  makeField({ key: 'region', type: 'text', required: true }),
  makeField({ key: 'legacy', type: 'number', required: true, archived: true }),
];

/** The field issues a call throws, or [] when it passes. */
function issues(
  values: Record<string, unknown> | undefined,
  mode: 'create' | 'update' = 'update',
): FieldIssue[] {
  try {
    validateCustomFieldValues(definitions, values, mode);
    return [];
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('validation_failed');
    expect((error as DomainError).message).toBe('The request is invalid');
    return (error as DomainError).details.fields ?? [];
  }
}

describe('validateCustomFieldValues: accepted values', () => {
  it.each([
    ['text', { nickname: 'Bob' }],
    ['empty text on an optional field', { nickname: '' }],
    ['text of exactly 10,000 characters', { nickname: 'x'.repeat(10_000) }],
    ['an integer', { employees: 42 }],
    ['a negative decimal', { employees: -3.5 }],
    ['zero', { employees: 0 }],
    ['the smallest magnitude DynamoDB stores', { employees: 1e-130 }],
    ['a tiny negative decimal', { employees: -0.00000015 }],
    ['a date', { founded: '2024-02-29' }],
    ['the first and last days of a year', { founded: '0001-01-01' }],
    ['true', { vip: true }],
    ['false', { vip: false }],
    ['a select value', { tier: 'silver' }],
    ['null on an optional field', { tier: null, nickname: null }],
    ['a required text', { region: 'EMEA' }],
  ])('accepts %s on update and returns it', (_name, values) => {
    expect(validateCustomFieldValues(definitions, values, 'update')).toEqual(values);
  });

  it('returns {} for no values on update', () => {
    expect(validateCustomFieldValues(definitions, undefined, 'update')).toEqual({});
    expect(validateCustomFieldValues(definitions, {}, 'update')).toEqual({});
  });

  it('ignores values for archived fields, even required ones', () => {
    expect(
      validateCustomFieldValues(definitions, { legacy: 'not even a number', vip: true }, 'update'),
    ).toEqual({ vip: true });
    expect(validateCustomFieldValues(definitions, { region: 'EMEA' }, 'create')).toEqual({ region: 'EMEA' });
  });

  it('drops nulls on create (nothing to clear) and keeps them on update', () => {
    expect(validateCustomFieldValues(definitions, { region: 'EMEA', vip: null }, 'create')).toEqual({
      region: 'EMEA',
    });
    expect(validateCustomFieldValues(definitions, { vip: null }, 'update')).toEqual({ vip: null });
  });
});

describe('validateCustomFieldValues: refused values', () => {
  it.each([
    ['an unknown key', { colour: 'red' }, 'colour', /No custom field has this key/],
    ['a number as text', { nickname: 12 }, 'nickname', /string/],
    ['text over 10,000 characters', { nickname: 'x'.repeat(10_001) }, 'nickname', /10000/],
    ['a numeric string', { employees: '42' }, 'employees', /finite number/],
    ['NaN', { employees: Number.NaN }, 'employees', /finite number/],
    ['Infinity', { employees: Number.POSITIVE_INFINITY }, 'employees', /finite number/],
    ['a number past 2^53 − 1, no longer exact', { employees: 2 ** 60 }, 'employees', /between -9007199254740991 and 9007199254740991/],
    ['a number nearer 0 than DynamoDB stores', { employees: 1.589856797283214e-204 }, 'employees', /at least 1e-130 away from 0/],
    ['a negative number nearer 0 than DynamoDB stores', { employees: -9e-131 }, 'employees', /at least 1e-130 away from 0/],
    ['a date with a time', { founded: '2024-01-01T00:00:00Z' }, 'founded', /YYYY-MM-DD/],
    ['29 February of a common year', { founded: '2023-02-29' }, 'founded', /YYYY-MM-DD/],
    ['29 February 1900', { founded: '1900-02-29' }, 'founded', /YYYY-MM-DD/],
    ['month 13', { founded: '2024-13-01' }, 'founded', /YYYY-MM-DD/],
    ['31 April', { founded: '2024-04-31' }, 'founded', /YYYY-MM-DD/],
    ['year 0000', { founded: '0000-01-01' }, 'founded', /YYYY-MM-DD/],
    ['a date as a number', { founded: 20240101 }, 'founded', /YYYY-MM-DD/],
    ['"true" as a string', { vip: 'true' }, 'vip', /true or false/],
    ['1 as a boolean', { vip: 1 }, 'vip', /true or false/],
    ['a value not among the options', { tier: 'bronze' }, 'tier', /"gold", "silver"/],
    ['an option label case-changed', { tier: 'Gold' }, 'tier', /option values/],
    ['an array as a select value', { tier: ['gold'] }, 'tier', /option values/],
    ['null on a required field', { region: null }, 'region', /cannot be cleared/],
    ['blank text on a required field', { region: '   ' }, 'region', /non-empty/],
  ])('refuses %s on update, naming the field', (_name, values, key, message) => {
    const found = issues(values);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ field: `body.customFields.${key}` });
    expect(found[0]!.message).toMatch(message);
  });

  it('requires every active required field on create', () => {
    expect(issues({ nickname: 'Bob' }, 'create')).toEqual([
      { field: 'body.customFields.region', message: 'Required: give a value', code: 'required' },
    ]);
    expect(issues(undefined, 'create').map((issue) => issue.field)).toEqual(['body.customFields.region']);
    expect(issues({ region: null }, 'create').map((issue) => issue.field)).toEqual([
      'body.customFields.region',
    ]);
  });

  it('does not require fields on update', () => {
    expect(issues({ nickname: 'Bob' }, 'update')).toEqual([]);
  });

  it('reports every problem at once in one error', () => {
    const found = issues(
      { colour: 'red', employees: 'many', founded: '2023-02-30', tier: 'bronze' },
      'create',
    );
    expect(found.map((issue) => issue.field).sort()).toEqual([
      'body.customFields.colour',
      'body.customFields.employees',
      'body.customFields.founded',
      'body.customFields.region',
      'body.customFields.tier',
    ]);
  });

  it.each([[[]], ['text'], [null]])('refuses %j as the values object', (values) => {
    expect(issues(values as unknown as Record<string, unknown>)).toEqual([
      { field: 'body.customFields', message: 'Give an object of custom field keys to values' },
    ]);
  });

  it('treats a select field without options as accepting nothing', () => {
    const [field] = [makeField({ key: 'empty', type: 'select' })];
    expect(() => validateCustomFieldValues([field], { empty: 'x' }, 'update')).toThrow(DomainError);
  });
});

describe('isCalendarDate', () => {
  it.each([
    ['2024-02-29', true],
    ['2000-02-29', true],
    ['2100-02-29', false],
    ['2024-12-31', true],
    ['2024-00-10', false],
    ['2024-01-00', false],
    ['2024-1-01', false],
    [' 2024-01-01', false],
    ['9999-12-31', true],
  ])('%s → %s', (value, expected) => {
    expect(isCalendarDate(value)).toBe(expected);
  });
});

describe('customFieldValueFromText: what spreadsheets and exports write', () => {
  it.each([
    ['2024-03-15', '2024-03-15'],
    ['2024-03-15 10:22', '2024-03-15'],
    ['2024-03-15T10:22:00Z', '2024-03-15'],
    ['2024/3/5', '2024-03-05'],
    ['15.03.1985', '1985-03-15'],
    ['03/15/1985', '1985-03-15'],
    ['15/03/1985', '1985-03-15'],
    ['15-03-1985 09:15:00', '1985-03-15'],
    ['15 Mar 2024', '2024-03-15'],
    ['15-Mar-2024', '2024-03-15'],
    ['Mar 15, 2024', '2024-03-15'],
    ['September 3 2020', '2020-09-03'],
    ['03/03/2020', '2020-03-03'],
    // Not guessed: 11 February or 2 November; no year; no date.
    ['11/02/1979', '11/02/1979'],
    ['--12-25', '--12-25'],
    ['Smarch 3, 2020', 'Smarch 3, 2020'],
  ])('date %s → %s', (text, expected) => {
    expect(customFieldValueFromText({ type: 'date' }, text)).toBe(expected);
  });

  it.each([
    ['1234.5', 1234.5],
    ['1,234', 1234],
    ['1,234.56', 1234.56],
    ['12,345,678', 12345678],
    ['1.234,56', 1234.56],
    ['1 234,56', 1234.56],
    ["1'234.50", 1234.5],
    ['1.234.567', 1234567],
    ['99,9', 99.9],
    ['-12,50', -12.5],
    ['1e3', 1000],
    ['1,2,3', '1,2,3'],
    ['12 apples', '12 apples'],
  ])('number %s → %s', (text, expected) => {
    expect(customFieldValueFromText({ type: 'number' }, text)).toBe(expected);
  });
});
