/**
 * A contact who blocks the bot (or starts it again) on Telegram: said in their Telegram conversation, as
 * a note by the system, so whoever answers there sees why a reply will not reach them (Telegram refuses
 * the send: "bot was blocked by the user") and when it will again. The contact is not suppressed: a bot
 * block speaks for Telegram alone, and suppression stops outreach on every channel.
 */
import { findContactIdByChannel, readContact } from '../../contacts/contacts.service';
import { currentConversationId, openConversationGuard } from '../../inbox/conversations.service';
import type { CoreDeps } from '../../shared/deps';
import type { ChannelBlockEvent } from '../inbound-events';
import { addSystemNoteOnce } from './system-notes';

const noteFor = (name: string, blocked: boolean) =>
  blocked
    ? `${name} blocked the bot on Telegram: messages sent here will not reach them until they start it again.`
    : `${name} started the bot again on Telegram: messages sent here reach them again.`;

/**
 * `stored` once the note is in the contact's current Telegram conversation (resolved or not: the note
 * opens nothing new); `ignored` when no contact holds the value, or they have no conversation there;
 * `duplicate` when this update was noted already (keyed by the connection and Telegram's update).
 */
export async function applyChannelBlock(
  deps: CoreDeps,
  workspaceId: string,
  connectionId: string,
  event: ChannelBlockEvent,
): Promise<'stored' | 'ignored' | 'duplicate'> {
  const contactId = await findContactIdByChannel(deps, workspaceId, event.channel, event.value);
  if (!contactId) return 'ignored';
  const contact = await readContact(deps, workspaceId, contactId, true);
  const conversationId = await currentConversationId(deps, openConversationGuard(workspaceId, contactId, event.channel));
  if (!conversationId) return 'ignored';
  return addSystemNoteOnce(
    deps,
    workspaceId,
    conversationId,
    { kind: 'channel-block', id: `${connectionId}:${event.dedupeKeys.join(',')}` },
    noteFor(contact.name, event.blocked),
  );
}
