/**
 * Amazon SNS messages posted to an HTTPS endpoint (how SES event notifications and inbound mail reach
 * us): the signature check (SignatureVersion 1, SHA1withRSA, and 2, SHA256withRSA), the signing
 * certificate fetched through a port from an SNS host only (with a small cache), the expected topic
 * only, and the subscription confirmation as an event.
 *
 * Sources (AWS documentation):
 * - https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html (SignatureVersion 1
 *   and 2; certificate over HTTPS from SNS only; reject an unexpected TopicArn) and the string to sign,
 *   https://github.com/awsdocs/amazon-sns-developer-guide/blob/main/doc_source/SendMessageToHttp.verify.signature.md:
 *   name, newline, value, newline for each pair, in byte order of the names: Notification signs
 *   Message, MessageId, Subject (only when present), Timestamp, TopicArn, Type; SubscriptionConfirmation
 *   and UnsubscribeConfirmation sign Message, MessageId, SubscribeURL, Timestamp, Token, TopicArn, Type
 * - https://docs.aws.amazon.com/sns/latest/dg/http-notification-json.html and
 *   https://docs.aws.amazon.com/sns/latest/dg/http-subscription-confirmation-json.html (the fields)
 * - The certificate host: `sns.<region>.amazonaws.com` (`.com.cn` in China), the pattern AWS's own
 *   validators use (`/^sns\.[a-zA-Z0-9-]{3,}\.amazonaws\.com(\.cn)?$/`, sns-validator for Node).
 */
import { createVerify, X509Certificate } from 'node:crypto';
import * as z from 'zod';
import { type SnsSubscriptionEvent } from './inbound-events';
import { bodyBytes, refused, type RawBody, type SignatureFailureReason } from './webhook-signature';

/** The port the signing certificate is fetched through: PEM text for a URL already checked to be SNS's. */
export interface CertificateSource {
  fetchPem(url: string): Promise<string>;
}

/**
 * Keeps up to `maxEntries` certificates by URL (SNS rotates them rarely and names each by its own URL),
 * sharing one fetch among concurrent callers; a failed fetch is not kept.
 */
export const cachedCertificates = (
  source: CertificateSource,
  options: { maxEntries?: number } = {},
): CertificateSource => {
  const maxEntries = options.maxEntries ?? 16;
  const cache = new Map<string, Promise<string>>();
  return {
    fetchPem(url) {
      const hit = cache.get(url);
      if (hit) {
        // Most recently used last, so the oldest is the first to go.
        cache.delete(url);
        cache.set(url, hit);
        return hit;
      }
      const pending = source.fetchPem(url);
      cache.set(url, pending);
      pending.catch(() => {
        if (cache.get(url) === pending) cache.delete(url);
      });
      while (cache.size > maxEntries) cache.delete(cache.keys().next().value!);
      return pending;
    },
  };
};

export const snsMessageTypes = [
  'Notification',
  'SubscriptionConfirmation',
  'UnsubscribeConfirmation',
] as const;

/** An SNS message as POSTed to an HTTP(S) subscriber. */
export const snsMessageSchema = z.object({
  Type: z.enum(snsMessageTypes),
  MessageId: z.string().min(1),
  TopicArn: z.string().min(1),
  Subject: z.string().optional(),
  Message: z.string(),
  Timestamp: z.string().min(1),
  SignatureVersion: z.string(),
  Signature: z.string().min(1),
  SigningCertURL: z.string().min(1),
  SubscribeURL: z.string().optional(),
  Token: z.string().optional(),
  UnsubscribeURL: z.string().optional(),
});
export type SnsMessage = z.infer<typeof snsMessageSchema>;

const snsHost = /^sns\.[a-z0-9-]{3,}\.amazonaws\.com(\.cn)?$/;

/** An https URL on an SNS host, default port, no credentials: the only place certificates and confirmations may come from. */
export const isSnsHostUrl = (value: string): boolean => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return (
    url.protocol === 'https:' &&
    url.port === '' &&
    !url.username &&
    !url.password &&
    snsHost.test(url.hostname)
  );
};

/** The string SNS signs: the type's fields in byte order of their names, each as name\nvalue\n. */
export const snsStringToSign = (message: SnsMessage): string => {
  const fields: (keyof SnsMessage)[] =
    message.Type === 'Notification'
      ? ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type']
      : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
  return fields
    .filter((field) => message[field] !== undefined)
    .map((field) => `${field}\n${message[field]}\n`)
    .join('');
};

export interface SnsVerifyOptions {
  /** The topics this endpoint subscribes to: anything else is refused before a certificate is fetched. */
  expectedTopicArns: readonly string[];
  certificates: CertificateSource;
  /** When given, a certificate outside its validity period is refused. */
  now?: Date;
}

export type SnsCheck =
  { ok: true; message: SnsMessage } | { ok: false; reason: SignatureFailureReason; detail: string };

const algorithms: Record<string, string> = { '1': 'RSA-SHA1', '2': 'RSA-SHA256' };

/**
 * Verifies an SNS message from its raw body. Cheap refusals come first (shape, topic, version,
 * certificate URL), so a forged request costs no certificate fetch. A fetch that fails is
 * `certificate_unavailable`: the caller should answer 5xx so SNS retries.
 */
export const verifySnsMessage = async (rawBody: RawBody, options: SnsVerifyOptions): Promise<SnsCheck> => {
  let json: unknown;
  try {
    json = JSON.parse(bodyBytes(rawBody).toString('utf8'));
  } catch {
    return refused('malformed', 'The body is not JSON');
  }
  if (typeof json === 'object' && json !== null && !Array.isArray(json) && !('Signature' in json)) {
    return refused('missing', 'The message has no Signature');
  }
  const parsed = snsMessageSchema.safeParse(json);
  if (!parsed.success)
    return refused('malformed', 'Not an SNS message (Type, MessageId, TopicArn, Message, ...)');
  const message = parsed.data;
  if (
    message.Type !== 'Notification' &&
    (message.SubscribeURL === undefined || message.Token === undefined)
  ) {
    return refused('malformed', `A ${message.Type} without SubscribeURL or Token`);
  }
  if (!options.expectedTopicArns.includes(message.TopicArn)) {
    return refused('unexpected_topic', `Topic ${message.TopicArn} is not one this endpoint subscribes to`);
  }
  const algorithm = algorithms[message.SignatureVersion];
  if (!algorithm) return refused('unsupported', `SignatureVersion ${message.SignatureVersion} is not 1 or 2`);
  if (!isSnsHostUrl(message.SigningCertURL) || !new URL(message.SigningCertURL).pathname.endsWith('.pem')) {
    return refused('untrusted_certificate', 'SigningCertURL is not a .pem on an SNS host over https');
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(message.Signature))
    return refused('malformed', 'Signature is not base64');

  let pem: string;
  try {
    pem = await options.certificates.fetchPem(message.SigningCertURL);
  } catch (error) {
    return refused(
      'certificate_unavailable',
      `The signing certificate could not be fetched: ${(error as Error).message}`,
    );
  }
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pem);
  } catch {
    return refused('untrusted_certificate', 'The signing certificate is not an X.509 certificate');
  }
  if (options.now) {
    const now = options.now.getTime();
    if (now < Date.parse(certificate.validFrom) || now > Date.parse(certificate.validTo)) {
      return refused('untrusted_certificate', 'The signing certificate is outside its validity period');
    }
  }
  const verifier = createVerify(algorithm);
  verifier.update(snsStringToSign(message), 'utf8');
  return verifier.verify(certificate.publicKey, message.Signature, 'base64')
    ? { ok: true, message }
    : refused('mismatch', 'The signature does not match the message');
};

/** A verified SubscriptionConfirmation or UnsubscribeConfirmation as an event; null for a Notification or an off-SNS URL. */
export const snsSubscriptionEvent = (message: SnsMessage): SnsSubscriptionEvent | null => {
  if (message.Type === 'Notification' || !message.SubscribeURL || !message.Token) return null;
  // The caller visits SubscribeURL: it must be SNS's, whatever the (signed) message says.
  if (!isSnsHostUrl(message.SubscribeURL)) return null;
  return {
    type: 'sns_subscription',
    provider: 'sns',
    dedupeKeys: [`sns:${message.MessageId}`],
    action: message.Type === 'SubscriptionConfirmation' ? 'confirm' : 'unsubscribed',
    topicArn: message.TopicArn,
    subscribeUrl: message.SubscribeURL,
    token: message.Token,
  };
};
