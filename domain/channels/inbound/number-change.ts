/**
 * A WhatsApp contact's number change (`system` message `user_changed_number`), applied to the contact:
 * their new WhatsApp id becomes their primary WhatsApp value, so their next message (sent from it)
 * reaches them and their conversation rather than a new contact. The old value stays on the contact
 * (no longer primary) and the change is a `contact.updated` event on their timeline. A value another
 * contact holds is never taken from it: the change is then left to a person (the system message shows
 * it in the conversation).
 */
import { addChannel, findContactIdByChannel, readContact } from '../../contacts/contacts.service';
import { systemActor } from '../../shared/context';
import type { CoreDeps } from '../../shared/deps';
import { DomainError } from '../../shared/errors';

export type NumberChangeOutcome = 'applied' | 'already' | 'taken' | 'refused';

export async function applyNumberChange(
  deps: CoreDeps,
  workspaceId: string,
  contactId: string,
  value: string,
): Promise<NumberChangeOutcome> {
  const contact = await readContact(deps, workspaceId, contactId, true);
  if (contact.channels.some((channel) => channel.kind === 'whatsapp' && channel.normalized === value)) return 'already';
  const holder = await findContactIdByChannel(deps, workspaceId, 'whatsapp', value);
  if (holder && holder !== contactId) return 'taken';
  try {
    await addChannel(deps, systemActor(workspaceId), contactId, { kind: 'whatsapp', value, primary: true });
    return 'applied';
  } catch (error) {
    // Taken meanwhile, or the contact holds its 10 channels: a person decides.
    if (error instanceof DomainError && (error.code === 'channel_taken' || error.code === 'unprocessable' || error.code === 'limit_exceeded')) {
      return error.code === 'channel_taken' ? 'taken' : 'refused';
    }
    throw error;
  }
}
