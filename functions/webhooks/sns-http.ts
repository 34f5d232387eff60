/**
 * The SNS ports over HTTPS: the signing certificate fetched from `SigningCertURL` (already checked to
 * be an SNS host by `verifySnsMessage`), and a subscription confirmed by a GET of its `SubscribeURL`
 * (https://docs.aws.amazon.com/sns/latest/dg/SendMessageToHttp.confirm.html). Locally a base URL
 * replaces the SNS host (the provider sandbox serves `/sns/<file>.pem`); the URL's own check stays.
 */
import type { SubscriptionConfirmer } from '../../domain/channels/inbound/apply-events';
import type { CertificateSource } from '../../domain/channels/sns-message';

const timeoutMs = 10_000;

/** `url`'s path and query on `baseUrl`, or `url` itself when there is no base. */
const rebased = (url: string, baseUrl: string | undefined) => {
  if (!baseUrl) return url;
  const parsed = new URL(url);
  return `${baseUrl}${parsed.pathname}${parsed.search}`;
};

export function httpCertificateSource(options: { baseUrl?: string } = {}): CertificateSource {
  return {
    async fetchPem(url) {
      const response = await fetch(rebased(url, options.baseUrl), { signal: AbortSignal.timeout(timeoutMs) });
      if (!response.ok) throw new Error(`The certificate URL answered ${response.status}`);
      const pem = await response.text();
      if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new Error('The certificate URL did not answer a PEM certificate');
      return pem;
    },
  };
}

export function httpSubscriptionConfirmer(options: { baseUrl?: string } = {}): SubscriptionConfirmer {
  return {
    async confirm(subscribeUrl) {
      const response = await fetch(rebased(subscribeUrl, options.baseUrl), { signal: AbortSignal.timeout(timeoutMs) });
      // Not confirmed: throw, so the webhook answers 500 and SNS sends the confirmation again.
      if (!response.ok) throw new Error(`SNS answered the confirmation with ${response.status}`);
    },
  };
}
