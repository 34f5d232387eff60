/**
 * Receiving a provider's webhook at `/hooks/<provider>/<connectionId>`: the connection the path names
 * (404 when there is none, or it serves another provider: nothing written), WhatsApp's GET handshake,
 * the provider's check on the raw bytes (401 missing, 403 refused: nothing written, the reason
 * logged), the payload parsed into events, the repeats dropped, every event applied, and 200 only
 * once all of them are stored; a failure answers 500 so the provider retries (dedupe makes it safe).
 *
 * Providers' rules (the parsers beside this folder cite their documentation): Meta answers the
 * handshake with `hub.challenge` as the body and signs POSTs with `X-Hub-Signature-256`
 * (https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/create-webhook-endpoint);
 * Telegram echoes `X-Telegram-Bot-Api-Secret-Token` (https://core.telegram.org/bots/api#setwebhook);
 * Twilio signs the public URL and form (https://www.twilio.com/docs/usage/webhooks/webhooks-security)
 * and reads TwiML from a messaging or voice webhook's answer: an empty `<Response/>` does nothing
 * (https://www.twilio.com/docs/messaging/twiml); SNS retries a delivery that is not answered 2xx
 * (https://docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html).
 */
import type { CoreDeps } from '../../shared/deps';
import type { ChannelConnectionItem } from '../connections/channel-connections.service';
import { ignored, type CallEvent, type InboundEvent } from '../inbound-events';
import { parseSesSnsMessage } from '../ses-notifications';
import { verifySnsMessage } from '../sns-message';
import { parseTelegramWebhook, verifyTelegramSecret } from '../telegram-webhook';
import { parseTwilioWebhook, verifyTwilioSignature } from '../twilio-webhook';
import type { RawHeaders, SignatureFailureReason } from '../webhook-signature';
import { parseWhatsAppWebhook, verifyWhatsAppSignature, verifyWhatsAppSubscription } from '../whatsapp-webhook';
import { applyInboundEvent, type ApplyOutcome, type InboundDeps } from './apply-events';
import { uncachedConnections, type ConnectionCache, type OpenedHookConnection } from './connection-cache';

export type { InboundDeps } from './apply-events';

export interface WebhookRequest {
  /** The path's `<provider>`: `whatsapp`, `telegram`, `twilio` or `ses`. */
  provider: string;
  connectionId: string;
  method: string;
  headers: RawHeaders;
  /** The body exactly as received. */
  rawBody: Uint8Array;
  /** The public URL the provider called, query included (Twilio signs it). */
  url: string;
  query: Readonly<Record<string, string | undefined>>;
}

export interface WebhookResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** What a POST did, by outcome (the response body, for people and tests). */
export type WebhookTally = Record<ApplyOutcome, number>;

const day = 86_400;
/** Receipts outlive Meta's 7 days of retries. */
const receiptLifetimeSeconds = 8 * day;

const json = (status: number, body: unknown): WebhookResponse => ({
  status,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});
const notFound = () => json(404, { message: 'Not Found' });
/** Twilio reads TwiML from a messaging or voice webhook's answer: empty means "do nothing". */
const emptyTwiml = (): WebhookResponse => ({
  status: 200,
  headers: { 'content-type': 'text/xml' },
  body: '<?xml version="1.0" encoding="UTF-8"?><Response/>',
});

/** Declines a call without answering it: the caller hears busy, nothing is billed (https://www.twilio.com/docs/voice/twiml/reject). */
const rejectCallTwiml = (): WebhookResponse => ({
  status: 200,
  headers: { 'content-type': 'text/xml' },
  body: '<?xml version="1.0" encoding="UTF-8"?><Response><Reject reason="busy"/></Response>',
});

type Verified = { ok: true; events: InboundEvent[] } | { ok: false; reason: SignatureFailureReason | 'not_configured'; detail: string };

/** The status a refused request gets: 401 without credentials, 503 when SNS's certificate is out of reach (SNS retries), else 403. */
const refusalStatus = (reason: SignatureFailureReason | 'not_configured') =>
  reason === 'missing' ? 401 : reason === 'certificate_unavailable' ? 503 : 403;

async function verifyAndParse(deps: InboundDeps, opened: OpenedHookConnection, request: WebhookRequest): Promise<Verified> {
  const connection = opened.item;
  const secret = (name: string) => opened.secret(name);
  const unconfigured = (what: string): Verified => ({ ok: false, reason: 'not_configured', detail: `The connection has no ${what}` });
  switch (connection.kind) {
    case 'whatsapp': {
      const appSecret = await secret('appSecret');
      if (!appSecret) return unconfigured('app secret');
      const check = verifyWhatsAppSignature(request.rawBody, request.headers, appSecret);
      return check.ok ? { ok: true, events: parseWhatsAppWebhook(request.rawBody) } : check;
    }
    case 'telegram': {
      const token = await secret('webhookSecretToken');
      if (!token) return unconfigured('webhook secret token');
      const check = verifyTelegramSecret(request.headers, token);
      return check.ok ? { ok: true, events: parseTelegramWebhook(request.rawBody) } : check;
    }
    case 'sms': {
      const authToken = await secret('authToken');
      if (!authToken) return unconfigured('auth token');
      const check = verifyTwilioSignature({ url: request.url, rawBody: request.rawBody, headers: request.headers }, authToken);
      return check.ok ? { ok: true, events: parseTwilioWebhook(request.rawBody, request.url) } : check;
    }
    case 'email': {
      const topics = (connection.settings.snsTopicArns as string[] | undefined) ?? [];
      const check = await verifySnsMessage(request.rawBody, {
        expectedTopicArns: topics,
        certificates: deps.certificates,
        now: new Date(deps.clock.nowMs()),
      });
      return check.ok ? { ok: true, events: parseSesSnsMessage(check.message) } : check;
    }
  }
}

/** Answers a provider's webhook request (the Function URL handler's one call). */
export async function receiveWebhook(
  deps: InboundDeps & { connections?: ConnectionCache },
  request: WebhookRequest,
): Promise<WebhookResponse> {
  const opened = await (deps.connections ?? uncachedConnections(deps)).get(request.provider, request.connectionId);
  if (!opened) return notFound();
  const connection = opened.item;
  // A disconnected connection sends nothing, but what a contact writes on it is still stored: nothing
  // they wrote is lost, and the inbox shows it (replies wait until it is connected again).
  const where = { provider: request.provider, connectionId: connection.connectionId, workspaceId: connection.workspaceId };
  const method = request.method.toUpperCase();
  if (method === 'GET' && connection.kind === 'whatsapp') {
    const verifyToken = await opened.secret('verifyToken');
    const handshake = verifyToken
      ? verifyWhatsAppSubscription(request.query, verifyToken)
      : ({ ok: false, reason: 'mismatch', detail: 'The connection has no verify token' } as const);
    if (!handshake.ok) {
      deps.log.warn('Webhook handshake refused', { ...where, reason: handshake.reason, detail: handshake.detail });
      return { status: 403, headers: { 'content-type': 'text/plain' }, body: 'Forbidden' };
    }
    return { status: 200, headers: { 'content-type': 'text/plain' }, body: handshake.challenge };
  }
  if (method !== 'POST') return { ...json(405, { message: 'Method Not Allowed' }), headers: { 'content-type': 'application/json', allow: 'POST' } };

  const verified = await verifyAndParse(deps, opened, request);
  if (!verified.ok) {
    deps.log.warn('Webhook refused', { ...where, reason: verified.reason, detail: verified.detail });
    return json(refusalStatus(verified.reason), { message: verified.reason === 'missing' ? 'Unauthorized' : 'Forbidden' });
  }
  // "A call comes in": nobody here takes a phone call, so it is rejected unanswered (busy), which only
  // <Reject> does (any other TwiML answers it, billed, then hangs up), and recorded as missed at once,
  // since Twilio reports nothing more unless the number has a status callback.
  const rejectsCall = connection.kind === 'sms' && verified.events.some(isIncomingCall);
  const events: InboundEvent[] = rejectsCall
    ? verified.events.map((event) => (isIncomingCall(event) ? { ...event, status: 'missed' } : event))
    : verified.events;
  let tally: WebhookTally;
  try {
    tally = await applyAll(deps, connection, events);
  } catch (error) {
    // Not stored: the provider retries, and what was applied before the failure is recognised then.
    // The error itself: the logger writes its name, message, cause and stack (a `message` key would be
    // taken by the log line's own).
    deps.log.error('Webhook not stored', { ...where, error });
    return json(500, { message: 'Not stored: retry' });
  }
  return connection.kind === 'sms' ? (rejectsCall ? rejectCallTwiml() : emptyTwiml()) : json(200, tally);
}

const isIncomingCall = (event: InboundEvent): event is CallEvent =>
  event.type === 'call' && event.direction === 'inbound' && event.status === 'ringing';

/**
 * Applies the events in order (a batch from one sender stays in order), skipping those whose dedupe
 * keys were seen (one BatchGetItem for the payload) and recording each applied one's keys after it.
 * New messages are kept once by their external id instead (no receipt needed).
 */
async function applyAll(deps: InboundDeps, connection: ChannelConnectionItem, events: InboundEvent[]): Promise<WebhookTally> {
  const tally: WebhookTally = { stored: 0, duplicate: 0, pending: 0, confirmed: 0, ignored: 0 };
  const keyed = (event: InboundEvent) => event.type !== 'message' && event.type !== 'ignored' && event.dedupeKeys.length > 0;
  const ours = events.map((event) => withinIdLengths(forThisMailbox(connection, forThisNumber(connection, event))));
  const seen = await seenKeys(deps, connection, [...new Set(ours.filter(keyed).flatMap((event) => event.dedupeKeys))]);
  for (const event of ours) {
    if (keyed(event) && event.dedupeKeys.some((key) => seen.has(key))) {
      tally.duplicate += 1;
      continue;
    }
    const outcome = await applyInboundEvent(deps, connection, event);
    tally[outcome] += 1;
    if (keyed(event)) {
      await recordKeys(deps, connection, event);
      event.dedupeKeys.forEach((key) => seen.add(key));
    }
  }
  return tally;
}

/**
 * A Meta app sends every number's webhooks to its one callback URL unless a number has its own: a
 * message or call for another number than the connection's is not this connection's, and is left out
 * (logged) rather than stored in this workspace. Statuses need no check: they lead only to messages
 * this connection sent.
 */
function forThisNumber(connection: ChannelConnectionItem, event: InboundEvent): InboundEvent {
  if (connection.kind !== 'whatsapp') return event;
  const ours = connection.settings.phoneNumberId as string | undefined;
  const theirs = event.type === 'message' ? event.to[0] : event.type === 'call' ? event.business : undefined;
  if (!ours || theirs === undefined || theirs === null || theirs === ours) return event;
  return ignored(
    'whatsapp',
    'other_phone_number',
    `For phone number id ${theirs}, not this connection's ${ours}: give that number its own callback URL`,
    null,
  );
}

/**
 * One SES account (and its SNS topics) serves every workspace, and SNS sends a topic's every message to
 * every subscriber: an inbound mail is this connection's only when one of its envelope recipients is
 * the connection's own — its From address, an address of its SES identity's domain (or the identity
 * itself), or of its reply domain, which no other workspace may hold. Any other is left out (logged), so no workspace stores another's mail.
 */
function forThisMailbox(connection: ChannelConnectionItem, event: InboundEvent): InboundEvent {
  if (connection.kind !== 'email' || event.type !== 'message') return event;
  const settings = connection.settings as { sesIdentity?: string; fromAddress?: string; replyDomain?: string };
  const domains = [settings.replyDomain, settings.sesIdentity?.includes('@') ? undefined : settings.sesIdentity]
    .filter((domain): domain is string => !!domain)
    .map((domain) => domain.toLowerCase());
  const addresses = [settings.fromAddress, settings.sesIdentity?.includes('@') ? settings.sesIdentity : undefined]
    .filter((address): address is string => !!address)
    .map((address) => address.toLowerCase());
  const isOurs = (recipient: string) => {
    const address = recipient.trim().toLowerCase();
    const domain = address.slice(address.lastIndexOf('@') + 1);
    // Exact domains: a subdomain may be another workspace's (each domain is held by one: mail-claims.ts).
    return addresses.includes(address) || domains.includes(domain);
  };
  if (event.to.some(isOurs)) return event;
  return ignored(
    'ses',
    'other_recipient',
    `For ${event.to.join(', ') || 'no recipient'}, none of them this connection's address or domains`,
    null,
  );
}

/**
 * The longest provider id an event may carry. Real ones are far shorter (a Twilio SID is 34 characters,
 * a WhatsApp message id about 60, a Telegram id at most 20 digits); ids become DynamoDB keys (receipts,
 * a message's external id), which hold at most 1 KB, so a longer one is refused as an invalid item
 * rather than failing the whole delivery with a 500 the provider would retry for days.
 */
const maxProviderIdLength = 256;

function withinIdLengths(event: InboundEvent): InboundEvent {
  const ids: unknown[] = [...event.dedupeKeys];
  if (event.type === 'message' || event.type === 'message_edit' || event.type === 'delivery_status') ids.push(event.providerMessageId);
  if (event.type === 'message') ids.push(event.replyToProviderMessageId, event.chatId);
  if (event.type === 'message_edit') ids.push(event.chatId);
  if (event.type === 'call') ids.push(event.providerCallId);
  if (event.type === 'chat_migrated') ids.push(event.fromChatId, event.toChatId);
  if (!ids.some((id) => typeof id === 'string' && id.length > maxProviderIdLength)) return event;
  return ignored(event.provider, 'invalid_item', `An id longer than ${maxProviderIdLength} characters, which no provider sends`, null);
}

const receiptKey = (connection: ChannelConnectionItem, dedupeKey: string) => ({
  workspaceId: connection.workspaceId,
  connectionId: connection.connectionId,
  dedupeKey,
});

async function seenKeys(deps: CoreDeps, connection: ChannelConnectionItem, keys: string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const { data } = await deps.db.entities.webhookReceipt.get(keys.map((key) => receiptKey(connection, key))).go({ consistent: true });
  return new Set(data.map((item) => item.dedupeKey));
}

async function recordKeys(deps: CoreDeps, connection: ChannelConnectionItem, event: InboundEvent) {
  const receivedAt = deps.clock.nowIso();
  const expiresAt = Math.floor(deps.clock.nowMs() / 1000) + receiptLifetimeSeconds;
  await deps.db.entities.webhookReceipt
    .put(event.dedupeKeys.map((key) => ({ ...receiptKey(connection, key), eventType: event.type, receivedAt, expiresAt })))
    .go();
}
