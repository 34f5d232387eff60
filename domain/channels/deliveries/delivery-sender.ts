/**
 * One provider call for one attempt of a delivery: the `deliver_message` job's step and a user's retry
 * (the route makes the call itself, so it answers with the real outcome) both run `deliverAttempt`.
 *
 * begin the call (`beginProviderCall`) → open the connection's secrets → build the `OutboundMessage` →
 * `ChannelSender.send` → `recordAccepted` (the provider's id; `sent`), or, on `ProviderSendError`: a
 * passing error (429, 5xx, a timeout) is counted (`recordAutoRetry`) and tried again after a back-off
 * (5 s, 30 s, 2 min, 10 min, 15 min, or the provider's `retry_after` when longer, at most 900 s); the 6th
 * passing error in a row fails the attempt (`retries_exhausted`); a refusal fails it at once with the
 * provider's code and message. A call that got no answer (the provider may have the message) waits at
 * least DELIVERY_CONFIRM_WAIT_SECONDS before the re-send, on providers whose status callbacks name the
 * attempt (send-reference.ts): a callback in that time marks it sent and nothing is sent again.
 *
 * Email threading: our Message-ID is `<msg_…@replyDomain>`; In-Reply-To is the Message-ID of the
 * conversation's latest inbound mail (its `payload.email.messageIdHeader`, stored by ingest) and
 * References that mail's `payload.email.references` followed by it; Reply-To is
 * `reply+<conversationId>@<replyDomain>`. The thread's ids go into uniqueGuard scope `mail-id` (value: a
 * Message-ID without angle brackets, lower-cased; owner: the conversation): ours when the message is
 * written (messages.service.ts `sendMessage`), SES's `<MessageId@email.amazonses.com>` here on acceptance,
 * since SES overrides a Message-ID header it is given with its own value
 * (https://docs.aws.amazon.com/ses/latest/dg/header-fields.html, "Considerations"); the `<MessageId@email.amazonses.com>`
 * form of that value is the issue design's (the inbound side matches replies by it).
 */
import type { CoreDeps } from '../../shared/deps';
import type { BlobStore, SecretSealer } from '../../shared/ports';
import { attachmentObjectKey } from '../../inbox/attachment.entity';
import type { ConversationItem } from '../../inbox/conversation-record';
import type { MessageItem } from '../../inbox/messages.service';
import { isConditionFailure } from '../../store/transaction';
import { findConnection, openConnection, webhookPath } from '../connections/channel-connections.service';
import { mailIdGuard } from '../mail-ids';
import { encodeSendReference, sendReferenceQueryName } from '../send-reference';
import { ProviderSendError, type ChannelAdapters, type OutboundMessage } from '../outbound';
import {
  beginProviderCall,
  findDeliveredMessage,
  recordAccepted,
  recordAttemptFailed,
  recordAutoRetry,
  type DeliveredMessageItem,
  type MessageKey,
} from './deliveries.service';

/** What a provider call needs: the table, the bucket (attachment links), the sealer (credentials), the senders. */
export type DeliveryDeps = CoreDeps & {
  blobs: BlobStore;
  sealer: SecretSealer;
  channels: ChannelAdapters;
  /** Where providers reach the webhooks (Twilio's per-message `StatusCallback`); unset: none is given. */
  hooksBaseUrl?: string;
};

/** Back-off before each automatic re-send (the n-th re-send waits the n-th), in seconds. */
export const autoRetryBackoffSeconds = [5, 30, 120, 600, 900] as const;
/** Automatic re-sends of one attempt before it fails with `retries_exhausted`. */
export const maxAutoRetries = autoRetryBackoffSeconds.length;
/** How long an attachment's link given to a provider lives (providers fetch at once; WhatsApp may take minutes). */
const attachmentLinkSeconds = 60 * 60;

export type AttemptOutcome =
  /** The provider accepted it (or it had been, or a later attempt replaced it): nothing more to do. */
  | { kind: 'done'; message: DeliveredMessageItem | undefined }
  /**
   * A passing error: try again after `delaySeconds`. `unanswered`: the call got no answer (a timeout, a
   * broken connection) on a provider that echoes our send reference, so the provider may have the
   * message: the next try waits at least `unansweredSendWaitSeconds` for a status callback to say so.
   */
  | { kind: 'retry'; delaySeconds: number; unanswered: boolean; message: DeliveredMessageItem | undefined };

/**
 * Providers whose status callbacks carry our send reference (send-reference.ts), so an unanswered call
 * that the provider accepted is recognised by its first status. Telegram's Bot API has no outbound
 * callbacks: an unanswered Telegram call is sent again after the back-off (it may, rarely, arrive twice).
 */
const confirmsBySendReference = (kind: string) => kind === 'whatsapp' || kind === 'sms' || kind === 'email';

/** The delay before re-send `n` (1-based): the back-off, or the provider's `retry_after` when longer, at most 900 s. */
export function backoffSeconds(retry: number, retryAfterSeconds: number | null): number {
  const base = autoRetryBackoffSeconds[Math.min(retry, autoRetryBackoffSeconds.length) - 1]!;
  return Math.min(900, Math.max(base, Math.ceil(retryAfterSeconds ?? 0)));
}

/** Our Message-ID for a message: `<msg_…@replyDomain>`. */
export const ourMessageIdHeader = (messageId: string, replyDomain: string) => `<${messageId.toLowerCase()}@${replyDomain}>`;

/**
 * The provider's own id for an inbound message: `payload.provider.messageId` (a channel webhook's), else
 * `payload.providerMessageId`, else the external id without its `<connectionId>:` prefix.
 */
const providerIdOf = (item: MessageItem): string | null => {
  const provider = item.payload?.provider as { messageId?: unknown } | undefined;
  if (typeof provider?.messageId === 'string' && provider.messageId !== '') return provider.messageId;
  const fromPayload = item.payload?.providerMessageId;
  if (typeof fromPayload === 'string' && fromPayload !== '') return fromPayload;
  if (!item.externalId) return null;
  return item.externalId.replace(/^chc_[0-9A-Z]+:/, '');
};

interface InboundEmailHeaders {
  messageIdHeader?: string;
  references?: string[];
}

/** The conversation's latest message from the contact (one Query of its newest messages). */
async function latestInbound(deps: CoreDeps, key: MessageKey): Promise<MessageItem | undefined> {
  const { data } = await deps.db.entities.message.query
    .byConversation({ workspaceId: key.workspaceId, conversationId: key.conversationId })
    .go({ order: 'desc', limit: 25, pages: 1 });
  return (data as MessageItem[]).find((item) => item.authorKind === 'contact');
}

async function buildOutbound(
  deps: DeliveryDeps,
  message: DeliveredMessageItem,
  connection: NonNullable<Awaited<ReturnType<typeof findConnection>>>,
  attemptNo: number,
): Promise<OutboundMessage> {
  const key = { workspaceId: message.workspaceId, conversationId: message.conversationId, messageId: message.messageId };
  const [conversation, inbound, author, opened, attachments] = await Promise.all([
    deps.db.entities.conversation.get({ workspaceId: key.workspaceId, conversationId: key.conversationId }).go(),
    latestInbound(deps, key),
    message.authorUserId
      ? deps.db.entities.user.get({ workspaceId: key.workspaceId, userId: message.authorUserId }).go()
      : Promise.resolve({ data: null }),
    openConnection(deps, connection),
    Promise.all(
      (message.attachments ?? []).map(async (attachment) => ({
        url: await deps.blobs.downloadUrl(attachmentObjectKey(key.workspaceId, attachment.id), attachmentLinkSeconds, {
          fileName: attachment.fileName,
        }),
        fileName: attachment.fileName,
        mimeType: attachment.contentType,
        sizeBytes: attachment.sizeBytes,
      })),
    ),
  ]);
  const inboundSubject = (inbound?.payload?.email as { subject?: unknown } | undefined)?.subject;
  // The conversation's subject; else a reply to the contact's latest mail's ("Re: …").
  const subject =
    (conversation.data as ConversationItem | null)?.subject ??
    (typeof inboundSubject === 'string' && inboundSubject.trim() !== ''
      ? /^re:/i.test(inboundSubject.trim())
        ? inboundSubject.trim()
        : `Re: ${inboundSubject.trim()}`
      : null);
  let email: OutboundMessage['email'] = null;
  if (connection.kind === 'email') {
    const replyDomain = String(connection.settings.replyDomain);
    const headers = (inbound?.payload?.email ?? {}) as InboundEmailHeaders;
    const inReplyTo = headers.messageIdHeader ?? null;
    email = {
      subject: subject ?? '',
      messageIdHeader: ourMessageIdHeader(message.messageId, replyDomain),
      inReplyTo,
      references: [...(headers.references ?? []), ...(inReplyTo ? [inReplyTo] : [])].filter(
        (value, index, all) => all.indexOf(value) === index,
      ),
      replyTo: `reply+${message.conversationId}@${replyDomain}`,
      fromName: (author.data as { name?: string } | null)?.name ?? null,
    };
  }
  return {
    connection: opened,
    to: message.delivery.to,
    text: message.body,
    attachments,
    replyToProviderMessageId:
      connection.kind === 'telegram' || connection.kind === 'whatsapp' ? (inbound ? providerIdOf(inbound) : null) : null,
    email,
    reference: { ...key, deliveryId: message.delivery.deliveryId, attempt: attemptNo },
    partsSent: message.delivery.attempts.find((each) => each.attempt === attemptNo)?.partsSent ?? [],
    // The callback URL carries our reference, so a status names the attempt even when the send's answer was lost.
    statusCallbackUrl:
      connection.kind === 'sms' && deps.hooksBaseUrl
        ? `${deps.hooksBaseUrl}${webhookPath(connection)}?${sendReferenceQueryName}=${encodeURIComponent(
            encodeSendReference({ conversationId: key.conversationId, messageId: key.messageId, attempt: attemptNo }),
          )}`
        : null,
  };
}

/** SES's Message-ID of an accepted mail, kept so a reply to it finds the conversation. */
async function keepSesMessageId(deps: CoreDeps, message: DeliveredMessageItem, providerMessageId: string) {
  try {
    await deps.db.entities.uniqueGuard
      .create({
        ...mailIdGuard(message.workspaceId, `<${providerMessageId}@email.amazonses.com>`),
        ownerId: message.conversationId,
        createdAt: deps.clock.nowIso(),
      })
      .go();
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
}

/**
 * Makes the provider call of attempt `attemptNo` (see the file's comment). Returns `done` when nothing
 * more is to be done for it (accepted, failed, or not this call's to make) or `retry` with the delay.
 * Anything else than a `ProviderSendError` passes through (the job's run fails and SQS retries it).
 */
export async function deliverAttempt(deps: DeliveryDeps, key: MessageKey, attemptNo: number): Promise<AttemptOutcome> {
  const start = await beginProviderCall(deps, key, attemptNo);
  if (!start.go) return { kind: 'done', message: start.message };
  // A `resumed` start (a run died mid-call) sends anyway: no provider here offers an idempotent send
  // (no idempotency key on Graph, Bot API, Twilio Messages or SES), so not sending could lose the message.
  // What keeps a lost answer from becoming a second send is our send reference: WhatsApp, Twilio and SES
  // echo it in their status callbacks, the first of which marks the attempt sent (applyProviderStatus),
  // and an unanswered call waits for it before sending again (`unanswered`).
  const { message } = start;
  const connection = await findConnection(deps, key.workspaceId, message.delivery.connectionId, true);
  if (!connection || connection.status !== 'active') {
    const failed = await recordAttemptFailed(deps, key, attemptNo, {
      code: 'channel_not_connected',
      message: 'The channel connection the message was to go through is disconnected or gone',
    });
    return { kind: 'done', message: failed };
  }
  const outbound = await buildOutbound(deps, message, connection, attemptNo);
  try {
    const receipt = await deps.channels.sender(connection.kind).send(outbound);
    const accepted = await recordAccepted(deps, key, attemptNo, receipt);
    if (connection.kind === 'email' && accepted) await keepSesMessageId(deps, accepted, receipt.providerMessageId);
    return { kind: 'done', message: accepted };
  } catch (error) {
    if (!(error instanceof ProviderSendError)) throw error;
    const reason = { code: error.code, message: error.message };
    if (!error.retryable) return { kind: 'done', message: await recordAttemptFailed(deps, key, attemptNo, reason) };
    if (message.delivery.autoRetries >= maxAutoRetries) {
      const failed = await recordAttemptFailed(deps, key, attemptNo, {
        code: 'retries_exhausted',
        message: `The provider kept failing after ${maxAutoRetries} automatic re-sends; its last error: ${error.code}: ${error.message}`,
      });
      return { kind: 'done', message: failed };
    }
    const counted = await recordAutoRetry(deps, key, attemptNo, reason, error.acceptedParts);
    return {
      kind: 'retry',
      delaySeconds: backoffSeconds(message.delivery.autoRetries + 1, error.retryAfterSeconds),
      unanswered: error.kind === 'timeout' && confirmsBySendReference(connection.kind),
      message: counted,
    };
  }
}

/** The message after a call, read again when the call changed nothing of it. */
export async function currentMessage(deps: CoreDeps, key: MessageKey, outcome: AttemptOutcome) {
  return outcome.message ?? (await findDeliveredMessage(deps, key));
}
