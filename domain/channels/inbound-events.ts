/**
 * The one normalised shape every provider webhook is parsed into: a list of `InboundEvent`s, one per
 * message, edit, delivery status, email event or call a payload carries (payloads batch several), and an
 * `ignored` entry for each part that could not be understood, so nothing is dropped silently.
 *
 * Every event carries `dedupeKeys`, built from the provider's own ids as issue 14 lists them; an event
 * is a repeat when ANY of its keys was seen before (Telegram gives two: the update and the message). The
 * keys are unique per provider account only: the caller prefixes them with the connection (workspace)
 * before storing them. Sender values are normalised with `normaliseChannelValue`, so they match
 * `ContactChannel.normalized`; a sender that cannot be normalised makes the message `ignored`
 * (`unroutable_sender`) rather than routed to the wrong contact.
 */
import { normaliseChannelValue, type ChannelKind } from '../contacts/channels';
import type { ContactChannel } from '../inbox/conversations.schemas';
import type { callChannels, callStatuses } from '../inbox/call.entity';
import type { CallReference, SendReference } from './send-reference';

export type ChannelProvider = 'whatsapp' | 'telegram' | 'twilio' | 'ses' | 'sns';

/** The party on the contact's side, as the contact channel it would be stored under. */
export interface InboundParty {
  /** The contact channel kind: `whatsapp`, `phone` (SMS and phone calls), `telegram` or `email`. */
  kind: ChannelKind;
  /** Canonical value (`normaliseChannelValue`): E.164 phone, lower-case email, Telegram user id. */
  value: string;
  /** The name the provider shows for them (WhatsApp profile, Telegram first and last name, mail From). */
  name: string | null;
  /** Other canonical values of the same person on this channel: a Telegram `@username`. */
  alternateValues: string[];
}

export type MediaKind = 'image' | 'audio' | 'voice' | 'video' | 'document' | 'sticker' | 'animation';

/** A file attached to an inbound message, still at the provider (a job fetches it into S3). */
export interface MediaReference {
  kind: MediaKind;
  /** WhatsApp media id, Telegram `file_id`: fetched through the provider's API. */
  providerMediaId: string | null;
  /** Twilio `MediaUrlN`: fetched with the account's credentials. */
  url: string | null;
  mimeType: string | null;
  fileName: string | null;
  caption: string | null;
  sizeBytes: number | null;
}

/** An error the provider reports with a status or a call. */
export interface ProviderError {
  code: string | null;
  message: string | null;
}

interface EventBase {
  provider: ChannelProvider;
  /** The provider ids this event is deduplicated by (never empty except on `ignored`). */
  dedupeKeys: string[];
}

/** What the SES receipt notification tells about an inbound mail (the MIME body itself is not parsed). */
export interface InboundEmailDetails {
  subject: string | null;
  /** The RFC 5322 `Message-ID` header of the mail. */
  messageIdHeader: string | null;
  /** `In-Reply-To` and `References` message ids, angle brackets kept (`<id@host>`). */
  inReplyTo: string | null;
  references: string[];
  /** Header `To` and `Cc` addresses, as given (display names dropped). */
  to: string[];
  cc: string[];
  /** SES's spam / virus / SPF / DKIM / DMARC verdicts (`PASS`, `FAIL`, `GRAY`, ...), as given. */
  verdicts: Record<'spam' | 'virus' | 'spf' | 'dkim' | 'dmarc', string | null>;
  headersTruncated: boolean;
  /** Where the raw MIME message is: written to S3 by an S3 action, or inline in an SNS action. */
  content:
    | { location: 's3'; bucket: string; key: string }
    | { location: 'inline'; encoding: 'utf8' | 'base64'; data: string }
    | null;
}

/** A new inbound message. */
export interface InboundMessageEvent extends EventBase {
  type: 'message';
  channel: ContactChannel;
  providerMessageId: string;
  from: InboundParty;
  /**
   * Our side, as the provider names it: the WhatsApp `phone_number_id`, the Twilio `To` number, the SES
   * envelope recipients (where a `reply+<conversation>@` address shows); empty for Telegram (the bot).
   */
  to: string[];
  /** When the contact sent it (ISO 8601), when the provider says; null means "use the receipt time". */
  sentAt: string | null;
  /** The text, or a media caption when there is no text; '' when there is neither. */
  text: string;
  media: MediaReference[];
  /** The provider id of the message this one replies to (WhatsApp context, Telegram reply). */
  replyToProviderMessageId: string | null;
  /** Telegram: the chat the message is in (where replies go). */
  chatId: string | null;
  /** Telegram: the group or supergroup the message was written in (absent in a private chat). */
  groupChat?: GroupChat;
  /** WhatsApp: the Click to WhatsApp ad (or post) the contact came from, as Meta names it. */
  referral?: AdReferral;
  /** WhatsApp: the reply to an interactive message (a button, a list row, a Flow's form). */
  interactive?: InteractiveReply;
  /**
   * A kind of message this inbox has no view of (a Telegram story or paid media, a WhatsApp type added
   * after this code): the provider's own item, kept on the message so nothing the contact sent is lost.
   */
  original?: { kind: string; item: unknown };
  /**
   * WhatsApp: the sender changed their number (`system`, `user_changed_number`): their new WhatsApp id
   * (`system.wa_id`, as E.164), where their messages come from now.
   */
  numberChange?: { value: string };
  email: InboundEmailDetails | null;
}

/** A contact's answer to an interactive message, kept on the message for whoever acts on it. */
export interface InteractiveReply {
  /** As the provider names it: `button_reply`, `list_reply`, `nfm_reply` (a WhatsApp Flow). */
  type: string;
  /** The id the business gave the button or list row; null for a Flow. */
  id: string | null;
  /** The button's or row's title; a Flow's `name` (`flow`). */
  title: string | null;
  /** A Flow's answers (its `response_json`, parsed, `flow_token` included); null for a button or list. */
  response: Record<string, unknown> | null;
  /** A Flow's `response_json` as received, when it is not a JSON object. */
  responseJson?: string;
}

/** Where a contact came from when they wrote through an ad: kept on the message for attribution. */
export interface AdReferral {
  sourceType: string | null;
  sourceId: string | null;
  sourceUrl: string | null;
  headline: string | null;
  body: string | null;
  clickId: string | null;
}

/** A group chat a contact wrote in: its conversation is kept apart from their private one. */
export interface GroupChat {
  id: string;
  title: string | null;
}

/** A message the contact edited (Telegram `edited_message`): its new text; the earlier text is kept by the caller. */
export interface InboundEditEvent extends EventBase {
  type: 'message_edit';
  channel: ContactChannel;
  providerMessageId: string;
  chatId: string | null;
  groupChat?: GroupChat;
  from: InboundParty;
  text: string;
  media: MediaReference[];
  editedAt: string | null;
}

export const deliveryStatuses = ['sent', 'delivered', 'read', 'failed'] as const;
export type DeliveryStatus = (typeof deliveryStatuses)[number];

export const emailEventKinds = [
  'send',
  'delivery',
  'bounce',
  'complaint',
  'reject',
  'rendering_failure',
  'delivery_delay',
  'open',
  'click',
  'subscription',
] as const;
export type EmailEventKind = (typeof emailEventKinds)[number];

/** The SES-specific part of a status event. */
export interface EmailEventDetails {
  event: EmailEventKind;
  bounce: { type: string; subType: string | null } | null;
  complaint: { feedbackType: string | null; subType: string | null } | null;
  click: { link: string } | null;
  /** The recipient complained or unsubscribed from everything: the contact is to be suppressed. */
  suppress: boolean;
  /** The `Message-ID` header we sent with (SES assigns its own id: both are stored). */
  originalMessageIdHeader: string | null;
  /** Message tags we sent with, echoed back by SES (`workspace`, `message`, plus `ses:*` ones). */
  tags: Record<string, string[]>;
}

/**
 * A status report on a message we sent. `status` is what it means for our delivery: `sent`, `delivered`,
 * `read` or `failed`; null when it changes nothing (a provider-internal state, a click, a complaint). A
 * non-terminal problem (SES transient bounce, delivery delay) is `sent` with `error` set: the delivery
 * stays sent and records the error. Order is not guaranteed: the caller applies statuses monotonically.
 */
export interface DeliveryStatusEvent extends EventBase {
  type: 'delivery_status';
  channel: ContactChannel;
  providerMessageId: string;
  /** Whom the status is about (normalised when possible): a WhatsApp number, an email address. */
  recipient: string | null;
  /** The provider's own word for it (`undelivered`, `Bounce/Permanent/General`, ...). */
  providerStatus: string;
  status: DeliveryStatus | null;
  at: string | null;
  error: ProviderError | null;
  email: EmailEventDetails | null;
  /** Our reference for the attempt, echoed by the provider (send-reference.ts); null when it gave none. */
  sendReference: SendReference | null;
}

export type CallChannel = Extract<(typeof callChannels)[number], 'phone' | 'whatsapp'>;
export type CallStatus = (typeof callStatuses)[number];

/** A provider's report on a call (Twilio voice webhooks and status callbacks, WhatsApp calling). */
export interface CallEvent extends EventBase {
  type: 'call';
  channel: CallChannel;
  providerCallId: string;
  direction: 'inbound' | 'outbound';
  /** The contact's side of the call: the caller when inbound, the callee when outbound. */
  contact: InboundParty | null;
  /** Our side: the Twilio number, the WhatsApp `phone_number_id`. */
  business: string | null;
  providerStatus: string;
  /** The seed's call status the provider's maps to. */
  status: CallStatus;
  at: string | null;
  durationSeconds: number | null;
  /** Twilio's `SequenceNumber`: the order of a call's callbacks, which may arrive out of order. */
  sequence: number | null;
  error: ProviderError | null;
  /** A call we placed, named by our reference in the callback URL (send-reference.ts); null otherwise. */
  callReference: CallReference | null;
}

/** SNS asks to confirm a subscription (visit `subscribeUrl`) or reports it unsubscribed. */
export interface SnsSubscriptionEvent extends EventBase {
  type: 'sns_subscription';
  action: 'confirm' | 'unsubscribed';
  topicArn: string;
  subscribeUrl: string;
  token: string;
}

/**
 * A Telegram group became a supergroup (`migrate_to_chat_id` in the old group, `migrate_from_chat_id`
 * in the new one): its id changed, and its members' threads carry on under the new id.
 */
export interface ChatMigratedEvent extends EventBase {
  type: 'chat_migrated';
  fromChatId: string;
  toChatId: string;
}

/**
 * A contact blocked the bot, or unblocked it (Telegram `my_chat_member` in a private chat: the bot's
 * new status `kicked`, or `member` again). Nothing sent on the channel reaches them while blocked.
 */
export interface ChannelBlockEvent extends EventBase {
  type: 'channel_block';
  channel: 'telegram';
  /** The contact's channel value: the Telegram user id. */
  value: string;
  blocked: boolean;
  /** When it happened (Telegram's `date`): updates can arrive out of order. */
  at: string | null;
}

/** A part of a payload that was not understood or is not handled: kept with the reason, never dropped. */
export interface IgnoredEvent extends EventBase {
  type: 'ignored';
  /** A short code: `unsupported_update`, `unsupported_message_type`, `unroutable_sender`, `invalid_item`, ... */
  reason: string;
  detail: string;
  /** The raw part of the payload it is about. */
  item: unknown;
}

export type InboundEvent =
  | InboundMessageEvent
  | InboundEditEvent
  | DeliveryStatusEvent
  | CallEvent
  | SnsSubscriptionEvent
  | ChatMigratedEvent
  | ChannelBlockEvent
  | IgnoredEvent;

export const ignored = (
  provider: ChannelProvider,
  reason: string,
  detail: string,
  item: unknown,
  dedupeKeys: string[] = [],
): IgnoredEvent => ({ type: 'ignored', provider, dedupeKeys, reason, detail, item });

/** The canonical party, or null when the value is not a valid one for the kind. */
export const partyOf = (
  kind: ChannelKind,
  raw: string,
  name: string | null = null,
  alternates: { kind: ChannelKind; raw: string }[] = [],
): InboundParty | null => {
  const value = canonicalValue(kind, raw);
  if (value === null) return null;
  const alternateValues = alternates.flatMap(
    (alternate) => canonicalValue(alternate.kind, alternate.raw) ?? [],
  );
  return { kind, value, name: name?.trim() || null, alternateValues };
};

/** `normaliseChannelValue`'s canonical form, or null instead of its validation error. */
export const canonicalValue = (kind: ChannelKind, raw: string): string | null => {
  try {
    return normaliseChannelValue(kind, raw).normalized;
  } catch {
    return null;
  }
};

/**
 * A count a provider sends (a file's bytes, a call's seconds), as a number or a numeric string: a whole
 * number from 0 to 2^53 − 1, else null. Never a reason to refuse the update (the message is what
 * matters), and never a number DynamoDB cannot hold (its range stops at 1E-130 and 1E+126).
 */
export const providerCount = (value: unknown): number | null => {
  const count = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
  return Number.isSafeInteger(count) && count >= 0 ? count : null;
};

const latestUnixSeconds = Date.UTC(9999, 11, 31, 23, 59, 59) / 1000;

/** Unix seconds (number or numeric string, as providers send them) to ISO 8601; null when absent or not a time. */
export const isoFromUnixSeconds = (value: string | number | null | undefined): string | null => {
  if (value === null || value === undefined || value === '') return null;
  const seconds = typeof value === 'number' ? value : Number(value);
  // Past 9999-12-31 no provider's clock is right, and past year 275760 a Date cannot even hold it.
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > latestUnixSeconds) return null;
  return new Date(seconds * 1000).toISOString();
};

/** A date string (ISO 8601 or RFC 2822) to ISO 8601; null when it does not parse. */
export const isoFromDateText = (value: string | null | undefined): string | null => {
  if (!value) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
};
