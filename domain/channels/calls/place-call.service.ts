/**
 * Seed 001 ChannelAdapter.startCall for the phone network: a user calls the contact of a conversation
 * through the workspace's SMS (Twilio) connection. The contact's number rings; when they answer, Twilio
 * dials the user's own phone (`agentPhone`) and bridges the two.
 *
 * The call is written first (`initiated`, `call.started`, `payload.dial`), then Twilio is asked, with a
 * `StatusCallback` URL naming the call (send-reference.ts `call=`), so every progress callback finds it
 * even before Twilio's answer is stored. Twilio's answer links its id to the call (`linkPlacedCall`);
 * the progress callbacks then move it (`ringing`, `connected`, `ended`, or `missed`/`failed`) as they
 * do any provider call. A refusal (a bad number, a number the account may not call, bad credentials)
 * fails the call at once with Twilio's code and message; no answer in time leaves it `initiated` for
 * the callbacks to move (Twilio may have placed it), and the user can end it.
 */
import type { ContactItem } from '../../contacts/contact-record';
import { DomainError, unprocessable } from '../../shared/errors';
import type { CallerContext } from '../../shared/context';
import { normaliseChannelValue } from '../../contacts/channels';
import type { Call } from '../../inbox/calls.schemas';
import { failPlacedCall, getCall, linkPlacedCall, startPlacedCall } from '../../inbox/calls.service';
import { assertCanReply, readConversation } from '../../inbox/conversations.service';
import { openConnection, webhookPath } from '../connections/channel-connections.service';
import type { DeliveryDeps } from '../deliveries/delivery-sender';
import { ProviderSendError } from '../outbound';
import { routePhoneCall } from '../routing/channel-routing';
import { callReferenceQueryName, encodeCallReference } from '../send-reference';
import type { PlacePhoneCallInput } from './place-call.schemas';

export async function placePhoneCall(
  deps: DeliveryDeps,
  caller: CallerContext,
  conversationId: string,
  input: PlacePhoneCallInput,
): Promise<Call> {
  const conversation = await readConversation(deps, caller, conversationId, true);
  assertCanReply(caller, conversation);
  if (conversation.kind !== 'contact' || !conversation.contactId) {
    throw unprocessable('Only a conversation with a contact places a phone call', { reason: 'not_a_contact_conversation' });
  }
  let agentPhone: string;
  try {
    agentPhone = normaliseChannelValue('phone', input.agentPhone, { defaultCountry: input.defaultCountry as never, field: 'agentPhone' }).normalized;
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    throw unprocessable('`agentPhone` is not a phone number that can be dialled (give it as +<country code><number>)', { reason: 'invalid_agent_phone' });
  }
  const { data: contact } = await deps.db.entities.contact.get({ workspaceId: caller.workspaceId, contactId: conversation.contactId }).go();
  if (!contact) throw unprocessable('The conversation has no contact to call', { reason: 'no_channel_value', channel: 'sms' });
  const { connection, to } = await routePhoneCall(deps, contact as ContactItem, conversation, { to: input.to, connectionId: input.connectionId });

  const call = await startPlacedCall(deps, caller, conversation, { connectionId: connection.connectionId, to, agentPhone });
  const key = { workspaceId: caller.workspaceId, conversationId, callId: call.id };
  const statusCallbackUrl = deps.hooksBaseUrl
    ? `${deps.hooksBaseUrl}${webhookPath(connection)}?${callReferenceQueryName}=${encodeURIComponent(encodeCallReference({ conversationId, callId: call.id }))}`
    : null;
  try {
    const receipt = await deps.channels.placeCall(await openConnection(deps, connection), { to, agentPhone, statusCallbackUrl });
    await linkPlacedCall(deps, key, connection.connectionId, receipt.providerCallId);
  } catch (error) {
    // No answer in time: Twilio may have placed it, and its callbacks (which name the call) say what became of it.
    if (!(error instanceof ProviderSendError && error.kind === 'timeout')) {
      const reason =
        error instanceof ProviderSendError
          ? { code: error.code, message: error.message }
          : { code: 'internal_error', message: 'The call could not be placed' };
      await failPlacedCall(deps, key, reason);
      if (!(error instanceof ProviderSendError)) throw error;
    }
  }
  return getCall(deps, caller, conversationId, call.id);
}
