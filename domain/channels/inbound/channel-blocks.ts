/**
 * A contact who blocks the bot (or starts it again) on Telegram: said in their Telegram conversation, as
 * a note by the system, so whoever answers there sees why a reply will not reach them (Telegram refuses
 * the send: "bot was blocked by the user") and when it will again. The contact is not suppressed: a bot
 * block speaks for Telegram alone, and suppression stops outreach on every channel.
 */
import { findContactIdByChannel, readContact } from '../../contacts/contacts.service';
import { currentConversationId, openConversationGuard } from '../../inbox/conversations.service';
import { sendMessage } from '../../inbox/messages.service';
import { systemActor } from '../../shared/context';
import type { CoreDeps } from '../../shared/deps';
import { LostRace } from '../../shared/errors';
import type { ChannelBlockEvent } from '../inbound-events';

/** The receipt of a block or unblock noted (by the connection and Telegram's update): written with the note. */
const receiptConsumer = 'channel-block';
const receiptTtlSeconds = 7 * 24 * 60 * 60;

const noteFor = (name: string, blocked: boolean) =>
  blocked
    ? `${name} blocked the bot on Telegram: messages sent here will not reach them until they start it again.`
    : `${name} started the bot again on Telegram: messages sent here reach them again.`;

/**
 * `stored` once the note is in the contact's current Telegram conversation (resolved or not: the note
 * opens nothing new); `ignored` when no contact holds the value, or they have no conversation there;
 * `duplicate` when this update was noted already (Telegram sends an update again until its webhook
 * answers 200, and the webhook's own record of the update may have failed after the note was written).
 */
export async function applyChannelBlock(
  deps: CoreDeps,
  workspaceId: string,
  connectionId: string,
  event: ChannelBlockEvent,
): Promise<'stored' | 'ignored' | 'duplicate'> {
  const receipt = { workspaceId, consumer: receiptConsumer, eventId: `${connectionId}:${event.dedupeKeys.join(',')}` };
  const noted = async () => Boolean((await deps.db.entities.streamReceipt.get(receipt).go({ consistent: true })).data);
  if (await noted()) return 'duplicate';
  const contactId = await findContactIdByChannel(deps, workspaceId, event.channel, event.value);
  if (!contactId) return 'ignored';
  const caller = systemActor(workspaceId);
  const contact = await readContact(deps, workspaceId, contactId, true);
  const conversationId = await currentConversationId(deps, openConversationGuard(workspaceId, contactId, event.channel));
  if (!conversationId) return 'ignored';
  try {
    await sendMessage(
      deps,
      caller,
      conversationId,
      { body: noteFor(contact.name, event.blocked), note: true, attachmentIds: [] },
      {
        withMessage: {
          ops: (tx) => [
            tx.streamReceipt.create({ ...receipt, expiresAt: Math.floor(deps.clock.nowMs() / 1000) + receiptTtlSeconds }).commit(),
          ],
        },
      },
    );
  } catch (error) {
    // The same update applied at once by another delivery of it: noted there.
    if (error instanceof LostRace && (await noted())) return 'duplicate';
    throw error;
  }
  return 'stored';
}
