import type { CountryCode } from 'libphonenumber-js/max';
import { normaliseChannelValue, type ChannelKind } from '../contacts/channels';
import { maxChannelsPerContact } from '../contacts/channels';
import { maxTextValueLength } from '../custom-fields/custom-field-values';
import { distinctTags, maxTagNameLength } from '../tags/tag-names';
import type { ColumnPlan, PlannedColumn } from './column-mapping';
import { unguardCell } from './formula-guard';
import type { ImportCandidate, ImportableTextField, NormalisedRow, RejectCode, RowPosition } from './import-row';

export interface RowNormaliseOptions {
  /** Country for phone numbers written without `+` (or `00`) and a country code. */
  defaultCountry?: CountryCode;
}

/** The longest value each target takes (the contact API's limits); a longer one rejects the row as `too_long`. */
export const importValueLimits = {
  name: 200,
  text: 200,
  country: 100,
  channel: 320,
  tag: maxTagNameLength,
  owner: 320,
  custom: maxTextValueLength,
} as const;

const textTargets: Record<string, ImportableTextField> = {
  company: 'companyName',
  jobTitle: 'jobTitle',
  role: 'role',
  segment: 'segment',
  city: 'city',
  state: 'state',
  country: 'country',
};

// Google Contacts puts every contact in "* myContacts" (and starred ones in "* starred"): not tags.
const googleSystemGroups = new Set(['* mycontacts', '* starred']);

/**
 * One cell as text: NFC, trimmed, and without the `'` that guards a formula-like value (`'=`, `'+`,
 * `'-`, `'@`, `'` before a tab or CR: what the export writes so that spreadsheets do not evaluate it;
 * `unguardCell` is the exact inverse of the export's `guardCell`, so `''=x` reads back as `'=x`).
 */
export function cleanCell(text: string): string {
  return unguardCell(text.normalize('NFC').trim()).trim();
}

/** Values of a multi-value cell (` ::: `-separated, Google Contacts' form), empty ones dropped. */
export const splitValues = (cell: string): string[] =>
  cell
    .split(':::')
    .map((value) => value.trim())
    .filter((value) => value !== '');

const oneLine = (text: string) => text.replace(/\s+/gu, ' ');

/**
 * Turns one record into what the writer needs, by "Row rules, exactly" (issue 13):
 * - every field blank after trimming → `blank`;
 * - more fields than the header with text in the extra ones → `malformed_record` (empty extras, as
 *   a trailing delimiter leaves, are fine; fewer fields than the header are fine);
 * - a value longer than its field takes → `too_long` (values are never cut);
 * - emails and phones normalised by the contact rules (`normaliseChannelValue`); a phone's leading
 *   `00` is `+`; other phones use `defaultCountry`, and digits alone that are no valid number there
 *   but are one with a `+` in front are that international number (`normaliseChannel`);
 * - no valid email or phone → `invalid_email` / `invalid_phone` (the first invalid one, in column
 *   order) when the row had some, else `no_channel`;
 * - an invalid channel value beside a valid email or phone does not reject the row: the contact is
 *   imported without it, and the value is listed in the candidate's `dropped`;
 * - more than `maxChannelsPerContact` distinct values → `too_many_channels`;
 * - the name is the name column, else first, middle and last name joined, else the first valid
 *   channel value (`named: false`).
 * The checks run in that order; the first that fails is the row's one code.
 */
export function normaliseRecord(
  fields: readonly string[],
  position: RowPosition,
  plan: ColumnPlan,
  options: RowNormaliseOptions = {},
): NormalisedRow {
  const raw = [...fields];
  const cells = fields.map(cleanCell);
  if (cells.every((cell) => cell === '')) return { kind: 'blank', position };
  const reject = (code: RejectCode, message: string, column?: string): NormalisedRow => ({
    kind: 'rejected',
    rejection: { ...position, code, message, ...(column === undefined ? {} : { column }), raw },
  });

  const extra = cells.slice(plan.headers.length);
  if (extra.some((cell) => cell !== '')) {
    return reject(
      'malformed_record',
      `The record has ${cells.length} fields but the header has ${plan.headers.length}: check for an unquoted delimiter`,
    );
  }

  const nameParts: Partial<Record<'name' | 'firstName' | 'middleName' | 'lastName', { text: string; column: string }>> = {};
  const channels: ImportCandidate['channels'] = [];
  const channelDisplays: string[] = [];
  const invalid: { kind: ChannelKind; column: string; value: string; message: string }[] = [];
  const fieldsOut: ImportCandidate['fields'] = {};
  const customFields: Record<string, string> = {};
  const tags: string[] = [];
  let owner: string | undefined;

  const tooLong = (column: PlannedColumn, limit: number) =>
    reject('too_long', `The value in "${column.header}" is longer than ${limit} characters`, column.header);

  for (const column of plan.columns) {
    const cell = cells[column.index] ?? '';
    if (cell === '') continue;
    const { target } = column;
    switch (target) {
      case 'name':
      case 'firstName':
      case 'middleName':
      case 'lastName': {
        const text = oneLine(cell);
        if (text.length > importValueLimits.name) return tooLong(column, importValueLimits.name);
        nameParts[target] ??= { text, column: column.header };
        break;
      }
      case 'email':
      case 'phone':
      case 'whatsapp':
      case 'telegram':
      case 'linkedin':
        for (const value of splitValues(cell)) {
          if (value.length > importValueLimits.channel) return tooLong(column, importValueLimits.channel);
          try {
            const normalised = normaliseChannel(target, value, options);
            if (!channels.some((c) => c.kind === target && c.value === normalised.normalized)) {
              channels.push({ kind: target, value: normalised.normalized });
              channelDisplays.push(target === 'phone' || target === 'whatsapp' ? normalised.display : normalised.normalized);
            }
          } catch (error) {
            invalid.push({ kind: target, column: column.header, value, message: (error as Error).message });
          }
        }
        break;
      case 'tags':
        for (const value of splitValues(cell)) {
          const tag = oneLine(value);
          if (googleSystemGroups.has(tag.toLowerCase())) continue;
          if (tag.length > importValueLimits.tag) return tooLong(column, importValueLimits.tag);
          tags.push(tag);
        }
        break;
      case 'owner':
        if (cell.length > importValueLimits.owner) return tooLong(column, importValueLimits.owner);
        owner ??= cell;
        break;
      default: {
        if (target.startsWith('custom:')) {
          if (cell.length > importValueLimits.custom) return tooLong(column, importValueLimits.custom);
          customFields[target.slice('custom:'.length)] ??= cell;
          break;
        }
        const field = textTargets[target]!;
        const text = oneLine(cell);
        const limit = field === 'country' ? importValueLimits.country : importValueLimits.text;
        if (text.length > limit) return tooLong(column, limit);
        fieldsOut[field] ??= text;
      }
    }
  }

  if (!channels.some((channel) => channel.kind === 'email' || channel.kind === 'phone')) {
    const first = invalid.find((value) => value.kind === 'email' || value.kind === 'phone');
    if (first) {
      return reject(
        first.kind === 'email' ? 'invalid_email' : 'invalid_phone',
        `${first.message} ("${first.value}")`,
        first.column,
      );
    }
    return reject('no_channel', 'The row has no email address or phone number');
  }
  if (channels.length > maxChannelsPerContact) {
    return reject(
      'too_many_channels',
      `The row has ${channels.length} different emails, phones and profiles; a contact holds at most ${maxChannelsPerContact}`,
    );
  }

  let name = nameParts.name?.text;
  let nameColumn = nameParts.name?.column;
  if (name === undefined) {
    const parts = [nameParts.firstName, nameParts.middleName, nameParts.lastName].filter((part) => part !== undefined);
    if (parts.length > 0) {
      name = parts.map((part) => part.text).join(' ');
      nameColumn = parts.map((part) => part.column).join(' + ');
    }
  }
  if (name !== undefined && name.length > importValueLimits.name) {
    return reject('too_long', `The name is longer than ${importValueLimits.name} characters`, nameColumn);
  }

  const candidate: ImportCandidate = {
    ...position,
    name: name ?? channelDisplays[0]!,
    named: name !== undefined,
    channels,
    fields: fieldsOut,
    customFields,
    tags: distinctTags(tags).map((tag) => tag.name),
    ...(owner === undefined ? {} : { owner }),
    raw,
    ...(invalid.length > 0
      ? { dropped: invalid.map(({ kind, column, value, message }) => ({ kind, column, value, message })) }
      : {}),
  };
  return { kind: 'candidate', candidate };
}

/**
 * One channel value by the contact rules. Phones (and WhatsApp numbers): a leading `00` is the
 * international prefix (`0049 …` → `+49 …`); other numbers without `+` take the default country; and
 * digits alone (no `+`, no leading 0) that are no valid number there but are one read as `+<digits>`
 * are that international number: Excel stores `+33 6 12 34 56 78` typed into a cell as the number
 * 33612345678 (and a CSV saved from that sheet has the same digits). A number valid in the default
 * country keeps that reading. Throws the first reading's error when neither is valid.
 */
function normaliseChannel(kind: ChannelKind, value: string, options: RowNormaliseOptions) {
  const defaults = options.defaultCountry ? { defaultCountry: options.defaultCountry } : {};
  if (kind !== 'phone' && kind !== 'whatsapp') return normaliseChannelValue(kind, value, defaults);
  const text = value.normalize('NFKC');
  if (text.startsWith('00')) return normaliseChannelValue(kind, `+${text.slice(2)}`, defaults);
  try {
    return normaliseChannelValue(kind, text, defaults);
  } catch (error) {
    if (!/^[1-9]\d*$/.test(text)) throw error;
    try {
      return normaliseChannelValue(kind, `+${text}`, {});
    } catch {
      throw error;
    }
  }
}
