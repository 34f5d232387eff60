import { describe, expect, it } from 'vitest';
import { timeZoneSchema } from '../../domain/shared/time-zones';

describe('time zone names', () => {
  it('takes every IANA name and link the runtime can count days in, as given, in its usual spelling', () => {
    for (const zone of ['Asia/Kolkata', 'Europe/Kyiv', 'America/Argentina/Buenos_Aires', 'Pacific/Kanton', 'Etc/UTC', 'Etc/GMT+5', 'GMT', 'Asia/Calcutta', 'UTC']) {
      expect(timeZoneSchema.parse(zone)).toBe(zone);
    }
    expect(timeZoneSchema.parse(' europe/berlin ')).toBe('Europe/Berlin');
  });

  it('refuses what is no zone name: unknown places, offsets, empty', () => {
    for (const zone of ['Mars/Olympus_Mons', '+05:00', '-0300', '', 'Europe/']) {
      expect(timeZoneSchema.safeParse(zone).success).toBe(false);
    }
  });
});
