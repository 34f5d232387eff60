import { lookup } from 'node:dns/promises';
import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { WebhookTransportError, type WebhookTransport } from '../../../domain/shared/ports';

/**
 * Webhook POSTs over node's http(s) with the checked address pinned: the socket's `lookup` answers with
 * that address whatever the name, so a DNS answer that changed since the check (rebinding) is never
 * used, while the URL's host stays the Host header and the TLS server name (SNI, certificate check).
 * No redirect is followed; the answer is read up to `maxResponseBytes`, then the socket is dropped.
 */
export function createWebhookTransport(): WebhookTransport {
  return {
    resolve: async (hostname) =>
      (await lookup(hostname, { all: true, verbatim: true })).map(({ address, family }) => ({
        address,
        family: family === 6 ? 6 : 4,
      })),
    post: (post) =>
      new Promise((resolve, reject) => {
        const started = performance.now();
        const elapsed = () => Math.round(performance.now() - started);
        const url = new URL(post.url);
        const pinned: LookupFunction = (_hostname, options, callback) => {
          if ((options as { all?: boolean }).all) {
            (callback as unknown as (error: null, addresses: { address: string; family: number }[]) => void)(null, [
              { address: post.address.address, family: post.address.family },
            ]);
          } else callback(null, post.address.address, post.address.family);
        };
        const options: RequestOptions & { servername?: string } = {
          method: 'POST',
          lookup: pinned,
          headers: { ...post.headers, 'content-length': String(Buffer.byteLength(post.body)) },
          // No keep-alive pool: a pooled socket could outlive the check of the address it connects to.
          agent: false,
          ...(url.protocol === 'https:' && !/^\[|^\d+\.\d+\.\d+\.\d+$/.test(url.hostname) ? { servername: url.hostname } : {}),
        };
        let settled = false;
        const fail = (message: string) => {
          if (settled) return;
          settled = true;
          reject(new WebhookTransportError(message, elapsed()));
        };
        const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
        const req = send(url, options, (res) => {
          const chunks: Buffer[] = [];
          let kept = 0;
          const finish = () => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            resolve({ status: res.statusCode ?? 0, bodyExcerpt: Buffer.concat(chunks).toString('utf8'), latencyMs: elapsed() });
            res.destroy();
          };
          res.on('data', (chunk: Buffer) => {
            const room = post.maxResponseBytes - kept;
            if (room > 0) chunks.push(chunk.subarray(0, room));
            kept += Math.min(room, chunk.length);
            if (kept >= post.maxResponseBytes) finish();
          });
          res.on('end', finish);
          res.on('error', (error) => fail(error.message));
        });
        const timer = setTimeout(() => {
          fail(`No answer within ${post.timeoutMs} ms`);
          req.destroy();
        }, post.timeoutMs);
        req.on('error', (error) => {
          clearTimeout(timer);
          fail(error.message);
        });
        req.end(post.body);
      }),
  };
}
