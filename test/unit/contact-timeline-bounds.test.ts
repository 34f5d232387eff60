import { decodeTime } from 'ulid';
import { describe, expect, it } from 'vitest';
import { firstIdAt, idBefore, lastIdAt } from '../../domain/contacts/contact-timeline.service';

describe('timeline key bounds', () => {
  it('idBefore is the event id one below: `<= idBefore(id)` is `< id`', () => {
    expect(idBefore('evt_01JH0000000000000000000001')).toBe('evt_01JH0000000000000000000000');
    expect(idBefore('evt_01JH00000000000000000000A0')).toBe('evt_01JH000000000000000000009Z');
    expect(idBefore('evt_01JH0000000000000000000010')).toBe('evt_01JH000000000000000000000Z');
    expect(idBefore('evt_01JH1000000000000000000000')).toBe('evt_01JH0ZZZZZZZZZZZZZZZZZZZZZ');
    expect(idBefore('evt_00000000000000000000000000')).toBeUndefined();
    const id = 'evt_01JH4Q7K2M3N4P5Q6R7S8T9V0W';
    expect(idBefore(id)! < id).toBe(true);
  });

  it('a time range covers every id of its first and last millisecond', () => {
    const from = firstIdAt('2025-03-01T10:00:00.000Z');
    const to = lastIdAt('2025-03-01T10:00:00.000+00:00');
    expect(decodeTime(from.slice(4))).toBe(Date.parse('2025-03-01T10:00:00.000Z'));
    expect(from < to).toBe(true);
    expect(to.slice(0, 14)).toBe(from.slice(0, 14));
    // An offset is the same instant; a time before 1970 starts at the first ULID time.
    expect(firstIdAt('2025-03-01T12:00:00+02:00')).toBe(from);
    expect(firstIdAt('1900-01-01T00:00:00Z')).toBe('evt_00000000000000000000000000');
  });
});
