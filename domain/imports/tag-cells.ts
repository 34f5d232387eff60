import { multiValueSeparator } from './column-mapping';

/** Mailchimp's TAGS cell: every tag in double quotes, separated by commas (`"VIP","Blog"`). */
const quotedList = /^\s*"[^"]*"(?:\s*,\s*"[^"]*")*\s*$/;

/**
 * The tags of a cell. ` ::: ` separates them as this CRM's export and Google Contacts write them, and
 * then a tag may hold a comma. Without it: Mailchimp's quoted list, else the `,` or `;` other exports
 * and hand-kept sheets put between tags (Pipedrive's and Zoho's labels, Outlook's categories).
 */
export function splitTagCell(cell: string): string[] {
  const values = cell.includes(':::')
    ? cell.split(':::')
    : quotedList.test(cell)
      ? [...cell.matchAll(/"([^"]*)"/g)].map((match) => match[1]!)
      : cell.split(/[,;]/);
  return values.map((value) => value.trim()).filter((value) => value !== '');
}

/**
 * A contact's tags as one cell that `splitTagCell` reads back as they are: joined by ` ::: `, and a
 * lone tag that would be split (it holds a comma or semicolon, or is in quotes) followed by ` :::`.
 */
export function tagCellText(tags: readonly string[]): string {
  const text = tags.join(multiValueSeparator);
  const readBack = splitTagCell(text);
  return readBack.length === tags.length && readBack.every((tag, i) => tag === tags[i]) ? text : `${text}${multiValueSeparator.trimEnd()}`;
}
