import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import * as z from 'zod';
import type { CoreDeps } from '../shared/deps';
import { retryLostRaces } from '../shared/retry';
import { writeTransaction } from '../store/transaction';
import { tagKey } from './tag-names';

/** The stream consumer name under which tag usage records its receipts. */
export const tagUsageConsumer = 'tag-usage';

/** How long a receipt outlives its change: far beyond the stream's 24-hour retention. */
const receiptTtlSeconds = 7 * 24 * 60 * 60;

/** What the consumer reads of a contact item's stream image. */
const contactImageSchema = z.object({
  __edb_e__: z.literal('contact'),
  workspaceId: z.string().min(1),
  contactId: z.string().min(1),
  version: z.number().int(),
  tags: z.array(z.string()).optional(),
});

/** One change of a contact as far as tags go: the versions' tag keys. */
export interface ContactTagChange {
  workspaceId: string;
  contactId: string;
  version: number;
  before: string[];
  after: string[];
}

/** Reads a contact stream record's images (DynamoDB JSON); throws on anything that is not a contact. */
export function parseContactChange(
  newImage: Record<string, unknown> | undefined,
  oldImage: Record<string, unknown> | undefined,
): ContactTagChange {
  if (!newImage) throw new Error('The stream record has no NewImage: is the stream NEW_AND_OLD_IMAGES?');
  const after = contactImageSchema.parse(unmarshall(newImage as Record<string, AttributeValue>));
  const before = oldImage ? contactImageSchema.parse(unmarshall(oldImage as Record<string, AttributeValue>)) : undefined;
  return {
    workspaceId: after.workspaceId,
    contactId: after.contactId,
    version: after.version,
    before: before?.tags ?? [],
    after: after.tags ?? [],
  };
}

/** +1 for each tag key the contact gained, -1 for each it lost. */
export function usageDeltas(before: readonly string[], after: readonly string[]): Map<string, 1 | -1> {
  const was = new Set(before.map(tagKey));
  const is = new Set(after.map(tagKey));
  const deltas = new Map<string, 1 | -1>();
  for (const key of is) if (!was.has(key)) deltas.set(key, 1);
  for (const key of was) if (!is.has(key)) deltas.set(key, -1);
  return deltas;
}

class AlreadyApplied extends Error {}
class MissingTags extends Error {
  constructor(readonly keys: string[]) {
    super('missing tags');
  }
}

export type UsageOutcome = 'applied' | 'duplicate' | 'unchanged';

/**
 * Keeps the library's usage counts from contact changes (any path: tag, untag, bulk, merge, rename,
 * delete, import): ADD ±1 to each tag item whose key the contact gained or lost, in one transaction
 * with this consumer's receipt for the contact version, written only if absent, so a replayed stream
 * record changes nothing twice (`duplicate`). Only items that exist are counted (the ADD is a patch,
 * conditional on the item): the library decides which tags exist, so a late record of a deleted tag
 * cannot bring it back. Contact versions only grow, so contact id + version names the change.
 */
export async function applyContactChangeToTagUsage(deps: CoreDeps, change: ContactTagChange): Promise<UsageOutcome> {
  let deltas = [...usageDeltas(change.before, change.after)];
  const receipt = {
    workspaceId: change.workspaceId,
    consumer: tagUsageConsumer,
    eventId: `contact#${change.contactId}#${change.version}`,
    expiresAt: Math.floor(deps.clock.nowMs() / 1000) + receiptTtlSeconds,
  };
  // Concurrent changes of contacts with the same tag ADD to one item: a transaction that lost to
  // another (TransactionConflict, a LostRace) is sent again, as a request would be (bounded, with
  // jitter); past the bound the record fails and the stream retries it.
  return retryLostRaces(async () => {
    for (;;) {
      if (deltas.length === 0) return 'unchanged';
      const keys = deltas.map(([key]) => key);
      try {
        await writeTransaction(
          deps.db,
          (tx) => [
            tx.streamReceipt.create(receipt).commit(),
            ...deltas.map(([key, delta]) =>
              tx.tag.patch({ workspaceId: change.workspaceId, key }).add({ usageCount: delta }).commit(),
            ),
          ],
          (failed) =>
            failed.includes(0) ? new AlreadyApplied() : new MissingTags(failed.map((index) => keys[index - 1]!)),
        );
        return 'applied';
      } catch (error) {
        if (error instanceof AlreadyApplied) return 'duplicate';
        if (!(error instanceof MissingTags)) throw error;
        // Not in the library (deleted, or tagged before the library existed): not counted.
        deltas = deltas.filter(([key]) => !error.keys.includes(key));
      }
    }
  });
}
