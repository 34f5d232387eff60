/**
 * A note by the system in a conversation, written once per cause: providers send an update again
 * until their webhook answers 200, and the webhook's own record of the update may be lost after the
 * note was written, so the note carries a receipt (keyed by what caused it) in its own transaction.
 */
import { sendMessage } from '../../inbox/messages.service';
import { systemActor } from '../../shared/context';
import type { CoreDeps } from '../../shared/deps';
import { LostRace } from '../../shared/errors';
import type { TxEntities } from '../../store/db';

const receiptTtlSeconds = 7 * 24 * 60 * 60;

/** `stored`, or `duplicate` when a note for this `cause` (within `kind`) was written already. */
export async function addSystemNoteOnce(
  deps: CoreDeps,
  workspaceId: string,
  conversationId: string,
  cause: { kind: string; id: string },
  body: string,
  /** More items for the note's transaction. */
  extraOps: (tx: TxEntities) => unknown[] = () => [],
): Promise<'stored' | 'duplicate'> {
  const receipt = { workspaceId, consumer: cause.kind, eventId: cause.id };
  const noted = async () => Boolean((await deps.db.entities.streamReceipt.get(receipt).go({ consistent: true })).data);
  if (await noted()) return 'duplicate';
  try {
    await sendMessage(
      deps,
      systemActor(workspaceId),
      conversationId,
      { body, note: true, attachmentIds: [] },
      {
        withMessage: {
          ops: (tx) => [
            tx.streamReceipt.create({ ...receipt, expiresAt: Math.floor(deps.clock.nowMs() / 1000) + receiptTtlSeconds }).commit(),
            ...extraOps(tx),
          ],
        },
      },
    );
  } catch (error) {
    // The same cause applied at once by another delivery of it: noted there.
    if (error instanceof LostRace && (await noted())) return 'duplicate';
    throw error;
  }
  return 'stored';
}
