/**
 * The sandbox's WhatsApp Cloud API (Graph API at `/<version>/...`, e.g. `/v23.0`): send messages, read
 * media, and the webhooks Meta posts (message statuses and inbound messages, signed with the app secret).
 *
 * Sources (Meta's documentation):
 * - Sending: https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages (POST
 *   /{Version}/{Phone-Number-ID}/messages, Bearer access token, `messaging_product: "whatsapp"`,
 *   `recipient_type`, `to`, `type` text/image/audio/video/document with `link` or `id`, `context.message_id`
 *   for a reply, `biz_opaque_callback_data`; answer `{messaging_product, contacts:[{input, wa_id}],
 *   messages:[{id}]}`), and https://developers.facebook.com/docs/whatsapp/cloud-api/guides/send-messages
 * - Errors: https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes/
 *   (Graph shape `{error:{message, type, code, error_data:{messaging_product, details}, error_subcode,
 *   fbtrace_id}}`; 190 access token expired/invalid → 401; 100 invalid parameter → 400; 131030 recipient
 *   not in allowed list → 400; 131026 message undeliverable → 400; 130429 rate limit hit → 400 (Meta
 *   answers throughput errors with HTTP 400, not 429: adapters must read `code`); 131000 something went
 *   wrong → 500) and https://developers.facebook.com/docs/graph-api/guides/error-handling
 * - Media: https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media (GET /{Version}/{Media-ID}
 *   → `{messaging_product, url, mime_type, sha256, file_size, id}`; the URL is downloaded with the Bearer token)
 * - Webhooks: https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/create-webhook-endpoint
 *   (`X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw payload keyed with the app secret>`) and
 *   https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/status
 *   (`entry[].changes[].value.statuses[]`: id, status sent/delivered/read/failed, timestamp, recipient_id,
 *   conversation, pricing, errors[], biz_opaque_callback_data), .../reference/messages/text and .../image
 *   (`contacts[].profile.name`, `messages[]` with from, id, timestamp, type, text.body, image{caption,
 *   mime_type, sha256, id}, context{from, id})
 */
import { createHash, createHmac } from 'node:crypto';
import {
  bearer,
  bodyFields,
  drawFault,
  rawRequest,
  samplePng,
  sendBytes,
  sendJson,
  unixNow,
  type Ctx,
} from './http';
import type { SandboxCallback, SandboxSend, SandboxState, WhatsAppAccount } from './state';

const sendPath = /^\/(v\d+\.\d+)\/([^/]+)\/messages$/;
const nodePath = /^\/(v\d+\.\d+)\/([^/]+)$/;
export const whatsappMediaPath = /^\/_media\/whatsapp\/([^/]+)$/;

const fbtrace = (state: SandboxState) => `A${state.hexId(22)}`;

/** A Graph API error in Meta's shape. */
const graphError = (
  ctx: Ctx,
  http: number,
  code: number,
  message: string,
  options: { type?: string; subcode?: number; details?: string } = {},
) =>
  sendJson(ctx, http, {
    error: {
      message,
      type: options.type ?? 'OAuthException',
      code,
      ...(options.details ? { error_data: { messaging_product: 'whatsapp', details: options.details } } : {}),
      ...(options.subcode !== undefined ? { error_subcode: options.subcode } : {}),
      fbtrace_id: fbtrace(ctx.state),
    },
  });

const invalidToken = (ctx: Ctx) =>
  graphError(ctx, 401, 190, 'Invalid OAuth access token - Cannot parse access token', {
    type: 'OAuthException',
  });

const accountByToken = (state: SandboxState, token: string | null) =>
  token ? [...state.whatsapp.values()].find((account) => account.accessToken === token) : undefined;

export const isWhatsAppPath = (path: string) =>
  sendPath.test(path) || nodePath.test(path) || whatsappMediaPath.test(path);

export const handleWhatsApp = async (ctx: Ctx): Promise<void> => {
  const media = whatsappMediaPath.exec(ctx.path);
  if (media && ctx.method === 'GET') return downloadMedia(ctx, media[1]!);
  const send = sendPath.exec(ctx.path);
  if (send && ctx.method === 'POST') return sendMessage(ctx, send[2]!);
  const node = nodePath.exec(ctx.path);
  if (node && ctx.method === 'GET') return mediaInfo(ctx, node[2]!);
  return graphError(ctx, 400, 100, `Unsupported ${ctx.method.toLowerCase()} request.`, {
    type: 'GraphMethodException',
  });
};

const mediaTypes = ['image', 'audio', 'video', 'document', 'sticker'] as const;

const sendMessage = async (ctx: Ctx, phoneNumberId: string) => {
  const fault = drawFault(ctx, 'whatsapp');
  if (fault === 'timeout') return;
  const account = accountByToken(ctx.state, bearer(ctx));
  if (!account) return invalidToken(ctx);
  if (account.phoneNumberId !== phoneNumberId) {
    return graphError(
      ctx,
      400,
      100,
      `Unsupported post request. Object with ID '${phoneNumberId}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api`,
      { type: 'GraphMethodException', subcode: 33 },
    );
  }
  if (fault === '5xx') {
    return graphError(ctx, 500, 131000, '(#131000) Something went wrong', {
      details: 'Message failed to send due to an unknown error. Please try again later.',
    });
  }
  if (fault === '429') {
    return graphError(ctx, 400, 130429, '(#130429) Rate limit hit', {
      details:
        'Cloud API message throughput has been reached. Try again later or reduce the frequency of messages.',
    });
  }
  const body = bodyFields(ctx);
  if (body.__malformed) return graphError(ctx, 400, 100, '(#100) Invalid JSON', { type: 'OAuthException' });
  if (body.messaging_product !== 'whatsapp') {
    return graphError(ctx, 400, 100, '(#100) The parameter messaging_product is required.');
  }
  // A business-scoped user ID goes in `recipient` (Meta's business-scoped user IDs page); `to` wins when both are given.
  const userId = typeof body.to !== 'string' && typeof body.recipient === 'string' && /^[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,128}$/.test(body.recipient) ? body.recipient : null;
  const to = typeof body.to === 'string' ? body.to : (userId ?? '');
  const digits = to.replace(/^\+/, '').replace(/[\s-]/g, '');
  if (!userId && !/^\d{7,15}$/.test(digits)) {
    return graphError(ctx, 400, 100, '(#100) Invalid parameter', {
      details: `Parameter 'to' is not a valid WhatsApp phone number: ${to || '(missing)'}`,
    });
  }
  const type = typeof body.type === 'string' ? body.type : 'text';
  let text = '';
  if (type === 'text') {
    const textBody = (body.text as { body?: unknown } | undefined)?.body;
    if (typeof textBody !== 'string' || textBody === '') {
      return graphError(ctx, 400, 100, "(#100) The parameter text['body'] is required.");
    }
    text = textBody;
  } else if ((mediaTypes as readonly string[]).includes(type)) {
    const mediaObject = body[type] as { link?: unknown; id?: unknown; caption?: unknown } | undefined;
    if (!mediaObject || (typeof mediaObject.link !== 'string' && typeof mediaObject.id !== 'string')) {
      return graphError(ctx, 400, 100, `(#100) Param ${type}['link'] or ${type}['id'] is required.`);
    }
    text = typeof mediaObject.caption === 'string' ? mediaObject.caption : '';
  } else if (type !== 'template' && type !== 'interactive' && type !== 'reaction' && type !== 'location') {
    return graphError(
      ctx,
      400,
      100,
      `(#100) Param type must be one of {TEXT, IMAGE, AUDIO, VIDEO, DOCUMENT, STICKER, TEMPLATE, INTERACTIVE, REACTION, LOCATION} - got "${type}".`,
    );
  }
  const recipientError = ctx.state.recipientErrors.get(`whatsapp:+${digits}`);
  if (recipientError === 'invalid') {
    return graphError(ctx, 400, 131030, '(#131030) Recipient phone number not in allowed list', {
      details:
        'Recipient phone number not in allowed list: Add recipient phone number to recipient list and try again.',
    });
  }
  if (recipientError) {
    return graphError(ctx, 400, 131026, '(#131026) Message undeliverable', {
      details: 'Message Undeliverable.',
    });
  }
  const id = `wamid.${Buffer.from(`sandbox${ctx.state.hexId(24)}`)
    .toString('base64')
    .replace(/=+$/, '')}`;
  const send = ctx.state.recordSend({
    provider: 'whatsapp',
    kind: 'message',
    account: account.phoneNumberId,
    providerMessageId: id,
    to: userId ?? `+${digits}`,
    text,
    request: rawRequest(ctx),
    meta: {
      type,
      waId: userId ? null : digits,
      userId,
      replyTo: (body.context as { message_id?: string } | undefined)?.message_id ?? null,
      bizOpaque: typeof body.biz_opaque_callback_data === 'string' ? body.biz_opaque_callback_data : null,
    },
  });
  sendJson(ctx, 200, {
    messaging_product: 'whatsapp',
    contacts: [userId ? { input: to, user_id: userId } : { input: to, wa_id: digits }],
    messages: [{ id, message_status: 'accepted' }],
  });
  const { behaviour } = ctx.state;
  const fails = behaviour.failRate > 0 && ctx.state.behaviourRandom() < behaviour.failRate;
  const statuses: string[] = fails ? ['failed'] : ['sent', 'delivered', ...(behaviour.read ? ['read'] : [])];
  void ctx.dispatcher.schedule(
    statuses.map((status) => whatsappStatusCallback(ctx.state, account, send, status)),
    { dropAll: fault === 'drop_callbacks' },
  );
};

/** The errors[] of a failed status: 131026 (undeliverable) unless told otherwise. */
const failure = (code = 131026) => ({
  code,
  title: code === 131047 ? 'Re-engagement message' : 'Message undeliverable',
  message: code === 131047 ? 'Re-engagement message' : 'Message undeliverable',
  error_data: {
    details:
      code === 131047
        ? 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.'
        : 'Message Undeliverable.',
  },
  href: 'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/',
});

/** One status of a sent message, as the webhook Meta posts for it. */
export const whatsappStatusCallback = (
  state: SandboxState,
  account: WhatsAppAccount,
  send: SandboxSend,
  status: string,
  errorCode?: number,
): SandboxCallback => {
  const waId = String(send.meta.waId ?? send.meta.userId);
  const billable = status === 'sent' || status === 'delivered';
  const item = {
    id: send.providerMessageId,
    status,
    timestamp: String(unixNow()),
    // Sent to a BSUID: named by `recipient_user_id`, the number left out.
    ...(send.meta.userId ? { recipient_user_id: send.meta.userId } : { recipient_id: waId }),
    ...(send.meta.bizOpaque ? { biz_opaque_callback_data: send.meta.bizOpaque } : {}),
    ...(billable
      ? {
          conversation: {
            id: createHash('md5').update(`${account.phoneNumberId}:${waId}`).digest('hex'),
            ...(status === 'sent' ? { expiration_timestamp: String(unixNow() + 86_400) } : {}),
            origin: { type: 'service' },
          },
          pricing: {
            billable: true,
            pricing_model: 'PMP',
            type: 'free_customer_service',
            category: 'service',
          },
        }
      : {}),
    ...(status === 'failed' ? { errors: [failure(errorCode)] } : {}),
  };
  return webhook(state, account, { statuses: [item] }, 'status', status, send.providerMessageId);
};

/** A `messages` change for this account, signed, as a callback record. */
const webhook = (
  state: SandboxState,
  account: WhatsAppAccount,
  value: Record<string, unknown>,
  kind: SandboxCallback['kind'],
  event: string,
  providerMessageId: string,
): SandboxCallback => {
  const payload = {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: account.wabaId,
        changes: [
          {
            value: {
              messaging_product: 'whatsapp',
              metadata: {
                display_phone_number: account.displayPhoneNumber,
                phone_number_id: account.phoneNumberId,
              },
              ...value,
            },
            field: 'messages',
          },
        ],
      },
    ],
  };
  const body = JSON.stringify(payload);
  const signature = createHmac('sha256', account.appSecret).update(body, 'utf8').digest('hex');
  return state.newCallback({
    provider: 'whatsapp',
    kind,
    event,
    providerMessageId,
    url: account.webhookUrl,
    body,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'facebookexternalua',
      'x-hub-signature-256': `sha256=${signature}`,
    },
  });
};

export interface ReplyInput {
  from: string;
  fromName?: string;
  text: string;
  replyTo?: string;
  media?: { kind?: string; caption?: string; fileName?: string; mimeType?: string };
}

/** The inbound message webhook for a contact writing to this business number. */
export const whatsappReply = (
  state: SandboxState,
  account: WhatsAppAccount,
  input: ReplyInput,
): SandboxCallback => {
  const waId = input.from.replace(/^\+/, '').replace(/[\s-]/g, '');
  // `--from US.13491208655302741918`: a user who adopted a username, named by their BSUID alone (no `from`, no `wa_id`).
  const userId = /^[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,128}$/.test(input.from.trim()) ? input.from.trim() : null;
  const id = `wamid.${Buffer.from(`sandbox-in${state.hexId(24)}`)
    .toString('base64')
    .replace(/=+$/, '')}`;
  const message: Record<string, unknown> = { ...(userId ? { from_user_id: userId } : { from: waId }), id, timestamp: String(unixNow()) };
  if (input.replyTo) message.context = { from: account.displayPhoneNumber, id: input.replyTo };
  if (input.media) {
    const kind = input.media.kind === 'document' ? 'document' : 'image';
    const mimeType = input.media.mimeType ?? (kind === 'image' ? 'image/png' : 'text/plain');
    const bytes = kind === 'image' ? samplePng : Buffer.from(input.text || 'sandbox document', 'utf8');
    const mediaId = String(1_000_000_000_000_000 + Number.parseInt(state.hexId(10), 16));
    const fileName = input.media.fileName ?? (kind === 'image' ? 'photo.png' : 'document.txt');
    state.media.set(`whatsapp:${mediaId}`, { bytes, mimeType, fileName, filePath: mediaId });
    message.type = kind;
    message[kind] = {
      ...((input.media.caption ?? input.text) ? { caption: input.media.caption ?? input.text } : {}),
      ...(kind === 'document' ? { filename: fileName } : {}),
      mime_type: mimeType,
      sha256: createHash('sha256').update(bytes).digest('base64'),
      id: mediaId,
    };
  } else {
    message.type = 'text';
    message.text = { body: input.text };
  }
  return webhook(
    state,
    account,
    {
      contacts: [{ profile: { name: input.fromName ?? 'Sandbox Contact' }, ...(userId ? { user_id: userId } : { wa_id: waId }) }],
      messages: [message],
    },
    'inbound',
    'message',
    id,
  );
};

const mediaInfo = (ctx: Ctx, mediaId: string) => {
  if (!accountByToken(ctx.state, bearer(ctx))) return invalidToken(ctx);
  const media = ctx.state.media.get(`whatsapp:${mediaId}`);
  if (!media) {
    return graphError(
      ctx,
      400,
      100,
      `Unsupported get request. Object with ID '${mediaId}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
      { type: 'GraphMethodException', subcode: 33 },
    );
  }
  sendJson(ctx, 200, {
    messaging_product: 'whatsapp',
    url: `${ctx.baseUrl}/_media/whatsapp/${mediaId}`,
    mime_type: media.mimeType,
    sha256: createHash('sha256').update(media.bytes).digest('hex'),
    file_size: media.bytes.length,
    id: mediaId,
  });
};

const downloadMedia = (ctx: Ctx, mediaId: string) => {
  if (!accountByToken(ctx.state, bearer(ctx))) return invalidToken(ctx);
  const media = ctx.state.media.get(`whatsapp:${mediaId}`);
  if (!media) return sendJson(ctx, 404, { error: { message: 'Not found', code: 100 } });
  sendBytes(ctx, 200, media.bytes, media.mimeType);
};
