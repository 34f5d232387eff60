import { monotonicFactory } from 'ulid';
import type { Clock, IdGenerator } from './ports';

export const systemClock: Clock = {
  nowIso: () => new Date().toISOString(),
  nowMs: () => Date.now(),
};

/** A clock that stands still unless told to move: for tests. */
export function fixedClock(startIso = '2026-01-15T09:00:00.000Z') {
  let now = Date.parse(startIso);
  return {
    nowIso: () => new Date(now).toISOString(),
    nowMs: () => now,
    advance(ms: number) {
      now += ms;
    },
  } satisfies Clock & { advance(ms: number): void };
}

/** ULID-based ids: sortable by creation time, so keys built from them list oldest to newest. */
export function ulidGenerator(clock: Clock = systemClock): IdGenerator {
  const next = monotonicFactory();
  return (prefix) => `${prefix}_${next(clock.nowMs())}`;
}
