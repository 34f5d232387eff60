/**
 * A number is one person's on SMS and on WhatsApp alike (the WhatsApp id of a number is the number;
 * seed 000: "a customer is a person; a contact is a channel"). So a sender on WhatsApp whose number no
 * contact holds as a WhatsApp value, but one contact holds as a phone number, is that contact: the number
 * is added to them as their WhatsApp value before the message is stored, and the message (its
 * conversation) is theirs. The same holds the other way round: a text or a call from a number a contact
 * holds only on WhatsApp adds it as their phone number.
 *
 * A channel value belongs to one contact per workspace, so at most one contact holds the number on the
 * other channel. It is left (a new contact made, as before) when that contact is archived or merged away,
 * holds as many channels as a contact may, or another message took the value meanwhile. A WhatsApp
 * business-scoped user ID (`US.…`) is never a phone number: only the sender's number is matched.
 */
import { channelScope } from '../../contacts/contact-record';
import { isWhatsAppUserId, normaliseChannelValue, type ChannelKind } from '../../contacts/channels';
import { addChannel, readContact } from '../../contacts/contacts.service';
import { systemActor } from '../../shared/context';
import type { CoreDeps } from '../../shared/deps';
import { DomainError } from '../../shared/errors';
import type { InboundParty } from '../inbound-events';

interface Log {
  info(message: string, fields?: Record<string, unknown>): void;
}

/** The other channel a number is held on: a phone number's WhatsApp, a WhatsApp number's phone. */
const otherKindOf: Partial<Record<ChannelKind, ChannelKind>> = { phone: 'whatsapp', whatsapp: 'phone' };

/**
 * Adds the sender's number on their channel to the contact holding it on the other channel, when no
 * contact holds any of the sender's values on their channel; returns that contact's id, else undefined.
 * Two reads (one BatchGetItem of the guards, the contact) and the write, only for a sender not yet known.
 */
export async function shareNumberAcrossChannels(
  deps: CoreDeps & { log?: Log },
  workspaceId: string,
  party: Pick<InboundParty, 'kind' | 'value' | 'alternateValues'>,
): Promise<string | undefined> {
  const otherKind = otherKindOf[party.kind];
  const values = [...new Set([party.value, ...party.alternateValues])];
  const number = values.find((value) => !isWhatsAppUserId(value));
  if (!otherKind || !number) return undefined;
  const keys = [
    ...values.map((value) => ({ workspaceId, scope: channelScope(party.kind), value })),
    { workspaceId, scope: channelScope(otherKind), value: number },
  ];
  const { data: guards } = await deps.db.entities.uniqueGuard.get(keys).go({ consistent: true });
  // A contact known on this channel already: the message is theirs, as ever.
  if (guards.some((guard) => guard.scope === channelScope(party.kind))) return undefined;
  const holderId = guards.find((guard) => guard.scope === channelScope(otherKind))?.ownerId;
  if (!holderId) return undefined;
  const holder = await readContact(deps, workspaceId, holderId, true);
  if (holder.status !== 'active' || holder.mergedInto) return undefined;
  // Their first number on this channel is where replies go; a WhatsApp BSUID held alone yields to it.
  const primary = !holder.channels.some((channel) => channel.kind === party.kind && !isWhatsAppUserId(channel.normalized));
  try {
    await addChannel(deps, systemActor(workspaceId), holderId, { kind: party.kind, value: number, primary });
    return holderId;
  } catch (error) {
    // Taken meanwhile (the message finds its holder), or the contact holds its 10 channels: left as before.
    if (!(error instanceof DomainError)) throw error;
    deps.log?.info('Number not added to the contact holding it on the other channel', { contactId: holderId, reason: error.code });
    return undefined;
  }
}

/**
 * `shareNumberAcrossChannels` for a message brought in through the API (`POST /v1/inbound-messages`):
 * its raw `from` normalised as the ingest does (an invalid one is left to the ingest's 400).
 */
export async function shareIngestedNumber(
  deps: CoreDeps,
  workspaceId: string,
  input: { channel: string; from: string; defaultCountry?: string | undefined },
): Promise<string | undefined> {
  if (input.channel !== 'sms' && input.channel !== 'whatsapp') return undefined;
  const kind = input.channel === 'sms' ? 'phone' : 'whatsapp';
  let value: string;
  try {
    value = normaliseChannelValue(kind, input.from, { defaultCountry: input.defaultCountry as never }).normalized;
  } catch (error) {
    if (error instanceof DomainError) return undefined;
    throw error;
  }
  return shareNumberAcrossChannels(deps, workspaceId, { kind, value, alternateValues: [] });
}
