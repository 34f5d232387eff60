import * as z from 'zod';
import { foldText } from '../shared/text';

/*
 * Tag names (seed 000 CustomerTag: free-form, plus system tags with the `bot:` prefix that control
 * the autoreply bot). A tag is matched by its key, the folded name (case, accents, width and runs of
 * spaces do not matter), while a contact keeps the display form first used. The tag library (colours,
 * rename, usage counts) will key its records by the same `tagKey`.
 */

export const maxTagNameLength = 50;

/**
 * At most this many tags per contact. Each tag is one list entry (`tag:<key>:<status>`, name sort) that
 * carries the contact's summary, so every change of the contact rewrites it, and a rename or a status
 * change moves it (a delete and a put). With L other lists (status, owner, company when linked,
 * suppressed when suppressed: at most 4, each under 3 sorts), T tags and K search tokens (at most 32,
 * ~11 for a usual contact; each carries the contact's search hit, so a change of name, company, primary
 * email or phone, owner, status or suppression rewrites them all), the largest single changes are
 * - a rename: contact 1 + 5L (n# and u# entries move, c# rewritten) + 2T + the tokens that went away
 *   and every new one (~20) + 1 event = 62 + ~20 at L = 4, T = 20;
 * - an archive or unarchive: 1 + 6L + 2T + K + 1 event = 66 + K, i.e. 77 usually, 98 at K = 32;
 * - adding k tags: 1 + 4L (u# moves, n# and c# rewritten) + T + k events, i.e. 57 for 20 tags at once;
 * against the 100 items one DynamoDB transaction allows (`commitContact` answers 422 beyond, naming
 * what to remove). At 30 tags a rename of a contact with a long name and company needed 101 items.
 */
export const maxTagsPerContact = 20;

/** System tags: set or removed only by an owner/admin (or the system itself). */
export const systemTagPrefix = 'bot:';

/** The matching key of a tag name: folded (lower-case, no accents), spaces collapsed, trimmed. */
export const tagKey = (name: string): string => foldText(name);

/**
 * The `bot:` tags people set (owner/admin): `bot:on` (the bot answers the contact even when the
 * workspace default is off) and `bot:off` (never). Every other `bot:` tag is reserved for the system.
 */
export const userBotTags = ['bot:on', 'bot:off'] as const;

/** A `bot:` tag only the system itself may set (anything but `bot:on` / `bot:off`). */
export const isReservedTag = (name: string): boolean =>
  isSystemTag(name) && !(userBotTags as readonly string[]).includes(tagKey(name));

/** A `bot:` tag, whatever its case or width (`BOT:off`, `ｂｏｔ:off` are system tags too). */
export const isSystemTag = (name: string): boolean => tagKey(name).startsWith(systemTagPrefix);

/** The display form kept on the contact: trimmed, inner runs of whitespace made one space. */
export const tagDisplay = (name: string): string => name.trim().replace(/\s+/gu, ' ');

/** A tag name as the API accepts it: 1–50 characters once trimmed, no control characters. */
export const tagName = z
  .string()
  .overwrite(tagDisplay)
  .min(1, 'A tag name cannot be empty')
  .max(maxTagNameLength, `A tag name has at most ${maxTagNameLength} characters`)
  .refine((name) => !/\p{Cc}/u.test(name), 'A tag name cannot contain control characters')
  .refine((name) => tagKey(name) !== '', 'A tag name needs a visible character')
  .meta({
    description:
      'A tag: matched case- and accent-insensitively; names starting with `bot:` are system tags (owner/admin only)',
  });

/** Distinct tags of a list of names, by key, the first spelling winning. */
export function distinctTags(names: readonly string[]): { name: string; key: string }[] {
  const byKey = new Map<string, string>();
  for (const name of names) {
    const display = tagDisplay(name);
    const key = tagKey(display);
    if (!byKey.has(key)) byKey.set(key, display);
  }
  return [...byKey].map(([key, name]) => ({ name, key }));
}
