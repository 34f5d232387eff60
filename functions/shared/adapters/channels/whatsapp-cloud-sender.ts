/**
 * WhatsApp Cloud API (Meta Graph API) sender and media fetcher.
 *
 * Send: `POST {WHATSAPP_API_BASE_URL}/{phoneNumberId}/messages`, `Authorization: Bearer <accessToken>`,
 * JSON `{messaging_product: 'whatsapp', recipient_type: 'individual', to, type, ...}`:
 * - text: `type: 'text', text: {body, preview_url}` (preview_url only when the text holds a URL);
 * - media by hosted link: `type: 'image'|'video'|'audio'|'document'`, `{link, caption?, filename?}`
 *   (one file per message; audio takes no caption; images are JPEG/PNG, video MP4/3GPP, anything else
 *   goes as a document); the text is the first file's caption when that file takes one;
 * - a reply: `context: {message_id: <wamid>}`;
 * - `biz_opaque_callback_data: "<deliveryId>:<attempt>"`, echoed back on every status webhook;
 * - a contact known only by their business-scoped user ID (BSUID, `US.13491208655302741918`, or a parent
 *   BSUID `US.ENT.…`): `recipient: <BSUID>` in place of `to` (`to` would win were both given).
 * Answer: `{messaging_product, contacts: [{input, wa_id}], messages: [{id, message_status?}]}` (a send to
 * a BSUID answers `contacts: [{input, user_id}]`); its statuses are matched by the message id, as ever.
 * Errors: `{error: {message, type, code, error_subcode?, error_data: {messaging_product, details}, fbtrace_id}}`.
 *
 * Media: `GET /{media-id}` → `{url, mime_type, sha256, file_size, id}`, then `GET <url>` with the same
 * Bearer token (the URL lasts 5 minutes).
 *
 * Sources (Meta's documentation):
 * - https://developers.facebook.com/documentation/business-messaging/whatsapp/messages/text-messages/
 * - https://developers.facebook.com/documentation/business-messaging/whatsapp/messages/image-messages/
 *   (and the audio, document and video message pages beside it: `link`, `caption`, `filename`)
 * - https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages (context, biz_opaque_callback_data)
 * - https://developers.facebook.com/documentation/business-messaging/whatsapp/business-scoped-user-ids/
 *   (`recipient`; also https://dualhook.com/docs/contacts-bsuid-api-changes and
 *   https://docs.ycloud.com/reference/webhook-updates-bsuid: "set recipient to the user's BSUID or parent
 *   BSUID, omit the to property")
 * - https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media (retrieve and download media)
 * - https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes/
 * - https://developers.facebook.com/docs/graph-api/guides/error-handling (the Graph error object)
 */
import { ProviderSendError, type ChannelSender, type OpenedConnection, type OutboundAttachment, type ProviderFailureKind, type SendReceipt } from '../../../../domain/channels/outbound';
import type { MediaReference } from '../../../../domain/channels/inbound-events';
import { encodeSendReference } from '../../../../domain/channels/send-reference';
import { isWhatsAppUserId } from '../../../../domain/contacts/channels';
import {
  afterAcceptedParts,
  kindOfHttpStatus,
  redact,
  requiredSecret,
  requiredSetting,
  unreadableAnswer,
  type Download,
  type ProviderAnswer,
  type ProviderHttp,
} from './provider-http';

const provider = 'WhatsApp';

/**
 * Graph error codes → what they mean for a send (the error-codes page, checked code by code):
 * throttling is retried later, Meta's "temporary" errors are retried, token and account problems
 * stop the connection, and recipient or content problems fail this message for good.
 */
const rateLimited = new Set([4, 80007, 130429, 131048, 131056]);
const unavailable = new Set([1, 2, 131000, 131016]);
const unauthorized = new Set([0, 3, 10, 190, 33, 368, 131005, 131031, 131042]);

export const whatsappFailureKind = (code: number | null, subcode: number | null, httpStatus: number): ProviderFailureKind => {
  if (code === null) return kindOfHttpStatus(httpStatus);
  if (rateLimited.has(code)) return 'rate_limited';
  if (unavailable.has(code)) return 'provider_unavailable';
  if (unauthorized.has(code) || (code >= 200 && code <= 299)) return 'unauthorized';
  // 100 "Invalid parameter" with subcode 33: the phone number id does not exist or the token may not use it.
  if (code === 100 && subcode === 33) return 'unauthorized';
  // Recipient and content errors: 100, 131008, 131009, 131021, 131026, 131047 (outside the 24-hour
  // window), 131049, 131050, 131051, 131052, 131053, 470, and any other code the page lists.
  if (httpStatus >= 500) return 'provider_unavailable';
  return 'rejected';
};

interface GraphError {
  message?: string;
  code?: number;
  error_subcode?: number;
  error_data?: { details?: string };
}

const graphError = (answer: ProviderAnswer, what: string, secrets: readonly string[]): ProviderSendError => {
  const error = (answer.json as { error?: GraphError } | null)?.error;
  const code = typeof error?.code === 'number' ? error.code : null;
  const subcode = typeof error?.error_subcode === 'number' ? error.error_subcode : null;
  const kind = whatsappFailureKind(code, subcode, answer.status);
  const text = [error?.message, error?.error_data?.details].filter(Boolean).join(': ') || `HTTP ${answer.status}`;
  return new ProviderSendError(
    kind,
    code !== null ? String(code) : String(answer.status),
    `${what}: ${redact(text, secrets)}`,
    kind === 'rate_limited' ? answer.retryAfterSeconds : null,
    answer.status,
  );
};

type MediaType = 'image' | 'video' | 'audio' | 'document';

/** The Cloud API message type a file is sent as (its supported media types; the rest go as documents). */
export const whatsappMediaType = (mimeType: string): MediaType => {
  const type = mimeType.toLowerCase();
  if (type === 'image/jpeg' || type === 'image/png') return 'image';
  if (type === 'video/mp4' || type === 'video/3gpp') return 'video';
  if (['audio/aac', 'audio/amr', 'audio/mpeg', 'audio/mp4', 'audio/ogg'].includes(type)) return 'audio';
  return 'document';
};

const mediaObject = (attachment: OutboundAttachment, type: MediaType, caption: string | null) => ({
  link: attachment.url,
  ...(caption && type !== 'audio' ? { caption } : {}),
  ...(type === 'document' ? { filename: attachment.fileName } : {}),
});

export interface WhatsappCloudOptions {
  http: ProviderHttp;
  baseUrl: string;
}

export function createWhatsappCloudSender({ http, baseUrl }: WhatsappCloudOptions): ChannelSender {
  return {
    async send(message): Promise<SendReceipt> {
      const { connection } = message;
      const accessToken = requiredSecret(connection.secrets, 'accessToken', provider);
      const phoneNumberId = requiredSetting(connection.settings, 'phoneNumberId', provider);
      const secrets = Object.values(connection.secrets);
      const common = {
        messaging_product: 'whatsapp',
        recipient_type: 'individual',
        ...(isWhatsAppUserId(message.to) ? { recipient: message.to } : { to: message.to }),
        biz_opaque_callback_data: encodeSendReference(message.reference),
      };

      const replyContext = message.replyToProviderMessageId ? { context: { message_id: message.replyToProviderMessageId } } : {};

      // One file per Cloud API message: the text rides as the first file's caption when it can,
      // else it goes first on its own.
      const parts: Record<string, unknown>[] = [];
      const [firstFile] = message.attachments;
      const textAsCaption = firstFile !== undefined && whatsappMediaType(firstFile.mimeType) !== 'audio' && message.text.length <= 1024;
      if (message.text && !textAsCaption) {
        parts.push({ type: 'text', text: { body: message.text, preview_url: /https?:\/\//i.test(message.text) } });
      }
      message.attachments.forEach((attachment, index) => {
        const type = whatsappMediaType(attachment.mimeType);
        parts.push({ type, [type]: mediaObject(attachment, type, index === 0 && textAsCaption ? message.text : null) });
      });
      if (parts.length === 0) throw new ProviderSendError('rejected', 'empty_message', `${provider}: nothing to send`);

      const sendPart = async (index: number, part: Record<string, unknown>): Promise<SendReceipt> => {
        const what = parts.length > 1 ? `${provider} POST messages (part ${index + 1} of ${parts.length})` : `${provider} POST messages`;
        const answer = await http.call({
          method: 'POST',
          url: `${baseUrl}/${encodeURIComponent(phoneNumberId)}/messages`,
          headers: { authorization: `Bearer ${accessToken}` },
          // Only the first part answers the message replied to.
          json: { ...common, ...(index === 0 && replyContext), ...part },
          what,
          secrets,
        });
        if (!answer.ok) throw graphError(answer, what, secrets);
        const sent = (answer.json as { messages?: { id?: unknown; message_status?: unknown }[] } | null)?.messages?.[0];
        if (typeof sent?.id !== 'string' || !sent.id) throw unreadableAnswer(what, answer.status);
        return { providerMessageId: sent.id, providerStatus: typeof sent.message_status === 'string' ? sent.message_status : 'accepted' };
      };

      // The message is known by its first part's id (the one carrying the text). Parts an earlier call
      // got accepted are not sent again.
      const accepted = [...message.partsSent];
      let first: SendReceipt | null = accepted[0] ? { providerMessageId: accepted[0], providerStatus: 'accepted' } : null;
      for (const [index, part] of parts.entries()) {
        if (index < accepted.length) continue;
        try {
          const receipt = await sendPart(index, part);
          first ??= receipt;
          accepted.push(receipt.providerMessageId);
        } catch (error) {
          throw afterAcceptedParts(error, accepted);
        }
      }
      return first!;
    },
  };
}

/** WhatsApp media id → its short-lived URL → the bytes, both with the connection's Bearer token. */
export async function fetchWhatsappMedia(
  { http, baseUrl }: WhatsappCloudOptions,
  connection: OpenedConnection,
  media: MediaReference,
  maxBytes: number,
): Promise<Download> {
  const accessToken = requiredSecret(connection.secrets, 'accessToken', provider);
  const secrets = Object.values(connection.secrets);
  if (!media.providerMediaId) {
    throw new ProviderSendError('rejected', 'no_media_id', `${provider}: the media has no id to fetch it by`);
  }
  const what = `${provider} GET media`;
  const headers = { authorization: `Bearer ${accessToken}` };
  const answer = await http.call({
    method: 'GET',
    url: `${baseUrl}/${encodeURIComponent(media.providerMediaId)}`,
    headers,
    what,
    secrets,
  });
  if (!answer.ok) throw graphError(answer, what, secrets);
  const info = answer.json as { url?: unknown; mime_type?: unknown; file_size?: unknown } | null;
  if (typeof info?.url !== 'string') throw unreadableAnswer(what, answer.status);
  const declared = Number(info.file_size);
  if (Number.isFinite(declared) && declared > maxBytes) {
    throw new ProviderSendError('rejected', 'too_large', `${what}: the file is larger than ${maxBytes} bytes`);
  }
  const file = await http.download({ url: info.url, headers, what: `${provider} download media`, secrets, maxBytes });
  return { ...file, mimeType: typeof info.mime_type === 'string' ? info.mime_type : file.mimeType };
}
