/**
 * Our reference for one provider call, given to the provider with the send and echoed back in its
 * status callbacks: the conversation, the message and the attempt. It lets a status callback name the
 * attempt before we know the provider's id for it, which is how a send whose answer was lost (the call
 * timed out while the provider accepted it) is recognised as sent instead of being sent again.
 *
 * Where each provider carries it:
 * - WhatsApp Cloud API: `biz_opaque_callback_data` on the send, returned in every `statuses[]` item
 *   (https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages, "biz_opaque_callback_data";
 *   the status object's field in whatsapp-api-js `OnStatusArgs`).
 * - Twilio: a `ref` query parameter on the message's `StatusCallback` URL, posted to as given and
 *   signed with it (https://www.twilio.com/docs/usage/webhooks/webhooks-security, the full URL with
 *   its query string).
 * - SES: message tags `conversation`, `message`, `attempt`, returned as `mail.tags` in every event
 *   (https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html, "tags").
 * - Telegram: nothing (the Bot API has no outbound status callbacks).
 */

export interface SendReference {
  conversationId: string;
  messageId: string;
  attempt: number;
}

const idPattern = /^[a-z]{2,5}_[0-9A-Za-z]{1,40}$/;
const encoded = /^([a-z]{2,5}_[0-9A-Za-z]{1,40}):([a-z]{2,5}_[0-9A-Za-z]{1,40}):([1-9][0-9]{0,3})$/;

/** `<conversationId>:<messageId>:<attempt>`: WhatsApp's opaque data, Twilio's `ref`. */
export const encodeSendReference = (reference: SendReference): string =>
  `${reference.conversationId}:${reference.messageId}:${reference.attempt}`;

/** The reference in an echoed value, or null when it is absent or not one of ours. */
export function decodeSendReference(value: unknown): SendReference | null {
  if (typeof value !== 'string') return null;
  const match = encoded.exec(value.trim());
  if (!match) return null;
  return { conversationId: match[1]!, messageId: match[2]!, attempt: Number(match[3]) };
}

/** The query parameter a Twilio status callback URL carries the reference in. */
export const sendReferenceQueryName = 'ref';

/** The reference in a callback URL's query (Twilio), or null. */
export function sendReferenceFromUrl(url: string | undefined): SendReference | null {
  if (!url) return null;
  try {
    return decodeSendReference(new URL(url).searchParams.get(sendReferenceQueryName));
  } catch {
    return null;
  }
}

/** The SES message tags that carry the reference. */
export const sendReferenceTags = (reference: SendReference) => [
  { Name: 'conversation', Value: reference.conversationId },
  { Name: 'message', Value: reference.messageId },
  { Name: 'attempt', Value: String(reference.attempt) },
];

/** The reference in SES's echoed `mail.tags`, or null. */
export function sendReferenceFromTags(tags: Record<string, string[]> | undefined): SendReference | null {
  const conversationId = tags?.conversation?.[0];
  const messageId = tags?.message?.[0];
  const attempt = tags?.attempt?.[0];
  if (!conversationId || !messageId || !attempt) return null;
  if (!idPattern.test(conversationId) || !idPattern.test(messageId)) return null;
  return decodeSendReference(`${conversationId}:${messageId}:${attempt}`);
}

/** A call we placed, named in its Twilio `StatusCallback` URL (`call=<conversationId>:<callId>`). */
export interface CallReference {
  conversationId: string;
  callId: string;
}

export const callReferenceQueryName = 'call';

const encodedCall = /^([a-z]{2,5}_[0-9A-Za-z]{1,40}):([a-z]{2,5}_[0-9A-Za-z]{1,40})$/;

export const encodeCallReference = (reference: CallReference) => `${reference.conversationId}:${reference.callId}`;

/** The call reference in a callback URL's query, or null. */
export function callReferenceFromUrl(url: string | undefined): CallReference | null {
  if (!url) return null;
  try {
    const match = encodedCall.exec(new URL(url).searchParams.get(callReferenceQueryName) ?? '');
    return match ? { conversationId: match[1]!, callId: match[2]! } : null;
  } catch {
    return null;
  }
}
