/**
 * The provider sandbox: one loopback HTTP server playing Meta's WhatsApp Cloud API (`/v23.0/...`), the
 * Telegram Bot API (`/bot<token>/...`), Twilio's REST API (`/2010-04-01/...`) and SES v2
 * (`/v2/email/outbound-emails`) with SNS-signed SES notifications, so the product's adapters can point
 * their base URLs at it under `npm start` and in tests. Each provider's file cites the documentation it
 * follows (whatsapp.ts, telegram.ts, twilio.ts, ses.ts).
 *
 * The admin API, under `/_sandbox/` (JSON in and out):
 * - `POST accounts`    register what a provider console would hold (see `accountSchema` below)
 * - `GET accounts`     what is registered (secrets included: it is a sandbox)
 * - `POST behaviour`   status callbacks: delayMs, repeat, shuffle, dropRate, failRate, read, open, ...
 * - `POST faults`      `{rate, kinds: ['5xx'|'429'|'timeout'|'slow_accept'|'drop_callbacks'], timeoutMs, seed, providers, kindProviders}`
 * - `POST recipients`  `{provider, to, error: 'blocked'|'invalid'|'unsubscribed'|null}`: how a send to them is refused
 * - `POST flush`       post every pending callback now; answers when none is left
 * - `GET sends?provider=&to=`  accepted sends, and a count per (provider, to, text)
 * - `GET callbacks?provider=&state=`  every webhook posted (or dropped), with each attempt's outcome
 * - `POST status`      `{provider, providerMessageId, status}`: post one more status callback for a send
 * - `POST reply`       `{provider, account?, from, fromName?, text, replyTo?, media?, edit?, kind?: 'call'}`:
 *                      the contact writes (or calls); answers with the webhook's HTTP status
 * - `GET subscriptions` the SNS subscriptions confirmed through `GET /sns/?Action=ConfirmSubscription`
 * - `POST reset`       forget sends, callbacks and knobs (`{accounts: true}`: accounts too)
 * And `GET /sns/SimpleNotificationService-sandbox.pem`: the certificate SNS notifications are signed with;
 * `GET /sns/?Action=ConfirmSubscription&TopicArn=&Token=`: a `SubscribeURL` visited, as SNS answers it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Dispatcher } from './dispatcher';
import { readBody, sendJson, type Ctx } from './http';
import {
  handleSes,
  handleSnsApi,
  sesEventCallback,
  sesEventNames,
  sesReply,
  sesSendPath,
  snsApiPath,
  snsCertificatePath,
  snsSigningCert,
} from './ses';
import {
  faultKinds,
  SandboxState,
  type Behaviour,
  type Faults,
  type RecipientError,
  type SandboxCallback,
  type SandboxProvider,
} from './state';
import { handleTelegram, isTelegramPath, telegramReply } from './telegram';
import {
  handleTwilio,
  isTwilioPath,
  twilioCallStatusCallback,
  twilioInboundCall,
  twilioMessageStatusCallback,
  twilioReply,
} from './twilio';
import { handleWhatsApp, isWhatsAppPath, whatsappReply, whatsappStatusCallback } from './whatsapp';

export { SandboxState } from './state';
export { sandboxSnsEnvironment } from './ses';
export type { Behaviour, Faults, SandboxCallback, SandboxSend, SandboxProvider } from './state';

/** The Graph API version the sandbox is addressed with: `WHATSAPP_API_BASE_URL=<url>/v23.0`. */
export const whatsappApiVersion = 'v23.0';

export interface ProviderSandbox {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  url: string;
  state: SandboxState;
  /** Posts every pending callback now. */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

export interface ProviderSandboxOptions {
  port?: number;
  host?: '127.0.0.1';
  /** Take any well-formed Telegram bot token as a bot (`npm start`); tests keep the default: unknown is 401. */
  acceptUnknownTelegramBots?: boolean;
}

export const startProviderSandbox = async (
  options: ProviderSandboxOptions = {},
): Promise<ProviderSandbox> => {
  const state = new SandboxState();
  state.acceptUnknownTelegramBots = options.acceptUnknownTelegramBots ?? false;
  const dispatcher = new Dispatcher(state);
  const held = new Set<ServerResponse>();
  const host = options.host ?? '127.0.0.1';
  let baseUrl = '';

  const server = createServer((req, res) => {
    void route(req, res).catch((error: Error) => {
      if (!res.headersSent) sendJson({ res } as Ctx, 500, { error: 'sandbox_error', message: error.message });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;

  const route = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', baseUrl);
    const rawBody = await readBody(req);
    const ctx: Ctx = {
      req,
      res,
      method: req.method ?? 'GET',
      url,
      path: url.pathname,
      rawBody,
      state,
      dispatcher,
      baseUrl,
      held,
    };
    const path = ctx.path;
    if (path.startsWith('/_sandbox/')) return admin(ctx);
    if (path === snsCertificatePath && ctx.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/x-pem-file' });
      return void res.end(snsSigningCert);
    }
    if (path === snsApiPath) return handleSnsApi(ctx);
    if (path === sesSendPath) return handleSes(ctx);
    if (isTwilioPath(path)) return handleTwilio(ctx);
    if (isTelegramPath(path)) return handleTelegram(ctx);
    if (isWhatsAppPath(path)) return handleWhatsApp(ctx);
    sendJson(ctx, 404, { error: 'not_found', message: `The sandbox serves no ${ctx.method} ${path}` });
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  baseUrl = `http://${host}:${(server.address() as AddressInfo).port}`;

  return {
    url: baseUrl,
    state,
    flush: () => dispatcher.flush(),
    stop: async () => {
      dispatcher.stop();
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};

// ---- the admin API ----

const bad = (ctx: Ctx, message: string, status = 400) =>
  sendJson(ctx, status, { error: 'bad_request', message });

const jsonBody = (ctx: Ctx): Record<string, unknown> => {
  const text = ctx.rawBody.toString('utf8').trim();
  if (text === '') return {};
  const parsed = JSON.parse(text) as unknown;
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new Error('Expected a JSON object');
  return parsed as Record<string, unknown>;
};

const str = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

const admin = async (ctx: Ctx): Promise<void> => {
  const action = ctx.path.slice('/_sandbox/'.length);
  let body: Record<string, unknown>;
  try {
    body = ctx.method === 'GET' ? {} : jsonBody(ctx);
  } catch (error) {
    return bad(ctx, (error as Error).message);
  }
  const { state } = ctx;
  switch (`${ctx.method} ${action}`) {
    case 'POST accounts':
      return registerAccount(ctx, body);
    case 'GET accounts':
      return sendJson(ctx, 200, {
        whatsapp: [...state.whatsapp.values()],
        twilio: [...state.twilio.values()],
        telegram: [...state.telegram.values()].map(({ nextMessageId: _ids, ...account }) => account),
        ses: state.ses,
      });
    case 'GET behaviour':
      return sendJson(ctx, 200, state.behaviour);
    case 'POST behaviour':
      state.setBehaviour(pick(body, Object.keys(state.behaviour)) as Partial<Behaviour>);
      return sendJson(ctx, 200, state.behaviour);
    case 'GET faults':
      return sendJson(ctx, 200, { ...state.faults, met: Object.fromEntries(state.faultsMet) });
    case 'POST faults': {
      const patch = pick(body, Object.keys(state.faults)) as Partial<Faults>;
      if (patch.kinds && !patch.kinds.every((kind) => (faultKinds as readonly string[]).includes(kind))) {
        return bad(ctx, `kinds are among ${faultKinds.join(', ')}`);
      }
      if (patch.kindProviders !== undefined) {
        const entries = typeof patch.kindProviders === 'object' && patch.kindProviders ? Object.entries(patch.kindProviders) : null;
        if (!entries || !entries.every(([kind, list]) => (faultKinds as readonly string[]).includes(kind) && Array.isArray(list))) {
          return bad(ctx, `kindProviders maps kinds among ${faultKinds.join(', ')} to provider lists`);
        }
      }
      state.setFaults(patch);
      return sendJson(ctx, 200, state.faults);
    }
    case 'POST recipients': {
      const provider = str(body.provider) as SandboxProvider | null;
      const to = str(body.to);
      if (!provider || !to) return bad(ctx, 'provider and to are required');
      const key = `${provider}:${provider === 'ses' ? to.toLowerCase() : to}`;
      if (body.error === null || body.error === undefined) state.recipientErrors.delete(key);
      else state.recipientErrors.set(key, body.error as RecipientError);
      return sendJson(ctx, 200, { provider, to, error: body.error ?? null });
    }
    case 'POST flush': {
      const started = performance.now();
      await ctx.dispatcher.flush();
      return sendJson(ctx, 200, { flushed: true, ms: Math.round(performance.now() - started) });
    }
    case 'GET sends': {
      const provider = ctx.url.searchParams.get('provider');
      const to = ctx.url.searchParams.get('to');
      const sends = state.sends.filter((s) => (!provider || s.provider === provider) && (!to || s.to === to));
      return sendJson(ctx, 200, { total: sends.length, sends, counts: state.counts(sends) });
    }
    case 'GET callbacks': {
      const provider = ctx.url.searchParams.get('provider');
      const wanted = ctx.url.searchParams.get('state');
      const callbacks = state.callbacks.filter(
        (c) => (!provider || c.provider === provider) && (!wanted || c.state === wanted),
      );
      return sendJson(ctx, 200, { total: callbacks.length, pending: ctx.dispatcher.pending, callbacks });
    }
    case 'POST status':
      return extraStatus(ctx, body);
    case 'POST reply':
      return reply(ctx, body);
    case 'GET subscriptions':
      return sendJson(ctx, 200, { subscriptions: state.snsSubscriptions });
    case 'POST reset':
      ctx.dispatcher.cancel();
      state.reset(body.accounts === true);
      return sendJson(ctx, 200, { reset: true });
    default:
      return bad(ctx, `No sandbox action ${ctx.method} /_sandbox/${action}`, 404);
  }
};

const pick = (body: Record<string, unknown>, keys: string[]) =>
  Object.fromEntries(Object.entries(body).filter(([key]) => keys.includes(key)));

const registerAccount = (ctx: Ctx, body: Record<string, unknown>) => {
  const { state } = ctx;
  switch (body.provider) {
    case 'whatsapp': {
      const phoneNumberId = str(body.phoneNumberId);
      const accessToken = str(body.accessToken);
      const appSecret = str(body.appSecret);
      const webhookUrl = str(body.webhookUrl);
      if (!phoneNumberId || !accessToken || !appSecret || !webhookUrl) {
        return bad(ctx, 'whatsapp needs phoneNumberId, accessToken, appSecret and webhookUrl');
      }
      const account = {
        provider: 'whatsapp' as const,
        phoneNumberId,
        displayPhoneNumber: (str(body.displayPhoneNumber) ?? '15550000000').replace(/^\+/, ''),
        accessToken,
        appSecret,
        webhookUrl,
        wabaId: str(body.wabaId) ?? `10${phoneNumberId.replace(/\D/g, '').slice(0, 13).padEnd(13, '0')}`,
      };
      state.whatsapp.set(phoneNumberId, account);
      return sendJson(ctx, 201, account);
    }
    case 'twilio': {
      const accountSid = str(body.accountSid);
      const authToken = str(body.authToken);
      const phoneNumber = str(body.phoneNumber);
      if (!accountSid || !authToken || !phoneNumber)
        return bad(ctx, 'twilio needs accountSid, authToken and phoneNumber');
      const account = {
        provider: 'twilio' as const,
        accountSid,
        authToken,
        phoneNumber,
        smsUrl: str(body.smsUrl),
        voiceUrl: str(body.voiceUrl),
      };
      state.twilio.set(accountSid, account);
      return sendJson(ctx, 201, account);
    }
    case 'telegram': {
      const botToken = str(body.botToken);
      if (!botToken || !/^\d+:[A-Za-z0-9_-]+$/.test(botToken))
        return bad(ctx, 'telegram needs botToken (<bot id>:<secret>)');
      const existing = state.telegram.get(botToken);
      const account = existing ?? {
        provider: 'telegram' as const,
        botToken,
        botUsername: (str(body.botUsername) ?? `sandbox_${botToken.split(':')[0]}_bot`).replace(/^@/, ''),
        webhook: null,
        nextUpdateId: 100_000_000 + Math.floor(Math.random() * 1_000_000),
        nextMessageId: new Map<string, number>(),
      };
      if (existing && str(body.botUsername)) existing.botUsername = str(body.botUsername)!.replace(/^@/, '');
      state.telegram.set(botToken, account);
      const { nextMessageId: _ids, ...shown } = account;
      return sendJson(ctx, 201, shown);
    }
    case 'ses': {
      const fromAddresses = Array.isArray(body.fromAddresses)
        ? body.fromAddresses.map(String)
        : str(body.fromAddress)
          ? [str(body.fromAddress)!]
          : [];
      const domain = str(body.domain)?.toLowerCase() ?? null;
      const topicArn = str(body.topicArn);
      if ((fromAddresses.length === 0 && !domain) || !topicArn)
        return bad(ctx, 'ses needs fromAddresses or domain, and topicArn');
      const account = {
        provider: 'ses' as const,
        fromAddresses,
        domain,
        topicArn,
        webhookUrl: str(body.webhookUrl),
        receiptTopicArn: str(body.receiptTopicArn) ?? topicArn,
        receiptWebhookUrl: str(body.receiptWebhookUrl),
      };
      const index = state.ses.findIndex((a) => a.topicArn === topicArn);
      if (index >= 0) state.ses[index] = account;
      else state.ses.push(account);
      return sendJson(ctx, 201, account);
    }
    default:
      return bad(ctx, 'provider is whatsapp, twilio, telegram or ses');
  }
};

/** One more status callback for an accepted send (a late, repeated or failing one), posted at once. */
const extraStatus = async (ctx: Ctx, body: Record<string, unknown>) => {
  const { state } = ctx;
  const provider = str(body.provider);
  const status = str(body.status);
  const send = state.sendsById.get(`${provider}:${str(body.providerMessageId)}`);
  if (!send || !status)
    return bad(
      ctx,
      'provider, providerMessageId (of an accepted send) and status are required',
      send ? 400 : 404,
    );
  let callback: SandboxCallback | null = null;
  if (send.provider === 'whatsapp') {
    const account = state.whatsapp.get(send.account)!;
    callback = whatsappStatusCallback(
      state,
      account,
      send,
      status,
      typeof body.errorCode === 'number' ? body.errorCode : undefined,
    );
  } else if (send.provider === 'twilio') {
    const account = state.twilio.get(send.account)!;
    if (!send.meta.statusCallback) return bad(ctx, 'That send gave no StatusCallback');
    callback =
      send.kind === 'call'
        ? twilioCallStatusCallback(state, account, send, status, Number(body.sequence ?? 99))
        : twilioMessageStatusCallback(state, account, send, status, str(body.errorCode) ?? undefined);
  } else if (send.provider === 'ses') {
    const account = state.sesAccountFor(String(send.meta.from));
    if (!sesEventNames.includes(status)) return bad(ctx, `SES status is one of ${sesEventNames.join(', ')}`);
    callback = account ? sesEventCallback(state, account, send, status) : null;
  } else {
    return bad(ctx, 'Telegram reports no delivery statuses');
  }
  if (!callback) return bad(ctx, 'No subscriber for that callback');
  await ctx.dispatcher.schedule([callback], { plain: true });
  return sendJson(ctx, 200, { callback: summary(callback) });
};

const summary = (callback: SandboxCallback) => ({
  id: callback.id,
  url: callback.url,
  event: callback.event,
  providerMessageId: callback.providerMessageId,
  state: callback.state,
  status: callback.attempts.at(-1)?.status ?? null,
  attempts: callback.attempts,
});

/** The contact writes (or calls): the provider's inbound webhook, posted now; answers with its outcome. */
const reply = async (ctx: Ctx, body: Record<string, unknown>) => {
  const { state } = ctx;
  const provider = str(body.provider);
  const account = str(body.account);
  const from = str(body.from);
  const text = typeof body.text === 'string' ? body.text : '';
  if (!from) return bad(ctx, 'from is required');
  const media =
    body.media && typeof body.media === 'object'
      ? (body.media as Record<string, string>)
      : body.media === true
        ? {}
        : undefined;
  const input = {
    from,
    fromName: str(body.fromName) ?? undefined,
    text,
    replyTo: str(body.replyTo) ?? undefined,
    media,
  };
  let callback: SandboxCallback | null = null;
  let missing = '';
  switch (provider) {
    case 'whatsapp': {
      const target = account ? state.whatsapp.get(account) : [...state.whatsapp.values()][0];
      if (!target) return bad(ctx, 'No such WhatsApp account (phoneNumberId)', 404);
      callback = whatsappReply(state, target, input);
      break;
    }
    case 'twilio': {
      const target = account ? state.twilio.get(account) : [...state.twilio.values()][0];
      if (!target) return bad(ctx, 'No such Twilio account (accountSid)', 404);
      callback =
        body.kind === 'call'
          ? twilioInboundCall(state, target, from)
          : twilioReply(state, ctx.baseUrl, target, input);
      missing = body.kind === 'call' ? 'The number has no voiceUrl' : 'The number has no smsUrl';
      break;
    }
    case 'telegram': {
      const accounts = [...state.telegram.values()];
      const target = account
        ? accounts.find((a) => a.botUsername === account.replace(/^@/, '') || a.botToken === account)
        : accounts[0];
      if (!target) return bad(ctx, 'No such Telegram bot (username)', 404);
      callback = telegramReply(state, target, {
        ...input,
        username: str(body.username) ?? undefined,
        edit: str(body.edit) ?? undefined,
      });
      missing = 'The bot has no webhook (setWebhook was not called)';
      break;
    }
    case 'ses': {
      const target = account ? state.sesAccountFor(account) : state.ses[0];
      if (!target) return bad(ctx, 'No SES account for that address', 404);
      callback = sesReply(state, target, {
        ...input,
        to: str(body.to) ?? (account?.includes('@') ? account : undefined),
        subject: str(body.subject) ?? undefined,
      });
      missing = 'The SES account has no receiptWebhookUrl';
      break;
    }
    default:
      return bad(ctx, 'provider is whatsapp, twilio, telegram or ses');
  }
  if (!callback) return bad(ctx, missing, 409);
  await ctx.dispatcher.schedule([callback], { plain: true });
  return sendJson(ctx, 200, summary(callback));
};
