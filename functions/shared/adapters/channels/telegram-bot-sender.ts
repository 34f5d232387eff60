/**
 * Telegram Bot API sender, webhook set-up and file fetcher.
 *
 * Every call is `POST {TELEGRAM_API_BASE_URL}/bot<token>/<method>` with a JSON body; every answer is
 * `{ok: true, result}` or `{ok: false, error_code, description, parameters?: {retry_after, migrate_to_chat_id}}`.
 * - text: `sendMessage {chat_id, text, reply_parameters?: {message_id, allow_sending_without_reply}}`;
 * - files by URL (Telegram fetches them): `sendPhoto {photo}`, `sendVideo {video}`, `sendAudio {audio}`
 *   (MP3 / M4A), `sendDocument {document}`, each with `caption` (0-1024 characters) on the first;
 * - the answer's `result` is the sent `Message`; Telegram message ids are unique per chat only, so the
 *   provider id is `<chat_id>:<message_id>` (the pairing the inbound parser dedupes by);
 * - `setWebhook {url, secret_token, allowed_updates, drop_pending_updates}` → `true`; `getMe` → `User`;
 * - `getFile {file_id}` → `File {file_path, file_size}`, then `GET {base}/file/bot<token>/<file_path>`
 *   (bots may download files up to 20 MB; the link lasts at least an hour).
 * The token is in every URL: no URL ever goes into an error message (see provider-http.ts).
 *
 * Sources (Telegram's documentation):
 * - https://core.telegram.org/bots/api#making-requests (the answer object, `error_code`, `parameters`)
 * - https://core.telegram.org/bots/api#responseparameters (`retry_after`, `migrate_to_chat_id`)
 * - https://core.telegram.org/bots/api#sendmessage and #replyparameters
 * - https://core.telegram.org/bots/api#sendphoto, #sendvideo, #sendaudio, #senddocument, #sending-files
 * - https://core.telegram.org/bots/api/methods/setwebhook.md (`secret_token`, `allowed_updates`)
 * - https://core.telegram.org/bots/api#getme, #getfile, #file
 */
import { ProviderSendError, type ChannelSender, type OpenedConnection, type ProviderFailureKind, type SendReceipt } from '../../../../domain/channels/outbound';
import type { MediaReference } from '../../../../domain/channels/inbound-events';
import { afterAcceptedParts, kindOfHttpStatus, redact, requiredSecret, unreadableAnswer, type Download, type ProviderAnswer, type ProviderHttp } from './provider-http';

const provider = 'Telegram';

/** The update kinds the webhook handler understands (`telegramHandledUpdates` in telegram-webhook.ts, not imported: its schemas stay out of the senders). */
export const telegramAllowedUpdates = ['message', 'edited_message', 'my_chat_member'] as const;

/**
 * Bot API error codes → what they mean for a send: 429 is flood control (wait `retry_after`), 403 is
 * "bot was blocked by the user" / "bot was kicked" / "user is deactivated", 400 is a bad request such
 * as "chat not found", 401 and 404 mean the token is wrong, 5xx is Telegram's own trouble.
 */
export const telegramFailureKind = (errorCode: number): ProviderFailureKind => {
  if (errorCode === 429) return 'rate_limited';
  if (errorCode >= 500) return 'provider_unavailable';
  if (errorCode === 401 || errorCode === 404) return 'unauthorized';
  if (errorCode === 400 || errorCode === 403) return 'rejected';
  return kindOfHttpStatus(errorCode);
};

interface TelegramAnswer {
  ok?: boolean;
  result?: unknown;
  error_code?: number;
  description?: string;
  parameters?: { retry_after?: number };
}

const telegramError = (answer: ProviderAnswer, what: string, secrets: readonly string[]): ProviderSendError => {
  const body = (answer.json ?? {}) as TelegramAnswer;
  const code = typeof body.error_code === 'number' ? body.error_code : answer.status;
  const kind = telegramFailureKind(code);
  const retryAfter = typeof body.parameters?.retry_after === 'number' ? body.parameters.retry_after : answer.retryAfterSeconds;
  return new ProviderSendError(
    kind,
    String(code),
    `${what}: ${redact(body.description ?? `HTTP ${answer.status}`, secrets)}`,
    kind === 'rate_limited' ? retryAfter : null,
    answer.status,
  );
};

/** The message id in a provider id: `<chat_id>:<message_id>` (ours) or a bare message id (the inbound parser's). */
export const telegramMessageIdOf = (providerMessageId: string): number | null => {
  const id = Number(providerMessageId.slice(providerMessageId.lastIndexOf(':') + 1));
  return Number.isSafeInteger(id) && id > 0 ? id : null;
};

type FileMethod = 'sendPhoto' | 'sendVideo' | 'sendAudio' | 'sendDocument';

/** The method a file is sent with: photos (not GIFs, which Telegram animates), MP4 video, MP3/M4A audio, else a document. */
export const telegramFileMethod = (mimeType: string): { method: FileMethod; field: string } => {
  const type = mimeType.toLowerCase();
  if (type.startsWith('image/') && type !== 'image/gif' && type !== 'image/svg+xml') return { method: 'sendPhoto', field: 'photo' };
  if (type === 'video/mp4') return { method: 'sendVideo', field: 'video' };
  if (type === 'audio/mpeg' || type === 'audio/mp4' || type === 'audio/x-m4a') return { method: 'sendAudio', field: 'audio' };
  return { method: 'sendDocument', field: 'document' };
};

export interface TelegramBotOptions {
  http: ProviderHttp;
  baseUrl: string;
}

const captionLimit = 1024;

/** Calls one Bot API method; resolves with `result`, throws the mapped `ProviderSendError` otherwise. */
const callMethod = async (
  { http, baseUrl }: TelegramBotOptions,
  token: string,
  secrets: readonly string[],
  method: string,
  body: Record<string, unknown>,
  what = `${provider} ${method}`,
): Promise<unknown> => {
  const answer = await http.call({ method: 'POST', url: `${baseUrl}/bot${token}/${method}`, json: body, what, secrets });
  const parsed = answer.json as TelegramAnswer | null;
  if (!answer.ok || parsed?.ok !== true) {
    if (answer.ok && parsed?.ok === undefined) throw unreadableAnswer(what, answer.status);
    throw telegramError(answer, what, secrets);
  }
  return parsed.result;
};

export function createTelegramBotSender(options: TelegramBotOptions): ChannelSender {
  return {
    async send(message): Promise<SendReceipt> {
      const token = requiredSecret(message.connection.secrets, 'botToken', provider);
      const secrets = Object.values(message.connection.secrets);
      const replyTo = message.replyToProviderMessageId ? telegramMessageIdOf(message.replyToProviderMessageId) : null;
      const common = {
        chat_id: message.to,
        // A reply to a message the contact has since deleted still goes out, as a plain message.
        ...(replyTo !== null ? { reply_parameters: { message_id: replyTo, allow_sending_without_reply: true } } : {}),
      };

      const parts: { method: string; body: Record<string, unknown> }[] = [];
      const textAsCaption = message.attachments.length > 0 && message.text.length <= captionLimit;
      if (message.text && !textAsCaption) parts.push({ method: 'sendMessage', body: { text: message.text } });
      message.attachments.forEach((attachment, index) => {
        const { method, field } = telegramFileMethod(attachment.mimeType);
        parts.push({
          method,
          body: { [field]: attachment.url, ...(index === 0 && textAsCaption && message.text ? { caption: message.text } : {}) },
        });
      });
      if (parts.length === 0) throw new ProviderSendError('rejected', 'empty_message', `${provider}: nothing to send`);

      const sendPart = async (index: number, part: (typeof parts)[number]): Promise<string> => {
        const what = parts.length > 1 ? `${provider} ${part.method} (part ${index + 1} of ${parts.length})` : `${provider} ${part.method}`;
        // Only the first part answers the message replied to.
        const body = index === 0 ? { ...common, ...part.body } : { chat_id: message.to, ...part.body };
        const sent = (await callMethod(options, token, secrets, part.method, body, what)) as {
          message_id?: unknown;
          chat?: { id?: unknown };
        } | null;
        if (typeof sent?.message_id !== 'number') throw unreadableAnswer(what, 200);
        const chatId = sent.chat?.id;
        return `${typeof chatId === 'number' || typeof chatId === 'string' ? chatId : message.to}:${sent.message_id}`;
      };

      // The message is known by its first part's id (the one carrying the text). Parts an earlier call
      // got accepted are not sent again.
      const accepted = [...message.partsSent];
      for (const [index, part] of parts.entries()) {
        if (index < accepted.length) continue;
        try {
          accepted.push(await sendPart(index, part));
        } catch (error) {
          throw afterAcceptedParts(error, accepted);
        }
      }
      return { providerMessageId: accepted[0]!, providerStatus: null };
    },
  };
}

/**
 * Points the bot's webhook at `webhookUrl` with the connection's secret token (Telegram sends it back
 * in `X-Telegram-Bot-Api-Secret-Token`), for the update kinds we handle, then asks the bot's username.
 */
export async function setTelegramWebhook(
  options: TelegramBotOptions,
  connection: OpenedConnection,
  webhookUrl: string,
): Promise<{ botUsername: string | null }> {
  const token = requiredSecret(connection.secrets, 'botToken', provider);
  const secretToken = requiredSecret(connection.secrets, 'webhookSecretToken', provider);
  const secrets = Object.values(connection.secrets);
  await callMethod(options, token, secrets, 'setWebhook', {
    url: webhookUrl,
    secret_token: secretToken,
    allowed_updates: [...telegramAllowedUpdates],
    drop_pending_updates: false,
  });
  const me = (await callMethod(options, token, secrets, 'getMe', {})) as { username?: unknown } | null;
  return { botUsername: typeof me?.username === 'string' ? me.username : null };
}

/** Telegram `file_id` → `getFile` → the bytes at `{base}/file/bot<token>/<file_path>`. */
export async function fetchTelegramFile(
  options: TelegramBotOptions,
  connection: OpenedConnection,
  media: MediaReference,
  maxBytes: number,
): Promise<Download> {
  const token = requiredSecret(connection.secrets, 'botToken', provider);
  const secrets = Object.values(connection.secrets);
  if (!media.providerMediaId) {
    throw new ProviderSendError('rejected', 'no_media_id', `${provider}: the file has no file_id to fetch it by`);
  }
  const file = (await callMethod(options, token, secrets, 'getFile', { file_id: media.providerMediaId })) as {
    file_path?: unknown;
    file_size?: unknown;
  } | null;
  if (typeof file?.file_path !== 'string' || !file.file_path) throw unreadableAnswer(`${provider} getFile`, 200);
  if (typeof file.file_size === 'number' && file.file_size > maxBytes) {
    throw new ProviderSendError('rejected', 'too_large', `${provider} getFile: the file is larger than ${maxBytes} bytes`);
  }
  const path = file.file_path.split('/').map(encodeURIComponent).join('/');
  const download = await options.http.download({
    url: `${options.baseUrl}/file/bot${token}/${path}`,
    what: `${provider} download file`,
    secrets,
    maxBytes,
  });
  return { ...download, fileName: download.fileName ?? file.file_path.split('/').at(-1) ?? null };
}
