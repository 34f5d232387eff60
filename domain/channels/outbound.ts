/**
 * The outbound side of seed 001's ChannelAdapter: what the `deliver_message` job hands a provider and
 * what comes back. One `ChannelSender` per connection kind (functions/shared/adapters/channels/); each
 * speaks its provider's real HTTP API at a configurable base URL (the provider sandbox in `local/`
 * under `npm start` and in tests).
 *
 * A sender either resolves with the provider's id for the message (the provider ACCEPTED it: never
 * before) or throws `ProviderSendError`, whose `retryable` says whether the same send may be tried again
 * (429, 5xx, a timeout, a connection reset) or never will work (a bad number, a blocked bot, an
 * unverified sender, a rejected token).
 */
import type { ConnectionKind } from './connections/channel-connections.schemas';
import type { MediaReference } from './inbound-events';

/** A connection as a sender needs it: its public settings and its secrets, opened. */
export interface OpenedConnection {
  workspaceId: string;
  connectionId: string;
  kind: ConnectionKind;
  settings: Record<string, unknown>;
  /** Secret name → plaintext (`accessToken`, `botToken`, `authToken`, ...). Never logged. */
  secrets: Record<string, string>;
}

/** A file to send with the message: a short-lived URL the provider (or the sender) fetches it from. */
export interface OutboundAttachment {
  url: string;
  fileName: string;
  mimeType: string;
  sizeBytes: number;
}

/** The email-only part of an outbound message. */
export interface OutboundEmail {
  subject: string;
  /** Our RFC 5322 Message-ID, angle brackets included (`<msg_…@reply.example.com>`). */
  messageIdHeader: string;
  /** The message id this one answers, and the thread's earlier ids (angle brackets included). */
  inReplyTo: string | null;
  references: string[];
  /** Where replies go: `reply+<conversationId>@<replyDomain>`. */
  replyTo: string;
  /** The name shown with the From address (the sender's user name), if any. */
  fromName: string | null;
}

export interface OutboundMessage {
  connection: OpenedConnection;
  /**
   * The contact's channel value, canonical (`ContactChannel.normalized`): an E.164 number for WhatsApp
   * and SMS, a Telegram chat id, an email address.
   */
  to: string;
  text: string;
  attachments: OutboundAttachment[];
  /** Telegram / WhatsApp: the provider id of the message this one replies to, when it is a reply. */
  replyToProviderMessageId: string | null;
  email: OutboundEmail | null;
  /** Ours, for provider-side tags and logs: who sends what. */
  reference: { workspaceId: string; conversationId: string; messageId: string; deliveryId: string; attempt: number };
  /** Where the provider should post this message's status callbacks (Twilio `StatusCallback`), when it takes one. */
  statusCallbackUrl: string | null;
  /**
   * WhatsApp and Telegram send one file per provider message: the ids of the first parts an earlier call
   * of this attempt got accepted. The sender goes on after them and answers the first part's id.
   */
  partsSent: string[];
}

export interface SendReceipt {
  /** The provider's id for the message (WhatsApp `wamid.…`, Telegram message id, Twilio `SM…`, SES MessageId). */
  providerMessageId: string;
  /** The provider's own status word at acceptance, when it gives one (Twilio `queued`, WhatsApp `accepted`). */
  providerStatus: string | null;
}

export type ProviderFailureKind =
  /** The provider answered 429 (or its own rate-limit error): try again after `retryAfterSeconds`. */
  | 'rate_limited'
  /** A 5xx, or the provider's "temporary" error: try again. */
  | 'provider_unavailable'
  /** No answer in time, or the connection broke: the provider may or may not have accepted it. */
  | 'timeout'
  /** The provider refused this message for good (bad recipient, blocked, bad content). */
  | 'rejected'
  /** The provider refused our credentials or configuration (401/403, an unverified identity). */
  | 'unauthorized';

/** A provider call that did not end with an accepted message. Its text never holds a credential. */
export class ProviderSendError extends Error {
  readonly retryable: boolean;
  constructor(
    readonly kind: ProviderFailureKind,
    /** The provider's error code (`131047`, `21211`, `MessageRejected`, `403`), or ours (`timeout`). */
    readonly code: string,
    message: string,
    /** For `rate_limited`: how long the provider asked us to wait. */
    readonly retryAfterSeconds: number | null = null,
    /** The HTTP status the provider answered, when it answered. */
    readonly httpStatus: number | null = null,
    /** A multi-part message: the ids of every part accepted before this error (earlier calls' included). */
    readonly acceptedParts: readonly string[] = [],
  ) {
    super(message);
    this.name = 'ProviderSendError';
    this.retryable = kind === 'rate_limited' || kind === 'provider_unavailable' || kind === 'timeout';
  }
}

/** A phone call to place (Twilio Voice): the contact's number rings, and on answer the agent's is dialled. */
export interface OutboundCall {
  /** The contact's number (E.164). */
  to: string;
  /** The user's own phone (E.164), connected once the contact answers. */
  agentPhone: string;
  /** Where the provider posts the call's progress (our reference in its query), when it takes one. */
  statusCallbackUrl: string | null;
}

export interface CallReceipt {
  /** The provider's id for the call (Twilio `CA…`). */
  providerCallId: string;
  providerStatus: string | null;
}

/** Sends one message through one provider. */
export interface ChannelSender {
  send(message: OutboundMessage): Promise<SendReceipt>;
}

/** The senders by connection kind, and the provider set-up calls a connection needs. */
export interface ChannelAdapters {
  sender(kind: ConnectionKind): ChannelSender;
  /**
   * Telegram `setWebhook` with `secret_token` (and `getMe` for the bot's username): run when a Telegram
   * connection is created or reconnected. Throws `ProviderSendError` when Telegram refuses.
   */
  telegramSetWebhook(connection: OpenedConnection, webhookUrl: string): Promise<{ botUsername: string | null }>;
  /**
   * Seed 001 ChannelAdapter.startCall: places a phone call through an SMS (Twilio) connection. Throws
   * `ProviderSendError` when the provider refuses (or cannot be reached); other kinds cannot place calls.
   */
  placeCall(connection: OpenedConnection, call: OutboundCall): Promise<CallReceipt>;
  /**
   * An inbound message's file, fetched from the provider with the connection's credentials (WhatsApp
   * media id → URL → bytes; Telegram `getFile` → file path → bytes; Twilio `MediaUrlN` with basic auth).
   * At most `maxBytes` (a larger file throws `ProviderSendError('rejected', 'too_large', ...)`).
   */
  fetchMedia(
    connection: OpenedConnection,
    media: MediaReference,
    maxBytes: number,
  ): Promise<{ bytes: Uint8Array; mimeType: string | null; fileName: string | null }>;
}
