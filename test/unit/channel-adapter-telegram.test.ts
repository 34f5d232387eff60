/**
 * The Telegram Bot API sender, webhook set-up and file fetch against a Bot API played at loopback.
 * Shapes: https://core.telegram.org/bots/api#making-requests, #sendmessage, #sendphoto, #setwebhook,
 * #getme, #getfile; error descriptions as the Bot API words them.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ProviderSendError, type OpenedConnection } from '../../domain/channels/outbound';
import { telegramHandledUpdates } from '../../domain/channels/telegram-webhook';
import { createChannelAdapters } from '../../functions/shared/adapters/channels/channel-adapters';
import { telegramAllowedUpdates } from '../../functions/shared/adapters/channels/telegram-bot-sender';
import { outbound, startFakeProvider, thrown, type FakeProvider } from './channel-adapter-fake-provider';

const botToken = '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';
const connection: OpenedConnection = {
  workspaceId: 'ws_01',
  connectionId: 'chc_tg',
  kind: 'telegram',
  settings: { botUsername: null },
  secrets: { botToken, webhookSecretToken: 'hook_secret_token_abc' },
};

const sentMessage = (messageId: number, chatId: number, extra: object = {}) => ({
  ok: true,
  result: {
    message_id: messageId,
    from: { id: 123456789, is_bot: true, first_name: 'Support', username: 'acme_support_bot' },
    chat: { id: chatId, first_name: 'Ada', type: 'private' },
    date: 1767225600,
    ...extra,
  },
});

describe('Telegram Bot API sender', () => {
  let bot: FakeProvider;
  let adapters: ReturnType<typeof createChannelAdapters>;

  beforeAll(async () => {
    bot = await startFakeProvider();
    adapters = createChannelAdapters({ region: 'eu-west-1', telegramApiBaseUrl: bot.baseUrl, providerTimeoutMs: 400 });
  });
  afterAll(() => bot.close());
  beforeEach(() => {
    bot.requests.length = 0;
  });

  it('posts sendMessage to /bot<token>/sendMessage and answers <chat_id>:<message_id>', async () => {
    bot.answer(() => ({ json: sentMessage(42, 777000111, { text: 'Hello' }) }));

    const receipt = await adapters.sender('telegram').send(outbound(connection, { to: '777000111', text: 'Hello' }));

    expect(receipt).toEqual({ providerMessageId: '777000111:42', providerStatus: null });
    const [request] = bot.requests;
    expect(request!.method).toBe('POST');
    expect(request!.url).toBe(`/bot${botToken}/sendMessage`);
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.json).toEqual({ chat_id: '777000111', text: 'Hello' });
  });

  it.each([
    ['ours (<chat>:<message>)', '777000111:40'],
    ['the inbound parser’s (bare message id)', '40'],
  ])('replies with reply_parameters from a provider id in %s form', async (_form, replyTo) => {
    bot.answer(() => ({ json: sentMessage(43, 777000111) }));
    await adapters.sender('telegram').send(outbound(connection, { to: '777000111', replyToProviderMessageId: replyTo }));
    expect(bot.requests[0]!.json).toEqual({
      chat_id: '777000111',
      text: 'Hello',
      reply_parameters: { message_id: 40, allow_sending_without_reply: true },
    });
  });

  it('sends files by URL with the text as the first caption: a photo, then a document', async () => {
    let id = 50;
    bot.answer(() => ({ json: sentMessage(++id, 777000111) }));

    const receipt = await adapters.sender('telegram').send(
      outbound(connection, {
        to: '777000111',
        text: 'Here you go',
        attachments: [
          { url: 'https://files.example.com/p.png', fileName: 'p.png', mimeType: 'image/png', sizeBytes: 1 },
          { url: 'https://files.example.com/r.pdf', fileName: 'r.pdf', mimeType: 'application/pdf', sizeBytes: 1 },
        ],
      }),
    );

    expect(receipt.providerMessageId).toBe('777000111:51');
    expect(bot.requests.map((r) => [r.url, r.json])).toEqual([
      [`/bot${botToken}/sendPhoto`, { chat_id: '777000111', photo: 'https://files.example.com/p.png', caption: 'Here you go' }],
      [`/bot${botToken}/sendDocument`, { chat_id: '777000111', document: 'https://files.example.com/r.pdf' }],
    ]);
  });

  it('a re-send after a 429 on the second file sends only that file and answers the first part’s id', async () => {
    let id = 60;
    bot.answer((request) =>
      request.url.endsWith('/sendDocument') && bot.requests.filter((r) => r.url.endsWith('/sendDocument')).length === 1
        ? { status: 429, json: { ok: false, error_code: 429, description: 'Too Many Requests: retry after 2', parameters: { retry_after: 2 } } }
        : { json: sentMessage(++id, 777000111) },
    );
    const files = outbound(connection, {
      to: '777000111',
      text: 'Here you go',
      attachments: [
        { url: 'https://files.example.com/p.png', fileName: 'p.png', mimeType: 'image/png', sizeBytes: 1 },
        { url: 'https://files.example.com/r.pdf', fileName: 'r.pdf', mimeType: 'application/pdf', sizeBytes: 1 },
      ],
    });

    const error = await thrown(() => adapters.sender('telegram').send(files));
    expect(error).toMatchObject({ kind: 'rate_limited', retryAfterSeconds: 2, acceptedParts: ['777000111:61'] });
    const receipt = await adapters.sender('telegram').send({ ...files, partsSent: ['777000111:61'] });

    expect(receipt.providerMessageId).toBe('777000111:61');
    expect(bot.requests.map((r) => r.url.replace(`/bot${botToken}/`, ''))).toEqual(['sendPhoto', 'sendDocument', 'sendDocument']);
  });

  it.each([
    [429, { ok: false, error_code: 429, description: 'Too Many Requests: retry after 7', parameters: { retry_after: 7 } }, 'rate_limited', 7],
    [403, { ok: false, error_code: 403, description: 'Forbidden: bot was blocked by the user' }, 'rejected', null],
    [403, { ok: false, error_code: 403, description: 'Forbidden: bot was kicked from the group chat' }, 'rejected', null],
    [400, { ok: false, error_code: 400, description: 'Bad Request: chat not found' }, 'rejected', null],
    [401, { ok: false, error_code: 401, description: 'Unauthorized' }, 'unauthorized', null],
    [404, { ok: false, error_code: 404, description: 'Not Found' }, 'unauthorized', null],
    [502, { ok: false, error_code: 502, description: 'Bad Gateway' }, 'provider_unavailable', null],
  ] as const)('maps HTTP %i %j to %s', async (status, body, kind, retryAfter) => {
    bot.answer(() => ({ status, json: body }));

    const error = await thrown(() => adapters.sender('telegram').send(outbound(connection, { to: '777000111' })));

    expect(error).toBeInstanceOf(ProviderSendError);
    expect(error).toMatchObject({ kind, code: String(status), retryAfterSeconds: retryAfter, httpStatus: status });
    expect(error.message).toBe(`Telegram sendMessage: ${body.description}`);
    expect(error.message).not.toContain(botToken);
  });

  it('redacts a /bot<token>/ path a provider echoes back', async () => {
    bot.answer(() => ({ status: 404, json: { ok: false, error_code: 404, description: `Not Found: /bot${botToken}/sendMessage` } }));
    const error = await thrown(() => adapters.sender('telegram').send(outbound(connection)));
    expect(error.message).toBe('Telegram sendMessage: Not Found: /bot[redacted]/sendMessage');
  });

  it('times out without the token (which is in the URL) in the message', async () => {
    bot.answer(() => ({ hang: true }));
    const error = await thrown(() => adapters.sender('telegram').send(outbound(connection)));
    expect(error).toMatchObject({ kind: 'timeout', code: 'timeout', retryable: true });
    expect(error.message).not.toContain(botToken);
    expect(error.message).not.toContain('123456789');
  });

  it('sets the webhook with the secret token and the update kinds we handle, then reads the bot’s username', async () => {
    bot.answer((request) =>
      request.url.endsWith('/setWebhook')
        ? { json: { ok: true, result: true, description: 'Webhook was set' } }
        : { json: { ok: true, result: { id: 123456789, is_bot: true, first_name: 'Support', username: 'acme_support_bot', can_join_groups: true } } },
    );

    const result = await adapters.telegramSetWebhook(connection, 'https://hooks.example.com/hooks/telegram/chc_tg');

    expect(result).toEqual({ botUsername: 'acme_support_bot' });
    expect(bot.requests.map((r) => [r.method, r.url, r.json])).toEqual([
      [
        'POST',
        `/bot${botToken}/setWebhook`,
        {
          url: 'https://hooks.example.com/hooks/telegram/chc_tg',
          secret_token: 'hook_secret_token_abc',
          allowed_updates: ['message', 'edited_message', 'my_chat_member'],
          drop_pending_updates: false,
        },
      ],
      ['POST', `/bot${botToken}/getMe`, {}],
    ]);
  });

  it('asks Telegram for every update kind the webhook reads, so a block (my_chat_member) reaches it', () => {
    expect([...telegramAllowedUpdates].sort()).toEqual([...telegramHandledUpdates].sort());
  });

  it('reports Telegram refusing the webhook as a ProviderSendError', async () => {
    bot.answer(() => ({ status: 400, json: { ok: false, error_code: 400, description: 'Bad Request: bad webhook: HTTPS url must be provided for webhook' } }));
    const error = await thrown(() => adapters.telegramSetWebhook(connection, 'http://insecure.example.com/hook'));
    expect(error).toMatchObject({ kind: 'rejected', code: '400' });
  });

  it('fetches a file through getFile and /file/bot<token>/<file_path>', async () => {
    bot.answer((request) =>
      request.url.endsWith('/getFile')
        ? { json: { ok: true, result: { file_id: 'AgACAgIAAxkBAAIB', file_unique_id: 'AQADx', file_size: 9, file_path: 'photos/file_7.jpg' } } }
        : { body: 'jpg-bytes', headers: { 'content-type': 'image/jpeg' } },
    );

    const file = await adapters.fetchMedia(
      connection,
      { kind: 'image', providerMediaId: 'AgACAgIAAxkBAAIB', url: null, mimeType: null, fileName: null, caption: null, sizeBytes: 9 },
      1024,
    );

    expect(Buffer.from(file.bytes).toString()).toBe('jpg-bytes');
    expect(file).toMatchObject({ mimeType: 'image/jpeg', fileName: 'file_7.jpg' });
    expect(bot.requests.map((r) => [r.method, r.url, r.json])).toEqual([
      ['POST', `/bot${botToken}/getFile`, { file_id: 'AgACAgIAAxkBAAIB' }],
      ['GET', `/file/bot${botToken}/photos/file_7.jpg`, null],
    ]);
  });

  it('refuses a file getFile says is larger than maxBytes', async () => {
    bot.answer(() => ({ json: { ok: true, result: { file_id: 'f', file_unique_id: 'u', file_size: 5000, file_path: 'documents/file_1.pdf' } } }));
    const error = await thrown(() =>
      adapters.fetchMedia(connection, { kind: 'document', providerMediaId: 'f', url: null, mimeType: null, fileName: null, caption: null, sizeBytes: null }, 1000),
    );
    expect(error).toMatchObject({ kind: 'rejected', code: 'too_large' });
    expect(bot.requests).toHaveLength(1);
  });
});
