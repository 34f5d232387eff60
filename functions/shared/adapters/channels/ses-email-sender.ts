/**
 * Email sender over Amazon SES v2 `SendEmail` with simple content (client-sesv2 3.1169 carries custom
 * headers and attachments in `Content.Simple`, so no MIME is built here).
 *
 * - `FromEmailAddress`: `"<fromName>" <fromAddress>`; a non-ASCII display name as an RFC 2047
 *   encoded-word (SES requires it), `Destination.ToAddresses: [to]`, `ReplyToAddresses: [replyTo]`
 *   (`reply+<conversation>@<replyDomain>`, caught by the receipt rule);
 * - `Content.Simple`: `Subject` and a text `Body` (UTF-8), `Headers`: our `Message-ID`, and for a reply
 *   `In-Reply-To` and `References` (SES replaces `Message-ID` with its own; the delivery keeps both;
 *   a header value holds at most 995 characters, so a long `References` keeps its first id and the
 *   latest ones, as RFC 5322 3.6.4 suggests), `Attachments`: the files' bytes, fetched here;
 * - `EmailTags` `workspace`, `message`, `delivery` (names and values: ASCII letters, digits, `_`, `-`,
 *   at most 256), echoed back in every SES event; `ConfigurationSetName` from `SES_CONFIGURATION_SET`.
 * Answer: `{MessageId}`. Errors (SendEmail's documented exceptions): `MessageRejected`,
 * `BadRequestException` → rejected; `MailFromDomainNotVerifiedException`, `AccountSuspendedException`,
 * `SendingPausedException`, `NotFoundException` (no such configuration set) and refused credentials →
 * unauthorized; `TooManyRequestsException`, `LimitExceededException` and throttling → rate_limited;
 * 5xx → provider_unavailable; no answer in time or a broken connection → timeout.
 *
 * Sources (AWS documentation):
 * - https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html (request, response, errors)
 * - https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_Message.html and API_MessageHeader.html
 *   (Headers: name of printable ASCII without `:`; value at most 995 characters), API_Attachment.html
 * - https://docs.aws.amazon.com/ses/latest/dg/header-fields.html (Message-ID, In-Reply-To, References
 *   appear once; "If you provide a Message-ID header, Amazon SES overrides the header with its own value")
 * - https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_MessageTag.html (tag charset and length)
 * - https://docs.aws.amazon.com/ses/latest/dg/troubleshoot-error-messages.html
 * - https://docs.aws.amazon.com/ses/latest/dg/quotas.html (40 MB per message, after encoding)
 */
import type { Attachment, SESv2Client } from '@aws-sdk/client-sesv2';
import { ProviderSendError, type ChannelSender, type OutboundMessage, type ProviderFailureKind, type SendReceipt } from '../../../../domain/channels/outbound';
import { sendReferenceTags } from '../../../../domain/channels/send-reference';
import { notConnectedCodes, redact, requiredSetting, type ProviderHttp } from './provider-http';

// Imported on first use, not at cold start: bundled, a static import of the SDK client would load it
// in every function that carries this adapter, whether it calls it or not.
const sesv2 = () => import('@aws-sdk/client-sesv2');

const provider = 'SES';

/** What SES's documented SendEmail exceptions (and the SDK's transport errors) mean for a send. */
export const sesFailureKind = (name: string, httpStatus: number | null): ProviderFailureKind => {
  switch (name) {
    case 'MessageRejected':
    case 'BadRequestException':
      return 'rejected';
    case 'MailFromDomainNotVerifiedException':
    case 'AccountSuspendedException':
    case 'SendingPausedException':
    case 'NotFoundException':
    case 'UnrecognizedClientException':
    case 'InvalidSignatureException':
    case 'AccessDeniedException':
    case 'ExpiredTokenException':
    case 'CredentialsProviderError':
      return 'unauthorized';
    case 'TooManyRequestsException':
    case 'LimitExceededException':
    case 'ThrottlingException':
    case 'Throttling':
      return 'rate_limited';
    case 'InternalServiceErrorException':
      return 'provider_unavailable';
    case 'TimeoutError':
    case 'AbortError':
      return 'timeout';
  }
  if (httpStatus === null) return 'timeout';
  if (httpStatus === 429) return 'rate_limited';
  if (httpStatus >= 500) return 'provider_unavailable';
  if (httpStatus === 401 || httpStatus === 403) return 'unauthorized';
  return 'rejected';
};

const tagValue = (value: string) => value.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 256) || '-';

/** A display name SES accepts: quoted when printable ASCII, an RFC 2047 encoded-word otherwise. */
export const sesFromAddress = (fromAddress: string, fromName: string | null): string => {
  const name = fromName?.replace(/[\r\n]+/g, ' ').trim();
  if (!name) return fromAddress;
  const display = /^[\x20-\x7e]*$/.test(name)
    ? `"${name.replace(/(["\\])/g, '\\$1')}"`
    : `=?UTF-8?B?${Buffer.from(name, 'utf8').toString('base64')}?=`;
  return `${display} <${fromAddress}>`;
};

/** `References` within SES's 995-character header value: the thread's first id and as many of the latest as fit. */
export const referencesHeader = (references: readonly string[], limit = 995): string | null => {
  if (references.length === 0) return null;
  const all = references.join(' ');
  if (all.length <= limit) return all;
  const [first, ...rest] = references;
  const kept: string[] = [];
  let length = first!.length;
  for (const id of [...rest].reverse()) {
    if (length + 1 + id.length > limit) break;
    kept.unshift(id);
    length += 1 + id.length;
  }
  return [first!, ...kept].join(' ');
};

export interface SesEmailOptions {
  /** The client, or its promise while its SDK module loads (channel-adapters.ts builds it on first use). */
  client: SESv2Client | Promise<SESv2Client>;
  /** Fetches attachment files (their short-lived URLs) with the provider timeout. */
  http: ProviderHttp;
  timeoutMs: number;
  configurationSet?: string;
  /** The most attachment bytes one mail carries (SES allows 40 MB per message after base64). */
  maxAttachmentBytes?: number;
}

export function createSesEmailSender({
  client,
  http,
  timeoutMs,
  configurationSet,
  maxAttachmentBytes = 25 * 1024 * 1024,
}: SesEmailOptions): ChannelSender {
  const attachmentsOf = async (message: OutboundMessage): Promise<Attachment[]> => {
    const attachments: Attachment[] = [];
    let budget = maxAttachmentBytes;
    for (const attachment of message.attachments) {
      if (attachment.sizeBytes > budget) {
        throw new ProviderSendError('rejected', 'too_large', `${provider}: the attachments are larger than ${maxAttachmentBytes} bytes`);
      }
      const file = await http.download({ url: attachment.url, what: `${provider} attachment`, secrets: [], maxBytes: budget });
      budget -= file.bytes.byteLength;
      attachments.push({
        RawContent: file.bytes,
        FileName: attachment.fileName,
        ContentType: attachment.mimeType,
        ContentDisposition: 'ATTACHMENT',
        ContentTransferEncoding: 'BASE64',
      });
    }
    return attachments;
  };

  return {
    async send(message): Promise<SendReceipt> {
      const { connection, email, reference } = message;
      if (!email) throw new ProviderSendError('rejected', 'no_email_details', `${provider}: the message has no subject or headers`);
      const fromAddress = requiredSetting(connection.settings, 'fromAddress', provider);
      const attachments = await attachmentsOf(message);
      const references = referencesHeader(email.references);
      const headers = [
        { Name: 'Message-ID', Value: email.messageIdHeader },
        ...(email.inReplyTo ? [{ Name: 'In-Reply-To', Value: email.inReplyTo }] : []),
        ...(references ? [{ Name: 'References', Value: references }] : []),
      ];
      const command = new (await sesv2()).SendEmailCommand({
        FromEmailAddress: sesFromAddress(fromAddress, email.fromName),
        Destination: { ToAddresses: [message.to] },
        ReplyToAddresses: [email.replyTo],
        Content: {
          Simple: {
            Subject: { Data: email.subject, Charset: 'UTF-8' },
            Body: { Text: { Data: message.text, Charset: 'UTF-8' } },
            Headers: headers,
            ...(attachments.length > 0 ? { Attachments: attachments } : {}),
          },
        },
        EmailTags: [
          { Name: 'workspace', Value: tagValue(reference.workspaceId) },
          { Name: 'delivery', Value: tagValue(reference.deliveryId) },
          ...sendReferenceTags(reference).map((tag) => ({ Name: tag.Name, Value: tagValue(tag.Value) })),
        ],
        ...(configurationSet ? { ConfigurationSetName: configurationSet } : {}),
      });

      let messageId: string | undefined;
      try {
        ({ MessageId: messageId } = await (await client).send(command, { abortSignal: AbortSignal.timeout(timeoutMs) }));
      } catch (error) {
        throw sesError(error, timeoutMs);
      }
      if (!messageId) {
        throw new ProviderSendError('timeout', 'unreadable_answer', `${provider} SendEmail: answered without a MessageId; it may have been sent`);
      }
      return { providerMessageId: messageId, providerStatus: null };
    },
  };
}

const sesError = (error: unknown, timeoutMs: number): ProviderSendError => {
  const failure = error as { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number }; cause?: { code?: string } };
  const status = failure.$metadata?.httpStatusCode ?? null;
  const name = failure.name ?? 'Error';
  const kind = sesFailureKind(name, status);
  const socketCode = failure.code ?? failure.cause?.code;
  if (kind === 'timeout' && socketCode && notConnectedCodes.has(socketCode)) {
    // No connection was made: SES cannot have the mail.
    return new ProviderSendError('provider_unavailable', 'connection_failed', `${provider} SendEmail: could not connect (${socketCode})`);
  }
  if (kind === 'timeout') {
    const detail = name === 'TimeoutError' || name === 'AbortError' ? `no answer within ${timeoutMs} ms` : `the connection failed (${failure.code ?? failure.cause?.code ?? name})`;
    return new ProviderSendError('timeout', 'timeout', `${provider} SendEmail: ${detail}`);
  }
  return new ProviderSendError(kind, name, `${provider} SendEmail: ${redact(failure.message ?? name, [])}`, null, status);
};
