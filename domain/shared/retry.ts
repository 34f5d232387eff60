import { DomainError, LostRace } from './errors';

/** How a write that lost a race is run again: bounded attempts, exponential backoff with full jitter. */
export interface RetryPolicy {
  /** Runs in all, the first included. */
  maxAttempts: number;
  /** The delay before the 2nd run is drawn from [0, baseDelayMs), doubling each time up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
}

/**
 * The policy of every request: 20 runs, waits drawn from 0–15 ms doubling to 0–250 ms, at most ~4 s
 * of waiting in all (~2 s on average), well inside an API Gateway timeout. Jitter spreads the losers
 * of one race so that they do not collide again on the next run. Sized on the worst race the tests
 * run: 20 concurrent changes of one contact on DynamoDB Local needed up to 10 runs for the last
 * request on a loaded machine (test/integration/conflicts.test.ts prints what it measured); with N
 * writers on one record the last may need N runs, so 20 covers that race with no margin taken from it.
 */
export const lostRacePolicy: RetryPolicy = { maxAttempts: 20, baseDelayMs: 15, maxDelayMs: 250 };

export interface RetryOptions {
  policy?: RetryPolicy;
  /** Waits (tests pass a fake that records the delays). */
  sleep?: (ms: number) => Promise<void>;
  /** A number in [0, 1) (tests fix it). */
  random?: () => number;
  /** Told before each re-run: the attempt about to start (2, 3, ...) and the wait before it. */
  onRetry?: (attempt: number, delayMs: number) => void;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The wait before attempt `attempt` (2, 3, ...): full jitter over the capped exponential. */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 2));
  return Math.floor(random() * ceiling);
}

/**
 * Runs `work` (which reads what it changes, then writes conditionally) and runs it again from the top
 * whenever it throws `LostRace`, up to the policy's attempts. Anything else it throws passes through
 * at once. When every attempt lost, the answer is a 409 `concurrent_change` (a plain DomainError, not
 * a LostRace, so an enclosing retry does not multiply the attempts).
 */
export async function retryLostRaces<T>(work: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const policy = options.policy ?? lostRacePolicy;
  const sleep = options.sleep ?? realSleep;
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work(attempt);
    } catch (error) {
      if (!(error instanceof LostRace)) throw error;
      if (attempt >= policy.maxAttempts) {
        throw new DomainError(
          'concurrent_change',
          `Other changes to the same records kept winning (${attempt} attempts): retry the request`,
          { attempts: attempt },
        );
      }
      const delayMs = backoffDelay(attempt + 1, policy, random);
      options.onRetry?.(attempt + 1, delayMs);
      await sleep(delayMs);
    }
  }
}
