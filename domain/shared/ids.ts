import * as z from 'zod';

/** A ULID, as `IdGenerator` writes it after the prefix (Crockford base32, upper case). */
const ulid = '[0-9A-HJKMNP-TV-Z]{26}';

/**
 * A record id of one kind, checked by its shape (`ct_` and a ULID, or one of the kind's fixed names such
 * as `pl_default`) before any read: a URL built from an empty, `undefined` or odd value is a 400 naming
 * the parameter, never a lookup.
 */
export function recordId(prefix: string, what: string, fixedNames: readonly string[] = []) {
  const names = fixedNames.map((name) => `${prefix}_${name}`);
  const pattern = new RegExp(`^(?:${prefix}_${ulid}${names.map((name) => `|${name}`).join('')})$`);
  return z
    .string()
    .regex(pattern, `Not ${what} id: expected \`${prefix}_\` and 26 characters${names.length ? ` (or ${names.join(', ')})` : ''}`)
    .meta({ description: `The ${what.replace(/^an? /, '')}’s id`, example: names[0] ?? `${prefix}_01JF3Q5Z8V2N6M4K7T9R1X3C5B` });
}
