/**
 * A WhatsApp sender's values kept on their contact. Meta names every sender by their business-scoped
 * user ID (BSUID) and, while it may be shared, by their number too; a user who adopts a username may
 * later write with the BSUID alone. So when a message brings both and the contact found holds only one,
 * the other is added to that contact: the BSUID as a further WhatsApp value (their number stays the
 * primary one, where replies go), or their number as their primary WhatsApp value when they were known
 * by the BSUID alone (Meta recommends sending to the number when there is one).
 *
 * A value another contact holds is never taken from it, nor is an eleventh channel added: it is left
 * (logged), and the message is stored all the same.
 *
 * Source: https://developers.facebook.com/documentation/business-messaging/whatsapp/business-scoped-user-ids/
 * (copy: https://support.chatarchitect.com/books/meta-whatsapp/page/business-scoped-user-ids-developer-documentation).
 */
import { isWhatsAppUserId } from '../../contacts/channels';
import { addChannel, findContactIdByChannel, readContact } from '../../contacts/contacts.service';
import { systemActor } from '../../shared/context';
import type { CoreDeps } from '../../shared/deps';
import { DomainError } from '../../shared/errors';
import type { InboundParty } from '../inbound-events';

interface Log {
  info(message: string, fields?: Record<string, unknown>): void;
}

/** Adds the sender's WhatsApp values their contact lacks; returns the values added. */
export async function keepWhatsAppValues(
  deps: CoreDeps & { log: Log },
  workspaceId: string,
  contactId: string,
  party: Pick<InboundParty, 'kind' | 'value' | 'alternateValues'>,
): Promise<string[]> {
  if (party.kind !== 'whatsapp' || party.alternateValues.length === 0) return [];
  const contact = await readContact(deps, workspaceId, contactId, true);
  const held = new Set(contact.channels.filter((channel) => channel.kind === 'whatsapp').map((channel) => channel.normalized));
  const added: string[] = [];
  for (const value of [party.value, ...party.alternateValues]) {
    if (held.has(value)) continue;
    const holder = await findContactIdByChannel(deps, workspaceId, 'whatsapp', value);
    if (holder && holder !== contactId) {
      deps.log.info('WhatsApp value not added: another contact holds it', { contactId, holderId: holder });
      continue;
    }
    try {
      await addChannel(deps, systemActor(workspaceId), contactId, { kind: 'whatsapp', value, primary: !isWhatsAppUserId(value) });
      added.push(value);
    } catch (error) {
      // Taken meanwhile, the contact holds its 10 channels, or changed meanwhile: the next message tries again.
      if (!(error instanceof DomainError)) throw error;
      deps.log.info('WhatsApp value not added to the contact', { contactId, reason: error.code });
    }
  }
  return added;
}
