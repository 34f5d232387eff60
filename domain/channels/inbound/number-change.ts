/**
 * A WhatsApp contact's number change (`system` message `user_changed_number`), applied to the contact:
 * their new WhatsApp id becomes their primary WhatsApp value, so their next message (sent from it)
 * reaches them and their conversation rather than a new contact. The old value stays on the contact
 * (no longer primary) and the change is a `contact.updated` event on their timeline. A value another
 * contact holds is never taken from it, nor is an eleventh channel added: the change is then left to a
 * person, and a note in the conversation says why it was not applied and what to do.
 */
import { addChannel, findContactIdByChannel, readContact } from '../../contacts/contacts.service';
import { systemActor } from '../../shared/context';
import type { CoreDeps } from '../../shared/deps';
import { DomainError } from '../../shared/errors';
import { addSystemNoteOnce } from './system-notes';

export type NumberChangeOutcome = 'applied' | 'already' | 'taken' | 'refused';

/** Where the change was announced: the system message's conversation, and the message itself. */
export interface NumberChangeMessage {
  conversationId: string;
  messageId: string;
}

export async function applyNumberChange(
  deps: CoreDeps,
  workspaceId: string,
  contactId: string,
  value: string,
  announced: NumberChangeMessage,
): Promise<NumberChangeOutcome> {
  const contact = await readContact(deps, workspaceId, contactId, true);
  if (contact.channels.some((channel) => channel.kind === 'whatsapp' && channel.normalized === value)) return 'already';
  const unapplied = await addNewNumber(deps, workspaceId, contactId, value);
  if (!unapplied) return 'applied';
  await addSystemNoteOnce(
    deps,
    workspaceId,
    announced.conversationId,
    { kind: 'number-change', id: announced.messageId },
    `${contact.name}'s new WhatsApp number ${value} was not added to them: ${unapplied.why}`,
  );
  return unapplied.outcome;
}

/** Adds the value as the contact's primary WhatsApp number; when it cannot be, says why. */
async function addNewNumber(
  deps: CoreDeps,
  workspaceId: string,
  contactId: string,
  value: string,
): Promise<{ outcome: 'taken' | 'refused'; why: string } | undefined> {
  const taken = async (holderId: string | undefined) => ({
    outcome: 'taken' as const,
    why: `${holderId ? `it is ${(await readContact(deps, workspaceId, holderId, true)).name}'s WhatsApp number` : 'another contact holds it'} already. If they are the same person, merge the two contacts.`,
  });
  const holder = await findContactIdByChannel(deps, workspaceId, 'whatsapp', value);
  if (holder && holder !== contactId) return taken(holder);
  try {
    await addChannel(deps, systemActor(workspaceId), contactId, { kind: 'whatsapp', value, primary: true });
    return undefined;
  } catch (error) {
    // Taken meanwhile, or the contact holds its 10 channels (or the value is refused): a person decides.
    if (!(error instanceof DomainError)) throw error;
    if (error.code === 'channel_taken') return taken(await findContactIdByChannel(deps, workspaceId, 'whatsapp', value));
    if (error.code === 'limit_exceeded') {
      return {
        outcome: 'refused',
        why: `they hold as many channels as a contact may. Remove one they no longer use, then add ${value} as their primary WhatsApp number.`,
      };
    }
    if (error.code === 'unprocessable') return { outcome: 'refused', why: `${error.message.replace(/\.$/, '')}.` };
    throw error;
  }
}
