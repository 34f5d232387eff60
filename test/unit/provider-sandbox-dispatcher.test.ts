import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dispatcher } from '../../local/provider-sandbox/dispatcher';
import { SandboxState } from '../../local/provider-sandbox/state';

/** The sandbox's callback dispatcher against a slow loopback receiver: concurrency, order, retries. */
let server: Server;
let url: string;
let inFlight = 0;
let maxInFlight = 0;
const seen: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () =>
      setTimeout(() => {
        inFlight--;
        seen.push(Buffer.concat(chunks).toString());
        res.writeHead(req.url === '/refuse' ? 500 : 204).end();
      }, 5),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const callback = (state: SandboxState, body: string, path = '/ok') =>
  state.newCallback({
    provider: 'whatsapp',
    kind: 'status',
    event: body,
    providerMessageId: null,
    url: `${url}${path}`,
    body,
    headers: {},
  });

describe('provider sandbox dispatcher', () => {
  it('keeps at most `concurrency` posts in flight and each send’s callbacks in order', async () => {
    const state = new SandboxState();
    state.setBehaviour({ delayMs: 0, concurrency: 16 });
    const dispatcher = new Dispatcher(state);
    for (let i = 0; i < 200; i++) {
      void dispatcher.schedule([
        callback(state, `${i}:a`),
        callback(state, `${i}:b`),
        callback(state, `${i}:c`),
      ]);
    }
    await dispatcher.flush();

    expect(maxInFlight).toBeLessThanOrEqual(16);
    expect(maxInFlight).toBeGreaterThan(1);
    expect(state.callbacks.every((c) => c.state === 'delivered')).toBe(true);
    for (let i = 0; i < 200; i++) {
      expect(seen.filter((body) => body.startsWith(`${i}:`))).toEqual([`${i}:a`, `${i}:b`, `${i}:c`]);
    }
  });

  it('retries a refused post `callbackRetries` times, then marks it failed', async () => {
    const state = new SandboxState();
    state.setBehaviour({ delayMs: 0, callbackRetries: 2, callbackRetryDelayMs: 1 });
    const dispatcher = new Dispatcher(state);
    await dispatcher.schedule([callback(state, 'refused', '/refuse')]);
    expect(state.callbacks[0]).toMatchObject({ state: 'failed' });
    expect(state.callbacks[0]!.attempts.map((a) => a.status)).toEqual([500, 500, 500]);
  });
});
