/**
 * A contact who blocks the bot (or starts it again) on Telegram: said in their Telegram conversation, as
 * a note by the system, so whoever answers there sees why a reply will not reach them (Telegram refuses
 * the send: "bot was blocked by the user") and when it will again. The contact is not suppressed: a bot
 * block speaks for Telegram alone, and suppression stops outreach on every channel.
 *
 * Telegram may deliver a block and the unblock after it in either order (it retries an update its
 * webhook did not answer, and sends several at once). The latest state by Telegram's `date` is kept
 * (a `telegram-block-state` guard: owner `blocked` or `started`, createdAt the update's date), so an
 * update older than it is noted as what it was, with the state that followed it: the last note always
 * says whether a message will reach them.
 */
import { findContactIdByChannel, readContact } from '../../contacts/contacts.service';
import { currentConversationId, openConversationGuard } from '../../inbox/conversations.service';
import type { CoreDeps } from '../../shared/deps';
import type { ChannelBlockEvent } from '../inbound-events';
import { addSystemNoteOnce } from './system-notes';

/** The guard scope of a Telegram user's block state (value: `<connection>:<user id>`). */
export const blockStateScope = 'telegram-block-state';

const blockStateKey = (workspaceId: string, connectionId: string, value: string) => ({
  workspaceId,
  scope: blockStateScope,
  value: `${connectionId}:${value}`,
});

/** `2026-12-07 13:02 UTC`. */
const timeOf = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;

const noteFor = (name: string, blocked: boolean) =>
  blocked
    ? `${name} blocked the bot on Telegram: messages sent here will not reach them until they start it again.`
    : `${name} started the bot again on Telegram: messages sent here reach them again.`;

/** An update older than the state already noted: what it was, then what holds now. */
const lateNoteFor = (name: string, blocked: boolean, at: string, later: { blocked: boolean; at: string }) => {
  const then = blocked ? 'blocked the bot' : 'started the bot';
  const since = later.blocked ? 'blocked it again' : 'started it again';
  const now = later.blocked
    ? 'messages sent here will not reach them until they start it again'
    : 'messages sent here reach them';
  return `${name} ${then} on Telegram at ${timeOf(at)}, and has ${since} since (${timeOf(later.at)}): ${now}.`;
};

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
  const at = event.at ?? deps.clock.nowIso();
  const key = blockStateKey(workspaceId, connectionId, event.value);
  const { data: state } = await deps.db.entities.uniqueGuard.get(key).go({ consistent: true });
  const cause = { kind: 'channel-block', id: `${connectionId}:${event.dedupeKeys.join(',')}` };
  if (state && state.createdAt > at) {
    const later = { blocked: state.ownerId === 'blocked', at: state.createdAt };
    return addSystemNoteOnce(deps, workspaceId, conversationId, cause, lateNoteFor(contact.name, event.blocked, at, later));
  }
  // The state moves with the note; a newer update written meanwhile fails the condition (a lost race:
  // the webhook answers 5xx, Telegram sends the update again, and it is then noted as late).
  return addSystemNoteOnce(deps, workspaceId, conversationId, cause, noteFor(contact.name, event.blocked), (tx) => [
    tx.uniqueGuard
      .put({ ...key, ownerId: event.blocked ? 'blocked' : 'started', createdAt: at })
      .where((attr, op) => `${op.notExists(attr.createdAt)} OR ${op.lte(attr.createdAt, at)}`)
      .commit(),
  ]);
}
