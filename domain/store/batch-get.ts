import { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from './db';

/** Rounds of re-asking for the keys a BatchGetItem left unprocessed, before giving up. */
const maxRounds = 8;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Every item of `keys` that exists, through an ElectroDB batch get (`entity.get(keys).go(...)`), asking
 * again for what DynamoDB left unprocessed with exponential backoff (throttling is what leaves keys
 * unprocessed); throws when keys are still left after 8 rounds.
 */
export async function batchGetAll<K, T>(
  keys: K[],
  get: (keys: K[]) => Promise<{ data: T[]; unprocessed: unknown[] }>,
): Promise<T[]> {
  const found: T[] = [];
  let pending = keys;
  for (let round = 0; pending.length > 0; round += 1) {
    if (round === maxRounds) throw new Error(`BatchGetItem left ${pending.length} keys unprocessed`);
    if (round > 0) await sleep(25 * 2 ** round);
    const { data, unprocessed } = await get(pending);
    found.push(...data);
    pending = unprocessed as K[];
  }
  return found;
}

/** A table key as ElectroDB builds it (`entity.get(...).params().Key`). */
export type TableKey = Record<string, unknown>;

const keyId = (key: TableKey) => `${String(key.pk)}\u0000${String(key.sk)}`;

/**
 * Items of any entities by their table keys in one BatchGetItem: one round trip where a GetItem per
 * item would cost one each, at the same read cost (TransactGetItems would cost twice as much and is
 * not needed for reads that need no isolation from each other). At most 100 keys. Returns each key's
 * item in the order asked, undefined where none is stored; parse each with its entity
 * (`entity.parse({ Item })`).
 */
export async function getItemsByKeys(
  db: Pick<Db, 'client' | 'table'>,
  keys: TableKey[],
  options: { consistent?: boolean } = {},
): Promise<(Record<string, unknown> | undefined)[]> {
  if (keys.length > 100) throw new RangeError(`BatchGetItem takes at most 100 keys, not ${keys.length}`);
  const found = await batchGetAll(keys, async (pending) => {
    const result = await db.client.send(
      new BatchGetCommand({
        RequestItems: { [db.table]: { Keys: pending, ...(options.consistent ? { ConsistentRead: true } : {}) } },
      }),
    );
    return { data: result.Responses?.[db.table] ?? [], unprocessed: result.UnprocessedKeys?.[db.table]?.Keys ?? [] };
  });
  const byKey = new Map(found.map((item) => [keyId(item), item]));
  return keys.map((key) => byKey.get(keyId(key)));
}
