import { AsyncLocalStorage } from 'node:async_hooks';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** Work run inside `notCounted.run(true, ...)` is left out of the counts: background consumers in tests. */
export const notCounted = new AsyncLocalStorage<boolean>();

/** The handler, its calls left out of the counts (a stream consumer beside the measured requests). */
export const inBackground =
  <A extends unknown[], R>(handler: (...args: A) => R) =>
  (...args: A): R =>
    notCounted.run(true, () => handler(...args));

export interface CallCounter {
  /** Commands sent since the last reset, by name (GetItemCommand, QueryCommand, ...). */
  readonly counts: Record<string, number>;
  total(): number;
  reset(): void;
}

/**
 * Counts every command a DynamoDB client sends (the document client and ElectroDB send through it),
 * so tests can assert how many requests an operation costs.
 */
export function countDynamoCalls(client: DynamoDBClient): CallCounter {
  const counts: Record<string, number> = {};
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? 'unknown';
      if (!notCounted.getStore()) counts[name] = (counts[name] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name: 'testCallCounter' },
  );
  return {
    counts,
    total: () => Object.values(counts).reduce((sum, n) => sum + n, 0),
    reset: () => {
      for (const name of Object.keys(counts)) delete counts[name];
    },
  };
}
