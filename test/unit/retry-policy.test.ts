import { describe, expect, it } from 'vitest';
import { DomainError, LostRace } from '../../domain/shared/errors';
import { backoffDelay, lostRacePolicy, retryLostRaces, type RetryPolicy } from '../../domain/shared/retry';
import { domainErrorResponse } from '../../functions/shared/problem';

/** A sleep that only records what it was asked to wait. */
const recordingSleep = () => {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => void waits.push(ms) };
};

describe('the lost-race retry policy', () => {
  it('runs the work again after each lost race and returns what the run that got through returns', async () => {
    const { waits, sleep } = recordingSleep();
    const attempts: number[] = [];
    const result = await retryLostRaces(
      async (attempt) => {
        attempts.push(attempt);
        if (attempt < 4) throw new LostRace('The contact');
        return 'written';
      },
      { sleep, random: () => 0.5 },
    );
    expect(result).toBe('written');
    expect(attempts).toEqual([1, 2, 3, 4]);
    expect(waits).toHaveLength(3);
  });

  it('is bounded: after maxAttempts lost races it gives up with a 409 concurrent_change', async () => {
    const { waits, sleep } = recordingSleep();
    let runs = 0;
    const outcome = retryLostRaces(
      async () => {
        runs += 1;
        throw new LostRace('The deal');
      },
      { sleep, random: () => 0.999 },
    );
    const error = await outcome.catch((caught: unknown) => caught);
    expect(runs).toBe(lostRacePolicy.maxAttempts);
    expect(waits).toHaveLength(lostRacePolicy.maxAttempts - 1);
    expect(error).toBeInstanceOf(DomainError);
    // Not a LostRace itself: an enclosing retry (a bulk item, a merge step) does not multiply the attempts.
    expect(error).not.toBeInstanceOf(LostRace);
    expect(error).toMatchObject({ code: 'concurrent_change', details: { attempts: lostRacePolicy.maxAttempts } });
    const response = domainErrorResponse(error as DomainError, { requestId: 'r', path: '/v1/x' });
    expect(response.statusCode).toBe(409);
    expect(JSON.parse(response.body!)).toMatchObject({ code: 'concurrent_change', type: 'https://crm.dev/problems/concurrent-change' });
    // The waits of a whole give-up stay well inside an API Gateway timeout.
    expect(waits.reduce((sum, ms) => sum + ms, 0)).toBeLessThan(5_000);
  });

  it('passes any other error through at once, without waiting', async () => {
    const { waits, sleep } = recordingSleep();
    let runs = 0;
    const refused = new DomainError('precondition_failed', 'stale');
    await expect(
      retryLostRaces(
        async () => {
          runs += 1;
          throw refused;
        },
        { sleep },
      ),
    ).rejects.toBe(refused);
    await expect(retryLostRaces(async () => Promise.reject(new Error('boom')), { sleep })).rejects.toThrow('boom');
    expect(runs).toBe(1);
    expect(waits).toEqual([]);
  });

  it('waits with full jitter over an exponential capped at maxDelayMs', () => {
    const policy: RetryPolicy = { maxAttempts: 10, baseDelayMs: 10, maxDelayMs: 250 };
    const top = (attempt: number) => backoffDelay(attempt, policy, () => 0.9999);
    expect([2, 3, 4, 5, 6, 7, 8].map(top)).toEqual([9, 19, 39, 79, 159, 249, 249]);
    expect(backoffDelay(5, policy, () => 0)).toBe(0);
    expect(backoffDelay(5, policy, () => 0.5)).toBe(40);
  });

  it('tells onRetry which attempt comes next and how long it waits', async () => {
    const { sleep } = recordingSleep();
    const told: [number, number][] = [];
    await retryLostRaces(
      async (attempt) => {
        if (attempt < 3) throw new LostRace();
        return attempt;
      },
      { sleep, random: () => 0.5, policy: { maxAttempts: 5, baseDelayMs: 20, maxDelayMs: 100 }, onRetry: (a, ms) => told.push([a, ms]) },
    );
    expect(told).toEqual([
      [2, 10],
      [3, 20],
    ]);
  });
});
