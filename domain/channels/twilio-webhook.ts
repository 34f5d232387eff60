/**
 * Twilio webhooks (SMS, and WhatsApp through Twilio; voice): the `X-Twilio-Signature` check and the
 * parsing of a verified form body into `InboundEvent`s: an inbound message, a message status callback,
 * or a voice webhook / call status callback. Twilio sends one event per request.
 *
 * Sources:
 * - Signature: https://www.twilio.com/docs/usage/webhooks/webhooks-security (HMAC-SHA1 keyed with the
 *   auth token over the full webhook URL, query included, followed by every POST parameter's name and
 *   value, sorted by name; base64) and https://www.twilio.com/docs/api/errors/57012 (`application/json`
 *   requests carry a `bodySHA256` query parameter: the URL alone is signed and the raw body's SHA-256 must
 *   match it). Repeated parameters and ports follow Twilio's own validator,
 *   https://github.com/twilio/twilio-node/blob/main/src/webhooks/webhooks.ts: a repeated name contributes
 *   each distinct value, sorted, as name+value; the URL is tried with and without its default port
 *   ("signature generation on the back end is inconsistent").
 * - Messages: https://www.twilio.com/docs/messaging/guides/webhook-request (`MessageSid`, `From`, `To`,
 *   `Body`, `NumMedia`, `MediaUrl{N}`, `MediaContentType{N}`, `ProfileName`) and
 *   https://www.twilio.com/docs/sms/api/message-resource (status values `queued`, `sending`, `sent`,
 *   `failed`, `delivered`, `undelivered`, `receiving`, `received`, `accepted`, `scheduled`, `read`,
 *   `canceled`; status callbacks carry `MessageStatus`, `ErrorCode`)
 * - Voice: https://www.twilio.com/docs/voice/api/call-resource (`CallStatus` `queued`, `ringing`,
 *   `in-progress`, `completed`, `busy`, `failed`, `no-answer`, `canceled`; status callbacks add
 *   `CallDuration`, `Timestamp`, `SequenceNumber`; `Direction` `inbound`, `outbound-api`, `outbound-dial`)
 */
import { createHash, createHmac } from 'node:crypto';
import * as z from 'zod';
import { callReferenceFromUrl, sendReferenceFromUrl, type CallReference, type SendReference } from './send-reference';
import {
  canonicalValue,
  ignored,
  isoFromDateText,
  partyOf,
  type CallEvent,
  type CallStatus,
  type DeliveryStatus,
  type DeliveryStatusEvent,
  type InboundEvent,
  type InboundMessageEvent,
  type MediaKind,
  type MediaReference,
} from './inbound-events';
import {
  accepted,
  bodyBytes,
  headerValue,
  refused,
  sameText,
  type RawBody,
  type RawHeaders,
  type SignatureCheck,
} from './webhook-signature';

export const twilioSignatureHeader = 'X-Twilio-Signature';

export interface TwilioRequest {
  /** The exact public URL Twilio called (as configured on the number or sent as StatusCallback), query included. */
  url: string;
  rawBody: RawBody;
  headers: RawHeaders;
}

/** Checks `X-Twilio-Signature` for a form-encoded request, or for a JSON one signed with `bodySHA256`. */
export const verifyTwilioSignature = (request: TwilioRequest, authToken: string): SignatureCheck => {
  const signature = headerValue(request.headers, twilioSignatureHeader);
  if (signature === undefined) return refused('missing', `No ${twilioSignatureHeader} header`);
  // A base64 HMAC-SHA1 is 20 bytes: 27 characters and one `=`.
  if (!/^[A-Za-z0-9+/]{27}=$/.test(signature)) {
    return refused('malformed', `${twilioSignatureHeader} is not a base64 HMAC-SHA1`);
  }
  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    return refused('malformed', 'The webhook URL to check against is not a URL');
  }
  const body = bodyBytes(request.rawBody);
  const bodyHash = url.searchParams.get('bodySHA256');
  // With bodySHA256 the URL is signed alone and the body is bound by its hash.
  const params = bodyHash === null ? formParams(body.toString('utf8')) : new Map<string, string[]>();
  const candidates = new Set([request.url, ...urlVariants(url)]);
  const signed = [...candidates].some((candidate) =>
    sameText(signature, twilioSignature(authToken, candidate, params)),
  );
  if (!signed) return refused('mismatch', `${twilioSignatureHeader} does not match the URL and parameters`);
  if (
    bodyHash !== null &&
    !sameText(bodyHash.toLowerCase(), createHash('sha256').update(body).digest('hex'))
  ) {
    return refused('mismatch', 'The body does not match the signed bodySHA256');
  }
  return accepted;
};

/** Twilio's signature of a URL and POST parameters: base64 HMAC-SHA1 of the URL + sorted name/value pairs. */
export const twilioSignature = (
  authToken: string,
  url: string,
  params: ReadonlyMap<string, readonly string[]>,
): string => {
  let data = url;
  for (const name of [...params.keys()].sort()) {
    for (const value of [...new Set(params.get(name))].sort()) data += name + value;
  }
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
};

/** A form body's parameters by name, every value of a repeated name kept. */
export const formParams = (body: string): Map<string, string[]> => {
  const params = new Map<string, string[]>();
  for (const [name, value] of new URLSearchParams(body))
    params.set(name, [...(params.get(name) ?? []), value]);
  return params;
};

/** The URL as Twilio's validator normalises it, and the same with its default port removed or added. */
const urlVariants = (url: URL): string[] => {
  const withoutPort = new URL(url);
  withoutPort.port = '';
  const variants = [url.toString(), withoutPort.toString()];
  if (url.port === '') {
    const defaultPort = url.protocol === 'https:' ? '443' : '80';
    const auth = url.username ? `${url.username}${url.password ? `:${url.password}` : ''}@` : '';
    variants.push(
      `${url.protocol}//${auth}${url.host}:${defaultPort}${url.pathname}${url.search}${url.hash}`,
    );
  }
  return variants;
};

// ---- payloads ----

/** The form fields of a message webhook or status callback that we read. */
export const twilioMessageSchema = z.object({
  MessageSid: z.string().min(1),
  AccountSid: z.string().optional(),
  From: z.string().optional(),
  To: z.string().optional(),
  Body: z.string().optional(),
  NumMedia: z.coerce.number().int().min(0).max(10).optional(),
  ProfileName: z.string().optional(),
  MessageStatus: z.string().optional(),
  ErrorCode: z.string().optional(),
  ErrorMessage: z.string().optional(),
});

/** The form fields of a voice webhook or call status callback that we read. */
export const twilioCallSchema = z.object({
  CallSid: z.string().min(1),
  CallStatus: z.string(),
  Direction: z.string().optional(),
  From: z.string().optional(),
  To: z.string().optional(),
  CallDuration: z.coerce.number().int().min(0).optional(),
  Timestamp: z.string().optional(),
  SequenceNumber: z.coerce.number().int().min(0).optional(),
  ErrorCode: z.string().optional(),
  ErrorMessage: z.string().optional(),
  SipResponseCode: z.string().optional(),
});

const provider = 'twilio' as const;

/**
 * Parses a verified form body from Twilio into its one event. `url` is the URL Twilio posted to: a
 * status callback's carries our send reference (send-reference.ts).
 */
export const parseTwilioWebhook = (rawBody: RawBody, url?: string): InboundEvent[] => {
  const params = formParams(bodyBytes(rawBody).toString('utf8'));
  // Repeated names never occur in these webhooks: the first value is the value.
  const fields = Object.fromEntries([...params].map(([name, values]) => [name, values[0]]));
  if (fields.CallSid !== undefined) return [callEvent(fields, callReferenceFromUrl(url))];
  // Older status callbacks name the id and the status Sms*.
  const message = twilioMessageSchema.safeParse({
    ...fields,
    MessageSid: fields.MessageSid ?? fields.SmsSid,
    MessageStatus: fields.MessageStatus ?? fields.SmsStatus,
  });
  if (!message.success)
    return [ignored(provider, 'unrecognised_payload', 'Neither a message nor a call webhook', fields)];
  const status = message.data.MessageStatus;
  return [
    status === undefined || status === 'received' || status === 'receiving'
      ? inboundMessage(message.data, fields)
      : deliveryStatus(message.data, fields, sendReferenceFromUrl(url)),
  ];
};

type TwilioMessage = z.infer<typeof twilioMessageSchema>;

/** `whatsapp:+1...` addresses are WhatsApp through Twilio; anything else is SMS. */
const address = (value: string | undefined) =>
  value?.startsWith('whatsapp:')
    ? { channel: 'whatsapp' as const, kind: 'whatsapp' as const, raw: value.slice('whatsapp:'.length) }
    : { channel: 'sms' as const, kind: 'phone' as const, raw: value ?? '' };

const mediaKindOf = (contentType: string | undefined): MediaKind => {
  const type = contentType?.split('/')[0];
  return type === 'image' || type === 'audio' || type === 'video' ? type : 'document';
};

const inboundMessage = (message: TwilioMessage, fields: Record<string, string | undefined>): InboundEvent => {
  const dedupeKeys = [`twilio:message:${message.MessageSid}`];
  const sender = address(message.From);
  const from = partyOf(sender.kind, sender.raw, message.ProfileName ?? null);
  // Short codes and alphanumeric sender ids are no phone number a contact could hold.
  if (!from)
    return ignored(
      provider,
      'unroutable_sender',
      `${message.From ?? '(no From)'} is not a phone number`,
      fields,
      dedupeKeys,
    );
  const media: MediaReference[] = [];
  for (let i = 0; i < (message.NumMedia ?? 0); i++) {
    const url = fields[`MediaUrl${i}`];
    if (!url) continue;
    const mimeType = fields[`MediaContentType${i}`] ?? null;
    media.push({
      kind: mediaKindOf(mimeType ?? undefined),
      providerMediaId: null,
      url,
      mimeType,
      fileName: null,
      caption: null,
      sizeBytes: null,
    });
  }
  const to = address(message.To).raw;
  const event: InboundMessageEvent = {
    type: 'message',
    provider,
    channel: sender.channel,
    dedupeKeys,
    providerMessageId: message.MessageSid,
    from,
    to: to ? [canonicalValue('phone', to) ?? to] : [],
    sentAt: null,
    text: message.Body ?? '',
    media,
    replyToProviderMessageId: null,
    chatId: null,
    email: null,
  };
  return event;
};

/**
 * Twilio message statuses to ours. The states before `sent` are Twilio's own queue (our delivery is
 * already `queued`): they change nothing. `undelivered` and `canceled` are failures.
 */
const messageStatusMap: Record<string, DeliveryStatus | null> = {
  accepted: null,
  scheduled: null,
  queued: null,
  sending: null,
  sent: 'sent',
  delivered: 'delivered',
  read: 'read',
  undelivered: 'failed',
  failed: 'failed',
  canceled: 'failed',
};

const deliveryStatus = (
  message: TwilioMessage,
  fields: Record<string, string | undefined>,
  sendReference: SendReference | null,
): InboundEvent => {
  const providerStatus = message.MessageStatus!;
  const dedupeKeys = [`twilio:status:${message.MessageSid}:${providerStatus}`];
  const status = messageStatusMap[providerStatus];
  if (status === undefined)
    return ignored(
      provider,
      'unknown_status',
      `Message status ${providerStatus} is not handled`,
      fields,
      dedupeKeys,
    );
  const recipient = address(message.To);
  const event: DeliveryStatusEvent = {
    type: 'delivery_status',
    provider,
    channel: recipient.channel,
    dedupeKeys,
    providerMessageId: message.MessageSid,
    recipient: recipient.raw ? (canonicalValue(recipient.kind, recipient.raw) ?? recipient.raw) : null,
    providerStatus,
    status,
    at: null,
    error:
      message.ErrorCode && message.ErrorCode !== '0'
        ? { code: message.ErrorCode, message: message.ErrorMessage ?? null }
        : null,
    email: null,
    sendReference,
  };
  return event;
};

/** Twilio call statuses to the seed's: busy, unanswered and caller-abandoned calls are missed. */
const callStatusMap: Record<string, CallStatus> = {
  queued: 'initiated',
  initiated: 'initiated',
  ringing: 'ringing',
  'in-progress': 'connected',
  completed: 'ended',
  busy: 'missed',
  'no-answer': 'missed',
  canceled: 'missed',
  failed: 'failed',
};

const callEvent = (fields: Record<string, string | undefined>, callReference: CallReference | null): InboundEvent => {
  const parsed = twilioCallSchema.safeParse(fields);
  if (!parsed.success)
    return ignored(provider, 'invalid_item', 'A call webhook without CallSid or CallStatus', fields);
  const call = parsed.data;
  const dedupeKeys = [`twilio:call:${call.CallSid}:${call.CallStatus}`];
  const status = callStatusMap[call.CallStatus];
  if (!status)
    return ignored(
      provider,
      'unknown_status',
      `Call status ${call.CallStatus} is not handled`,
      fields,
      dedupeKeys,
    );
  const inbound = (call.Direction ?? 'inbound').startsWith('inbound');
  const contactSide = address(inbound ? call.From : call.To);
  const businessSide = address(inbound ? call.To : call.From).raw;
  const errorCode = call.ErrorCode ?? call.SipResponseCode;
  const event: CallEvent = {
    type: 'call',
    provider,
    channel: contactSide.channel === 'whatsapp' ? 'whatsapp' : 'phone',
    dedupeKeys,
    providerCallId: call.CallSid,
    direction: inbound ? 'inbound' : 'outbound',
    // A Twilio Client or SIP party is no contact's phone number: the call is still reported.
    contact: partyOf(contactSide.kind, contactSide.raw),
    business: businessSide ? (canonicalValue('phone', businessSide) ?? businessSide) : null,
    providerStatus: call.CallStatus,
    status,
    at: isoFromDateText(call.Timestamp),
    durationSeconds: call.CallDuration ?? null,
    sequence: call.SequenceNumber ?? null,
    error:
      status === 'failed' || call.ErrorCode
        ? { code: errorCode ?? null, message: call.ErrorMessage ?? null }
        : null,
    callReference,
  };
  return event;
};
