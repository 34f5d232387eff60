/**
 * Twilio Programmable Messaging (SMS/MMS) sender and media fetcher.
 *
 * Send: `POST {TWILIO_API_BASE_URL}/2010-04-01/Accounts/{AccountSid}/Messages.json`, HTTP basic auth
 * `AccountSid:AuthToken`, form body `To`, `From` (the connection's sender number), `Body`, `MediaUrl`
 * (repeated, one per file; MMS), `StatusCallback` (where Twilio posts `queued`, `sent`, `delivered`,
 * `undelivered`, `failed`). Answer 201 with the Message resource: `sid` (`SM…`/`MM…`), `status`
 * (`queued`, or `accepted` through a Messaging Service), `error_code`, ...
 * Errors: the REST exception `{code, message, more_info, status}`; 20429 / HTTP 429 (too many
 * concurrent requests: never processed, safe to retry), 20003 (authentication), 21211 (invalid To),
 * 21408 (region not enabled), 21610 (recipient unsubscribed, STOP), 21612 (unroutable), 21614 (not a
 * mobile number), 21608 (unverified number on a trial account), 21606 (the From number cannot send
 * SMS: our configuration). Other codes go by HTTP status.
 *
 * Media: an inbound `MediaUrlN` is fetched with the same basic auth; Twilio redirects to the file's
 * storage, which fetch follows (and drops the Authorization header on the cross-origin hop).
 *
 * Sources (Twilio's documentation):
 * - https://www.twilio.com/docs/messaging/api/message-resource (create a Message, its properties and statuses)
 * - https://www.twilio.com/docs/usage/twilios-response (the REST exception object; `.json` responses)
 * - https://www.twilio.com/docs/api/errors/20429, https://www.twilio.com/docs/api/errors (20003, 21211,
 *   21408, 21606, 21608, 21610, 21612, 21614)
 * - https://www.twilio.com/docs/usage/security#http-authentication (basic auth with the account SID)
 */
import { ProviderSendError, type CallReceipt, type ChannelSender, type OpenedConnection, type OutboundCall, type ProviderFailureKind, type SendReceipt } from '../../../../domain/channels/outbound';
import type { MediaReference } from '../../../../domain/channels/inbound-events';
import { basicAuth, kindOfHttpStatus, redact, requiredSecret, requiredSetting, unreadableAnswer, type Download, type ProviderHttp } from './provider-http';

const provider = 'Twilio';

const rejectedCodes = new Set([21211, 21408, 21608, 21610, 21612, 21614]);
const unauthorizedCodes = new Set([20003, 21606]);

export const twilioFailureKind = (code: number | null, httpStatus: number): ProviderFailureKind => {
  if (code === 20429 || httpStatus === 429) return 'rate_limited';
  if (httpStatus >= 500) return 'provider_unavailable';
  if (code !== null && unauthorizedCodes.has(code)) return 'unauthorized';
  if (code !== null && rejectedCodes.has(code)) return 'rejected';
  // The account SID is the only id in the path: a 404 means the connection names no account of ours.
  if (httpStatus === 404) return 'unauthorized';
  return kindOfHttpStatus(httpStatus);
};

export interface TwilioOptions {
  http: ProviderHttp;
  baseUrl: string;
}

export function createTwilioSender({ http, baseUrl }: TwilioOptions): ChannelSender {
  return {
    async send(message): Promise<SendReceipt> {
      const { connection } = message;
      const accountSid = requiredSetting(connection.settings, 'accountSid', provider);
      const senderNumber = requiredSetting(connection.settings, 'senderNumber', provider);
      const authToken = requiredSecret(connection.secrets, 'authToken', provider);
      const secrets = Object.values(connection.secrets);
      if (!message.text && message.attachments.length === 0) {
        throw new ProviderSendError('rejected', 'empty_message', `${provider}: nothing to send`);
      }
      const form = new URLSearchParams({ To: message.to, From: senderNumber });
      if (message.text) form.append('Body', message.text);
      for (const attachment of message.attachments) form.append('MediaUrl', attachment.url);
      if (message.statusCallbackUrl) form.append('StatusCallback', message.statusCallbackUrl);
      const body = await createResource({ http, baseUrl }, 'Messages', { accountSid, authToken, secrets }, form);
      return { providerMessageId: body.sid, providerStatus: body.status };
    },
  };
}

/**
 * `POST /2010-04-01/Accounts/{AccountSid}/{resource}.json` with basic auth: the created resource's `sid`
 * and `status`, or a `ProviderSendError` from Twilio's exception (`refusals`: codes that are a refusal
 * of this resource whatever their HTTP status).
 */
async function createResource(
  { http, baseUrl }: TwilioOptions,
  resource: 'Messages' | 'Calls',
  account: { accountSid: string; authToken: string; secrets: string[] },
  form: URLSearchParams,
  refusals: ReadonlySet<number> = new Set(),
): Promise<{ sid: string; status: string | null }> {
  const what = `${provider} POST ${resource}`;
  const answer = await http.call({
    method: 'POST',
    url: `${baseUrl}/2010-04-01/Accounts/${encodeURIComponent(account.accountSid)}/${resource}.json`,
    headers: { authorization: basicAuth(account.accountSid, account.authToken) },
    form,
    what,
    secrets: account.secrets,
  });
  const body = answer.json as { sid?: unknown; status?: unknown; code?: unknown; message?: unknown } | null;
  if (!answer.ok) {
    const code = typeof body?.code === 'number' ? body.code : null;
    const kind = code !== null && refusals.has(code) ? 'rejected' : twilioFailureKind(code, answer.status);
    throw new ProviderSendError(
      kind,
      code !== null ? String(code) : String(answer.status),
      `${what}: ${redact(typeof body?.message === 'string' ? body.message : `HTTP ${answer.status}`, account.secrets)}`,
      kind === 'rate_limited' ? answer.retryAfterSeconds : null,
      answer.status,
    );
  }
  if (typeof body?.sid !== 'string' || !body.sid) throw unreadableAnswer(what, answer.status);
  return { sid: body.sid, status: typeof body.status === 'string' ? body.status : null };
}

/** Text safe inside a TwiML attribute or element. */
const xmlEscape = (value: string) =>
  value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

/** Progress events a placed call reports to its `StatusCallback` (`completed` is always sent). */
const callProgressEvents = ['initiated', 'ringing', 'answered', 'completed'] as const;

/**
 * Places a call (Twilio Voice): `POST /2010-04-01/Accounts/{AccountSid}/Calls.json` with `To` (the
 * contact), `From` (the connection's number), `Twiml` run when the contact answers (`<Dial>` the agent's
 * phone, showing our number), `StatusCallback` with every progress event. Answer 201 with the Call
 * resource (`sid` `CA…`, `status` `queued`); errors as for messages (21210 unverified From, 21211 bad
 * To, 21215 geo permissions, 13223/13224 bad number: refusals).
 * Sources: https://www.twilio.com/docs/voice/api/call-resource (create a Call: To, From, Twiml,
 * StatusCallback, StatusCallbackEvent), https://www.twilio.com/docs/voice/twiml/dial (callerId, Number).
 */
export async function placeTwilioCall({ http, baseUrl }: TwilioOptions, connection: OpenedConnection, call: OutboundCall): Promise<CallReceipt> {
  const accountSid = requiredSetting(connection.settings, 'accountSid', provider);
  const senderNumber = requiredSetting(connection.settings, 'senderNumber', provider);
  const authToken = requiredSecret(connection.secrets, 'authToken', provider);
  const secrets = Object.values(connection.secrets);
  const twiml = `<Response><Dial callerId="${xmlEscape(senderNumber)}"><Number>${xmlEscape(call.agentPhone)}</Number></Dial></Response>`;
  const form = new URLSearchParams({ To: call.to, From: senderNumber, Twiml: twiml });
  if (call.statusCallbackUrl) {
    form.append('StatusCallback', call.statusCallbackUrl);
    form.append('StatusCallbackMethod', 'POST');
    for (const event of callProgressEvents) form.append('StatusCallbackEvent', event);
  }
  const body = await createResource({ http, baseUrl }, 'Calls', { accountSid, authToken, secrets }, form, callRefusalCodes);
  return { providerCallId: body.sid, providerStatus: body.status };
}

/** Twilio's refusals of a call's numbers (https://www.twilio.com/docs/api/errors: 13223, 13224, 21215). */
const callRefusalCodes = new Set([13223, 13224, 21215]);

/** An inbound message's `MediaUrlN`, fetched with the account's basic auth. */
export async function fetchTwilioMedia(
  { http }: TwilioOptions,
  connection: OpenedConnection,
  media: MediaReference,
  maxBytes: number,
): Promise<Download> {
  const accountSid = requiredSetting(connection.settings, 'accountSid', provider);
  const authToken = requiredSecret(connection.secrets, 'authToken', provider);
  if (!media.url) throw new ProviderSendError('rejected', 'no_media_url', `${provider}: the media has no URL`);
  return http.download({
    url: media.url,
    headers: { authorization: basicAuth(accountSid, authToken) },
    what: `${provider} GET media`,
    secrets: Object.values(connection.secrets),
    maxBytes,
  });
}
