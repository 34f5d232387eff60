import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.LOG_LEVEL = 'DEBUG';
  process.env.HOOKS_BASE_URL = 'https://hooks.example.com/';
});

import {
  findConnectionForWebhook,
  openConnectionSecret,
  type ChannelConnectionItem,
} from '../../domain/channels/connections/channel-connections.service';
import { telegramSecretTokenPattern } from '../../domain/channels/telegram-webhook';
import { resetConfig } from '../../functions/shared/config';
import { startProviderSandbox, type ProviderSandbox } from '../../local/provider-sandbox';
import { createTestStack, seedWorkspace, type ApiResponse, type TestStack } from '../support/test-stack';

let stack: TestStack;
let acme: Awaited<ReturnType<typeof seedWorkspace>>;
let globex: Awaited<ReturnType<typeof seedWorkspace>>;

let sandbox: ProviderSandbox;

beforeAll(async () => {
  stack = await createTestStack();
  // Telegram is the sandbox here: it knows the bot (as @BotFather would), and no other token.
  sandbox = await startProviderSandbox();
  process.env.TELEGRAM_API_BASE_URL = sandbox.url;
  resetConfig();
  await fetch(`${sandbox.url}/_sandbox/accounts`, {
    method: 'POST',
    body: JSON.stringify({ provider: 'telegram', botToken: secret.botToken, botUsername: 'acme_support_bot' }),
  });
  stopCapture = captureLogs();
  [acme, globex] = await Promise.all([seedWorkspace(stack, 'Acme'), seedWorkspace(stack, 'Globex')]);
});
afterAll(async () => {
  stopCapture?.();
  await sandbox?.stop();
  await stack.destroy();
});
let stopCapture: (() => void) | undefined;

/** Credentials that must never show anywhere but sealed in the table. */
const secret = {
  accessToken: 'EAAGsecretAccessToken0123456789abcdef',
  appSecret: 'appsecret0f1e2d3c4b5a69788796a5b4c3d2',
  verifyToken: 'verify-token-7c1f0e2d',
  botToken: '123456789:AAHsecretBotTokenZyXwVuTsRqPoNmLkJi',
  webhookSecretToken: 'tg-secret-token-5d4c3b2a19',
  authToken: '9f8e7d6c5b4a39281706f5e4d3c2b1a0',
  replacedAccessToken: 'EAAGreplacedAccessTokenfedcba9876543210',
};

const inputs = {
  email: {
    kind: 'email',
    name: 'Support mail',
    settings: { sesIdentity: 'Acme.example.com', fromAddress: 'support@acme.example.com', replyDomain: 'reply.acme.example.com' },
  },
  whatsapp: {
    kind: 'whatsapp',
    name: 'Support WhatsApp',
    settings: { phoneNumberId: '106540352242922' },
    secrets: { accessToken: secret.accessToken, appSecret: secret.appSecret, verifyToken: secret.verifyToken },
  },
  telegram: {
    kind: 'telegram',
    name: 'Acme bot',
    settings: { botUsername: 'acme_support_bot' },
    secrets: { botToken: secret.botToken, webhookSecretToken: secret.webhookSecretToken },
  },
  sms: {
    kind: 'sms',
    name: 'Twilio US',
    settings: { accountSid: `AC${'0123456789abcdef'.repeat(2)}`, senderNumber: '+12025550143' },
    secrets: { authToken: secret.authToken },
  },
} as const;

/** Every request's response, for the search for secrets at the end. */
const responses: ApiResponse[] = [];
/** Every connection this file made. */
const createdIds: string[] = [];
/** Every line the logger wrote during this file's requests. */
const logLines: string[] = [];

/** Captures what the logger writes (stdout, console) from here on, for the whole file: requests run concurrently. */
function captureLogs(): () => void {
  const capture = (chunk: unknown) => {
    logLines.push(String(chunk));
    return true;
  };
  const spies = [
    vi.spyOn(process.stdout, 'write').mockImplementation(capture as typeof process.stdout.write),
    ...(['info', 'log', 'warn', 'error', 'debug'] as const).map((level) =>
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void capture(args.join(' '))),
    ),
  ];
  return () => spies.forEach((spy) => spy.mockRestore());
}

async function api(method: string, path: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  const res = await stack.api(method, path, { token: acme.owner.token, ...options });
  responses.push(res);
  if (method === 'POST' && path === '/v1/channels' && res.status === 201) createdIds.push(res.body.id);
  return res;
}

const readItem = async (connectionId: string) =>
  (await stack.deps.db.entities.channelConnection.get({ workspaceId: acme.workspace.id, connectionId }).go({ consistent: true }))
    .data as ChannelConnectionItem;

describe('connecting a channel', () => {
  it('stores each kind’s settings, seals its credentials and shows only which are set, and the webhook URL', async () => {
    // Act
    const created = await Promise.all(Object.values(inputs).map((body) => api('POST', '/v1/channels', { body })));

    // Assess
    for (const res of created) expect(res.status, JSON.stringify(res.body)).toBe(201);
    const [email, whatsapp, telegram, sms] = created.map((res) => res.body);
    expect(email).toMatchObject({
      kind: 'email',
      status: 'active',
      settings: { sesIdentity: 'acme.example.com', fromAddress: 'support@acme.example.com', replyDomain: 'reply.acme.example.com' },
      secrets: {},
      webhook: { path: `/hooks/ses/${email.id}`, url: `https://hooks.example.com/hooks/ses/${email.id}` },
      version: 1,
      createdBy: acme.owner.user.id,
      disconnectedAt: null,
    });
    expect(email.id).toMatch(/^chc_[0-9A-Z]{26}$/);
    expect(whatsapp).toMatchObject({
      settings: { phoneNumberId: '106540352242922' },
      secrets: { accessToken: true, appSecret: true, verifyToken: true },
      webhook: { path: `/hooks/whatsapp/${whatsapp.id}` },
    });
    expect(telegram).toMatchObject({ settings: { botUsername: 'acme_support_bot' }, secrets: { botToken: true, webhookSecretToken: true } });
    expect(sms).toMatchObject({ secrets: { authToken: true }, webhook: { path: `/hooks/twilio/${sms.id}` } });
    expect(created[1]!.headers.etag).toBe('"1"');
    expect(created[1]!.headers.location).toBe(`/v1/channels/${whatsapp.id}`);

    // At rest: sealed, bound to the workspace, the connection and the secret's name.
    const item = await readItem(whatsapp.id);
    expect(JSON.stringify(item)).not.toContain(secret.accessToken);
    expect(Object.keys(item.secrets).sort()).toEqual(['accessToken', 'appSecret', 'verifyToken']);
    expect(await openConnectionSecret(stack, item, 'accessToken')).toBe(secret.accessToken);
    expect(await openConnectionSecret(stack, item, 'verifyToken')).toBe(secret.verifyToken);
    await expect(
      stack.sealer.open(item.secrets.accessToken!, { workspaceId: globex.workspace.id, connectionId: item.connectionId, secret: 'accessToken' }),
    ).rejects.toThrow();
    await expect(
      stack.sealer.open(item.secrets.accessToken!, { workspaceId: acme.workspace.id, connectionId: item.connectionId, secret: 'appSecret' }),
    ).rejects.toThrow();
  });

  it('generates Telegram’s webhook secret token when none is given', async () => {
    const res = await api('POST', '/v1/channels', {
      body: { kind: 'telegram', name: 'Second bot', secrets: { botToken: secret.botToken } },
    });
    expect(res.status).toBe(201);
    // The username comes from Telegram (getMe), not from the caller.
    expect(res.body).toMatchObject({ settings: { botUsername: 'acme_support_bot' }, secrets: { botToken: true, webhookSecretToken: true } });
    const generated = await openConnectionSecret(stack, await readItem(res.body.id), 'webhookSecretToken');
    expect(generated).toMatch(telegramSecretTokenPattern);
    expect(generated!.length).toBeGreaterThanOrEqual(40);
    // The bot now posts to this connection's webhook, with that secret token.
    const info = (await (await fetch(`${sandbox.url}/bot${secret.botToken}/getWebhookInfo`)).json()) as { result: { url: string } };
    expect(info.result.url).toBe(`https://hooks.example.com/hooks/telegram/${res.body.id}`);
    const { telegram } = (await (await fetch(`${sandbox.url}/_sandbox/accounts`)).json()) as {
      telegram: { botToken: string; webhook: { secretToken: string } | null }[];
    };
    expect(telegram.find((account) => account.botToken === secret.botToken)?.webhook?.secretToken).toBe(generated);
  });

  it('refuses a bot token Telegram does not know (422 provider_refused), writing nothing', async () => {
    const before = await api('GET', '/v1/channels?limit=100');
    const res = await api('POST', '/v1/channels', {
      body: { kind: 'telegram', name: 'Unknown bot', secrets: { botToken: '987654321:AAHunknownBotTokenZyXwVuTsRqPoNmLk' } },
    });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ reason: 'provider_refused' });
    expect(JSON.stringify(res.body)).not.toContain('AAHunknownBotToken');
    const after = await api('GET', '/v1/channels?limit=100');
    expect(after.body.items).toHaveLength(before.body.items.length);
  });

  it('refuses a body that does not fit its kind: unknown fields, secrets on email, bad shapes (400)', async () => {
    const refusals = await Promise.all(
      [
        { ...inputs.whatsapp, secrets: { ...inputs.whatsapp.secrets, extra: 'x' } },
        { ...inputs.email, secrets: { accessToken: secret.accessToken } },
        { ...inputs.sms, settings: { ...inputs.sms.settings, accountSid: 'AC123' } },
        { ...inputs.telegram, secrets: { botToken: 'not-a-token', webhookSecretToken: 'has spaces in it' } },
        { ...inputs.email, settings: { ...inputs.email.settings, fromAddress: 'someone@elsewhere.com' } },
        { ...inputs.whatsapp, kind: 'fax' },
        { kind: 'whatsapp', name: 'No secrets', settings: inputs.whatsapp.settings },
      ].map((body) => api('POST', '/v1/channels', { body })),
    );
    for (const res of refusals) expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(JSON.stringify(refusals[4]!.body)).toContain('body.settings.fromAddress');
  });

  it('is for owners and admins: a member gets 403 on every route', async () => {
    const { body: connection } = await api('POST', '/v1/channels', { body: inputs.sms, token: acme.admin.token });
    expect(connection.id).toBeDefined();
    const token = acme.member.token;
    const answers = await Promise.all([
      api('GET', '/v1/channels', { token }),
      api('POST', '/v1/channels', { token, body: inputs.sms }),
      api('GET', `/v1/channels/${connection.id}`, { token }),
      api('PATCH', `/v1/channels/${connection.id}`, { token, body: { kind: 'sms', name: 'Mine' } }),
      api('POST', `/v1/channels/${connection.id}/disconnect`, { token }),
      api('POST', `/v1/channels/${connection.id}/reconnect`, { token }),
    ]);
    expect(answers.map((res) => res.status)).toEqual([403, 403, 403, 403, 403, 403]);
    expect((await api('GET', `/v1/channels/${connection.id}`, { token: acme.admin.token })).status).toBe(200);
  });

  it('hides another workspace’s connections: 404, and not in its list', async () => {
    const { body: connection } = await api('POST', '/v1/channels', { body: inputs.whatsapp });
    const token = globex.owner.token;
    const answers = await Promise.all([
      api('GET', `/v1/channels/${connection.id}`, { token }),
      api('PATCH', `/v1/channels/${connection.id}`, { token, body: { kind: 'whatsapp', name: 'Taken' } }),
      api('POST', `/v1/channels/${connection.id}/disconnect`, { token }),
      api('POST', `/v1/channels/${connection.id}/reconnect`, { token }),
    ]);
    expect(answers.map((res) => res.status)).toEqual([404, 404, 404, 404]);
    expect((await api('GET', '/v1/channels', { token })).body.items).toEqual([]);
  });
});

describe('listing', () => {
  it('pages through the workspace’s connections in creation order', async () => {
    const all: { id: string }[] = [];
    let cursor: string | null | undefined;
    do {
      const res = await api('GET', `/v1/channels?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(res.status).toBe(200);
      all.push(...res.body.items);
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(all.length).toBeGreaterThanOrEqual(7);
    expect(all.map((c) => c.id)).toEqual([...all.map((c) => c.id)].sort());
    expect(new Set(all.map((c) => c.id)).size).toBe(all.length);
  });
});

describe('changing a connection', () => {
  it('changes settings and replaces only the secrets given, sealed anew; If-Match and kind are checked', async () => {
    // Prepare
    const { body: created } = await api('POST', '/v1/channels', { body: inputs.whatsapp });
    const before = await readItem(created.id);

    // Act
    const updated = await api('PATCH', `/v1/channels/${created.id}`, {
      body: { kind: 'whatsapp', name: 'Sales WhatsApp', settings: { phoneNumberId: '987654321012' }, secrets: { accessToken: secret.replacedAccessToken } },
      headers: { 'if-match': '"1"' },
    });

    // Assess
    expect(updated.status, JSON.stringify(updated.body)).toBe(200);
    expect(updated.body).toMatchObject({
      name: 'Sales WhatsApp',
      settings: { phoneNumberId: '987654321012' },
      secrets: { accessToken: true, appSecret: true, verifyToken: true },
      version: 2,
    });
    const after = await readItem(created.id);
    expect(after.secrets.accessToken).not.toBe(before.secrets.accessToken);
    expect(after.secrets.appSecret).toBe(before.secrets.appSecret);
    expect(await openConnectionSecret(stack, after, 'accessToken')).toBe(secret.replacedAccessToken);
    expect(await openConnectionSecret(stack, after, 'appSecret')).toBe(secret.appSecret);

    const path = `/v1/channels/${created.id}`;
    expect((await api('PATCH', path, { body: { kind: 'whatsapp', name: 'Late' }, headers: { 'if-match': '"1"' } })).status).toBe(412);
    const wrongKind = await api('PATCH', path, { body: { kind: 'sms', name: 'Other' } });
    expect(wrongKind.status).toBe(422);
    expect(wrongKind.body.code).toBe('unprocessable');
    const unchanged = await api('PATCH', path, { body: { kind: 'whatsapp', name: 'Sales WhatsApp' } });
    expect(unchanged.body.version).toBe(2);
  });

  it('checks an email connection’s From address against its identity after the change (400)', async () => {
    const { body: created } = await api('POST', '/v1/channels', { body: inputs.email });
    const path = `/v1/channels/${created.id}`;
    const refused = await api('PATCH', path, { body: { kind: 'email', settings: { sesIdentity: 'other.example.org' } } });
    expect(refused.status).toBe(400);
    const moved = await api('PATCH', path, {
      body: { kind: 'email', settings: { sesIdentity: 'other.example.org', fromAddress: 'hello@other.example.org' } },
    });
    expect(moved.status).toBe(200);
    expect(moved.body.settings).toEqual({ sesIdentity: 'other.example.org', fromAddress: 'hello@other.example.org', replyDomain: 'reply.acme.example.com' });
  });

  it('disconnects and reconnects, each once, with events that carry no credentials', async () => {
    const { body: created } = await api('POST', '/v1/channels', { body: inputs.telegram });
    const path = `/v1/channels/${created.id}`;
    stack.clock.advance(1000);
    const off = await api('POST', `${path}/disconnect`, { headers: { 'if-match': '"1"' } });
    expect(off.body).toMatchObject({ status: 'disconnected', version: 2 });
    expect(off.body.disconnectedAt).toEqual(expect.any(String));
    expect((await api('POST', `${path}/disconnect`)).body.version).toBe(2);
    expect((await api('POST', `${path}/reconnect`, { headers: { 'if-match': '"1"' } })).status).toBe(412);
    const on = await api('POST', `${path}/reconnect`);
    expect(on.body).toMatchObject({ status: 'active', disconnectedAt: null, version: 3 });
    await api('PATCH', path, { body: { kind: 'telegram', settings: { botUsername: null }, secrets: { botToken: secret.botToken } } });

    const events = await api('GET', `/v1/events?entityType=channel_connection&entityId=${created.id}`);
    expect(events.status).toBe(200);
    const byType = events.body.items.map((event: { type: string; payload: Record<string, unknown> }) => [event.type, event.payload]);
    expect(byType.map(([type]: [string]) => type)).toEqual(['channel.updated', 'channel.connected', 'channel.disconnected', 'channel.connected']);
    expect(byType[0][1]).toEqual({
      connectionId: created.id,
      kind: 'telegram',
      // The bot's username is Telegram's (getMe, when the new token is registered): clearing it changes nothing.
      changes: {},
      secretsReplaced: ['botToken'],
    });
    expect(byType[1][1]).toMatchObject({ reconnected: true });
    expect(byType[3][1]).toEqual({
      connectionId: created.id,
      kind: 'telegram',
      name: 'Acme bot',
      settings: { botUsername: 'acme_support_bot' },
      reconnected: false,
    });
  });
});

describe('the webhook side', () => {
  it('finds a connection by its id alone for its own provider, and opens its credentials', async () => {
    const { body: created } = await api('POST', '/v1/channels', { body: inputs.sms });
    const item = await findConnectionForWebhook(stack.deps, 'twilio', created.id);
    expect(item).toMatchObject({ workspaceId: acme.workspace.id, connectionId: created.id, kind: 'sms' });
    expect(await openConnectionSecret(stack, item!, 'authToken')).toBe(secret.authToken);
    expect(await findConnectionForWebhook(stack.deps, 'whatsapp', created.id)).toBeUndefined();
    expect(await findConnectionForWebhook(stack.deps, 'twilio', 'chc_00000000000000000000000000')).toBeUndefined();
  });
});

describe('credentials are write-only', () => {
  it('never show in a response, an event or a log line of any request above', async () => {
    // Every connection's events, as the API shows them (the responses are searched below).
    for (const id of createdIds) {
      expect((await api('GET', `/v1/events?entityType=channel_connection&entityId=${id}`)).body.items.length).toBeGreaterThan(0);
    }
    const lines = logLines.flatMap((line) => line.split('\n')).filter((line) => line.trim().startsWith('{'));
    expect(lines.filter((line) => line.includes('"Request handled"')).length).toBeGreaterThanOrEqual(responses.length);
    const everything = [JSON.stringify(responses.map((res) => res.raw)), lines.join('\n')].join('\n');
    for (const value of Object.values(secret)) expect(everything).not.toContain(value);
  });
});
