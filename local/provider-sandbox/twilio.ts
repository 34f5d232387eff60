/**
 * The sandbox's Twilio REST API (2010-04-01): Messages and Calls, MMS media, and the webhooks Twilio
 * posts (message and call status callbacks, inbound SMS to the number's SMS URL, inbound calls to its
 * voice URL), form-encoded and signed with `X-Twilio-Signature`.
 *
 * Sources (Twilio's documentation):
 * - https://www.twilio.com/docs/messaging/api/message-resource (POST
 *   /2010-04-01/Accounts/{AccountSid}/Messages.json, form-encoded, HTTP basic auth AccountSid:AuthToken;
 *   To, From, Body, MediaUrl (repeatable), StatusCallback; answers 201 with the Message resource: sid
 *   `SM…`/`MM…`, status `queued`, snake_case fields, RFC 2822 dates) and the status callback
 *   parameters (MessageSid, MessageStatus, SmsSid, SmsStatus, To, From, AccountSid, ApiVersion, ErrorCode)
 * - https://www.twilio.com/docs/usage/twilios-response (errors `{code, message, more_info, status}`) and
 *   https://www.twilio.com/docs/api/errors/20003, /21211, /21610, /21604, /21602, /21606, /20429,
 *   /30003, /30008
 * - https://www.twilio.com/docs/voice/api/call-resource (POST .../Calls.json: To, From, Url or Twiml,
 *   StatusCallback, StatusCallbackEvent initiated/ringing/answered/completed; answers 201 with the Call
 *   resource, sid `CA…`, status `queued`; callbacks carry CallStatus, CallDuration, Timestamp,
 *   SequenceNumber, CallbackSource, SipResponseCode)
 * - https://www.twilio.com/docs/messaging/guides/webhook-request (inbound SMS/MMS parameters: MessageSid,
 *   SmsSid, AccountSid, From, To, Body, NumMedia, NumSegments, MediaUrl{N}, MediaContentType{N}, geo fields)
 *   and https://www.twilio.com/docs/voice/twiml#request-parameters (inbound call parameters)
 * - https://www.twilio.com/docs/usage/webhooks/webhooks-security (signature: base64 HMAC-SHA1, keyed with
 *   the auth token, of the full URL followed by each POST parameter name and value sorted by name)
 */
import { createHmac } from 'node:crypto';
import {
  basicAuth,
  bodyFields,
  drawFault,
  formValues,
  rawRequest,
  samplePng,
  sendBytes,
  sendJson,
  type Ctx,
} from './http';
import type { SandboxCallback, SandboxSend, SandboxState, TwilioAccount } from './state';

const resourcePath = /^\/2010-04-01\/Accounts\/([^/]+)\/(Messages|Calls)\.json$/;
const mediaPath = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\/([^/]+)\/Media\/([^/.]+)$/;
const apiVersion = '2010-04-01';

export const isTwilioPath = (path: string) => resourcePath.test(path) || mediaPath.test(path);

const twilioError = (
  ctx: Ctx,
  status: number,
  code: number,
  message: string,
  headers: Record<string, string> = {},
) =>
  sendJson(
    ctx,
    status,
    { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status },
    headers,
  );

const rfc2822 = (date = new Date()) => date.toUTCString().replace('GMT', '+0000');

const e164 = /^\+[1-9]\d{6,14}$/;

/** The account the request authenticates as, or null after answering Twilio's 401 (20003). */
const authenticate = (ctx: Ctx, accountSid: string): TwilioAccount | null => {
  const credentials = basicAuth(ctx);
  const account = ctx.state.twilio.get(accountSid);
  if (
    !credentials ||
    !account ||
    credentials.user !== accountSid ||
    credentials.password !== account.authToken
  ) {
    sendJson(ctx, 401, {
      code: 20003,
      detail: 'Your AccountSid or AuthToken was incorrect.',
      message: 'Authentication Error - invalid username',
      more_info: 'https://www.twilio.com/docs/errors/20003',
      status: 401,
    });
    return null;
  }
  return account;
};

export const handleTwilio = async (ctx: Ctx): Promise<void> => {
  const media = mediaPath.exec(ctx.path);
  if (media && ctx.method === 'GET') {
    if (!authenticate(ctx, media[1]!)) return;
    const file = ctx.state.media.get(`twilio:${media[3]}`);
    return file
      ? sendBytes(ctx, 200, file.bytes, file.mimeType)
      : twilioError(ctx, 404, 20404, 'The requested resource was not found');
  }
  const match = resourcePath.exec(ctx.path);
  if (!match || ctx.method !== 'POST') return twilioError(ctx, 405, 20004, 'Method not allowed');
  const [, accountSid, resource] = match;
  const fault = drawFault(ctx, 'twilio');
  if (fault === 'timeout') return;
  const account = authenticate(ctx, accountSid!);
  if (!account) return;
  if (fault === '5xx') return twilioError(ctx, 500, 20500, 'Internal Server Error');
  if (fault === '429') {
    return twilioError(ctx, 429, 20429, 'Too Many Requests', {
      'retry-after': String(ctx.state.faults.retryAfterSeconds),
    });
  }
  return resource === 'Messages'
    ? createMessage(ctx, account, fault === 'drop_callbacks')
    : createCall(ctx, account, fault === 'drop_callbacks');
};

const createMessage = (ctx: Ctx, account: TwilioAccount, dropCallbacks: boolean) => {
  const params = bodyFields(ctx) as Record<string, string | undefined>;
  const to = params.To ?? '';
  const from = params.From ?? '';
  const body = params.Body ?? '';
  const mediaUrls = formValues(ctx, 'MediaUrl');
  if (to === '') return twilioError(ctx, 400, 21604, "A 'To' phone number is required.");
  if (from === '' && !params.MessagingServiceSid)
    return twilioError(ctx, 400, 21603, "A 'From' phone number is required.");
  if (from !== '' && from !== account.phoneNumber) {
    return twilioError(
      ctx,
      400,
      21606,
      `The From phone number ${from} is not a valid, SMS-capable inbound phone number or short code for your account.`,
    );
  }
  if (body === '' && mediaUrls.length === 0) return twilioError(ctx, 400, 21602, 'Message body is required.');
  const recipient = to.replace(/^whatsapp:/, '');
  const recipientError = ctx.state.recipientErrors.get(`twilio:${recipient}`);
  if (!e164.test(recipient) || recipientError === 'invalid') {
    return twilioError(ctx, 400, 21211, `Invalid 'To' Phone Number: ${to}`);
  }
  if (recipientError) return twilioError(ctx, 400, 21610, 'Attempt to send to unsubscribed recipient');
  const sid = `${mediaUrls.length ? 'MM' : 'SM'}${ctx.state.hexId(32)}`;
  const now = rfc2822();
  const statusCallback = params.StatusCallback ?? null;
  const send = ctx.state.recordSend({
    provider: 'twilio',
    kind: 'message',
    account: account.accountSid,
    providerMessageId: sid,
    to: recipient,
    text: body,
    request: rawRequest(ctx),
    meta: { from: from || account.phoneNumber, toRaw: to, statusCallback, mediaUrls },
  });
  const uri = `/${apiVersion}/Accounts/${account.accountSid}/Messages/${sid}.json`;
  sendJson(ctx, 201, {
    account_sid: account.accountSid,
    api_version: apiVersion,
    body,
    date_created: now,
    date_sent: null,
    date_updated: now,
    direction: 'outbound-api',
    error_code: null,
    error_message: null,
    from: from || account.phoneNumber,
    messaging_service_sid: params.MessagingServiceSid ?? null,
    num_media: String(mediaUrls.length),
    num_segments: String(Math.max(1, Math.ceil(body.length / 160))),
    price: null,
    price_unit: 'USD',
    sid,
    status: 'queued',
    subresource_uris: { media: `/${apiVersion}/Accounts/${account.accountSid}/Messages/${sid}/Media.json` },
    to,
    uri,
  });
  if (!statusCallback) return;
  const { behaviour } = ctx.state;
  const fails = behaviour.failRate > 0 && ctx.state.behaviourRandom() < behaviour.failRate;
  let statuses: [string, string?][] = [['queued'], ['sent'], ['delivered']];
  if (fails) {
    statuses =
      ctx.state.behaviourRandom() < 0.5
        ? [['queued'], ['sent'], ['undelivered', '30003']]
        : [['queued'], ['failed', '30008']];
  }
  void ctx.dispatcher.schedule(
    statuses.map(([status, errorCode]) =>
      twilioMessageStatusCallback(ctx.state, account, send, status, errorCode),
    ),
    { dropAll: dropCallbacks },
  );
};

/** Twilio's signature of a URL and its POST parameters. */
export const signTwilio = (authToken: string, url: string, params: [string, string][]): string => {
  const data = [...params]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .reduce((acc, [name, value]) => acc + name + value, url);
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
};

const signedForm = (
  state: SandboxState,
  account: TwilioAccount,
  url: string,
  params: [string, string][],
  record: Omit<SandboxCallback, 'id' | 'state' | 'attempts' | 'url' | 'body' | 'headers' | 'provider'>,
): SandboxCallback =>
  state.newCallback({
    ...record,
    provider: 'twilio',
    url,
    body: new URLSearchParams(params).toString(),
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'user-agent': 'TwilioProxy/1.1',
      'i-twilio-idempotency-token': state.hexId(32),
      'x-twilio-signature': signTwilio(account.authToken, url, params),
    },
  });

const errorMessages: Record<string, string> = {
  '30003': 'Unreachable destination handset',
  '30005': 'Unknown destination handset',
  '30008': 'Unknown error',
};

/** A message status callback to the send's StatusCallback URL. */
export const twilioMessageStatusCallback = (
  state: SandboxState,
  account: TwilioAccount,
  send: SandboxSend,
  status: string,
  errorCode?: string,
): SandboxCallback => {
  const params: [string, string][] = [
    ['SmsSid', send.providerMessageId],
    ['SmsStatus', status],
    ['MessageStatus', status],
    ['To', String(send.meta.toRaw)],
    ['MessageSid', send.providerMessageId],
    ['AccountSid', account.accountSid],
    ['From', String(send.meta.from)],
    ['ApiVersion', apiVersion],
  ];
  if (errorCode)
    params.push(['ErrorCode', errorCode], ['ErrorMessage', errorMessages[errorCode] ?? 'Unknown error']);
  return signedForm(state, account, String(send.meta.statusCallback), params, {
    kind: 'status',
    event: status,
    providerMessageId: send.providerMessageId,
  });
};

const createCall = (ctx: Ctx, account: TwilioAccount, dropCallbacks: boolean) => {
  const params = bodyFields(ctx) as Record<string, string | undefined>;
  const to = params.To ?? '';
  const from = params.From ?? '';
  if (to === '') return twilioError(ctx, 400, 21201, "No 'To' number is specified");
  if (from === '') return twilioError(ctx, 400, 21213, "No 'From' number is specified");
  if (!params.Url && !params.Twiml && !params.ApplicationSid)
    return twilioError(ctx, 400, 21205, 'Url parameter is required.');
  if (from !== account.phoneNumber)
    return twilioError(
      ctx,
      400,
      21210,
      `The source phone number provided, ${from}, is not yet verified for your account.`,
    );
  if (!e164.test(to) || ctx.state.recipientErrors.get(`twilio:${to}`) === 'invalid') {
    return twilioError(ctx, 400, 21211, `Invalid 'To' Phone Number: ${to}`);
  }
  const sid = `CA${ctx.state.hexId(32)}`;
  const now = rfc2822();
  const statusCallback = params.StatusCallback ?? null;
  const events = formValues(ctx, 'StatusCallbackEvent');
  const send = ctx.state.recordSend({
    provider: 'twilio',
    kind: 'call',
    account: account.accountSid,
    providerMessageId: sid,
    to,
    text: params.Url ?? params.Twiml ?? '',
    request: rawRequest(ctx),
    meta: { from, toRaw: to, statusCallback },
  });
  sendJson(ctx, 201, {
    account_sid: account.accountSid,
    annotation: null,
    answered_by: null,
    api_version: apiVersion,
    caller_name: null,
    date_created: now,
    date_updated: now,
    direction: 'outbound-api',
    duration: null,
    end_time: null,
    forwarded_from: null,
    from,
    from_formatted: from,
    group_sid: null,
    parent_call_sid: null,
    phone_number_sid: `PN${ctx.state.hexId(32)}`,
    price: null,
    price_unit: 'USD',
    queue_time: '0',
    sid,
    start_time: null,
    status: 'queued',
    subresource_uris: {
      notifications: `/${apiVersion}/Accounts/${account.accountSid}/Calls/${sid}/Notifications.json`,
      recordings: `/${apiVersion}/Accounts/${account.accountSid}/Calls/${sid}/Recordings.json`,
    },
    to,
    to_formatted: to,
    trunk_sid: null,
    uri: `/${apiVersion}/Accounts/${account.accountSid}/Calls/${sid}.json`,
  });
  if (!statusCallback) return;
  // Which progress events are posted: `completed` always (Twilio's default), the others when asked for.
  const wanted = new Set(['completed', ...events.map((e) => e.toLowerCase())]);
  const outcome = ctx.state.behaviour.callOutcome;
  const progress: [event: string, status: string][] =
    outcome === 'completed'
      ? [
          ['initiated', 'initiated'],
          ['ringing', 'ringing'],
          ['answered', 'in-progress'],
          ['completed', 'completed'],
        ]
      : outcome === 'failed'
        ? [
            ['initiated', 'initiated'],
            ['completed', 'failed'],
          ]
        : [
            ['initiated', 'initiated'],
            ['ringing', 'ringing'],
            ['completed', outcome],
          ];
  const posted = progress.filter(([event]) => wanted.has(event));
  void ctx.dispatcher.schedule(
    posted.map(([, status], sequence) =>
      twilioCallStatusCallback(ctx.state, account, send, status, sequence),
    ),
    { dropAll: dropCallbacks },
  );
};

const sipCodes: Record<string, string> = { completed: '200', busy: '486', 'no-answer': '487', failed: '500' };

/** A call status callback (call-progress-events) to the call's StatusCallback URL. */
export const twilioCallStatusCallback = (
  state: SandboxState,
  account: TwilioAccount,
  send: SandboxSend,
  status: string,
  sequence: number,
): SandboxCallback => {
  const params: [string, string][] = [
    ['Called', send.to],
    ['CallerCountry', 'US'],
    ['Direction', 'outbound-api'],
    ['Timestamp', rfc2822()],
    ['CallbackSource', 'call-progress-events'],
    ['SequenceNumber', String(sequence)],
    ['CallSid', send.providerMessageId],
    ['To', send.to],
    ['ApiVersion', apiVersion],
    ['CallStatus', status],
    ['From', String(send.meta.from)],
    ['AccountSid', account.accountSid],
    ['Caller', String(send.meta.from)],
  ];
  if (status === 'completed') {
    const seconds = state.behaviour.callDurationSeconds;
    params.push(['CallDuration', String(seconds)], ['Duration', String(Math.ceil(seconds / 60))]);
  }
  if (sipCodes[status]) params.push(['SipResponseCode', sipCodes[status]]);
  return signedForm(state, account, String(send.meta.statusCallback), params, {
    kind: 'call_status',
    event: status,
    providerMessageId: send.providerMessageId,
  });
};

export interface TwilioReplyInput {
  from: string;
  text: string;
  media?: { kind?: string; mimeType?: string; fileName?: string };
}

/** An inbound SMS (MMS with media) to the number's SMS URL; null when the number has none. */
export const twilioReply = (
  state: SandboxState,
  baseUrl: string,
  account: TwilioAccount,
  input: TwilioReplyInput,
): SandboxCallback | null => {
  if (!account.smsUrl) return null;
  const sid = `${input.media ? 'MM' : 'SM'}${state.hexId(32)}`;
  const params: [string, string][] = [
    ['ToCountry', 'US'],
    ['ToState', 'CA'],
    ['SmsMessageSid', sid],
    ['NumMedia', input.media ? '1' : '0'],
    ['ToCity', 'SAN FRANCISCO'],
    ['FromZip', ''],
    ['SmsSid', sid],
    ['FromState', ''],
    ['SmsStatus', 'received'],
    ['FromCity', ''],
    ['Body', input.text],
    ['FromCountry', 'US'],
    ['To', account.phoneNumber],
    ['ToZip', ''],
    ['NumSegments', '1'],
    ['MessageSid', sid],
    ['AccountSid', account.accountSid],
    ['From', input.from],
    ['ApiVersion', apiVersion],
  ];
  if (input.media) {
    const mediaSid = `ME${state.hexId(32)}`;
    const mimeType = input.media.mimeType ?? 'image/png';
    state.media.set(`twilio:${mediaSid}`, {
      bytes: samplePng,
      mimeType,
      fileName: input.media.fileName ?? 'photo.png',
      filePath: mediaSid,
    });
    params.push(
      ['MediaContentType0', mimeType],
      [
        'MediaUrl0',
        `${baseUrl}/${apiVersion}/Accounts/${account.accountSid}/Messages/${sid}/Media/${mediaSid}`,
      ],
    );
  }
  return signedForm(state, account, account.smsUrl, params, {
    kind: 'inbound',
    event: 'message',
    providerMessageId: sid,
  });
};

/** An inbound call ringing the number's voice URL; null when the number has none. */
export const twilioInboundCall = (
  state: SandboxState,
  account: TwilioAccount,
  from: string,
): SandboxCallback | null => {
  if (!account.voiceUrl) return null;
  const sid = `CA${state.hexId(32)}`;
  const params: [string, string][] = [
    ['Called', account.phoneNumber],
    ['ToState', 'CA'],
    ['CallerCountry', 'US'],
    ['Direction', 'inbound'],
    ['CallSid', sid],
    ['To', account.phoneNumber],
    ['ToCountry', 'US'],
    ['ApiVersion', apiVersion],
    ['CallStatus', 'ringing'],
    ['From', from],
    ['AccountSid', account.accountSid],
    ['CalledCountry', 'US'],
    ['FromCountry', 'US'],
    ['Caller', from],
  ];
  return signedForm(state, account, account.voiceUrl, params, {
    kind: 'inbound',
    event: 'call',
    providerMessageId: sid,
  });
};
