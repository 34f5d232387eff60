/**
 * What every provider webhook check shares: the outcome type, a case-insensitive header lookup and
 * constant-time comparisons. Checks run on the raw request bytes before anything is parsed, and a
 * failure says why, so the handler can log the reason (never the secret) and answer 401/403.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** Why a webhook was refused. */
export type SignatureFailureReason =
  /** The signature header (or field) is absent or empty. */
  | 'missing'
  /** It is present but not in the provider's format (bad prefix, not hex/base64, bad JSON). */
  | 'malformed'
  /** Well formed, but it does not match the body and our secret (or the certificate's key). */
  | 'mismatch'
  /** SNS: the signing certificate URL is not an SNS host over https, or the certificate is unusable. */
  | 'untrusted_certificate'
  /** SNS: the certificate could not be fetched (a passing fault: the provider should retry). */
  | 'certificate_unavailable'
  /** SNS: the message is for a topic this connection does not expect. */
  | 'unexpected_topic'
  /** A signature scheme we do not implement (e.g. an unknown SNS SignatureVersion). */
  | 'unsupported';

export type SignatureCheck = { ok: true } | { ok: false; reason: SignatureFailureReason; detail: string };

export const accepted: SignatureCheck = { ok: true };

export const refused = (
  reason: SignatureFailureReason,
  detail: string,
): { ok: false; reason: SignatureFailureReason; detail: string } => ({
  ok: false,
  reason,
  detail,
});

/** Request headers as Lambda (Function URL or API Gateway) or Node hand them over. */
export type RawHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/** A header's value by case-insensitive name; the first one when repeated; undefined when absent or empty. */
export const headerValue = (headers: RawHeaders, name: string): string | undefined => {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted) continue;
    const first = Array.isArray(value) ? value[0] : (value as string | undefined);
    if (first !== undefined && first.trim() !== '') return first.trim();
  }
  return undefined;
};

/** The request body exactly as received: a string is taken as its UTF-8 bytes. */
export type RawBody = Uint8Array | string;

export const bodyBytes = (body: RawBody): Buffer =>
  typeof body === 'string'
    ? Buffer.from(body, 'utf8')
    : Buffer.from(body.buffer, body.byteOffset, body.byteLength);

/** Constant-time equality of two byte strings of possibly different lengths. */
export const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => {
  // Hashing first gives both sides one length, so neither the content nor the length leaks through timing.
  const digestA = createHash('sha256').update(a).digest();
  const digestB = createHash('sha256').update(b).digest();
  return timingSafeEqual(digestA, digestB);
};

/** Constant-time equality of two texts (compared as UTF-8). */
export const sameText = (a: string, b: string): boolean =>
  sameBytes(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
