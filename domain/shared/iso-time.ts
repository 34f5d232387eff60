import * as z from 'zod';

/** An ISO 8601 time with an offset, stored in UTC (`2026-02-01T17:00:00.000Z`) so keys sort by time. */
export const isoTime = z.iso
  .datetime({ offset: true })
  .transform((value) => new Date(value).toISOString())
  .meta({ description: 'ISO 8601 date-time with an offset, e.g. 2026-02-01T17:00:00Z' });
