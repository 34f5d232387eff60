import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import { cachedConnections, type ConnectionCache } from '../../domain/channels/inbound/connection-cache';
import { receiveWebhook, type InboundDeps } from '../../domain/channels/inbound/receive-webhook';
import { cachedCertificates } from '../../domain/channels/sns-message';
import { getConfig } from '../shared/config';
import { getBlobStore, getCoreDeps, getSecretSealer } from '../shared/deps';
import { logger } from '../shared/logger';
import { httpCertificateSource, httpSubscriptionConfirmer } from './sns-http';

/**
 * `channel-hooks`: every provider's webhook, on one Lambda Function URL, at `/hooks/<provider>/<connectionId>`
 * (domain/channels/inbound/receive-webhook.ts does the work).
 */
let ports: (Pick<InboundDeps, 'sealer' | 'certificates' | 'subscriptions' | 'log'> & { connections: ConnectionCache }) | undefined;

const log: InboundDeps['log'] = {
  info: (message, fields) => logger.info(message, fields ?? {}),
  warn: (message, fields) => logger.warn(message, fields ?? {}),
  error: (message, fields) => logger.error(message, fields ?? {}),
};

function inboundDeps(): InboundDeps {
  const config = getConfig();
  const sealer = getSecretSealer();
  ports ??= {
    sealer,
    connections: cachedConnections({ ...getCoreDeps(), sealer }),
    certificates: cachedCertificates(httpCertificateSource({ baseUrl: config.snsCertificateBaseUrl })),
    subscriptions: httpSubscriptionConfirmer({ baseUrl: config.snsSubscribeBaseUrl }),
    log,
  };
  let blobs;
  try {
    blobs = getBlobStore();
  } catch {
    // No bucket configured: only mail written to S3 needs one (it then fails and is retried).
  }
  return { ...getCoreDeps(), ...ports, ...(blobs ? { blobs } : {}) };
}

/** Tests and the local runtime reset the ports after changing the configuration. */
export const resetChannelHookPorts = () => {
  ports = undefined;
};

const hookPath = /^\/hooks\/([a-z]+)\/([A-Za-z0-9_]{1,64})$/;

export async function handler(event: LambdaFunctionURLEvent): Promise<LambdaFunctionURLResult> {
  const match = hookPath.exec(event.rawPath);
  if (!match) return { statusCode: 404, headers: { 'content-type': 'application/json' }, body: '{"message":"Not Found"}' };
  const query = event.rawQueryString ? `?${event.rawQueryString}` : '';
  // Twilio signs the exact public URL: the configured base, or the Function URL's own domain.
  const base = getConfig().hooksBaseUrl ?? `https://${event.requestContext.domainName}`;
  const result = await receiveWebhook(inboundDeps(), {
    provider: match[1]!,
    connectionId: match[2]!,
    method: event.requestContext.http.method,
    headers: event.headers,
    rawBody: event.body ? Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8') : new Uint8Array(),
    url: `${base}${event.rawPath}${query}`,
    query: event.queryStringParameters ?? {},
  });
  return { statusCode: result.status, headers: result.headers, body: result.body };
}
