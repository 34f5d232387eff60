import type { CountryCode } from 'libphonenumber-js/max';
import { normaliseChannelValue, type ChannelKind } from '../contacts/channels';
import { maxChannelsPerContact } from '../contacts/channels';
import { maxTextValueLength } from '../custom-fields/custom-field-values';
import { distinctTags, maxTagNameLength } from '../tags/tag-names';
import { multiValueTargets, type ColumnPlan, type PlannedColumn } from './column-mapping';
import { unguardCell } from './formula-guard';
import { splitTagCell } from './tag-cells';
import type { DroppedValue, ImportCandidate, ImportableTextField, NormalisedRow, RejectCode, RowPosition } from './import-row';

export interface RowNormaliseOptions {
  /** Country for phone numbers written without `+` (or `00`) and a country code. */
  defaultCountry?: CountryCode;
  /** The record is a sheet's row (XLSX, .xls, .ods): see `columnsRead`. */
  sheetRow?: boolean;
}

/**
 * The columns a record of `width` fields is read by, and how many of its fields. A CSV record is read
 * whole (text past the header's last field is a malformed record). A sheet has no delimiters: a cell
 * right of the header's last is under a header cell merged over it, or under none (a stray value). It is
 * more of the last column when that is an email, phone or tags column (as unnamed columns inside the
 * header are: `planColumns`), else not read, as a column the import does not take (a note running past
 * a merged "Notes"); a row of only such cells is blank.
 */
export function columnsRead(width: number, plan: ColumnPlan, sheetRow: boolean): { columns: readonly PlannedColumn[]; width: number } {
  const headed = plan.headers.length;
  if (!sheetRow || width <= headed) return { columns: plan.columns, width };
  const last = plan.columns.at(-1);
  if (last?.index !== headed - 1 || !multiValueTargets.has(last.target)) return { columns: plan.columns, width: headed };
  const more = Array.from({ length: width - headed }, (_, i) => ({ ...last, index: headed + i }));
  return { columns: [...plan.columns, ...more], width };
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

// Excel's text literal, `="0044 20 7946 0000"`: what some exports write so that a spreadsheet keeps a
// phone number's, zip code's or id's leading zeros (quotes inside doubled, as in a CSV field).
const excelTextLiteral = /^="((?:[^"]|"")*)"$/s;

// A name in Chinese, Japanese or Korean script (written family name first, without spaces).
const eastAsianName = /^[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}ー・]+$/u;

/**
 * One cell as text: NFC, trimmed, without the `'` that guards a formula-like value (`'=`, `'+`,
 * `'-`, `'@`, `'` before a tab or CR: what the export writes so that spreadsheets do not evaluate it;
 * `unguardCell` is the exact inverse of the export's `guardCell`, so `''=x` reads back as `'=x`), and
 * an Excel text literal (`="007"`) as its text. Our own exports guard such a cell (`'="007"`), so
 * theirs read back unchanged.
 */
export function cleanCell(text: string): string {
  const cell = text.normalize('NFC').trim();
  const literal = excelTextLiteral.exec(cell);
  if (literal) return literal[1]!.replaceAll('""', '"').trim();
  return unguardCell(cell).trim();
}

/** Values of a multi-value cell (` ::: `-separated, Google Contacts' form), empty ones dropped. */
export const splitValues = (cell: string): string[] =>
  cell
    .split(':::')
    .map((value) => value.trim())
    .filter((value) => value !== '');

/**
 * Values of an email or phone cell: ` ::: ` as in any multi-value cell, and also `;`, `,` and line
 * breaks, which other exports put between a person's addresses or numbers (HubSpot, Pipedrive, Outlook
 * copies, hand-kept sheets). Neither an email address nor a phone number holds one of those; a display
 * name may (`"Doe, John" <john@example.com>`), so a separator inside quotes or brackets splits nothing.
 */
export const splitChannelValues = (cell: string): string[] =>
  splitValues(cell)
    .flatMap(splitOutsideQuotes)
    .map((value) => value.trim())
    .filter((value) => value !== '');

const channelSeparators = new Set([';', ',', '\r', '\n']);

/** Splits on `;`, `,` and line breaks outside double quotes, <…> and (…); unbalanced quotes split everywhere. */
function splitOutsideQuotes(value: string): string[] {
  const parts: string[] = [];
  let quoted = false;
  let depth = 0;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const char = value[i]!;
    if (char === '"') quoted = !quoted;
    else if (quoted) continue;
    else if (char === '<' || char === '(') depth++;
    else if ((char === '>' || char === ')') && depth > 0) depth--;
    else if (depth === 0 && channelSeparators.has(char)) {
      parts.push(value.slice(start, i));
      start = i + 1;
    }
  }
  if (quoted || depth > 0) return value.split(/[;,\r\n]+/);
  parts.push(value.slice(start));
  return parts;
}

const oneLine = (text: string) => text.replace(/\s+/gu, ' ');

/** How a `no_channel` rejection names the channels a row did have. */
const channelNames: Record<string, string> = { linkedin: 'a LinkedIn profile', telegram: 'a Telegram account', whatsapp: 'a WhatsApp number' };

/**
 * Turns one record into what the writer needs, by "Row rules, exactly" (issue 13):
 * - every field blank after trimming → `blank`;
 * - more fields than the header with text in the extra ones → `malformed_record` (empty extras, as
 *   a trailing delimiter leaves, are fine; fewer fields than the header are fine); a sheet's row
 *   has no delimiters: its cells right of the header's are read as `columnsRead` says;
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
  const read = columnsRead(fields.length, plan, options.sheetRow ?? false);
  const cells = fields.slice(0, read.width).map(cleanCell);
  if (cells.every((cell) => cell === '')) return { kind: 'blank', position };
  const reject = (code: RejectCode, message: string, column?: string): NormalisedRow => ({
    kind: 'rejected',
    rejection: { ...position, code, message, ...(column === undefined ? {} : { column }), raw },
  });

  const extra = cells.slice(plan.headers.length);
  if (!options.sheetRow && extra.some((cell) => cell !== '')) {
    return reject(
      'malformed_record',
      `The record has ${cells.length} fields but the header has ${plan.headers.length}: check for an unquoted delimiter`,
    );
  }

  const nameParts: Partial<Record<'name' | 'firstName' | 'middleName' | 'lastName', { text: string; column: string }>> = {};
  const channels: ImportCandidate['channels'] = [];
  const channelDisplays: string[] = [];
  const invalid: { kind: ChannelKind; column: string; value: string; message: string }[] = [];
  const notes: DroppedValue[] = [];
  const fieldColumns: Partial<Record<ImportableTextField, string>> = {};
  // Two columns for one field that holds one value (two "Company" columns, "Company" and "Account
  // Name"): the first value is kept, a different second one is listed in the report, never lost unseen.
  const secondValue = (header: string, value: string, kept: { text: string; column: string }) => {
    if (value.toLowerCase() === kept.text.toLowerCase()) return;
    notes.push({
      code: 'value_not_kept',
      column: header,
      value,
      message: `The contact has one place for this value and keeps "${kept.text}" from "${kept.column}": "${value}" is not kept`,
    });
  };
  const fieldsOut: ImportCandidate['fields'] = {};
  const customFields: Record<string, string> = {};
  const customFieldColumns: Record<string, string> = {};
  const tags: string[] = [];
  let owner: { text: string; column: string } | undefined;

  const tooLong = (column: PlannedColumn, limit: number) =>
    reject('too_long', `The value in "${column.header}" is longer than ${limit} characters`, column.header);

  for (const column of read.columns) {
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
        const kept = nameParts[target];
        if (kept && target === 'lastName' && text.toLowerCase() !== kept.text.toLowerCase()) {
          // Two surname columns (Spanish "Apellido paterno" and "Apellido materno"): both, in column order.
          kept.text = `${kept.text} ${text}`;
          kept.column = `${kept.column} + ${column.header}`;
          if (kept.text.length > importValueLimits.name) return tooLong(column, importValueLimits.name);
        } else if (kept) secondValue(column.header, text, kept);
        else nameParts[target] = { text, column: column.header };
        break;
      }
      case 'email':
      case 'phone':
      case 'whatsapp':
      case 'telegram':
      case 'linkedin':
        for (const value of target === 'email' || target === 'phone' || target === 'whatsapp' ? splitChannelValues(cell) : splitValues(cell)) {
          if (value.length > importValueLimits.channel) return tooLong(column, importValueLimits.channel);
          try {
            const { normalised, extension } = normaliseChannel(target, value, options);
            if (!channels.some((c) => c.kind === target && c.value === normalised.normalized)) {
              channels.push({ kind: target, value: normalised.normalized });
              channelDisplays.push(target === 'phone' || target === 'whatsapp' ? normalised.display : normalised.normalized);
            }
            if (extension) {
              notes.push({
                code: 'value_not_kept',
                column: column.header,
                value,
                message: `The extension ${extension} is not kept ("${value}"): a phone channel holds the number only, ${normalised.normalized} was imported`,
              });
            }
          } catch (error) {
            invalid.push({ kind: target, column: column.header, value, message: (error as Error).message });
          }
        }
        break;
      case 'tags':
        for (const value of splitTagCell(cell)) {
          const tag = oneLine(value);
          if (googleSystemGroups.has(tag.toLowerCase())) continue;
          if (tag.length > importValueLimits.tag) return tooLong(column, importValueLimits.tag);
          tags.push(tag);
        }
        break;
      case 'owner':
        if (cell.length > importValueLimits.owner) return tooLong(column, importValueLimits.owner);
        if (owner) secondValue(column.header, cell, owner);
        else owner = { text: cell, column: column.header };
        break;
      default: {
        if (target.startsWith('custom:')) {
          if (cell.length > importValueLimits.custom) return tooLong(column, importValueLimits.custom);
          const key = target.slice('custom:'.length);
          if (customFields[key] === undefined) {
            customFields[key] = cell;
            customFieldColumns[key] = column.header;
          } else secondValue(column.header, cell, { text: customFields[key], column: customFieldColumns[key]! });
          break;
        }
        const field = textTargets[target]!;
        const text = oneLine(cell);
        const limit = field === 'country' ? importValueLimits.country : importValueLimits.text;
        if (text.length > limit) return tooLong(column, limit);
        const keptText = fieldsOut[field];
        if (keptText === undefined) {
          fieldsOut[field] = text;
          fieldColumns[field] = column.header;
        } else secondValue(column.header, text, { text: keptText, column: fieldColumns[field]! });
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
    const profileOnly = channels.some((channel) => channel.kind === 'linkedin' || channel.kind === 'telegram' || channel.kind === 'whatsapp');
    return reject(
      'no_channel',
      profileOnly
        ? `The row has only ${[...new Set(channels.map((channel) => channelNames[channel.kind]))].join(' and ')}: an imported contact needs an email address or phone number too`
        : 'The row has no email address or phone number',
    );
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
    const { firstName, middleName, lastName } = nameParts;
    const ideographic = [firstName, middleName, lastName].every((part) => part === undefined || eastAsianName.test(part.text));
    const familyFirst = plan.familyNameFirst || (lastName !== undefined && ideographic);
    const parts = (familyFirst ? [lastName, middleName, firstName] : [firstName, middleName, lastName]).filter((part) => part !== undefined);
    if (parts.length > 0) {
      // Chinese, Japanese and Korean names are written family name first, without a space: 王 + 伟 is 王伟.
      name = parts.map((part) => part.text).join(ideographic ? '' : ' ');
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
    ...(Object.keys(customFieldColumns).length > 0 ? { customFieldColumns } : {}),
    tags: distinctTags(tags).map((tag) => tag.name),
    ...(owner === undefined ? {} : { owner: owner.text, ownerColumn: owner.column }),
    raw,
    ...(invalid.length + notes.length > 0 ? { dropped: [...invalid.map(droppedValue), ...notes] } : {}),
  };
  return { kind: 'candidate', candidate };
}

const droppedValue = ({ kind, column, value, message }: { kind: ChannelKind; column: string; value: string; message: string }): DroppedValue => ({
  code: kind === 'email' ? 'invalid_email' : kind === 'phone' || kind === 'whatsapp' ? 'invalid_phone' : 'invalid_channel',
  column,
  value,
  message: `${message} ("${value}"): left out, the row was imported without it`,
});

// "4.47911E+11": what Excel shows, and writes to CSV, for a long number in a General cell.
const scientificNotation = /^[+-]?\d+(?:[.,]\d+)?e[+-]?\d+$/i;
// "(415) 555-0132 ext. 45", "020 7946 0958 x123", "+49 30 1234-0 Durchwahl 12", "555-0100 #7"
const phoneExtension = /^(.*\d[\s)]*?)[\s,;]*(?:ext\.?|extn\.?|extension|x|#|durchwahl|dw\.?|poste|доб\.?)\s*:?\s*(\d{1,7})$/iu;

/**
 * One channel value by the contact rules, with the forms other tools write around a phone taken off:
 * its extension (returned apart: the contact keeps the number, the report the extension) and the `'` that makes Excel keep `'+44 …` or `'0049 …` as text.
 * A phone in scientific notation is refused with how to get its digits back: Excel cut them.
 */
function normaliseChannel(kind: ChannelKind, value: string, options: RowNormaliseOptions): { normalised: ReturnType<typeof normaliseChannelValue>; extension?: string } {
  // An email's mailto: or display name is taken off by the contact rules themselves.
  if (kind === 'email') return { normalised: normaliseChannelValue(kind, value) };
  if (kind !== 'phone' && kind !== 'whatsapp') return { normalised: normaliseChannelNumber(kind, value, options) };
  const text = value.normalize('NFKC').replace(/^'+/, '').trim();
  if (scientificNotation.test(text)) {
    throw new Error(
      'Excel wrote this number in scientific notation and lost its last digits: format the column as Text in the spreadsheet, type the numbers again (or export them from where they came) and save the file again',
    );
  }
  const withExtension = phoneExtension.exec(text);
  if (withExtension) return { normalised: normaliseChannelNumber(kind, withExtension[1]!.trim(), options), extension: withExtension[2]! };
  return { normalised: normaliseChannelNumber(kind, text, options) };
}

/**
 * One channel value by the contact rules. Phones (and WhatsApp numbers): a leading `00` is the
 * international prefix (`0049 …` → `+49 …`, as the contact rules read it); other numbers without `+`
 * take the default country; and
 * digits alone (no `+`, no leading 0) that are no valid number there but are one read as `+<digits>`
 * are that international number: Excel stores `+33 6 12 34 56 78` typed into a cell as the number
 * 33612345678 (and a CSV saved from that sheet has the same digits). A number valid in the default
 * country keeps that reading. Throws the first reading's error when neither is valid.
 */
function normaliseChannelNumber(kind: ChannelKind, value: string, options: RowNormaliseOptions) {
  const defaults = options.defaultCountry ? { defaultCountry: options.defaultCountry } : {};
  if (kind !== 'phone' && kind !== 'whatsapp') return normaliseChannelValue(kind, value, defaults);
  const text = value.normalize('NFKC');
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
