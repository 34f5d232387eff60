/**
 * The sandbox's Amazon SES: SESv2 SendEmail (what `@aws-sdk/client-sesv2` sends), SES event publishing
 * notifications and receipt (inbound mail) notifications delivered as Amazon SNS HTTP notifications,
 * signed with SignatureVersion 2 by a sandbox key.
 *
 * Sources (AWS documentation):
 * - https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html (POST
 *   /v2/email/outbound-emails; FromEmailAddress, Destination{ToAddresses, CcAddresses, BccAddresses},
 *   ReplyToAddresses, Content{Simple{Subject, Body{Text, Html}, Headers}, Raw{Data}, Template}, EmailTags,
 *   ConfigurationSetName; answers 200 `{MessageId}`; errors MessageRejected, BadRequestException,
 *   TooManyRequestsException (429), AccountSuspendedException, SendingPausedException,
 *   MailFromDomainNotVerifiedException, NotFoundException) and
 *   https://docs.aws.amazon.com/ses/latest/APIReference-V2/CommonErrors.html (InternalFailure 500,
 *   ThrottlingException 400); error type in the `x-amzn-ErrorType` header, `{message}` body (restJson1)
 * - https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html and
 *   .../event-publishing-retrieving-sns-examples.html (`eventType`, `mail` with timestamp, source,
 *   sourceArn, sendingAccountId, messageId, destination, headersTruncated, headers, commonHeaders, tags
 *   with `ses:*` tags; `bounce`, `complaint`, `delivery`, `send`, `reject`, `open`, `click`,
 *   `deliveryDelay` objects)
 * - https://docs.aws.amazon.com/ses/latest/dg/receiving-email-notifications-contents.html and
 *   .../receiving-email-action-sns.html (`notificationType: "Received"`, `receipt` with verdicts and
 *   `action{type: "SNS", topicArn, encoding}`, `content` the whole MIME message, Base64 or UTF-8)
 * - https://docs.aws.amazon.com/sns/latest/dg/http-notification-json.html (the POST: headers
 *   x-amz-sns-message-type, x-amz-sns-message-id, x-amz-sns-topic-arn, x-amz-sns-subscription-arn;
 *   body Type, MessageId, TopicArn, Subject, Message, Timestamp, SignatureVersion, Signature,
 *   SigningCertURL, UnsubscribeURL) and https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html
 *   (SignatureVersion 2 = SHA256withRSA over "Name\nvalue\n" of Message, MessageId, Subject (if any),
 *   Timestamp, TopicArn, Type)
 * - https://docs.aws.amazon.com/sns/latest/dg/SendMessageToHttp.confirm.html and
 *   https://docs.aws.amazon.com/sns/latest/api/API_ConfirmSubscription.html (a subscriber confirms by a
 *   GET of the confirmation's `SubscribeURL`, `?Action=ConfirmSubscription&TopicArn=...&Token=...`; the
 *   answer's ConfirmSubscriptionResult holds the `SubscriptionArn`; a missing parameter is
 *   InvalidParameter, 400)
 *
 * The signing key and certificate next to this file were made for the sandbox (`openssl req -x509
 * -newkey rsa:2048 ...`): they sign nothing real. `SigningCertURL` still names an SNS host
 * (`https://sns.<region>.amazonaws.com/SimpleNotificationService-sandbox.pem`), as the product only
 * trusts SNS hosts; locally the product's certificate port maps that URL to `GET
 * /sns/SimpleNotificationService-sandbox.pem` here, and its confirmer a `SubscribeURL` to `GET /sns/?...`.
 */
import { createSign, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { drawFault, rawRequest, sendJson, type Ctx } from './http';
import type { SandboxCallback, SandboxSend, SandboxState, SesAccount } from './state';

/** Where the sandbox answers as SNS's host does: `SNS_CERTIFICATE_BASE_URL` and `SNS_SUBSCRIBE_BASE_URL` are `<sandbox>/sns`. */
export const snsBasePath = '/sns';
export const snsCertificatePath = `${snsBasePath}/SimpleNotificationService-sandbox.pem`;
/** A `SubscribeURL` (`https://sns.<region>.amazonaws.com/?Action=ConfirmSubscription&...`) rebased on the sandbox. */
export const snsApiPath = `${snsBasePath}/`;

/**
 * What the channel-hooks function is given to reach the sandbox instead of SNS (`npm start`): signing
 * certificates and `SubscribeURL` confirmations both go to `<sandbox>/sns` (the SNS host check stays).
 */
export const sandboxSnsEnvironment = (sandboxUrl: string) => ({
  SNS_CERTIFICATE_BASE_URL: `${sandboxUrl}${snsBasePath}`,
  SNS_SUBSCRIBE_BASE_URL: `${sandboxUrl}${snsBasePath}`,
});
export const sesSendPath = '/v2/email/outbound-emails';

const file = (name: string) => readFileSync(fileURLToPath(new URL(name, import.meta.url)), 'utf8');
/** Sandbox-only: this key signs the sandbox's SNS notifications and nothing else. */
export const snsSigningKey = file('./sns-signing-key.pem');
export const snsSigningCert = file('./sns-signing-cert.pem');

const awsError = (
  ctx: Ctx,
  status: number,
  type: string,
  message: string,
  headers: Record<string, string> = {},
) =>
  sendJson(
    ctx,
    status,
    { message },
    { 'x-amzn-errortype': type, 'x-amzn-requestid': randomUUID(), ...headers },
  );

interface SesBody {
  FromEmailAddress?: string;
  Destination?: { ToAddresses?: string[]; CcAddresses?: string[]; BccAddresses?: string[] };
  ReplyToAddresses?: string[];
  Content?: {
    Simple?: {
      Subject?: { Data?: string };
      Body?: { Text?: { Data?: string }; Html?: { Data?: string } };
      Headers?: { Name: string; Value: string }[];
    };
    Raw?: { Data?: string };
    Template?: unknown;
  };
  EmailTags?: { Name: string; Value: string }[];
  ConfigurationSetName?: string;
}

const addressOf = (value: string) => (/<([^>]+)>/.exec(value)?.[1] ?? value).trim();

/** A raw MIME message's headers (unfolded) and its text body (first text part, undecoded beyond quoted-printable soft breaks). */
const parseMime = (raw: string) => {
  const split = raw.search(/\r?\n\r?\n/);
  const head = split < 0 ? raw : raw.slice(0, split);
  const rest = split < 0 ? '' : raw.slice(split).replace(/^\r?\n\r?\n/, '');
  const headers: { name: string; value: string }[] = [];
  for (const line of head.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && headers.length) headers[headers.length - 1]!.value += ` ${line.trim()}`;
    else {
      const colon = line.indexOf(':');
      if (colon > 0) headers.push({ name: line.slice(0, colon).trim(), value: line.slice(colon + 1).trim() });
    }
  }
  const boundary = /boundary="?([^";]+)"?/i.exec(
    headers.find((h) => /^content-type$/i.test(h.name))?.value ?? '',
  )?.[1];
  let text = rest;
  if (boundary) {
    const part = rest.split(`--${boundary}`).find((p) => /content-type:\s*text\/plain/i.test(p));
    text = part
      ? (part
          .split(/\r?\n\r?\n/)
          .slice(1)
          .join('\n\n') ?? '')
      : '';
  }
  return { headers, text: text.replace(/=\r?\n/g, '').trim() };
};

export const handleSes = async (ctx: Ctx): Promise<void> => {
  if (ctx.method !== 'POST') return awsError(ctx, 404, 'NotFoundException', 'Not found');
  const fault = drawFault(ctx, 'ses');
  if (fault === 'timeout') return;
  if (!/^AWS4-HMAC-SHA256 Credential=/.test(String(ctx.req.headers.authorization ?? ''))) {
    return awsError(ctx, 403, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
  }
  if (fault === '5xx')
    return awsError(
      ctx,
      500,
      'InternalFailure',
      'The request processing has failed because of an unknown error, exception or failure.',
    );
  if (fault === '429') {
    return awsError(ctx, 429, 'TooManyRequestsException', 'Maximum sending rate exceeded.', {
      'retry-after': String(ctx.state.faults.retryAfterSeconds),
    });
  }
  let body: SesBody;
  try {
    body = JSON.parse(ctx.rawBody.toString('utf8')) as SesBody;
  } catch {
    return awsError(ctx, 400, 'BadRequestException', 'Request body is not valid JSON');
  }
  const content = body.Content;
  if (!content || (!content.Simple && !content.Raw && !content.Template)) {
    return awsError(ctx, 400, 'BadRequestException', 'Content is required: Simple, Raw or Template');
  }
  let headers: { name: string; value: string }[] = [];
  let text = '';
  let subject = '';
  let from = body.FromEmailAddress ?? '';
  let to = [...(body.Destination?.ToAddresses ?? [])];
  const cc = body.Destination?.CcAddresses ?? [];
  if (content.Raw) {
    const mime = parseMime(Buffer.from(content.Raw.Data ?? '', 'base64').toString('utf8'));
    headers = mime.headers;
    text = mime.text;
    const header = (name: string) => headers.find((h) => h.name.toLowerCase() === name)?.value;
    from ||= header('from') ?? '';
    if (to.length === 0)
      to = (header('to') ?? '')
        .split(',')
        .map((a) => a.trim())
        .filter(Boolean);
    subject = header('subject') ?? '';
  } else if (content.Simple) {
    subject = content.Simple.Subject?.Data ?? '';
    text = content.Simple.Body?.Text?.Data ?? content.Simple.Body?.Html?.Data ?? '';
    if (!content.Simple.Subject || !content.Simple.Body)
      return awsError(ctx, 400, 'BadRequestException', 'Simple content needs Subject and Body');
    headers = [
      { name: 'From', value: from },
      ...(body.ReplyToAddresses?.length
        ? [{ name: 'Reply-To', value: body.ReplyToAddresses.join(', ') }]
        : []),
      { name: 'To', value: to.join(', ') },
      ...(cc.length ? [{ name: 'Cc', value: cc.join(', ') }] : []),
      { name: 'Subject', value: subject },
      ...(content.Simple.Headers ?? []).map((h) => ({ name: h.Name, value: h.Value })),
      { name: 'MIME-Version', value: '1.0' },
      { name: 'Content-Type', value: 'text/plain; charset=UTF-8' },
    ];
  }
  if (from === '') return awsError(ctx, 400, 'BadRequestException', 'FromEmailAddress is required');
  const destination = [...to, ...cc, ...(body.Destination?.BccAddresses ?? [])];
  if (destination.length === 0) return awsError(ctx, 400, 'BadRequestException', 'Destination is required');
  const account = ctx.state.sesAccountFor(from);
  if (!account) {
    return awsError(
      ctx,
      400,
      'MessageRejected',
      `Email address is not verified. The following identities failed the check in region US-EAST-1: ${addressOf(from)}`,
    );
  }
  const recipient = addressOf(to[0] ?? destination[0]!).toLowerCase();
  const recipientError = ctx.state.recipientErrors.get(`ses:${recipient}`);
  if (recipientError === 'invalid')
    return awsError(ctx, 400, 'BadRequestException', `Illegal address: ${recipient}`);
  const messageId = `0100019a${ctx.state.hexId(8)}-${ctx.state.hexId(8)}-${ctx.state.hexId(4)}-${ctx.state.hexId(4)}-${ctx.state.hexId(4)}-${ctx.state.hexId(12)}-000000`;
  const tags: Record<string, string[]> = {
    ...(body.ConfigurationSetName ? { 'ses:configuration-set': [body.ConfigurationSetName] } : {}),
    'ses:source-ip': ['127.0.0.1'],
    'ses:from-domain': [addressOf(from).split('@')[1] ?? ''],
    'ses:caller-identity': ['provider-sandbox'],
  };
  for (const tag of body.EmailTags ?? []) tags[tag.Name] = [tag.Value];
  const send = ctx.state.recordSend({
    provider: 'ses',
    kind: 'email',
    account: addressOf(from).toLowerCase(),
    providerMessageId: messageId,
    to: recipient,
    text,
    request: rawRequest(ctx),
    meta: {
      from,
      to,
      cc,
      destination,
      subject,
      headers,
      tags,
      messageIdHeader: headers.find((h) => /^message-id$/i.test(h.name))?.value ?? null,
    },
  });
  sendJson(ctx, 200, { MessageId: messageId }, { 'x-amzn-requestid': randomUUID() });
  const { behaviour } = ctx.state;
  const fails =
    recipientError !== undefined ||
    (behaviour.failRate > 0 && ctx.state.behaviourRandom() < behaviour.failRate);
  const events = fails
    ? ['Send', recipientError ? 'SuppressedBounce' : 'Bounce']
    : ['Send', 'Delivery', ...(behaviour.open ? ['Open'] : [])];
  const callbacks = events.flatMap((event) => sesEventCallback(ctx.state, account, send, event) ?? []);
  void ctx.dispatcher.schedule(callbacks, { dropAll: fault === 'drop_callbacks' });
};

const iso = (offsetMs = 0) => new Date(Date.now() + offsetMs).toISOString();

/** The event names `POST /_sandbox/status` takes for SES, beyond SES's own `eventType`s. */
export const sesEventNames = [
  'Send',
  'Delivery',
  'Open',
  'Click',
  'Bounce',
  'TransientBounce',
  'SuppressedBounce',
  'Complaint',
  'Reject',
  'DeliveryDelay',
];

/** An SES event publishing notification for a sent mail, wrapped in a signed SNS notification; null without a subscriber. */
export const sesEventCallback = (
  state: SandboxState,
  account: SesAccount,
  send: SandboxSend,
  event: string,
): SandboxCallback | null => {
  if (!account.webhookUrl) return null;
  const destination = (send.meta.destination as string[]).map(addressOf);
  const recipient = destination[0]!;
  const headers = send.meta.headers as { name: string; value: string }[];
  const mail = {
    timestamp: send.at,
    source: String(send.meta.from),
    sourceArn: `arn:aws:ses:us-east-1:123456789012:identity/${account.domain ?? addressOf(String(send.meta.from))}`,
    sendingAccountId: '123456789012',
    messageId: send.providerMessageId,
    destination,
    headersTruncated: false,
    headers,
    commonHeaders: {
      from: [String(send.meta.from)],
      to: send.meta.to as string[],
      ...(send.meta.messageIdHeader ? { messageId: String(send.meta.messageIdHeader) } : {}),
      subject: String(send.meta.subject),
    },
    tags: send.meta.tags as Record<string, string[]>,
  };
  const bounce = (bounceType: string, bounceSubType: string, status: string, diagnosticCode: string) => ({
    eventType: 'Bounce',
    bounce: {
      feedbackId: `0100019a${state.hexId(8)}-bounce-000000`,
      bounceType,
      bounceSubType,
      bouncedRecipients: [{ emailAddress: recipient, action: 'failed', status, diagnosticCode }],
      timestamp: iso(),
      reportingMTA: 'dns; amazonses.com',
    },
  });
  const bodies: Record<string, Record<string, unknown>> = {
    Send: { eventType: 'Send', send: {} },
    Delivery: {
      eventType: 'Delivery',
      delivery: {
        timestamp: iso(),
        processingTimeMillis: 812,
        recipients: destination,
        smtpResponse: '250 2.6.0 Message received',
        reportingMTA: 'a8-70.smtp-out.amazonses.com',
      },
    },
    Open: {
      eventType: 'Open',
      open: { ipAddress: '192.0.2.1', timestamp: iso(), userAgent: 'Mozilla/5.0 (sandbox)' },
    },
    Click: {
      eventType: 'Click',
      click: {
        ipAddress: '192.0.2.1',
        timestamp: iso(),
        userAgent: 'Mozilla/5.0 (sandbox)',
        link: 'https://example.com/',
        linkTags: {},
      },
    },
    Bounce: bounce('Permanent', 'General', '5.1.1', 'smtp; 550 5.1.1 user unknown'),
    SuppressedBounce: bounce(
      'Permanent',
      'OnAccountSuppressionList',
      '5.1.1',
      'Amazon SES did not send the message to this address because it is on the suppression list for your account.',
    ),
    TransientBounce: bounce('Transient', 'MailboxFull', '4.2.2', 'smtp; 452 4.2.2 Mailbox full'),
    Complaint: {
      eventType: 'Complaint',
      complaint: {
        feedbackId: `0100019a${state.hexId(8)}-complaint-000000`,
        complaintSubType: null,
        complainedRecipients: [{ emailAddress: recipient }],
        timestamp: iso(),
        userAgent: 'sandbox-feedback',
        complaintFeedbackType: 'abuse',
        arrivalDate: iso(),
      },
    },
    Reject: { eventType: 'Reject', reject: { reason: 'Bad content' } },
    DeliveryDelay: {
      eventType: 'DeliveryDelay',
      deliveryDelay: {
        timestamp: iso(),
        delayType: 'TransientCommunicationFailure',
        expirationTime: iso(86_400_000),
        delayedRecipients: [
          { emailAddress: recipient, status: '4.4.1', diagnosticCode: 'smtp; 421 4.4.1 Unable to connect' },
        ],
      },
    },
  };
  const payload = bodies[event];
  if (!payload) return null;
  const { eventType, ...details } = payload;
  const message = JSON.stringify({ eventType, mail, ...details });
  return snsCallback(state, {
    topicArn: account.topicArn,
    url: account.webhookUrl,
    message,
    subject: null,
    kind: 'status',
    event,
    providerMessageId: send.providerMessageId,
  });
};

/** An SNS Notification carrying `message`, signed (SignatureVersion 2) with the sandbox key, as a callback record. */
export const snsCallback = (
  state: SandboxState,
  input: {
    topicArn: string;
    url: string;
    message: string;
    subject: string | null;
    kind: SandboxCallback['kind'];
    event: string;
    providerMessageId: string | null;
  },
): SandboxCallback => {
  const region = input.topicArn.split(':')[3] || 'us-east-1';
  const messageId = randomUUID();
  const notification: Record<string, string> = {
    Type: 'Notification',
    MessageId: messageId,
    TopicArn: input.topicArn,
    ...(input.subject ? { Subject: input.subject } : {}),
    Message: input.message,
    Timestamp: new Date().toISOString(),
    SignatureVersion: '2',
  };
  const fields = ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'].filter(
    (f) => notification[f] !== undefined,
  );
  const stringToSign = fields.map((f) => `${f}\n${notification[f]}\n`).join('');
  const signature = createSign('RSA-SHA256').update(stringToSign, 'utf8').sign(snsSigningKey, 'base64');
  const subscriptionArn = `${input.topicArn}:${randomUUID()}`;
  const body = JSON.stringify({
    ...notification,
    Signature: signature,
    SigningCertURL: `https://sns.${region}.amazonaws.com/SimpleNotificationService-sandbox.pem`,
    UnsubscribeURL: `https://sns.${region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${subscriptionArn}`,
  });
  return state.newCallback({
    provider: 'ses',
    kind: input.kind,
    event: input.event,
    providerMessageId: input.providerMessageId,
    url: input.url,
    body,
    headers: {
      'content-type': 'text/plain; charset=UTF-8',
      'user-agent': 'Amazon Simple Notification Service Agent',
      'x-amz-sns-message-type': 'Notification',
      'x-amz-sns-message-id': messageId,
      'x-amz-sns-topic-arn': input.topicArn,
      'x-amz-sns-subscription-arn': subscriptionArn,
    },
  });
};

export interface SesReplyInput {
  from: string;
  fromName?: string;
  /** The address written to: a `reply+<conversation>@` address, or the account's address. */
  to?: string;
  text: string;
  /** The SES MessageId of the mail being answered (threading headers are built from it). */
  replyTo?: string;
  subject?: string;
}

/** A receipt notification (SNS action, Base64 content) for mail the contact sends; null without a receipt subscriber. */
export const sesReply = (
  state: SandboxState,
  account: SesAccount,
  input: SesReplyInput,
): SandboxCallback | null => {
  if (!account.receiptWebhookUrl) return null;
  const original = input.replyTo ? state.sendsById.get(`ses:${input.replyTo}`) : undefined;
  const to = input.to ?? account.fromAddresses[0] ?? `inbox@${account.domain ?? 'example.com'}`;
  const fromHeader = input.fromName ? `${input.fromName} <${input.from}>` : input.from;
  const subject = input.subject ?? (original ? `Re: ${String(original.meta.subject)}` : 'Hello');
  const messageIdHeader = `<sandbox.${state.hexId(16)}@mail.example.com>`;
  const sesIdHeader = input.replyTo ? `<${input.replyTo}@email.amazonses.com>` : null;
  const references = [
    original?.meta.messageIdHeader ? String(original.meta.messageIdHeader) : null,
    sesIdHeader,
  ]
    .filter(Boolean)
    .join(' ');
  const date = new Date().toUTCString().replace('GMT', '+0000');
  const headers = [
    { name: 'Return-Path', value: `<${input.from}>` },
    { name: 'From', value: fromHeader },
    { name: 'To', value: to },
    { name: 'Subject', value: subject },
    { name: 'Date', value: date },
    { name: 'Message-ID', value: messageIdHeader },
    ...(sesIdHeader ? [{ name: 'In-Reply-To', value: sesIdHeader }] : []),
    ...(references ? [{ name: 'References', value: references }] : []),
    { name: 'MIME-Version', value: '1.0' },
    { name: 'Content-Type', value: 'text/plain; charset=UTF-8' },
  ];
  const mime = `${headers.map((h) => `${h.name}: ${h.value}`).join('\r\n')}\r\n\r\n${input.text}\r\n`;
  const messageId = `${state.hexId(20)}${state.hexId(20)}`;
  const now = iso();
  const notification = {
    notificationType: 'Received',
    receipt: {
      timestamp: now,
      processingTimeMillis: 406,
      recipients: [to],
      spamVerdict: { status: 'PASS' },
      virusVerdict: { status: 'PASS' },
      spfVerdict: { status: 'PASS' },
      dkimVerdict: { status: 'PASS' },
      dmarcVerdict: { status: 'PASS' },
      action: { type: 'SNS', topicArn: account.receiptTopicArn, encoding: 'BASE64' },
    },
    mail: {
      timestamp: now,
      source: input.from,
      messageId,
      destination: [to],
      headersTruncated: false,
      headers,
      commonHeaders: {
        returnPath: input.from,
        from: [fromHeader],
        date,
        to: [to],
        messageId: messageIdHeader,
        subject,
      },
    },
    content: Buffer.from(mime, 'utf8').toString('base64'),
  };
  return snsCallback(state, {
    topicArn: account.receiptTopicArn,
    url: account.receiptWebhookUrl,
    message: JSON.stringify(notification),
    subject: 'Amazon SES Email Receipt Notification',
    kind: 'inbound',
    event: 'Received',
    providerMessageId: messageId,
  });
};

const snsXmlNamespace = 'http://sns.amazonaws.com/doc/2010-03-31/';
const xmlText = (value: string) => value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const sendXml = (ctx: Ctx, status: number, xml: string) => {
  const text = `<?xml version="1.0"?>\n${xml}`;
  ctx.res.writeHead(status, { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(text) });
  ctx.res.end(text);
};

const snsError = (ctx: Ctx, status: number, code: string, message: string) =>
  sendXml(
    ctx,
    status,
    `<ErrorResponse xmlns="${snsXmlNamespace}"><Error><Type>Sender</Type><Code>${code}</Code>` +
      `<Message>${xmlText(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
  );

/**
 * SNS's answer to a visited `SubscribeURL` (ConfirmSubscription as a GET): the subscription is
 * recorded as confirmed (`GET /_sandbox/subscriptions`) and its ARN answered. Any token is taken: the
 * sandbox's own notifications need no subscription, so this only lets a subscriber's confirmation succeed.
 */
export const handleSnsApi = (ctx: Ctx) => {
  const params = ctx.url.searchParams;
  const action = params.get('Action');
  if (ctx.method !== 'GET' || action !== 'ConfirmSubscription') {
    return snsError(ctx, 400, 'InvalidAction', `The sandbox's SNS answers only GET ConfirmSubscription, not ${ctx.method} ${action ?? '(no Action)'}`);
  }
  const topicArn = params.get('TopicArn');
  const token = params.get('Token');
  if (!topicArn) return snsError(ctx, 400, 'InvalidParameter', 'Invalid parameter: TopicArn');
  if (!token) return snsError(ctx, 400, 'InvalidParameter', 'Invalid parameter: Token');
  const known = ctx.state.snsSubscriptions.find((each) => each.topicArn === topicArn && each.token === token);
  const subscription = known ?? { topicArn, token, subscriptionArn: `${topicArn}:${randomUUID()}`, confirmedAt: new Date().toISOString() };
  if (!known) ctx.state.snsSubscriptions.push(subscription);
  sendXml(
    ctx,
    200,
    `<ConfirmSubscriptionResponse xmlns="${snsXmlNamespace}"><ConfirmSubscriptionResult>` +
      `<SubscriptionArn>${xmlText(subscription.subscriptionArn)}</SubscriptionArn></ConfirmSubscriptionResult>` +
      `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></ConfirmSubscriptionResponse>`,
  );
};
