import { describe, expect, it } from 'vitest';
import { measure, measureInterleaved, packageOf, percentile, ratio, runConcurrent, summarise } from '../bench/harness';

/** A clock that moves only when told: each timed call "takes" exactly the duration it is given. */
function fakeClock() {
  let nowNs = 0n;
  return {
    now: () => nowNs,
    spend: (ms: number) => {
      nowNs += BigInt(Math.round(ms * 1e6));
    },
  };
}

/** 1..100 ms, shuffled deterministically (a multiplicative permutation mod 101). */
const shuffledOneToHundred = Array.from({ length: 100 }, (_, i) => ((i + 1) * 37) % 101);

describe('measure()', () => {
  it('reports nearest-rank percentiles, mean, min and max of the timed calls', async () => {
    const clock = fakeClock();
    const result = await measure('synthetic', 100, (call) => clock.spend(shuffledOneToHundred[call]!), {
      warmup: 0,
      now: clock.now,
    });
    expect(result).toEqual({
      name: 'synthetic',
      iterations: 100,
      p50Ms: 50,
      p90Ms: 90,
      p99Ms: 99,
      meanMs: 50.5,
      minMs: 1,
      maxMs: 100,
    });
  });

  it('runs the warm-up calls first and leaves them out of the figures', async () => {
    const clock = fakeClock();
    const calls: number[] = [];
    const result = await measure(
      'warm',
      10,
      async (call) => {
        calls.push(call);
        clock.spend(call < 3 ? 1000 : 2); // slow warm-up, then 2 ms each
      },
      { warmup: 3, now: clock.now },
    );
    expect(calls).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(result).toMatchObject({ iterations: 10, p50Ms: 2, p99Ms: 2, maxMs: 2, meanMs: 2 });
  });

  it('catches a single slow outlier at p99 but not at p90', async () => {
    const clock = fakeClock();
    const result = await measure('outlier', 100, (call) => clock.spend(call === 42 ? 250 : 3), { warmup: 0, now: clock.now });
    expect(result).toMatchObject({ p50Ms: 3, p90Ms: 3, p99Ms: 3, maxMs: 250, meanMs: 5.47 });
    const tail = await measure('outlier2', 100, (call) => clock.spend(call >= 99 ? 250 : 3), { warmup: 0, now: clock.now });
    expect(tail.p99Ms).toBe(3);
    const twoSlow = await measure('outlier3', 100, (call) => clock.spend(call >= 98 ? 250 : 3), { warmup: 0, now: clock.now });
    expect(twoSlow.p99Ms).toBe(250);
  });

  it('times real calls with the default clock', async () => {
    const result = await measure('sleep', 3, () => new Promise((resolve) => setTimeout(resolve, 5)), { warmup: 1 });
    expect(result.iterations).toBe(3);
    expect(result.minMs).toBeGreaterThanOrEqual(4);
    expect(result.p50Ms).toBeGreaterThanOrEqual(result.minMs);
    expect(result.maxMs).toBeGreaterThanOrEqual(result.p99Ms);
  });

  it('refuses a non-positive iteration count', async () => {
    await expect(measure('none', 0, () => undefined)).rejects.toThrow(RangeError);
  });
});

describe('measureInterleaved()', () => {
  it('warms every case up, then alternates slices of their iterations, and times each case apart', async () => {
    const clock = fakeClock();
    const order: string[] = [];
    const results = await measureInterleaved(
      {
        fast: { iterations: 4, warmup: 1, fn: (call) => (order.push(`f${call}`), clock.spend(call === 0 ? 500 : 1)) },
        slow: { iterations: 2, warmup: 0, fn: async (call) => (order.push(`s${call}`), clock.spend(10 + call)) },
      },
      { rounds: 2, now: clock.now },
    );
    expect(order).toEqual(['f0', 'f1', 'f2', 's0', 'f3', 'f4', 's1']);
    expect(results.fast).toMatchObject({ name: 'fast', iterations: 4, p50Ms: 1, maxMs: 1 });
    expect(results.slow).toMatchObject({ name: 'slow', iterations: 2, minMs: 10, maxMs: 11, meanMs: 10.5 });
  });
});

describe('percentile() and summarise()', () => {
  it('uses the nearest rank', () => {
    expect(percentile([7], 50)).toBe(7);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4], 75)).toBe(3);
    expect(percentile([1, 2, 3, 4], 76)).toBe(4);
    expect(percentile([1, 2, 3, 4], 100)).toBe(4);
    expect(percentile([1, 2, 3, 4], 0)).toBe(1);
    expect(() => percentile([], 50)).toThrow(RangeError);
  });

  it('does not depend on the order of the samples', () => {
    expect(summarise('a', [3, 1, 2])).toEqual(summarise('a', [1, 2, 3]));
  });
});

describe('ratio()', () => {
  const floor = summarise('floor', [2, 2, 2, 10]);
  const api = summarise('api', [5, 5, 5, 15]);

  it('divides the p50 by the floor p50 by default, to 2 decimals', () => {
    expect(ratio(api, floor)).toBe(2.5);
    expect(ratio(api, floor, 'p99Ms')).toBe(1.5);
    expect(ratio(1, 3)).toBe(0.33);
  });

  it('refuses a zero floor', () => {
    expect(() => ratio(1, 0)).toThrow(RangeError);
  });
});

describe('runConcurrent()', () => {
  it('runs every index once with at most the given concurrency', async () => {
    let inFlight = 0;
    let peak = 0;
    const seen: number[] = [];
    await runConcurrent(10, 3, async (index) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 1));
      seen.push(index);
      inFlight--;
    });
    expect(seen.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(peak).toBe(3);
  });
});

describe('packageOf()', () => {
  it('names the npm package or the project folder of a bundle input', () => {
    expect(packageOf('node_modules/zod/v4/core/schemas.js')).toBe('zod');
    expect(packageOf('node_modules/@aws-lambda-powertools/logger/lib/esm/Logger.js')).toBe('@aws-lambda-powertools/logger');
    expect(packageOf('node_modules/a/node_modules/b/index.js')).toBe('b');
    expect(packageOf('domain/users/users.service.ts')).toBe('(project) domain');
  });
});
