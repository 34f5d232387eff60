import type { ChannelKind } from '../contacts/channels';
import type { ContactItem } from '../contacts/contact-record';
import { canonicalColumns, customFieldHeaderPrefix, multiValueSeparator } from '../imports/column-mapping';
import { guardCell } from '../imports/formula-guard';
import { tagCellText } from '../imports/tag-cells';

/**
 * One contact as a row of an export file: every cell is text that the import reads back to the same
 * value (issue 13's round trip), guarded against formula injection (domain/imports/formula-guard.ts).
 * - channels: the display values (as entered; phones in international format), the primary of each
 *   kind first, then in the contact's order, joined with ` ::: `; tags likewise;
 * - Owner: the owner's email (their user id when the user is not found, which the import also takes);
 * - custom fields: text as stored, dates `YYYY-MM-DD` as stored, numbers in plain decimal (never an
 *   exponent), booleans `true`/`false`; no value is an empty cell.
 */
export function contactRow(item: ContactItem, columns: readonly string[], ownerEmails: ReadonlyMap<string, string>): string[] {
  return columns.map((column) => guardCell(cellText(item, column, ownerEmails)));
}

/** The canonical columns (domain/imports/column-mapping.ts: the template's, the reader's and the export's). */
export type ContactColumn = (typeof canonicalColumns)[number]['header'];
export const exportColumns = canonicalColumns.map((column) => column.header) as [ContactColumn, ...ContactColumn[]];

/** The custom field key of a `Custom: <key>` header, or undefined for any other header. */
export const customColumnKey = (header: string): string | undefined =>
  header.startsWith(customFieldHeaderPrefix) ? header.slice(customFieldHeaderPrefix.length) : undefined;

const channelColumns: Partial<Record<ContactColumn, ChannelKind>> = {
  Email: 'email',
  Phone: 'phone',
  WhatsApp: 'whatsapp',
  Telegram: 'telegram',
  LinkedIn: 'linkedin',
};

const textColumns: Partial<Record<ContactColumn, keyof ContactItem>> = {
  Name: 'name',
  Company: 'companyName',
  'Job Title': 'jobTitle',
  Role: 'role',
  Segment: 'segment',
  City: 'city',
  State: 'state',
  Country: 'country',
};

function cellText(item: ContactItem, column: string, ownerEmails: ReadonlyMap<string, string>): string {
  const customKey = customColumnKey(column);
  if (customKey !== undefined) return customFieldText(item.customFields?.[customKey]);
  const kind = channelColumns[column as ContactColumn];
  if (kind) {
    const values = item.channels.filter((channel) => channel.kind === kind);
    return [...values.filter((channel) => channel.primary), ...values.filter((channel) => !channel.primary)]
      .map((channel) => channel.value)
      .join(multiValueSeparator);
  }
  const field = textColumns[column as ContactColumn];
  if (field) return (item[field] as string | undefined) ?? '';
  if (column === 'Tags') return tagCellText(item.tags ?? []);
  if (column === 'Owner') return item.ownerId ? (ownerEmails.get(item.ownerId) ?? item.ownerId) : '';
  throw new Error(`Unknown export column ${column}`);
}

/** A stored custom field value as text the import parses back to the same value. */
export function customFieldText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return plainNumber(value);
  return JSON.stringify(value);
}

/**
 * A finite number in plain decimal: JavaScript's shortest round-trip digits (`String(n)`), with an
 * exponent (`1e+21`, `1.5e-7`) written out, so `Number(plainNumber(n)) === n` and no spreadsheet or
 * reader has to understand exponents.
 */
export function plainNumber(value: number): string {
  const text = String(value);
  const match = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!match) return text;
  const [, sign, head, tail = '', exponentText] = match;
  const digits = `${head}${tail}`;
  const exponent = Number(exponentText);
  if (exponent >= 0) return `${sign}${digits.padEnd(exponent + 1, '0')}`;
  return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
}
