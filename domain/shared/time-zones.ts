import * as z from 'zod';

/** Where a workspace counts its days when none was chosen. */
export const defaultTimeZone = 'UTC';

/** The runtime's canonical names by lower case, to store a known name in its usual spelling. */
const canonicalByLowerCase = new Map(
  [defaultTimeZone, ...Intl.supportedValuesOf('timeZone')].map((zone) => [zone.toLowerCase(), zone]),
);

/**
 * Whether the runtime can count days in the zone. `Intl.supportedValuesOf` lists only ICU's canonical
 * names, which lag the IANA database (`Asia/Calcutta`, not `Asia/Kolkata`; `Europe/Kiev`, not
 * `Europe/Kyiv`): the zone is tried instead, so every IANA name and link is taken. An offset (`+05:00`)
 * is no zone name: it knows no daylight saving.
 */
const isKnownZone = (zone: string): boolean => {
  if (!/^[A-Za-z]/.test(zone)) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
};

/** An IANA time zone name this runtime knows (`Europe/Berlin`, `Asia/Kolkata`, `UTC`), kept as given. */
export const timeZoneSchema = z
  .string()
  .trim()
  .max(64)
  .refine(isKnownZone, 'An IANA time zone name, such as `Europe/Berlin` or `UTC`')
  .transform((zone) => canonicalByLowerCase.get(zone.toLowerCase()) ?? zone)
  .meta({ description: 'An IANA time zone name, such as `Europe/Berlin`, `Asia/Kolkata` or `UTC`' });

const dayFormats = new Map<string, Intl.DateTimeFormat>();

/** The calendar day (`YYYY-MM-DD`) an instant falls on in a time zone. */
export function dayIn(iso: string | number, timeZone: string): string {
  let format = dayFormats.get(timeZone);
  if (!format) {
    // en-CA writes dates as YYYY-MM-DD.
    format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    dayFormats.set(timeZone, format);
  }
  return format.format(new Date(iso));
}
