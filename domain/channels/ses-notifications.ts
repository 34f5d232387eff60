/**
 * Amazon SES notifications, as the `Message` of a verified SNS notification: email sending events
 * (event publishing `eventType`, or identity notifications' `notificationType`) become one delivery
 * status per recipient, and a receipt notification (`notificationType: Received`) becomes an inbound
 * email message with its threading headers and where its MIME content is.
 *
 * Sources (AWS documentation):
 * - https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html and
 *   https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-examples.html (`eventType`
 *   Bounce, Complaint, Delivery, Send, Reject, Open, Click, Rendering Failure, DeliveryDelay, Subscription;
 *   the `mail` object with `messageId`, `destination`, `commonHeaders`, `tags`; bounce types Permanent,
 *   Transient, Undetermined; per-recipient `bouncedRecipients`, `complainedRecipients`,
 *   `delivery.recipients`, `deliveryDelay.delayedRecipients`; one Click record per click, its `click`
 *   with the `link` and the click's `timestamp`)
 * - https://docs.aws.amazon.com/ses/latest/dg/notification-contents.html (without event publishing the
 *   field is `notificationType`: Bounce, Complaint, Delivery)
 * - https://docs.aws.amazon.com/ses/latest/dg/receiving-email-notifications-contents.html and
 *   .../receiving-email-notifications-examples.html (`notificationType: Received`, `receipt` with
 *   `recipients`, verdicts and `action` (S3: `bucketName`, `objectKey`; SNS: the mail in `content`),
 *   `mail` with `headers` and `commonHeaders`)
 * - https://docs.aws.amazon.com/ses/latest/dg/receiving-email-action-sns.html (content encoding UTF-8 or
 *   Base64)
 *
 * Status meaning (issue 14): permanent bounce, reject and rendering failure are `failed`; a transient or
 * undetermined bounce and a delivery delay keep `sent` with the error recorded; open is `read`; click
 * and complaint change no status (a complaint asks for the contact to be suppressed).
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import {
  canonicalValue,
  ignored,
  isoFromDateText,
  partyOf,
  type DeliveryStatus,
  type DeliveryStatusEvent,
  type EmailEventDetails,
  type EmailEventKind,
  type InboundEmailDetails,
  type InboundEvent,
  type InboundMessageEvent,
  type ProviderError,
} from './inbound-events';
import { snsSubscriptionEvent, type SnsMessage } from './sns-message';
import { sendReferenceFromTags } from './send-reference';

const header = z.object({ name: z.string(), value: z.string() });

const sesMail = z.object({
  messageId: z.string().min(1),
  timestamp: z.string().optional(),
  source: z.string().optional(),
  destination: z.array(z.string()).default([]),
  headersTruncated: z.boolean().optional(),
  headers: z.array(header).default([]),
  commonHeaders: z
    .object({
      from: z.array(z.string()).optional(),
      to: z.array(z.string()).optional(),
      cc: z.array(z.string()).optional(),
      subject: z.string().optional(),
      messageId: z.string().optional(),
      date: z.string().optional(),
    })
    .default({}),
  tags: z.record(z.string(), z.array(z.string())).default({}),
});

const dsnRecipient = z.object({
  emailAddress: z.string(),
  status: z.string().optional(),
  diagnosticCode: z.string().optional(),
});

/** An email sending event (event publishing), or an identity notification (same objects, `notificationType`). */
export const sesEventSchema = z.object({
  mail: sesMail,
  bounce: z
    .object({
      bounceType: z.string(),
      bounceSubType: z.string().optional(),
      bouncedRecipients: z.array(dsnRecipient),
      timestamp: z.string().optional(),
    })
    .optional(),
  complaint: z
    .object({
      complainedRecipients: z.array(z.object({ emailAddress: z.string() })),
      timestamp: z.string().optional(),
      complaintFeedbackType: z.string().optional(),
      complaintSubType: z.string().nullish(),
    })
    .optional(),
  delivery: z
    .object({
      timestamp: z.string().optional(),
      recipients: z.array(z.string()),
      smtpResponse: z.string().optional(),
    })
    .optional(),
  reject: z.object({ reason: z.string().optional() }).optional(),
  open: z.object({ timestamp: z.string().optional() }).optional(),
  click: z.object({ timestamp: z.string().optional(), link: z.string() }).optional(),
  failure: z.object({ templateName: z.string().optional(), errorMessage: z.string().optional() }).optional(),
  deliveryDelay: z
    .object({
      timestamp: z.string().optional(),
      delayType: z.string().optional(),
      delayedRecipients: z.array(dsnRecipient),
    })
    .optional(),
  subscription: z
    .object({
      timestamp: z.string().optional(),
      newTopicPreferences: z.object({ unsubscribeAll: z.boolean().optional() }).optional(),
    })
    .optional(),
});

/** A receipt notification for inbound mail. */
export const sesReceivedSchema = z.object({
  notificationType: z.literal('Received'),
  receipt: z.object({
    timestamp: z.string().optional(),
    recipients: z.array(z.string()).default([]),
    spamVerdict: z.object({ status: z.string() }).optional(),
    virusVerdict: z.object({ status: z.string() }).optional(),
    spfVerdict: z.object({ status: z.string() }).optional(),
    dkimVerdict: z.object({ status: z.string() }).optional(),
    dmarcVerdict: z.object({ status: z.string() }).optional(),
    action: z.object({
      type: z.string(),
      bucketName: z.string().optional(),
      objectKey: z.string().optional(),
      encoding: z.string().optional(),
    }),
  }),
  mail: sesMail,
  content: z.string().optional(),
});

type SesEvent = z.infer<typeof sesEventSchema>;
type SesMail = z.infer<typeof sesMail>;

const provider = 'ses' as const;

/** SES's event names (both spellings) to ours. */
const eventKinds: Record<string, EmailEventKind> = {
  Send: 'send',
  Delivery: 'delivery',
  Bounce: 'bounce',
  Complaint: 'complaint',
  Reject: 'reject',
  'Rendering Failure': 'rendering_failure',
  RenderingFailure: 'rendering_failure',
  DeliveryDelay: 'delivery_delay',
  Open: 'open',
  Click: 'click',
  Subscription: 'subscription',
};

/** A verified SNS message carrying SES notifications: its events, or the subscription (un)confirmation. */
export const parseSesSnsMessage = (message: SnsMessage): InboundEvent[] => {
  if (message.Type !== 'Notification') {
    const subscription = snsSubscriptionEvent(message);
    return [
      subscription ??
        ignored('sns', 'untrusted_subscribe_url', 'SubscribeURL is not on an SNS host', message, [
          `sns:${message.MessageId}`,
        ]),
    ];
  }
  return parseSesNotification(message.Message);
};

/** Parses the JSON an SES notification carries (the SNS `Message`). */
export const parseSesNotification = (text: string): InboundEvent[] => {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return [ignored(provider, 'malformed_json', 'The notification is not JSON', text)];
  }
  const kind =
    typeof json === 'object' && json !== null
      ? ((json as Record<string, unknown>).eventType ?? (json as Record<string, unknown>).notificationType)
      : undefined;
  if (kind === 'Received') return [receivedMail(json)];
  const event = typeof kind === 'string' ? eventKinds[kind] : undefined;
  if (!event)
    return [ignored(provider, 'unsupported_event', `SES notification ${String(kind)} is not handled`, json)];
  const parsed = sesEventSchema.safeParse(json);
  if (!parsed.success)
    return [
      ignored(provider, 'invalid_item', `A ${String(kind)} notification without its mail or details`, json),
    ];
  return sendingEvents(event, String(kind), parsed.data, json);
};

interface RecipientOutcome {
  address: string;
  status: DeliveryStatus | null;
  error: ProviderError | null;
  at: string | undefined;
}

/** One outcome per recipient the event is about. */
const outcomes = (event: EmailEventKind, data: SesEvent): RecipientOutcome[] | string => {
  const everyone = (status: DeliveryStatus | null, error: ProviderError | null, at: string | undefined) =>
    data.mail.destination.map((address) => ({ address, status, error, at }));
  switch (event) {
    case 'send':
      return everyone('sent', null, data.mail.timestamp);
    case 'delivery':
      if (!data.delivery) return 'no delivery object';
      return data.delivery.recipients.map((address) => ({
        address,
        status: 'delivered',
        error: null,
        at: data.delivery!.timestamp,
      }));
    case 'bounce': {
      const bounce = data.bounce;
      if (!bounce) return 'no bounce object';
      // Issue 14: only a permanent bounce fails the delivery; a transient or undetermined one keeps it
      // `sent` with the error. (AWS notes SES publishes a transient bounce once it has stopped retrying.)
      const status: DeliveryStatus = bounce.bounceType === 'Permanent' ? 'failed' : 'sent';
      return bounce.bouncedRecipients.map((recipient) => ({
        address: recipient.emailAddress,
        status,
        error: {
          code: recipient.status ?? `${bounce.bounceType}/${bounce.bounceSubType ?? 'Undetermined'}`,
          message:
            recipient.diagnosticCode ??
            `${bounce.bounceType} bounce (${bounce.bounceSubType ?? 'Undetermined'})`,
        },
        at: bounce.timestamp,
      }));
    }
    case 'complaint':
      if (!data.complaint) return 'no complaint object';
      return data.complaint.complainedRecipients.map((recipient) => ({
        address: recipient.emailAddress,
        status: null,
        error: null,
        at: data.complaint!.timestamp,
      }));
    case 'reject':
      return everyone(
        'failed',
        { code: 'Reject', message: data.reject?.reason ?? 'Rejected by SES' },
        data.mail.timestamp,
      );
    case 'rendering_failure':
      return everyone(
        'failed',
        {
          code: 'RenderingFailure',
          message:
            [data.failure?.templateName, data.failure?.errorMessage].filter(Boolean).join(': ') || null,
        },
        data.mail.timestamp,
      );
    case 'delivery_delay': {
      const delay = data.deliveryDelay;
      if (!delay) return 'no deliveryDelay object';
      return delay.delayedRecipients.map((recipient) => ({
        address: recipient.emailAddress,
        status: 'sent',
        error: {
          code: recipient.status ?? delay.delayType ?? null,
          message: recipient.diagnosticCode ?? delay.delayType ?? null,
        },
        at: delay.timestamp,
      }));
    }
    case 'open':
      return everyone('read', null, data.open?.timestamp);
    case 'click':
      if (!data.click) return 'no click object';
      return everyone(null, null, data.click.timestamp);
    case 'subscription':
      return everyone(null, null, data.subscription?.timestamp);
  }
};

const sendingEvents = (
  event: EmailEventKind,
  kind: string,
  data: SesEvent,
  item: unknown,
): InboundEvent[] => {
  const list = outcomes(event, data);
  if (typeof list === 'string')
    return [ignored(provider, 'invalid_item', `A ${kind} notification with ${list}`, item)];
  if (list.length === 0)
    return [ignored(provider, 'no_recipients', `A ${kind} notification without recipients`, item)];
  const details: EmailEventDetails = {
    event,
    bounce:
      data.bounce && event === 'bounce'
        ? { type: data.bounce.bounceType, subType: data.bounce.bounceSubType ?? null }
        : null,
    complaint:
      data.complaint && event === 'complaint'
        ? {
            feedbackType: data.complaint.complaintFeedbackType ?? null,
            subType: data.complaint.complaintSubType ?? null,
          }
        : null,
    click: data.click && event === 'click' ? { link: data.click.link } : null,
    suppress:
      event === 'complaint' ||
      (event === 'subscription' && data.subscription?.newTopicPreferences?.unsubscribeAll === true),
    originalMessageIdHeader: data.mail.commonHeaders.messageId ?? null,
    tags: data.mail.tags,
  };
  const providerStatus =
    event === 'bounce' ? `Bounce/${data.bounce!.bounceType}/${data.bounce!.bounceSubType ?? ''}` : kind;
  return list.map((outcome) => {
    const recipient = emailAddress(outcome.address);
    const status: DeliveryStatusEvent = {
      type: 'delivery_status',
      provider,
      channel: 'email',
      dedupeKeys: [`ses:${data.mail.messageId}:${kind}:${recipient}${clickKey(data)}`],
      providerMessageId: data.mail.messageId,
      recipient,
      providerStatus,
      status: outcome.status,
      at: isoFromDateText(outcome.at),
      error: outcome.error,
      email: details,
      sendReference: sendReferenceFromTags(data.mail.tags),
    };
    return status;
  });
};

/**
 * A click's own part of its dedupe key: each click is one notification, and a recipient may click the
 * same mail (even the same link) again, so the link and the click's time tell them apart (an SNS
 * redelivery repeats both). Hashed: a link may be longer than a key may be (receive-webhook.ts).
 */
const clickKey = (data: SesEvent): string =>
  data.click
    ? `:${data.click.timestamp ?? ''}:${createHash('sha256').update(data.click.link).digest('base64url').slice(0, 22)}`
    : '';

/** `Ana <ana@x.io>` or `ana@x.io` to the canonical address (or, when it is none, the address as given). */
const emailAddress = (value: string): string => {
  const address = mailbox(value).address;
  return canonicalValue('email', address) ?? address.trim().toLowerCase();
};

/** The display name and address of a mailbox header value. */
const mailbox = (value: string): { name: string | null; address: string } => {
  const match = /^\s*(?:"?([^"<]*?)"?\s*)?<([^>]+)>\s*$/.exec(value);
  return match
    ? { name: match[1]?.trim() || null, address: match[2]!.trim() }
    : { name: null, address: value.trim() };
};

const headerOf = (mail: SesMail, name: string): string | null =>
  mail.headers.find((h) => h.name.toLowerCase() === name.toLowerCase())?.value ?? null;

const messageIds = (value: string | null): string[] => value?.match(/<[^<>\s]+>/g) ?? [];

const receivedMail = (json: unknown): InboundEvent => {
  const parsed = sesReceivedSchema.safeParse(json);
  if (!parsed.success)
    return ignored(provider, 'invalid_item', 'A Received notification without receipt or mail', json);
  const { receipt, mail, content } = parsed.data;
  const dedupeKeys = [`ses:${mail.messageId}:Received`];
  const fromHeader = mail.commonHeaders.from?.[0];
  const sender = fromHeader ? mailbox(fromHeader) : { name: null, address: mail.source ?? '' };
  const from = partyOf('email', sender.address, sender.name);
  if (!from)
    return ignored(
      provider,
      'unroutable_sender',
      `${sender.address || '(no sender)'} is not an email address`,
      json,
      dedupeKeys,
    );
  const action = receipt.action;
  let location: InboundEmailDetails['content'] = null;
  if (action.type === 'S3' && action.bucketName && action.objectKey) {
    location = { location: 's3', bucket: action.bucketName, key: action.objectKey };
  } else if (content !== undefined) {
    location = {
      location: 'inline',
      encoding: action.encoding?.toUpperCase() === 'BASE64' ? 'base64' : 'utf8',
      data: content,
    };
  }
  const email: InboundEmailDetails = {
    subject: mail.commonHeaders.subject ?? null,
    messageIdHeader: mail.commonHeaders.messageId ?? headerOf(mail, 'Message-ID'),
    inReplyTo: messageIds(headerOf(mail, 'In-Reply-To'))[0] ?? null,
    references: messageIds(headerOf(mail, 'References')),
    to: (mail.commonHeaders.to ?? []).map((value) => mailbox(value).address),
    cc: (mail.commonHeaders.cc ?? []).map((value) => mailbox(value).address),
    verdicts: {
      spam: receipt.spamVerdict?.status ?? null,
      virus: receipt.virusVerdict?.status ?? null,
      spf: receipt.spfVerdict?.status ?? null,
      dkim: receipt.dkimVerdict?.status ?? null,
      dmarc: receipt.dmarcVerdict?.status ?? null,
    },
    headersTruncated: mail.headersTruncated ?? false,
    content: location,
  };
  const event: InboundMessageEvent = {
    type: 'message',
    provider,
    channel: 'email',
    dedupeKeys,
    providerMessageId: mail.messageId,
    from,
    // As given, not lower-cased: a `reply+<conversation id>@` address keeps the id's case.
    to: receipt.recipients.map((address) => address.trim()),
    sentAt: isoFromDateText(mail.commonHeaders.date) ?? isoFromDateText(mail.timestamp),
    // The body is in the MIME content (in S3, or inline): reading it is the caller's next step.
    text: '',
    media: [],
    replyToProviderMessageId: null,
    chatId: null,
    email,
  };
  return event;
};
