import * as z from 'zod';

/** Where a workspace counts its days when none was chosen. */
export const defaultTimeZone = 'UTC';

const known = new Set([defaultTimeZone, ...Intl.supportedValuesOf('timeZone')]);

/** An IANA time zone name this runtime knows (`Europe/Berlin`, `America/Los_Angeles`, `UTC`). */
export const timeZoneSchema = z
  .string()
  .trim()
  .max(64)
  .refine((zone) => known.has(zone), 'An IANA time zone name, such as `Europe/Berlin` or `UTC`')
  .meta({ description: 'An IANA time zone name, such as `Europe/Berlin` or `UTC`' });

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
