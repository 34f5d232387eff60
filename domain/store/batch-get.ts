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
