import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook as StandardWebhook } from 'standardwebhooks';

/**
 * Events fanned out to three webhook subscriptions of a running CRM (`npm start`), one of them down
 * for a while; what each receiver got, what each delivery log says, and the event-to-delivery delay.
 * Shared by the `npm start` test (test/e2e/npm-start.test.ts) and `npm run bench:webhooks`.
 *
 * The events: `contacts` contacts created through the API (`contact.created`), then each of them
 * tagged `tagsPerContact` times through `POST /v1/contacts/bulk` (`tag.added`), plus whatever the
 * workspace's own consumers add (segment joins, assignments). What "every matching event" means
 * comes from the change feed, not from what the run thinks it wrote: every event the feed holds that
 * was written after the subscriptions existed, matched by type.
 */
export interface FanoutRunOptions {
  apiBase: string;
  /** An owner or admin token of the workspace. */
  token: string;
  contacts: number;
  tagsPerContact: number;
  /** How long the third receiver answers 503 after the first request reaches it (it is down from the start). */
  downForMs: number;
  /** Requests in flight while writing the events. */
  concurrency?: number;
  /** Contacts created at this steady rate, one at a time, in place of as fast as `concurrency` allows: the delay then shows the pipeline's own latency, not a backlog. */
  contactsPerSecond?: number;
  /** Gives up waiting for the deliveries after this long. */
  timeoutMs?: number;
  log?: (message: string) => void;
}

/** What one subscription saw. */
export interface SubscriptionOutcome {
  name: string;
  eventTypes: string[];
  /** Events of the feed it should have got. */
  expected: number;
  /** Of those, received with a 2xx answer (distinct webhook-ids). */
  received: number;
  /** Expected events never received: lost. */
  missing: number;
  /** webhook-ids answered 2xx more than once (at-least-once delivery: a retry after a lost answer). */
  receivedTwice: number;
  /** Requests answered 503 while it was down. */
  refusedWhileDown: number;
  /** Signatures the Standard Webhooks library refused. */
  badSignatures: number;
  /** The delivery log through the API: expected events logged `delivered`, and how often each appears. */
  loggedDelivered: number;
  loggedMoreThanOnce: number;
  loggedNotDelivered: number;
  /** Deliveries logged with more than one attempt. */
  retriedDeliveries: number;
  /** The event's `createdAt` to its first 2xx arrival at the receiver, ms. */
  delayMs: Percentiles;
  /** Where that time went, from the delivery log: the event to its delivery item (the stream and the fan-out), and the item to its first attempt (the queue). */
  fanOutMs: Percentiles;
  queuedMs: Percentiles;
  /** The last arrival after the receiver came back up (the down one), ms. */
  caughtUpAfterRecoveryMs?: number;
}

export interface FanoutRunReport {
  events: number;
  eventsByType: Record<string, number>;
  writeSeconds: number;
  writeEventsPerSecond: number;
  /** From the first event written to the last live delivery. */
  deliveredAllLiveSeconds: number;
  /** From the first event written to every subscription holding every event. */
  deliveredAllSeconds: number;
  subscriptions: SubscriptionOutcome[];
}

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

const percentiles = (values: number[]): Percentiles => {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), max: sorted.at(-1) ?? 0 };
};

interface Arrival {
  at: number;
  createdAt: number;
}

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `worker(i)` for i < total, `concurrency` at a time. */
async function runConcurrent(total: number, concurrency: number, worker: (index: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, total) }, async () => {
      while (next < total) await worker(next++);
    }),
  );
}

export async function runWebhookFanout(options: FanoutRunOptions): Promise<FanoutRunReport> {
  const log = options.log ?? (() => {});
  const concurrency = options.concurrency ?? 8;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies
  const api = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => {
    for (let attempt = 1; ; attempt += 1) {
      const res = await fetch(`${options.apiBase}${path}`, {
        method,
        headers: { authorization: `Bearer ${options.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      const parsed = { status: res.status, body: text ? JSON.parse(text) : null };
      // A write that met another at once (a bulk tag beside a consumer's write) is the client's to retry.
      if ((res.status === 409 || res.status >= 500) && attempt < 5) {
        log(`${method} ${path}: ${res.status} ${JSON.stringify(parsed.body).slice(0, 200)}; again`);
        await sleep(200 * attempt);
        continue;
      }
      if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(parsed.body)}`);
      return parsed;
    }
  };

  // The receivers: one server, a path per subscription. `/down` answers 503 until `upAt`: `downForMs`
  // after the first request reaches it, whatever the time the stream takes to get there.
  const names = ['all', 'contacts', 'down'] as const;
  const secrets = new Map<string, StandardWebhook>();
  const arrivals = new Map<string, Map<string, Arrival[]>>(names.map((name) => [name, new Map()]));
  const refused = new Map<string, number>(names.map((name) => [name, 0]));
  const badSignatures = new Map<string, number>(names.map((name) => [name, 0]));
  let upAt = Number.POSITIVE_INFINITY;
  let lastArrival = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const at = Date.now();
      const name = (req.url ?? '').slice(1);
      const verifier = secrets.get(name);
      if (!verifier || !arrivals.has(name)) {
        res.writeHead(404).end();
        return;
      }
      if (name === 'down' && at < upAt) {
        if (upAt === Number.POSITIVE_INFINITY) upAt = at + options.downForMs;
        refused.set(name, refused.get(name)! + 1);
        res.writeHead(503).end('down for maintenance');
        return;
      }
      const body = Buffer.concat(chunks).toString('utf8');
      const webhookId = String(req.headers['webhook-id']);
      let payload: { timestamp: string; data: { id: string } };
      try {
        payload = verifier.verify(body, {
          'webhook-id': webhookId,
          'webhook-timestamp': String(req.headers['webhook-timestamp']),
          'webhook-signature': String(req.headers['webhook-signature']),
        }) as typeof payload;
      } catch {
        badSignatures.set(name, badSignatures.get(name)! + 1);
        res.writeHead(400).end('bad signature');
        return;
      }
      const byEvent = arrivals.get(name)!;
      const list = byEvent.get(payload.data.id) ?? [];
      list.push({ at, createdAt: Date.parse(payload.timestamp) });
      byEvent.set(payload.data.id, list);
      lastArrival = at;
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const receiverBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const subscriptions = new Map<string, { id: string; createdAt: string }>();
  try {
    const patterns: Record<(typeof names)[number], string[]> = { all: ['*'], contacts: ['contact.*'], down: ['*'] };
    for (const name of names) {
      const created = await api('POST', '/v1/webhooks', { url: `${receiverBase}/${name}`, eventTypes: patterns[name], description: `fan-out run: ${name}` });
      secrets.set(name, new StandardWebhook(created.body.secret));
      subscriptions.set(name, { id: created.body.id, createdAt: created.body.createdAt });
    }
    // Every event written after this instant meets all three subscriptions when the stream fans it out.
    const subscribedAt = Math.max(...[...subscriptions.values()].map((s) => Date.parse(s.createdAt)));
    let after = await feedHead(api);
    await sleep(Math.max(0, subscribedAt + 5 - Date.now()));

    // The events.
    const runId = randomBytes(4).toString('hex');
    const startedAt = Date.now();
    const contactIds: string[] = new Array(options.contacts);
    const paceMs = options.contactsPerSecond ? 1000 / options.contactsPerSecond : 0;
    await runConcurrent(options.contacts, paceMs ? 1 : concurrency, async (i) => {
      if (paceMs) await sleep(Math.max(0, startedAt + i * paceMs - Date.now()));
      const created = await api('POST', '/v1/contacts', {
        name: `Fanout ${runId} ${i}`,
        channels: [{ kind: 'email', value: `fanout-${runId}-${i}@example.com` }],
      });
      contactIds[i] = created.body.id;
    });
    log(`${options.contacts} contacts created in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
    const batches: { tag: string; ids: string[] }[] = [];
    for (let t = 0; t < options.tagsPerContact; t += 1) {
      // 100 a request: 500 (the API's most) can outlast the function's 10 s under `npm start` on a busy machine.
      for (let from = 0; from < contactIds.length; from += 100) batches.push({ tag: `fanout-${runId}-${t}`, ids: contactIds.slice(from, from + 100) });
    }
    await runConcurrent(batches.length, Math.min(concurrency, 4), async (i) => {
      const { tag } = batches[i]!;
      let ids = batches[i]!.ids;
      // A contact changed by a consumer at the same moment comes back `conflict`: sent again, as a client would.
      for (let attempt = 1; ids.length > 0; attempt += 1) {
        const answer = await api('POST', '/v1/contacts/bulk', { action: 'tag', contactIds: ids, tags: [tag] });
        const failed = (answer.body.results as { contactId: string; outcome: string }[]).filter((result) => !['changed', 'unchanged'].includes(result.outcome));
        if (failed.length > 0 && (attempt >= 5 || failed.some((result) => result.outcome !== 'conflict' && result.outcome !== 'error'))) {
          throw new Error(`bulk tag: ${JSON.stringify(failed.slice(0, 3))}`);
        }
        ids = failed.map((result) => result.contactId);
      }
    });
    const writtenAt = Date.now();
    log(`events written in ${((writtenAt - startedAt) / 1000).toFixed(1)} s`);

    // What should arrive: the feed's events since the subscriptions, read as the feed grows.
    const expected = new Map<string, { type: string; createdAt: number }>();
    const readFeed = async () => {
      for (;;) {
        const page = await api('GET', `/v1/events/feed?limit=100&after=${after}`);
        for (const item of page.body.items as { id: string; type: string; createdAt: string }[]) {
          if (Date.parse(item.createdAt) > subscribedAt) expected.set(item.id, { type: item.type, createdAt: Date.parse(item.createdAt) });
        }
        after = page.body.nextAfter;
        if (!page.body.hasMore) return;
      }
    };
    const matches = (name: (typeof names)[number], type: string) =>
      patterns[name].some((pattern) => pattern === '*' || pattern === type || (pattern.endsWith('.*') && type.startsWith(pattern.slice(0, -1))));
    const outstanding = (name: (typeof names)[number]) => {
      const got = arrivals.get(name)!;
      let count = 0;
      for (const [id, event] of expected) if (matches(name, event.type) && !got.has(id)) count += 1;
      return count;
    };
    const deadline = startedAt + (options.timeoutMs ?? 15 * 60_000);
    let liveDoneAt = 0;
    let stableSince = 0;
    let lastSize = -1;
    for (;;) {
      await readFeed();
      const left = names.map(outstanding);
      if (!liveDoneAt && left[0] === 0 && left[1] === 0 && expected.size > 0) liveDoneAt = lastArrival;
      // Done when nothing is outstanding and the feed has stopped growing (consumers' own events came in).
      if (left.every((count) => count === 0) && Date.now() > upAt) {
        if (expected.size !== lastSize) [lastSize, stableSince] = [expected.size, Date.now()];
        else if (Date.now() - stableSince > 3000) break;
      }
      if (Date.now() > deadline) {
        log(`gave up waiting: outstanding ${names.map((name, i) => `${name} ${left[i]}`).join(', ')}`);
        break;
      }
      await sleep(1000);
    }

    // The delivery logs, through the API.
    const outcomes: SubscriptionOutcome[] = [];
    for (const name of names) {
      const logged = new Map<string, { status: string; attempts: number; fanOutMs: number; queuedMs: number }[]>();
      let cursor: string | null = null;
      do {
        const page: { body: { items: DeliveryEntry[]; nextCursor: string | null } } = await api(
          'GET',
          `/v1/webhooks/${subscriptions.get(name)!.id}/deliveries?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        );
        for (const item of page.body.items) {
          const entry = {
            status: item.status,
            attempts: item.attemptCount,
            fanOutMs: Date.parse(item.createdAt) - Date.parse(item.event.createdAt),
            queuedMs: item.attempts[0] ? Date.parse(item.attempts[0].at) - Date.parse(item.createdAt) : Number.NaN,
          };
          logged.set(item.id, [...(logged.get(item.id) ?? []), entry]);
        }
        cursor = page.body.nextCursor;
      } while (cursor);
      const got = arrivals.get(name)!;
      const mine = [...expected].filter(([, event]) => matches(name, event.type));
      const delays = mine.flatMap(([id]) => (got.get(id) ? [got.get(id)![0]!.at - got.get(id)![0]!.createdAt] : []));
      const entries = mine.map(([id]) => logged.get(id) ?? []);
      const firstEntries = entries.flatMap((list) => list.slice(0, 1));
      outcomes.push({
        name,
        eventTypes: patterns[name],
        expected: mine.length,
        received: mine.filter(([id]) => got.has(id)).length,
        missing: mine.filter(([id]) => !got.has(id)).length,
        receivedTwice: [...got.values()].filter((list) => list.length > 1).length,
        refusedWhileDown: refused.get(name)!,
        badSignatures: badSignatures.get(name)!,
        loggedDelivered: entries.filter((list) => list.length === 1 && list[0]!.status === 'delivered').length,
        loggedMoreThanOnce: entries.filter((list) => list.length > 1).length,
        loggedNotDelivered: entries.filter((list) => list.every((entry) => entry.status !== 'delivered')).length,
        retriedDeliveries: entries.filter((list) => list.some((entry) => entry.attempts > 1)).length,
        delayMs: percentiles(delays),
        fanOutMs: percentiles(firstEntries.map((entry) => entry.fanOutMs)),
        queuedMs: percentiles(firstEntries.map((entry) => entry.queuedMs).filter((ms) => !Number.isNaN(ms))),
        ...(name === 'down' ? { caughtUpAfterRecoveryMs: Math.max(0, ...[...got.values()].map((list) => list[0]!.at)) - upAt } : {}),
      });
    }
    const eventsByType: Record<string, number> = {};
    for (const event of expected.values()) eventsByType[event.type] = (eventsByType[event.type] ?? 0) + 1;
    const lastDownArrival = Math.max(0, ...[...arrivals.get('down')!.values()].map((list) => list[0]!.at));
    return {
      events: expected.size,
      eventsByType,
      writeSeconds: (writtenAt - startedAt) / 1000,
      writeEventsPerSecond: Math.round(expected.size / ((writtenAt - startedAt) / 1000)),
      deliveredAllLiveSeconds: (liveDoneAt - startedAt) / 1000,
      deliveredAllSeconds: (Math.max(liveDoneAt, lastDownArrival) - startedAt) / 1000,
      subscriptions: outcomes,
    };
  } finally {
    // The subscriptions go with the run, so that a later run's events do not go to receivers gone.
    for (const { id } of subscriptions.values()) await api('DELETE', `/v1/webhooks/${id}`).catch(() => undefined);
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

interface DeliveryEntry {
  id: string;
  status: string;
  attemptCount: number;
  attempts: { at: string }[];
  createdAt: string;
  event: { createdAt: string };
}

/** The feed's current end: the position to read on from. */
async function feedHead(api: (method: string, path: string) => Promise<{ body: { nextAfter: string; hasMore: boolean } }>): Promise<string> {
  let after = '';
  for (;;) {
    const page = await api('GET', `/v1/events/feed?limit=100${after ? `&after=${after}` : ''}`);
    after = page.body.nextAfter;
    if (!page.body.hasMore) return after;
  }
}
