import type { ContactItem } from '../contacts/contact-record';
import { customColumnKey, customFieldText, type ContactColumn } from './contact-rows';

/**
 * One contact as a vCard 3.0 (RFC 2426: what Apple and iCloud Contacts, Google Contacts, Outlook and
 * Android all import), for the `vcf` export. The columns asked for decide the properties written:
 * - Name: FN, and N with the whole name as the given name (the contact keeps one name; splitting it
 *   into family and given names would guess, and get many names wrong);
 * - Email, Phone: EMAIL;TYPE=INTERNET and TEL;TYPE=VOICE, the primary one first and marked `pref`;
 * - WhatsApp, Telegram, LinkedIn: X-SOCIALPROFILE with that TYPE (Apple's property for profiles);
 * - Company: ORG; Job Title: TITLE; Role: ROLE; City, State, Country: one ADR;TYPE=WORK;
 * - Tags: CATEGORIES; Segment, Owner (the owner's email) and `Custom: <key>`: X-CRM-SEGMENT,
 *   X-CRM-OWNER and X-CRM-FIELD-<KEY> (upper-cased, `_` as `-`: a property name has no `_`);
 * - always UID (the contact's id, so an address book updates rather than duplicates a contact on a
 *   second import) and REV (when it last changed).
 * Text is escaped (`\\` `\,` `\;` `\n`) and lines longer than 75 octets are folded, never inside a
 * UTF-8 character. The import (vcard-reader.ts) reads every property of it back, custom fields included.
 */
export function contactVcard(
  item: ContactItem,
  columns: readonly string[],
  ownerEmails: ReadonlyMap<string, string>,
): string {
  const wanted = new Set(columns);
  const lines: string[] = ['BEGIN:VCARD', 'VERSION:3.0', `UID:${escapeText(item.contactId)}`];
  if (wanted.has('Name')) lines.push(`FN:${escapeText(item.name)}`, `N:;${escapeText(item.name)};;;`);
  const channels = (kind: string) => {
    const values = item.channels.filter((channel) => channel.kind === kind);
    return [...values.filter((channel) => channel.primary), ...values.filter((channel) => !channel.primary)];
  };
  if (wanted.has('Email')) {
    for (const channel of channels('email'))
      lines.push(`EMAIL;TYPE=INTERNET${channel.primary ? ',pref' : ''}:${escapeText(channel.value)}`);
  }
  if (wanted.has('Phone')) {
    for (const channel of channels('phone'))
      lines.push(`TEL;TYPE=VOICE${channel.primary ? ',pref' : ''}:${escapeText(channel.value)}`);
  }
  for (const [column, type] of [
    ['WhatsApp', 'whatsapp'],
    ['Telegram', 'telegram'],
    ['LinkedIn', 'linkedin'],
  ] as const) {
    if (!wanted.has(column)) continue;
    for (const channel of channels(type))
      lines.push(`X-SOCIALPROFILE;TYPE=${type}:${escapeText(channel.value)}`);
  }
  const text = (column: ContactColumn, property: string, value: string | undefined) => {
    if (wanted.has(column) && value) lines.push(`${property}:${escapeText(value)}`);
  };
  text('Company', 'ORG', item.companyName);
  text('Job Title', 'TITLE', item.jobTitle);
  text('Role', 'ROLE', item.role);
  const address = (['City', 'State', 'Country'] as const).map((column) =>
    wanted.has(column) ? escapeText(item[column.toLowerCase() as 'city' | 'state' | 'country'] ?? '') : '',
  );
  if (address.some((part) => part !== ''))
    lines.push(`ADR;TYPE=WORK:;;;${address[0]};${address[1]};;${address[2]}`);
  if (wanted.has('Tags') && item.tags && item.tags.length > 0)
    lines.push(`CATEGORIES:${item.tags.map(escapeText).join(',')}`);
  text('Segment', 'X-CRM-SEGMENT', item.segment);
  if (wanted.has('Owner') && item.ownerId)
    lines.push(`X-CRM-OWNER:${escapeText(ownerEmails.get(item.ownerId) ?? item.ownerId)}`);
  for (const column of columns) {
    const key = customColumnKey(column);
    if (key === undefined) continue;
    const value = customFieldText(item.customFields?.[key]);
    if (value !== '')
      lines.push(`X-CRM-FIELD-${key.toUpperCase().replaceAll('_', '-')}:${escapeText(value)}`);
  }
  lines.push(`REV:${item.updatedAt}`, 'END:VCARD');
  return lines.map(foldLine).join('\r\n') + '\r\n';
}

/** RFC 2426 §4 text escapes; a line break of any kind is `\n`. */
export const escapeText = (value: string): string =>
  value.replace(/[\\,;]/g, (char) => `\\${char}`).replace(/\r\n|\r|\n/g, '\\n');

/** Folds a content line at 75 octets (RFC 2426 §2.6, RFC 6350 §3.2): CRLF and a space, between whole characters. */
export function foldLine(line: string): string {
  if (Buffer.byteLength(line, 'utf8') <= 75) return line;
  const parts: string[] = [];
  let part = '';
  let octets = 0;
  // The first line holds 75 octets; each continuation 74 after its leading space.
  let room = 75;
  for (const char of line) {
    const size = Buffer.byteLength(char, 'utf8');
    if (octets + size > room) {
      parts.push(part);
      part = '';
      octets = 0;
      room = 74;
    }
    part += char;
    octets += size;
  }
  parts.push(part);
  return parts.join('\r\n ');
}
