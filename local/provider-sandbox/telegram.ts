/**
 * The sandbox's Telegram Bot API: `/bot<token>/<method>` (GET or POST, JSON, form or query parameters)
 * for the methods the product uses, file downloads, and updates posted to the webhook `setWebhook` set.
 * Telegram reports no delivery statuses: an accepted send schedules no callback.
 *
 * Sources (Telegram's documentation):
 * - https://core.telegram.org/bots/api#making-requests (`https://api.telegram.org/bot<token>/METHOD_NAME`,
 *   GET and POST, query string, application/x-www-form-urlencoded, application/json; methods are
 *   case-insensitive; answers `{ok, result}` or `{ok:false, error_code, description, parameters}`)
 * - https://core.telegram.org/bots/api#responseparameters (`retry_after` on flood control, 429)
 * - https://core.telegram.org/bots/api#getme, #setwebhook (url, secret_token 1-256 of A-Z a-z 0-9 _ -,
 *   allowed_updates; the secret comes back in `X-Telegram-Bot-Api-Secret-Token`; a non-2xx answer makes
 *   Telegram retry), #deletewebhook, #getwebhookinfo, #sendmessage (chat_id, text, reply_parameters,
 *   reply_to_message_id), #sendphoto, #senddocument, #sendvideo, #sendaudio, #getfile (file_path; download at
 *   `https://api.telegram.org/file/bot<token>/<file_path>`), #update, #message, #photosize
 * - Errors as Telegram words them ("Unauthorized", "Bad Request: chat not found", "Forbidden: bot was
 *   blocked by the user", "Too Many Requests: retry after N"):
 *   https://core.telegram.org/api/errors and https://core.telegram.org/bots/faq
 */
import { bodyFields, drawFault, rawRequest, samplePng, sendBytes, sendJson, unixNow, type Ctx } from './http';
import type { SandboxCallback, SandboxState, TelegramAccount } from './state';

const methodPath = /^\/bot([^/]+)\/([A-Za-z]+)$/;
const filePath = /^\/file\/bot([^/]+)\/(.+)$/;
const secretPattern = /^[A-Za-z0-9_-]{1,256}$/;

export const isTelegramPath = (path: string) => methodPath.test(path) || filePath.test(path);

const fail = (ctx: Ctx, code: number, description: string, parameters?: Record<string, unknown>) =>
  sendJson(ctx, code, { ok: false, error_code: code, description, ...(parameters ? { parameters } : {}) });

const ok = (ctx: Ctx, result: unknown, description?: string) =>
  sendJson(ctx, 200, { ok: true, result, ...(description ? { description } : {}) });

const botUser = (account: TelegramAccount) => ({
  id: Number(account.botToken.split(':')[0]),
  is_bot: true,
  first_name: account.botUsername.replace(/_?bot$/i, '') || account.botUsername,
  username: account.botUsername,
});

const sendMethods = new Set(['sendmessage', 'sendphoto', 'senddocument', 'sendvideo', 'sendaudio']);

export const handleTelegram = async (ctx: Ctx): Promise<void> => {
  const file = filePath.exec(ctx.path);
  if (file) {
    const account = ctx.state.telegram.get(decodeURIComponent(file[1]!));
    if (!account) return fail(ctx, 401, 'Unauthorized');
    const media = [...ctx.state.media.values()].find((m) => m.filePath === file[2]);
    return media ? sendBytes(ctx, 200, media.bytes, media.mimeType) : fail(ctx, 404, 'Not Found');
  }
  const [, token, rawMethod] = methodPath.exec(ctx.path)!;
  const method = rawMethod!.toLowerCase();
  const fault = sendMethods.has(method) ? drawFault(ctx, 'telegram') : null;
  if (fault === 'timeout') return;
  const account = ctx.state.telegramAccount(decodeURIComponent(token!));
  if (!account) return fail(ctx, 401, 'Unauthorized');
  if (fault === '5xx') return fail(ctx, 502, 'Bad Gateway');
  if (fault === '429') {
    const wait = ctx.state.faults.retryAfterSeconds;
    return fail(ctx, 429, `Too Many Requests: retry after ${wait}`, { retry_after: wait });
  }
  const params = bodyFields(ctx);
  switch (method) {
    case 'getme':
      return ok(ctx, {
        ...botUser(account),
        can_join_groups: true,
        can_read_all_group_messages: false,
        supports_inline_queries: false,
      });
    case 'setwebhook':
      return setWebhook(ctx, account, params);
    case 'deletewebhook':
      account.webhook = null;
      return ok(ctx, true, 'Webhook was deleted');
    case 'getwebhookinfo':
      return ok(ctx, {
        url: account.webhook?.url ?? '',
        has_custom_certificate: false,
        pending_update_count: 0,
        max_connections: 40,
        ...(account.webhook?.allowedUpdates.length
          ? { allowed_updates: account.webhook.allowedUpdates }
          : {}),
      });
    case 'sendmessage':
    case 'sendphoto':
    case 'senddocument':
    case 'sendvideo':
    case 'sendaudio':
      return send(ctx, account, method, params);
    case 'getfile': {
      const fileId = String(params.file_id ?? '');
      const media = ctx.state.media.get(`telegram:${fileId}`);
      if (!media) return fail(ctx, 400, 'Bad Request: invalid file_id');
      return ok(ctx, {
        file_id: fileId,
        file_unique_id: fileId.slice(-16),
        file_size: media.bytes.length,
        file_path: media.filePath,
      });
    }
    default:
      return fail(ctx, 404, 'Not Found');
  }
};

const listParam = (value: unknown): string[] => {
  if (Array.isArray(value)) return value.map(String);
  if (typeof value !== 'string' || value === '') return [];
  try {
    const parsed = JSON.parse(value) as unknown;
    return Array.isArray(parsed) ? parsed.map(String) : [];
  } catch {
    return [];
  }
};

const setWebhook = (ctx: Ctx, account: TelegramAccount, params: Record<string, unknown>) => {
  const url = typeof params.url === 'string' ? params.url : '';
  if (url === '') {
    account.webhook = null;
    return ok(ctx, true, 'Webhook was deleted');
  }
  try {
    new URL(url);
  } catch {
    return fail(ctx, 400, 'Bad Request: bad webhook: Failed to resolve host: Name or service not known');
  }
  const secret = params.secret_token === undefined ? null : String(params.secret_token);
  if (secret !== null && !secretPattern.test(secret)) {
    return fail(ctx, 400, 'Bad Request: secret token contains unallowed characters');
  }
  account.webhook = { url, secretToken: secret, allowedUpdates: listParam(params.allowed_updates) };
  return ok(ctx, true, 'Webhook was set');
};

const objectParam = (value: unknown): Record<string, unknown> | null => {
  if (value && typeof value === 'object') return value as Record<string, unknown>;
  if (typeof value === 'string' && value.startsWith('{')) {
    try {
      return JSON.parse(value) as Record<string, unknown>;
    } catch {
      return null;
    }
  }
  return null;
};

const nextMessageId = (account: TelegramAccount, chatId: string) => {
  const id = account.nextMessageId.get(chatId) ?? 1;
  account.nextMessageId.set(chatId, id + 1);
  return id;
};

const send = (ctx: Ctx, account: TelegramAccount, method: string, params: Record<string, unknown>) => {
  const chatId = params.chat_id === undefined ? '' : String(params.chat_id);
  if (chatId === '') return fail(ctx, 400, 'Bad Request: chat_id is empty');
  const text = method === 'sendmessage' ? String(params.text ?? '') : String(params.caption ?? '');
  if (method === 'sendmessage' && text.trim() === '')
    return fail(ctx, 400, 'Bad Request: message text is empty');
  const fileField = method === 'sendmessage' ? null : method.slice('send'.length);
  const fileUrl = fileField ? String(params[fileField] ?? '') : '';
  if (fileField && fileUrl === '')
    return fail(ctx, 400, `Bad Request: there is no ${fileField} in the request`);
  // Bots reach users by numeric id; a user who never started the bot (or an unknown id) is "chat not found".
  const recipientError = ctx.state.recipientErrors.get(`telegram:${chatId}`);
  if (!/^-?\d+$/.test(chatId) || recipientError === 'invalid')
    return fail(ctx, 400, 'Bad Request: chat not found');
  if (recipientError) return fail(ctx, 403, 'Forbidden: bot was blocked by the user');
  const replyTo =
    objectParam(params.reply_parameters)?.message_id ??
    (params.reply_to_message_id === undefined ? undefined : params.reply_to_message_id);
  const messageId = nextMessageId(account, chatId);
  const message: Record<string, unknown> = {
    message_id: messageId,
    from: botUser(account),
    chat: { id: Number(chatId), type: 'private' },
    date: unixNow(),
  };
  if (method === 'sendmessage') message.text = text;
  else if (text) message.caption = text;
  if (method === 'sendphoto') {
    message.photo = [
      {
        file_id: `AgACAgsandbox${ctx.state.hexId(20)}`,
        file_unique_id: ctx.state.hexId(16),
        width: 90,
        height: 90,
        file_size: 1200,
      },
      {
        file_id: `AgACAgsandbox${ctx.state.hexId(20)}`,
        file_unique_id: ctx.state.hexId(16),
        width: 800,
        height: 800,
        file_size: 42_000,
      },
    ];
  }
  if (fileField && fileField !== 'photo') {
    message[fileField] = {
      file_id: `BQACAgsandbox${ctx.state.hexId(20)}`,
      file_unique_id: ctx.state.hexId(16),
      file_name: decodeURIComponent(new URL(fileUrl, 'http://x').pathname.split('/').pop() || fileField),
      mime_type: 'application/octet-stream',
    };
  }
  if (replyTo !== undefined) {
    message.reply_to_message = { message_id: Number(replyTo), chat: message.chat, date: unixNow() };
  }
  ctx.state.recordSend({
    provider: 'telegram',
    kind: 'message',
    account: account.botUsername,
    // `<chat>:<message>`: Telegram's message ids are per chat; the product keeps both (telegram-bot-sender.ts).
    providerMessageId: `${chatId}:${messageId}`,
    to: chatId,
    text,
    request: rawRequest(ctx),
    meta: { method, replyTo: replyTo === undefined ? null : String(replyTo), file: fileUrl || null },
  });
  // `drop_callbacks` changes nothing here: Telegram sends no status callbacks.
  return ok(ctx, message);
};

/** A message id given as `<chat>:<message>` (the product's provider id) or as the bare number. */
const messageIdOf = (id: string) => Number(id.slice(id.lastIndexOf(':') + 1));

export interface TelegramReplyInput {
  from: string;
  fromName?: string;
  username?: string;
  text: string;
  replyTo?: string;
  /** Telegram only: edit the contact's earlier message with this id (an `edited_message` update). */
  edit?: string;
  media?: { kind?: string; caption?: string; fileName?: string };
}

/** The update a contact's message (or edit) makes, posted to the bot's webhook; null when no webhook is set. */
export const telegramReply = (
  state: SandboxState,
  account: TelegramAccount,
  input: TelegramReplyInput,
): SandboxCallback | null => {
  if (!account.webhook) return null;
  const userId = Number(input.from.replace(/^@/, ''));
  const [firstName, ...rest] = (input.fromName ?? 'Sandbox Contact').split(' ');
  const user = {
    id: userId,
    is_bot: false,
    first_name: firstName!,
    ...(rest.length ? { last_name: rest.join(' ') } : {}),
    ...(input.username ? { username: input.username.replace(/^@/, '') } : {}),
    language_code: 'en',
  };
  const chatId = String(userId);
  const chat = {
    id: userId,
    first_name: user.first_name,
    ...(user.last_name ? { last_name: user.last_name } : {}),
    type: 'private',
  };
  const messageId = input.edit ? messageIdOf(input.edit) : nextMessageId(account, chatId);
  const now = unixNow();
  const message: Record<string, unknown> = {
    message_id: messageId,
    from: user,
    chat,
    date: input.edit ? now - 60 : now,
  };
  if (input.edit) message.edit_date = now;
  if (input.media) {
    const fileId = `AgACAgsandbox${state.hexId(24)}`;
    const path = `photos/file_${state.hexId(6)}.png`;
    state.media.set(`telegram:${fileId}`, {
      bytes: samplePng,
      mimeType: 'image/png',
      fileName: input.media.fileName ?? 'photo.png',
      filePath: path,
    });
    message.photo = [
      { file_id: fileId, file_unique_id: state.hexId(16), file_size: samplePng.length, width: 1, height: 1 },
    ];
    const caption = input.media.caption ?? input.text;
    if (caption) message.caption = caption;
  } else {
    message.text = input.text;
  }
  if (input.replyTo) {
    message.reply_to_message = {
      message_id: Number(input.replyTo),
      from: botUser(account),
      chat,
      date: now - 120,
      text: '…',
    };
  }
  const update = { update_id: account.nextUpdateId++, [input.edit ? 'edited_message' : 'message']: message };
  return state.newCallback({
    provider: 'telegram',
    kind: 'inbound',
    event: input.edit ? 'edited_message' : 'message',
    providerMessageId: `${chatId}:${messageId}`,
    url: account.webhook.url,
    body: JSON.stringify(update),
    headers: {
      'content-type': 'application/json',
      ...(account.webhook.secretToken
        ? { 'x-telegram-bot-api-secret-token': account.webhook.secretToken }
        : {}),
    },
  });
};
