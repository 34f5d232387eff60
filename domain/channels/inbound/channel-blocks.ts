/**
 * A contact who blocks the bot can no longer be written to on that channel: the contact is suppressed
 * (the product's one model of "do not send": sends are refused with `contact_suppressed`, the contact
 * shows `suppressed` with its reason, and `contact.suppressed` lands on their timeline), with the reason
 * `telegram_blocked`. Unblocking lifts that suppression only: one set by a user or by an email complaint
 * stays.
 */
import { findContactIdByChannel, readContact, suppressContact, unsuppressContact } from '../../contacts/contacts.service';
import { systemActor } from '../../shared/context';
import type { CoreDeps } from '../../shared/deps';
import { DomainError } from '../../shared/errors';
import type { ChannelBlockEvent } from '../inbound-events';

/** The suppression reason a bot block sets, and the only one an unblock lifts. */
export const channelBlockedReason = (channel: ChannelBlockEvent['channel']) => `${channel}_blocked`;

/** Tries before giving up on a contact that keeps changing under the unblock (each a fresh read). */
const unblockAttempts = 3;

/** `stored` when the contact's suppression changed or already was as the event says; `ignored` when no contact holds the value. */
export async function applyChannelBlock(
  deps: CoreDeps,
  workspaceId: string,
  event: ChannelBlockEvent,
): Promise<'stored' | 'ignored'> {
  const contactId = await findContactIdByChannel(deps, workspaceId, event.channel, event.value);
  if (!contactId) return 'ignored';
  const actor = systemActor(workspaceId);
  const reason = channelBlockedReason(event.channel);
  if (event.blocked) {
    await suppressContact(deps, actor, contactId, reason);
    return 'stored';
  }
  for (let attempt = 1; ; attempt++) {
    const contact = await readContact(deps, workspaceId, contactId, true);
    if (!contact.suppressed || contact.suppressedReason !== reason) return 'stored';
    try {
      // On the version read: a suppression set meanwhile for another reason is not lifted.
      await unsuppressContact(deps, actor, contactId, contact.version);
      return 'stored';
    } catch (error) {
      if (!(error instanceof DomainError && error.code === 'precondition_failed') || attempt >= unblockAttempts) throw error;
    }
  }
}
