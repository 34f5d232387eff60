/**
 * WhatsApp Cloud API webhooks: the GET verification handshake, the `X-Hub-Signature-256` check on the
 * raw body, and the parsing of a verified payload (messages, statuses and calls, batched over entries
 * and changes) into `InboundEvent`s.
 *
 * Sources (Meta's documentation):
 * - Handshake and signature ("Create a webhook endpoint"):
 *   https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/create-webhook-endpoint
 *   (GET with `hub.mode=subscribe`, `hub.challenge`, `hub.verify_token`, answered with the challenge;
 *   POSTs carry `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the payload keyed with the app secret>`)
 * - Payloads: https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages
 *   and its pages .../messages/text, .../messages/image (and audio, video, document, sticker),
 *   .../messages/interactive, .../messages/status (statuses `sent`, `delivered`, `read`, `failed`,
 *   `played`, with `errors[]`: code, title, message, error_data.details)
 * - Flow responses (`interactive.nfm_reply`): https://developers.facebook.com/docs/whatsapp/flows/reference/responsemsgwebhook
 * - Calls: https://developers.facebook.com/documentation/business-messaging/whatsapp/calling/user-initiated-calls
 *   and .../calling/business-initiated-calls (field `calls`: `connect` and `terminate` events, `status`
 *   COMPLETED / FAILED / REJECTED, `duration`; call statuses RINGING / ACCEPTED / REJECTED)
 * - Usernames and business-scoped user IDs (BSUIDs):
 *   https://developers.facebook.com/documentation/business-messaging/whatsapp/business-scoped-user-ids/
 *   (copy: https://support.chatarchitect.com/books/meta-whatsapp/page/business-scoped-user-ids-developer-documentation;
 *   tables: https://dualhook.com/docs/contacts-bsuid-webhooks). Every incoming message carries the
 *   sender's BSUID (`messages[].from_user_id`, `contacts[].user_id`); a user who adopted a username may
 *   come without their number (`messages[].from` and `contacts[].wa_id` omitted) and with
 *   `contacts[].profile.username`. Statuses of a message sent to a BSUID carry `recipient_user_id` and may
 *   lack `recipient_id`; calls carry `from_user_id` beside `from`.
 *
 * A WhatsApp `wa_id` is the number without `+`: it is normalised to E.164 before matching. The sender
 * is their number when given, with their BSUID as an alternate value of the same contact (so a later
 * message that brings only the BSUID finds them); else the BSUID alone is their WhatsApp value.
 */
import { createHmac } from 'node:crypto';
import * as z from 'zod';
import { decodeSendReference } from './send-reference';
import {
  ignored,
  isoFromUnixSeconds,
  partyOf,
  canonicalValue,
  providerCount,
  type AdReferral,
  type CallEvent,
  type CallStatus,
  type DeliveryStatus,
  type DeliveryStatusEvent,
  type InboundEvent,
  type InboundMessageEvent,
  type InteractiveReply,
  type MediaKind,
  type MediaReference,
  type ProviderError,
} from './inbound-events';
import {
  accepted,
  bodyBytes,
  headerValue,
  refused,
  sameBytes,
  sameText,
  type RawBody,
  type RawHeaders,
  type SignatureCheck,
} from './webhook-signature';

export const whatsappSignatureHeader = 'X-Hub-Signature-256';

/** Checks `X-Hub-Signature-256` against the HMAC-SHA256 of the raw body keyed with the app secret. */
export const verifyWhatsAppSignature = (
  rawBody: RawBody,
  headers: RawHeaders,
  appSecret: string,
): SignatureCheck => {
  const header = headerValue(headers, whatsappSignatureHeader);
  if (header === undefined) return refused('missing', `No ${whatsappSignatureHeader} header`);
  const match = /^sha256=([0-9a-f]{64})$/i.exec(header);
  if (!match) return refused('malformed', `${whatsappSignatureHeader} is not sha256=<64 hex digits>`);
  const expected = createHmac('sha256', appSecret).update(bodyBytes(rawBody)).digest();
  return sameBytes(Buffer.from(match[1]!, 'hex'), expected)
    ? accepted
    : refused('mismatch', `${whatsappSignatureHeader} does not match the body`);
};

export type WhatsAppHandshake =
  | { ok: true; challenge: string }
  | { ok: false; reason: 'missing' | 'malformed' | 'mismatch'; detail: string };

/**
 * The GET Meta sends when the callback URL is set: with `hub.mode=subscribe` and our verify token, the
 * answer is 200 with `hub.challenge` as the body; anything else is refused (403).
 */
export const verifyWhatsAppSubscription = (
  query: URLSearchParams | Readonly<Record<string, string | undefined>>,
  verifyToken: string,
): WhatsAppHandshake => {
  const get = (name: string) =>
    query instanceof URLSearchParams ? (query.get(name) ?? undefined) : query[name];
  const mode = get('hub.mode');
  const token = get('hub.verify_token');
  const challenge = get('hub.challenge');
  if (!mode && !token && !challenge) return { ok: false, reason: 'missing', detail: 'No hub.* parameters' };
  if (mode !== 'subscribe') return { ok: false, reason: 'malformed', detail: 'hub.mode is not subscribe' };
  if (!token) return { ok: false, reason: 'missing', detail: 'No hub.verify_token' };
  if (!challenge) return { ok: false, reason: 'malformed', detail: 'No hub.challenge' };
  if (!sameText(token, verifyToken))
    return { ok: false, reason: 'mismatch', detail: 'hub.verify_token is not ours' };
  return { ok: true, challenge };
};

// ---- payload schemas (only the fields we read; others are allowed and dropped) ----

const unixTime = z.union([z.string(), z.number()]);

const waError = z.object({
  code: z.union([z.number(), z.string()]).optional(),
  title: z.string().optional(),
  message: z.string().optional(),
  error_data: z.object({ details: z.string().optional() }).optional(),
});

const waMedia = z.object({
  id: z.string(),
  mime_type: z.string().optional(),
  caption: z.string().optional(),
  filename: z.string().optional(),
  voice: z.boolean().optional(),
  animated: z.boolean().optional(),
});

const waMessage = z.object({
  // Left out when the sender adopted a username and their number cannot be shared; `from_user_id` then
  // names them (their BSUID, on every message).
  from: z.string().optional(),
  from_user_id: z.string().optional(),
  id: z.string(),
  timestamp: unixTime,
  type: z.string(),
  context: z.object({ id: z.string().optional(), from: z.string().optional() }).optional(),
  text: z.object({ body: z.string() }).optional(),
  image: waMedia.optional(),
  audio: waMedia.optional(),
  video: waMedia.optional(),
  document: waMedia.optional(),
  sticker: waMedia.optional(),
  location: z
    .object({
      latitude: z.number(),
      longitude: z.number(),
      name: z.string().optional(),
      address: z.string().optional(),
      url: z.string().optional(),
    })
    .optional(),
  interactive: z
    .object({
      type: z.string(),
      button_reply: z.object({ id: z.string(), title: z.string() }).optional(),
      list_reply: z.object({ id: z.string(), title: z.string(), description: z.string().optional() }).optional(),
      // A WhatsApp Flow's answers (Flows "Response Message Webhook"): `response_json` is a JSON string of
      // the flow's fields and its `flow_token`; `body` is always "Sent", `name` "flow".
      nfm_reply: z.object({ name: z.string().optional(), body: z.string().optional(), response_json: z.string() }).optional(),
    })
    .optional(),
  button: z.object({ text: z.string(), payload: z.string().optional() }).optional(),
  // Shared contact cards: many fields may be left out by the sender's device (.../messages/contacts).
  contacts: z
    .array(
      z.object({
        name: z
          .object({ formatted_name: z.string().optional(), first_name: z.string().optional(), last_name: z.string().optional() })
          .optional(),
        org: z.object({ company: z.string().optional(), title: z.string().optional() }).optional(),
        phones: z.array(z.object({ phone: z.string().optional(), wa_id: z.string().optional() })).optional(),
        emails: z.array(z.object({ email: z.string().optional() })).optional(),
        urls: z.array(z.object({ url: z.string().optional() })).optional(),
      }),
    )
    .optional(),
  // A cart sent from the catalog (.../messages/order).
  order: z
    .object({
      catalog_id: z.string().optional(),
      text: z.string().optional(),
      product_items: z
        .array(
          z.object({
            product_retailer_id: z.string(),
            quantity: z.coerce.number(),
            item_price: z.coerce.number().optional(),
            currency: z.string().optional(),
          }),
        )
        .default([]),
    })
    .optional(),
  // What Cloud API cannot show (.../messages/unsupported): `unsupported.type` names it.
  unsupported: z.object({ type: z.string().optional() }).optional(),
  reaction: z.object({ message_id: z.string().optional(), emoji: z.string().optional() }).optional(),
  // The contact changed their number (.../messages/system): `body` says from which to which.
  system: z.object({ body: z.string().optional(), wa_id: z.string().optional(), type: z.string().optional() }).optional(),
  // Only on a message sent through a Click to WhatsApp ad (every messages webhook reference page).
  referral: z
    .object({
      source_url: z.string().optional(),
      source_id: z.string().optional(),
      source_type: z.string().optional(),
      headline: z.string().optional(),
      body: z.string().optional(),
      ctwa_clid: z.string().optional(),
    })
    .optional(),
  errors: z.array(waError).optional(),
});

const waStatus = z.object({
  id: z.string(),
  status: z.string(),
  timestamp: unixTime,
  recipient_id: z.string().optional(),
  // A message sent to a BSUID: its statuses name it here (`recipient_id` only when the number may be shared).
  recipient_user_id: z.string().optional(),
  type: z.string().optional(),
  errors: z.array(waError).optional(),
  biz_opaque_callback_data: z.string().optional(),
});

const waCall = z.object({
  id: z.string(),
  // A user-initiated call: `from` is their number when it may be shared, `from_user_id` their BSUID.
  from: z.string().optional(),
  from_user_id: z.string().optional(),
  to: z.string(),
  event: z.string(),
  timestamp: unixTime,
  direction: z.string().optional(),
  status: z.string().optional(),
  // Read leniently (providerCount): a duration that is not whole seconds is left out, the call kept.
  duration: z.unknown().optional(),
});

const waContact = z.object({
  wa_id: z.string().optional(),
  user_id: z.string().optional(),
  profile: z.object({ name: z.string().optional(), username: z.string().optional() }).optional(),
});
type WaContact = z.infer<typeof waContact>;

/** A change's `value`: the arrays are checked item by item, so one bad item does not sink the batch. */
const waValue = z.object({
  metadata: z.object({ phone_number_id: z.string(), display_phone_number: z.string().optional() }),
  contacts: z.array(z.unknown()).optional(),
  messages: z.array(z.unknown()).optional(),
  statuses: z.array(z.unknown()).optional(),
  calls: z.array(z.unknown()).optional(),
  errors: z.array(z.unknown()).optional(),
});

/** The notification envelope: `object` and its `entry[].changes[]`. */
export const whatsappPayloadSchema = z.object({
  object: z.literal('whatsapp_business_account'),
  entry: z.array(
    z.object({
      id: z.string(),
      changes: z.array(z.object({ field: z.string(), value: z.unknown() })),
    }),
  ),
});

type WaMessage = z.infer<typeof waMessage>;
type WaValue = z.infer<typeof waValue>;

const provider = 'whatsapp' as const;

/** A `wa_id` (digits without `+`) as a contact party. */
const waParty = (waId: string, name: string | null = null) => partyOf('whatsapp', `+${waId.replace(/^\+/, '')}`, name);

/** Who wrote or called: by their number and, when given, their BSUID. */
interface WaSender {
  from?: string | undefined;
  from_user_id?: string | undefined;
}

/** The change's `contacts` entry of a sender: the one with their number (`wa_id`) or BSUID (`user_id`). */
const contactOf = (contacts: WaContact[], sender: WaSender): WaContact | undefined =>
  contacts.find(
    (contact) =>
      (sender.from !== undefined && contact.wa_id === sender.from) ||
      (sender.from_user_id !== undefined && contact.user_id === sender.from_user_id),
  );

/**
 * The sender as a party: their number, with their BSUID as an alternate (a contact found by either gets
 * the message); else their BSUID. An item that names neither takes the BSUID (`user_id`) of the change's
 * only `contacts` entry (Meta describes the one sender there). Named by their profile name, else their
 * username. `undefined` when nobody is named; null when what is named is no valid number or BSUID.
 */
const senderParty = (sender: WaSender, contacts: WaContact[]) => {
  const named = contactOf(contacts, sender);
  const anonymous = sender.from === undefined && sender.from_user_id === undefined;
  const contact = named ?? (anonymous && contacts.length === 1 ? contacts[0] : undefined);
  const phone = sender.from ?? named?.wa_id;
  const userId = sender.from_user_id ?? contact?.user_id;
  const name = contact?.profile?.name?.trim() || contact?.profile?.username?.trim() || null;
  if (phone !== undefined) {
    return partyOf('whatsapp', `+${phone.replace(/^\+/, '')}`, name, userId ? [{ kind: 'whatsapp', raw: userId }] : []);
  }
  if (userId !== undefined) return partyOf('whatsapp', userId, name);
  return undefined;
};

/** Parses a verified WhatsApp notification into events: every message, status and call of every change. */
export const parseWhatsAppWebhook = (rawBody: RawBody): InboundEvent[] => {
  let json: unknown;
  try {
    json = JSON.parse(bodyBytes(rawBody).toString('utf8'));
  } catch {
    return [ignored(provider, 'malformed_json', 'The body is not JSON', null)];
  }
  const payload = whatsappPayloadSchema.safeParse(json);
  if (!payload.success) {
    return [ignored(provider, 'unrecognised_payload', 'Not a whatsapp_business_account notification', json)];
  }
  const events: InboundEvent[] = [];
  for (const entry of payload.data.entry) {
    for (const change of entry.changes) {
      if (change.field !== 'messages' && change.field !== 'calls') {
        events.push(
          ignored(provider, 'unsupported_field', `Webhook field ${change.field} is not handled`, change),
        );
        continue;
      }
      const value = waValue.safeParse(change.value);
      if (!value.success) {
        events.push(ignored(provider, 'invalid_item', `A ${change.field} change without metadata`, change));
      } else {
        events.push(...(change.field === 'messages' ? messagesChange(value.data) : callsChange(value.data)));
      }
    }
  }
  return events;
};

/** The change's `contacts` entries that parse (a bad one only loses its names). */
const changeContacts = (value: WaValue): WaContact[] =>
  (value.contacts ?? []).flatMap((item) => {
    const contact = waContact.safeParse(item);
    return contact.success ? [contact.data] : [];
  });

const messagesChange = (value: WaValue): InboundEvent[] => {
  const contacts = changeContacts(value);
  const events: InboundEvent[] = [];
  for (const item of value.messages ?? []) {
    const message = waMessage.safeParse(item);
    events.push(
      message.success
        ? inboundMessage(message.data, item, value, contacts)
        : ignored(provider, 'invalid_item', 'A message without id, timestamp or type', item),
    );
  }
  for (const item of value.statuses ?? []) {
    const status = waStatus.safeParse(item);
    events.push(
      status.success
        ? deliveryStatus(status.data)
        : ignored(provider, 'invalid_item', 'A status without id, status or timestamp', item),
    );
  }
  for (const item of value.errors ?? []) {
    events.push(
      ignored(provider, 'provider_error', 'WhatsApp reported an error for the business number', item),
    );
  }
  if (events.length === 0)
    events.push(ignored(provider, 'empty_change', 'A messages change with nothing in it', value));
  return events;
};

const mediaKinds = ['image', 'audio', 'video', 'document', 'sticker'] as const;

const inboundMessage = (message: WaMessage, raw: unknown, value: WaValue, contacts: WaContact[]): InboundEvent => {
  const dedupeKeys = [`whatsapp:message:${message.id}`];
  const from = senderParty(message, contacts);
  if (from === undefined)
    return ignored(provider, 'invalid_item', 'A message without from or from_user_id (nor a contacts user_id)', raw);
  if (!from)
    return ignored(
      provider,
      'unroutable_sender',
      `${message.from ?? message.from_user_id} is not a valid WhatsApp number or user id`,
      message,
      dedupeKeys,
    );
  const content = messageContent(message, raw);
  if ('unsupported' in content)
    return ignored(provider, 'unsupported_message_type', content.unsupported, message, dedupeKeys);
  const event: InboundMessageEvent = {
    type: 'message',
    provider,
    channel: 'whatsapp',
    dedupeKeys,
    providerMessageId: message.id,
    from,
    to: [value.metadata.phone_number_id],
    sentAt: isoFromUnixSeconds(message.timestamp),
    text: content.text,
    media: content.media,
    replyToProviderMessageId: message.context?.id ?? null,
    chatId: null,
    ...(message.referral ? { referral: referralOf(message.referral) } : {}),
    ...(content.interactive ? { interactive: content.interactive } : {}),
    ...(content.original ? { original: content.original } : {}),
    ...numberChangeOf(message),
    email: null,
  };
  return event;
};

/** The system messages of a number change (Meta's messages/system reference; `customer_…` its older name). */
const numberChangeTypes = new Set(['user_changed_number', 'customer_changed_number']);

/** A number change's new WhatsApp id (`system.wa_id`: the new user id, which Meta says may differ from the number). */
const numberChangeOf = (message: WaMessage): { numberChange?: { value: string } } => {
  const system = message.type === 'system' ? message.system : undefined;
  if (!system?.wa_id || !numberChangeTypes.has(system.type ?? '')) return {};
  const value = canonicalValue('whatsapp', `+${system.wa_id.replace(/^\+/, '')}`);
  return value ? { numberChange: { value } } : {};
};

const referralOf = (referral: NonNullable<WaMessage['referral']>): AdReferral => ({
  sourceType: referral.source_type ?? null,
  sourceId: referral.source_id ?? null,
  sourceUrl: referral.source_url ?? null,
  headline: referral.headline ?? null,
  body: referral.body ?? null,
  clickId: referral.ctwa_clid ?? null,
});

type MessageContent =
  | { text: string; media: MediaReference[]; interactive?: InteractiveReply; original?: { kind: string; item: unknown } }
  | { unsupported: string };

/** The flow's own token, which names the flow for the business, is no answer of the contact's. */
const flowTokenField = 'flow_token';

const flowAnswer = (value: unknown): string =>
  Array.isArray(value) && value.every((item) => typeof item !== 'object' || item === null)
    ? value.join(', ')
    : typeof value === 'object' && value !== null
      ? JSON.stringify(value)
      : String(value);

/**
 * A Flow's response: its answers written out for the inbox ("Form reply: date: 2026-01-20, people: 2"),
 * the parsed response kept on the message. A response that is not a JSON object is kept as received.
 */
const flowReply = (type: string, reply: { name?: string; body?: string; response_json: string }): MessageContent => {
  let response: Record<string, unknown> | null = null;
  try {
    const parsed: unknown = JSON.parse(reply.response_json);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) response = parsed as Record<string, unknown>;
  } catch {
    response = null;
  }
  const answers = Object.entries(response ?? {})
    .filter(([field]) => field !== flowTokenField)
    .map(([field, value]) => `${field}: ${flowAnswer(value)}`);
  const label = reply.name === 'address_message' ? 'Address' : 'Form reply';
  return {
    text: `${label}: ${answers.length > 0 ? answers.join(', ') : (reply.body ?? 'Sent')}`,
    media: [],
    interactive: {
      type,
      id: null,
      title: reply.name ?? null,
      response,
      ...(response === null ? { responseJson: reply.response_json } : {}),
    },
  };
};

/** What a message shows; `raw` is the item as received (the schema keeps only the fields it knows). */
const messageContent = (message: WaMessage, raw: unknown): MessageContent => {
  // The contact wrote something Cloud API cannot pass on (a poll, a view-once photo, an edit, ...): the
  // inbox shows that they wrote, so someone can ask them to send it again another way.
  if (message.type === 'unsupported' || message.type === 'unknown' || message.errors?.length) {
    const what = message.unsupported?.type ?? (message.type === 'unsupported' || message.type === 'unknown' ? null : message.type);
    return { text: `[A message WhatsApp cannot show here${what ? ` (${what})` : ''}]`, media: [] };
  }
  switch (message.type) {
    // A shared card is written out with what a person would copy from it (name, company, numbers,
    // addresses); the whole card (addresses, birthday, ...) is kept as received in `payload.original`.
    case 'contacts': {
      const cards = (message.contacts ?? []).map((card) => {
        const name =
          card.name?.formatted_name ?? [card.name?.first_name, card.name?.last_name].filter(Boolean).join(' ');
        const org = [card.org?.title, card.org?.company].filter(Boolean).join(' at ');
        const phones = (card.phones ?? []).flatMap((phone) => phone.phone ?? (phone.wa_id ? `+${phone.wa_id}` : []));
        const emails = (card.emails ?? []).flatMap((email) => email.email ?? []);
        const urls = (card.urls ?? []).flatMap((url) => url.url ?? []);
        return [name, org, ...phones, ...emails, ...urls].filter(Boolean).join(', ');
      });
      return cards.length > 0
        ? {
            text: cards.map((card) => `Contact: ${card}`).join('\n'),
            media: [],
            original: { kind: 'contacts', item: (raw as Record<string, unknown>).contacts ?? null },
          }
        : { unsupported: 'A contacts message without contacts' };
    }
    case 'order': {
      const order = message.order;
      if (!order) return { unsupported: 'An order message without an order' };
      const items = order.product_items.map(
        (item) => `${item.quantity} × ${item.product_retailer_id}${item.item_price !== undefined ? ` at ${item.item_price}${item.currency ? ` ${item.currency}` : ''}` : ''}`,
      );
      return {
        text: [`Order: ${items.join(', ') || 'no items'}`, order.text].filter(Boolean).join('\n'),
        media: [],
      };
    }
    // Shown in the conversation of the number they leave, so whoever answers knows the new one.
    case 'system':
      return message.system?.body
        ? { text: `[${message.system.body}]`, media: [] }
        : { unsupported: `A system message ${message.system?.type ?? ''} without a body` };
    // Reactions are no new message (the product keeps no reactions on messages yet).
    case 'reaction':
      return { unsupported: `A reaction ${message.reaction?.emoji ?? '(removed)'} to a message` };
    case 'text':
      return message.text
        ? { text: message.text.body, media: [] }
        : { unsupported: 'A text message without text' };
    case 'interactive': {
      const interactive = message.interactive;
      if (interactive?.nfm_reply) return flowReply(interactive.type, interactive.nfm_reply);
      const reply = interactive?.button_reply ?? interactive?.list_reply;
      return reply
        ? {
            text: reply.title,
            media: [],
            interactive: { type: interactive!.type, id: reply.id, title: reply.title, response: null },
          }
        : { unsupported: `Interactive ${interactive?.type ?? ''} reply` };
    }
    // A template's quick-reply button: its payload is what the business set to act on ("Unsubscribe").
    case 'button':
      return message.button
        ? {
            text: message.button.text,
            media: [],
            interactive: { type: 'button', id: message.button.payload ?? null, title: message.button.text, response: null },
          }
        : { unsupported: 'A button reply without text' };
    // The contact opened a chat with the business for the first time (no text of theirs).
    case 'request_welcome':
      return { text: '[Opened a chat for the first time]', media: [] };
    case 'location': {
      const place = message.location;
      if (!place) return { unsupported: 'A location message without a location' };
      const label = [place.name, place.address].filter(Boolean).join(', ');
      return {
        text: `Location: ${label ? `${label} ` : ''}(${place.latitude}, ${place.longitude})${place.url ? ` ${place.url}` : ''}`,
        media: [],
        original: { kind: 'location', item: (raw as Record<string, unknown>).location ?? null },
      };
    }
  }
  const kind = mediaKinds.find((k) => k === message.type);
  const media = kind ? message[kind] : undefined;
  // A kind this code does not know yet is still something the contact wrote: shown as such, the item kept.
  if (!kind)
    return {
      text: `[A ${message.type} message this inbox cannot show]`,
      media: [],
      original: { kind: message.type, item: (raw as Record<string, unknown>)[message.type] ?? null },
    };
  if (!media) return { unsupported: `A ${kind} message without its ${kind}` };
  const mediaKind: MediaKind = kind === 'audio' && media.voice ? 'voice' : kind;
  return {
    text: media.caption ?? '',
    media: [
      {
        kind: mediaKind,
        providerMediaId: media.id,
        url: null,
        mimeType: media.mime_type ?? null,
        fileName: media.filename ?? null,
        caption: media.caption ?? null,
        sizeBytes: null,
      },
    ],
  };
};

/** WhatsApp statuses to ours; `played` (a voice message listened to) is read. */
const statusMap: Record<string, DeliveryStatus> = {
  sent: 'sent',
  delivered: 'delivered',
  read: 'read',
  played: 'read',
  failed: 'failed',
};

const providerError = (errors: z.infer<typeof waError>[] | undefined): ProviderError | null => {
  const first = errors?.[0];
  if (!first) return null;
  return {
    code: first.code === undefined ? null : String(first.code),
    message: first.error_data?.details ?? first.message ?? first.title ?? null,
  };
};

const deliveryStatus = (status: z.infer<typeof waStatus>): InboundEvent => {
  const dedupeKeys = [`whatsapp:status:${status.id}:${status.status}`];
  const mapped = statusMap[status.status];
  if (!mapped)
    return ignored(provider, 'unknown_status', `Status ${status.status} is not handled`, status, dedupeKeys);
  const recipient = status.recipient_id
    ? (canonicalValue('whatsapp', `+${status.recipient_id.replace(/^\+/, '')}`) ?? status.recipient_id)
    : status.recipient_user_id
      ? (canonicalValue('whatsapp', status.recipient_user_id) ?? status.recipient_user_id)
      : null;
  const event: DeliveryStatusEvent = {
    type: 'delivery_status',
    provider,
    channel: 'whatsapp',
    dedupeKeys,
    providerMessageId: status.id,
    recipient,
    providerStatus: status.status,
    status: mapped,
    at: isoFromUnixSeconds(status.timestamp),
    error: providerError(status.errors),
    email: null,
    sendReference: decodeSendReference(status.biz_opaque_callback_data),
  };
  return event;
};

// ---- calls ----

/** Terminate statuses: a rejected call was never answered. */
const terminateStatus: Record<string, CallStatus> = {
  COMPLETED: 'ended',
  FAILED: 'failed',
  REJECTED: 'missed',
};
/** Business-initiated call statuses (in `statuses` with `type: call`). */
const callStatusMap: Record<string, CallStatus> = {
  RINGING: 'ringing',
  ACCEPTED: 'connected',
  REJECTED: 'missed',
};

const callsChange = (value: WaValue): InboundEvent[] => {
  const contacts = changeContacts(value);
  const events: InboundEvent[] = [];
  for (const item of value.calls ?? []) {
    const call = waCall.safeParse(item);
    events.push(
      call.success
        ? callEvent(call.data, value, contacts)
        : ignored(provider, 'invalid_item', 'A call without id, to or event', item),
    );
  }
  for (const item of value.statuses ?? []) {
    const status = waStatus.safeParse(item);
    events.push(
      status.success && status.data.type === 'call'
        ? callStatus(status.data, value)
        : ignored(provider, 'invalid_item', 'A calls status that is not a call status', item),
    );
  }
  for (const item of value.errors ?? []) {
    events.push(ignored(provider, 'provider_error', 'WhatsApp reported a calling error', item));
  }
  if (events.length === 0)
    events.push(ignored(provider, 'empty_change', 'A calls change with nothing in it', value));
  return events;
};

const callEvent = (
  call: z.infer<typeof waCall>,
  value: WaValue,
  contacts: WaContact[],
): InboundEvent => {
  const dedupeKeys = [`whatsapp:call:${call.id}:${call.event}`];
  const outbound = call.direction?.toUpperCase() === 'BUSINESS_INITIATED';
  const caller = outbound ? undefined : senderParty(call, contacts);
  if (!outbound && caller === undefined)
    return ignored(provider, 'invalid_item', 'A call without from or from_user_id', call);
  let status: CallStatus | undefined;
  if (call.event === 'connect') status = outbound ? 'initiated' : 'ringing';
  else if (call.event === 'terminate') status = terminateStatus[call.status?.toUpperCase() ?? 'COMPLETED'];
  if (!status)
    return ignored(
      provider,
      'unknown_status',
      `Call event ${call.event} ${call.status ?? ''} is not handled`,
      call,
      dedupeKeys,
    );
  const event: CallEvent = {
    type: 'call',
    provider,
    channel: 'whatsapp',
    dedupeKeys,
    providerCallId: call.id,
    direction: outbound ? 'outbound' : 'inbound',
    contact: outbound
      ? waParty(call.to, contactOf(contacts, { from: call.to })?.profile?.name ?? null)
      : (caller ?? null),
    business: value.metadata.phone_number_id,
    providerStatus: call.event === 'terminate' ? `terminate/${call.status ?? 'COMPLETED'}` : call.event,
    status,
    at: isoFromUnixSeconds(call.timestamp),
    durationSeconds: providerCount(call.duration),
    sequence: null,
    error: null,
    callReference: null,
  };
  return event;
};

const callStatus = (status: z.infer<typeof waStatus>, value: WaValue): InboundEvent => {
  const dedupeKeys = [`whatsapp:call:${status.id}:${status.status}`];
  const mapped = callStatusMap[status.status.toUpperCase()];
  if (!mapped)
    return ignored(
      provider,
      'unknown_status',
      `Call status ${status.status} is not handled`,
      status,
      dedupeKeys,
    );
  const event: CallEvent = {
    type: 'call',
    provider,
    channel: 'whatsapp',
    dedupeKeys,
    providerCallId: status.id,
    direction: 'outbound',
    contact: status.recipient_id ? waParty(status.recipient_id) : null,
    business: value.metadata.phone_number_id,
    providerStatus: status.status,
    status: mapped,
    at: isoFromUnixSeconds(status.timestamp),
    durationSeconds: null,
    sequence: null,
    error: providerError(status.errors),
    callReference: null,
  };
  return event;
};
