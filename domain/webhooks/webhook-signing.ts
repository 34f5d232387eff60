import { randomBytes } from 'node:crypto';
import { Webhook as StandardWebhook } from 'standardwebhooks';

/** A new signing secret as the Standard Webhooks libraries take it: `whsec_` and 32 random bytes in base64. */
export const newSigningSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

/** `msg_<eventId>_<subscriptionId>`: the same on every attempt of one event to one subscription, so a receiver dedupes by it. */
export const webhookIdOf = (eventId: string, subscriptionId: string) => `msg_${eventId}_${subscriptionId}`;

/**
 * The three Standard Webhooks headers of one attempt: `webhook-signature` is `v1,<base64 HMAC-SHA256 of
 * "<id>.<timestamp>.<body>">` per secret, space-separated (during a rotation's overlap, the new secret's
 * first, then the previous one's), signed by the Standard Webhooks library itself.
 */
export function signedHeaders(
  secrets: readonly string[],
  webhookId: string,
  at: Date,
  body: string,
): { 'webhook-id': string; 'webhook-timestamp': string; 'webhook-signature': string } {
  return {
    'webhook-id': webhookId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': secrets.map((secret) => new StandardWebhook(secret).sign(webhookId, at, body)).join(' '),
  };
}
