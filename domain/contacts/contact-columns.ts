/**
 * The columns of a contacts file: the import template writes them, the export writes them and the
 * import reader recognises them, so an exported file re-imports losslessly (issue 13).
 * Order: the canonical columns, then one column per custom field, headed `Custom: <key>`.
 */
export const contactColumns = [
  'Name',
  'Email',
  'Phone',
  'WhatsApp',
  'Telegram',
  'LinkedIn',
  'Company',
  'Job Title',
  'Role',
  'Segment',
  'City',
  'State',
  'Country',
  'Tags',
  'Owner',
] as const;
export type ContactColumn = (typeof contactColumns)[number];

/** The columns that may hold several values in one cell (Google Contacts' form). */
export const multiValueColumns = ['Email', 'Phone', 'WhatsApp', 'Telegram', 'LinkedIn', 'Tags'] as const satisfies readonly ContactColumn[];

/** Separates the values of one cell, e.g. `ana@example.com ::: ana@work.example`. */
export const multiValueSeparator = ' ::: ';

export const customColumnPrefix = 'Custom: ';
/** The column of a custom field: `Custom: plan`. */
export const customColumn = (key: string) => `${customColumnPrefix}${key}`;
/** The custom field key of a `Custom: <key>` header, or undefined for any other header. */
export const customColumnKey = (header: string): string | undefined =>
  header.startsWith(customColumnPrefix) ? header.slice(customColumnPrefix.length) : undefined;
