/**
 * Issue 14's failure run, shared by `npm run bench:channels` (10,000 messages) and
 * test/integration/delivery-failures.test.ts (CI-sized): the provider sandbox (local/provider-sandbox) plays
 * every provider at loopback with injected faults (5xx, 429, sends held past the client's timeout,
 * sends accepted but answered after it, accepted sends whose callbacks are dropped), its status callbacks repeated and shuffled, posted to
 * the channel-hooks function through the local gateway over HTTP; messages are sent through the API,
 * their `deliver_message` jobs run through their queue (the job-dispatch stream consumer, fauxqs, the
 * local queue runner) with the SQS back-off delays honoured but shortened (DELIVERY_BACKOFF_SCALE).
 * Then callbacks are flushed and every message is checked: it ends sent/delivered/read, or failed with
 * an error code; none is left queued; none reached its provider twice (the sandbox's count per
 * (provider, recipient, text): every message has its own text).
 */
import { randomUUID } from 'node:crypto';
import { SQSClient } from '@aws-sdk/client-sqs';
import { findDeliveredMessage, type MessageKey } from '../../domain/channels/deliveries/deliveries.service';
import type { CoreDeps } from '../../domain/shared/deps';
import { deadLetterQueueDefinition, jobQueues } from '../../functions/jobs/job-queues';
import { handler as deadLettersHandler } from '../../functions/jobs/job-dead-letters.handler';
import { resetConfig } from '../../functions/shared/config';
import { createSqsJobQueue } from '../../functions/shared/adapters/sqs-job-queue';
import { getSecretSealer, setChannelAdapters, setJobQueue } from '../../functions/shared/deps';
import { handler as dispatchHandler } from '../../functions/streams/job-dispatch.handler';
import { streamConsumers } from '../../functions/streams/stream-consumers';
import { resetChannelHookPorts } from '../../functions/webhooks/channel-hooks.handler';
import { startGateway } from '../../local/gateway';
import { loadHandler } from '../../local/handlers';
import { startProviderSandbox, whatsappApiVersion, type ProviderSandbox } from '../../local/provider-sandbox';
import { ensureQueues, startQueueRunner, type QueueRunner, type SqsHandler } from '../../local/queue-runner';
import type { LocalLogger } from '../../local/runtime-support';
import { localSesTopicArn, registerExistingConnections } from '../../local/sandbox-accounts';
import { startStreamPoller } from '../../local/stream-poller';

/** A call of the HTTP API (the real handlers): `invokeHttp` in the bench, `stack.api` in tests. */
export type Api = (
  method: string,
  path: string,
  options: { token: string; body?: unknown; headers?: Record<string, string> },
) => Promise<{ status: number; body: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any

export type Channel = 'whatsapp' | 'telegram' | 'sms' | 'email';
export const channels: Channel[] = ['whatsapp', 'telegram', 'sms', 'email'];

/** The credentials of each connection (what each provider's console would hold; the sandbox learns them). */
export const runSecrets = {
  accessToken: 'EAAGbenchAccessToken0123456789abcdef',
  appSecret: 'appsecret-bench-0f1e2d3c4b5a6978',
  verifyToken: 'verify-bench-7c1f0e2d',
  botToken: '7012345678:AAEbenchBotTokenZyXwVuTsRqPoNmLkJi',
  webhookSecretToken: 'tg-bench-secret-5d4c3b2a19',
  authToken: '2f8e7d6c5b4a39281706f5e4d3c2b1a0',
  accountSid: `AC${'7c9f3d5e2a0b8c4d'.repeat(2)}`,
  senderNumber: '+15017122661',
  phoneNumberId: '106540352242922',
  displayPhoneNumber: '15550783881',
};
const silent: LocalLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

export interface ChannelWorld {
  sandbox: ProviderSandbox;
  gatewayUrl: string;
  /** Connection ids by channel. */
  connections: Record<Channel, string>;
  /** The sandbox's admin API (`/_sandbox/<path>`). */
  admin(method: string, path: string, body?: unknown): Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  stop(): Promise<void>;
}

/**
 * The sandbox and the gateway, the configuration pointing the adapters and the webhooks at them (the
 * real adapters: `setChannelAdapters(undefined)`), and one connection per channel in the workspace,
 * registered with the sandbox as `npm start` registers them.
 */
export async function startChannelWorld(options: {
  deps: CoreDeps;
  api: Api;
  token: string;
  providerTimeoutMs: number;
  backoffScale: number;
  /** DELIVERY_CONFIRM_WAIT_SECONDS: how long an unanswered send waits for a status naming it (default 5). */
  confirmWaitSeconds?: number;
}): Promise<ChannelWorld> {
  const sandbox = await startProviderSandbox({ acceptUnknownTelegramBots: true });
  const gateway = await startGateway({ port: 0 });
  const saved = { ...process.env };
  Object.assign(process.env, {
    HOOKS_BASE_URL: gateway.url,
    WHATSAPP_API_BASE_URL: `${sandbox.url}/${whatsappApiVersion}`,
    TELEGRAM_API_BASE_URL: sandbox.url,
    TWILIO_API_BASE_URL: sandbox.url,
    SES_API_BASE_URL: sandbox.url,
    SNS_CERTIFICATE_BASE_URL: `${sandbox.url}/sns`,
    PROVIDER_TIMEOUT_MS: String(options.providerTimeoutMs),
    DELIVERY_BACKOFF_SCALE: String(options.backoffScale),
    DELIVERY_CONFIRM_WAIT_SECONDS: String(options.confirmWaitSeconds ?? 5),
  });
  resetConfig();
  resetChannelHookPorts();
  setChannelAdapters(undefined);
  const admin = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${sandbox.url}/_sandbox/${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`sandbox ${method} ${path}: ${response.status} ${await response.text()}`);
    return response.json();
  };
  const s = runSecrets;
  const bodies: Record<Channel, unknown> = {
    email: {
      kind: 'email',
      name: 'Mail',
      // The topic the sandbox publishes SES's events to: only an expected topic's notifications are taken.
      settings: { sesIdentity: 'acme.example', fromAddress: 'support@acme.example', replyDomain: 'reply.acme.example', snsTopicArns: [localSesTopicArn] },
    },
    whatsapp: {
      kind: 'whatsapp',
      name: 'WhatsApp',
      settings: { phoneNumberId: s.phoneNumberId },
      secrets: { accessToken: s.accessToken, appSecret: s.appSecret, verifyToken: s.verifyToken },
    },
    telegram: { kind: 'telegram', name: 'Bot', settings: {}, secrets: { botToken: s.botToken, webhookSecretToken: s.webhookSecretToken } },
    sms: { kind: 'sms', name: 'Twilio', settings: { accountSid: s.accountSid, senderNumber: s.senderNumber }, secrets: { authToken: s.authToken } },
  };
  const connections = {} as Record<Channel, string>;
  for (const channel of channels) {
    // Telegram's connection calls setWebhook on the sandbox.
    const res = await options.api('POST', '/v1/channels', { token: options.token, body: bodies[channel] });
    if (res.status !== 201) throw new Error(`connect ${channel}: ${res.status} ${JSON.stringify(res.body)}`);
    connections[channel] = res.body.id;
  }
  await registerExistingConnections(options.deps, {
    sandboxUrl: sandbox.url,
    hooksBaseUrl: gateway.url,
    sealer: getSecretSealer,
  });
  return {
    sandbox,
    gatewayUrl: gateway.url,
    connections,
    admin,
    async stop() {
      await gateway.stop();
      await sandbox.stop();
      for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
      Object.assign(process.env, saved);
      resetConfig();
      resetChannelHookPorts();
      setChannelAdapters(undefined);
    },
  };
}

export interface DeliveryJobs {
  /** Job messages (job, step) handed to the handler more than once: SQS and the outbox deliver at least once. */
  repeatedMessages(): number;
  /** Waits until the stream poller and every queue are drained (delayed messages included). */
  drain(timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * `deliver_message` as `npm start` runs it: the job-dispatch stream consumer sends each step's message
 * (with its delay) to the kind's queue, `lanes` local queue runners take batches of 10 from it (Lambda
 * runs several at once; one runner runs one batch at a time), dead letters fail their job. The queues
 * get names of their own (fauxqs may be shared).
 */
export async function startDeliveryJobs(options: {
  tableName: string;
  dynamoEndpoint: string;
  awsEndpoint: string;
  lanes: number;
  pollIntervalMs: number;
}): Promise<DeliveryJobs> {
  const sqs = new SQSClient({ region: 'us-east-1', endpoint: options.awsEndpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const definition = jobQueues.find((queue) => queue.name === 'deliver_message')!;
  const local = { ...definition, name: `deliver_message-${randomUUID().slice(0, 8)}` };
  const [queue] = await ensureQueues(sqs, [local]);
  const deliveries = createSqsJobQueue({ client: sqs, queueUrls: { deliver_message: queue!.queueUrl } });
  // Other kinds' jobs (the contacts' replies queue their classification) are not run here: dropped.
  setJobQueue({
    send: (message) =>
      message.queue === 'deliver_message' ? deliveries.send(message) : Promise.resolve({ messageId: `dropped-${randomUUID()}` }),
  });
  const poller = await startStreamPoller({
    endpoint: options.dynamoEndpoint,
    tableName: options.tableName,
    consumers: [{ definition: streamConsumers.find((consumer) => consumer.name === 'job-dispatch')!, handler: dispatchHandler }],
    pollIntervalMs: options.pollIntervalMs,
    retryBaseDelayMs: 5,
    logger: { debug: () => undefined, ...silent },
  });
  const loaded = await loadHandler<SqsHandler>(definition.entry);
  const seen = new Map<string, number>();
  const handler: SqsHandler = (event, context) => {
    for (const record of event.Records) seen.set(record.body, (seen.get(record.body) ?? 0) + 1);
    return loaded(event, context);
  };
  const runners: QueueRunner[] = [];
  for (let lane = 0; lane < options.lanes; lane += 1) {
    runners.push(
      await startQueueRunner({
        endpoint: options.awsEndpoint,
        logger: silent,
        waitTimeSeconds: 1,
        queues: [
          { definition: local, queueUrl: queue!.queueUrl, handler },
          ...(lane === 0
            ? [{ definition: deadLetterQueueDefinition(local), queueUrl: queue!.dlqUrl, handler: deadLettersHandler, deadLetters: true }]
            : []),
        ],
      }),
    );
  }
  return {
    repeatedMessages: () => [...seen.values()].filter((count) => count > 1).length,
    async drain(timeoutMs) {
      await poller.drain({ timeoutMs });
      await Promise.all(runners.map((runner) => runner.drain({ untilEmpty: true, timeoutMs })));
    },
    async stop() {
      for (const runner of runners) await runner.stop();
      await poller.stop();
      setJobQueue(undefined);
      sqs.destroy();
    },
  };
}

export interface FailureRunOptions {
  api: Api;
  deps: CoreDeps;
  workspaceId: string;
  token: string;
  world: ChannelWorld;
  jobs: DeliveryJobs;
  messages: number;
  /** Conversations (contacts) per channel the messages are spread over. */
  conversationsPerChannel: number;
  /** The sandbox's `timeoutMs` for a `timeout` fault: just above the client's PROVIDER_TIMEOUT_MS. */
  faultTimeoutMs: number;
  /** Sends through the API in flight at once. */
  concurrency: number;
  /** Give up waiting for the deliveries after this long (ms). */
  timeoutMs: number;
  progress?: (line: string) => void;
}

export interface FailureRunReport {
  messages: number;
  byChannel: Record<string, number>;
  faults: unknown;
  behaviour: { repeat: number; shuffle: boolean; delayMs: number };
  byFinalStatus: Record<string, number>;
  byErrorCode: Record<string, number>;
  /** Automatic re-sends (passing errors waited out), summed over the deliveries. */
  retries: number;
  retriesHistogram: Record<string, number>;
  invariants: {
    leftQueued: number;
    failedWithoutErrorCode: number;
    /** (provider, recipient, text) the sandbox accepted more than once. */
    sentTwice: number;
    /** The same, by provider. */
    sentTwiceByProvider: Record<string, number>;
    /** Messages sent/delivered/read without an accepted send at the sandbox (or failed with one). */
    outcomeMismatches: number;
    /** Status callbacks our webhooks did not take (any answer but 2xx, after the sandbox's retries). */
    callbacksRefused: number;
  };
  /** `slowAccepts`: sends the sandbox took but answered after the client's timeout (each must still be sent once). */
  sandbox: { acceptedSends: number; callbacksPosted: number; faultsMet: Record<string, number>; slowAccepts: number };
  /** Job messages handed to the handler more than once (at-least-once delivery: the job must stay idempotent). */
  repeatedJobMessages: number;
  /** The first messages that broke an invariant, with their delivery's attempts and the sandbox's count. */
  offenders: unknown[];
  /** Refused callbacks by provider and their last answer (an HTTP status or the error). */
  callbacksRefusedBy: Record<string, number>;
  seconds: { send: number; deliveries: number; flush: number; wall: number };
  messagesPerSecond: number;
  ok: boolean;
}

const countBy = (values: string[]) =>
  Object.fromEntries(
    [...values.reduce((map, value) => map.set(value, (map.get(value) ?? 0) + 1), new Map<string, number>())].sort((a, b) => b[1] - a[1]),
  );

async function inParallel<T>(items: T[], concurrency: number, worker: (item: T, index: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        await worker(items[index]!, index);
      }
    }),
  );
}

/** Contact `i`'s value on a channel (how the ingest takes it). */
const fromOf = (channel: Channel, i: number, tag: string) =>
  channel === 'email'
    ? `failure-${tag}-${i}@example.com`
    : channel === 'telegram'
      ? String(810_000_000 + i)
      : `+44207946${String(i).padStart(4, '0')}`;

export async function runDeliveryFailures(options: FailureRunOptions): Promise<FailureRunReport> {
  const { api, token, world } = options;
  const log = options.progress ?? (() => undefined);
  const tag = randomUUID().slice(0, 6);
  const wallStart = Date.now();

  // Conversations: each contact writes first (WhatsApp's 24-hour window opens; the reply goes back on the same channel).
  const conversations: { channel: Channel; conversationId: string }[] = [];
  const seeds = channels.flatMap((channel) =>
    Array.from({ length: options.conversationsPerChannel }, (_, i) => ({ channel, i })),
  );
  await inParallel(seeds, 8, async ({ channel, i }) => {
    const res = await api('POST', '/v1/inbound-messages', {
      token,
      body: { channel, from: fromOf(channel, i, tag), externalId: `failure-${tag}-${channel}-${i}`, body: 'Hello?' },
      headers: { 'idempotency-key': randomUUID() },
    });
    if (res.status !== 201) throw new Error(`inbound ${channel} ${i}: ${res.status} ${JSON.stringify(res.body)}`);
    conversations.push({ channel, conversationId: res.body.conversationId });
  });
  conversations.sort((a, b) => a.channel.localeCompare(b.channel) || a.conversationId.localeCompare(b.conversationId));

  // `slow_accept` (taken, answered after the client's timeout) only where status callbacks name the send:
  // Telegram has none, so a slow Telegram accept is sent again (at least once, see delivery-sender.ts).
  const faults = {
    rate: 0.2,
    kinds: ['5xx', '429', 'timeout', 'slow_accept', 'drop_callbacks'],
    kindProviders: { slow_accept: ['whatsapp', 'twilio', 'ses'] },
    timeoutMs: options.faultTimeoutMs,
    retryAfterSeconds: 1,
    providers: [],
    seed: 14,
  };
  // Callbacks wait 30 s for the webhook, not the sandbox's default 10 s: on a loaded 2-core CI box a
  // webhook has answered after 10 s (the request still applied, every outcome matched), and the run
  // counts callbacks the product refuses, not the box's speed.
  const behaviour = { repeat: 2, shuffle: true, delayMs: 50, read: true, open: true, dropRate: 0, failRate: 0, callbackTimeoutMs: 30_000 };
  await world.admin('POST', 'reset');
  await world.admin('POST', 'faults', faults);
  await world.admin('POST', 'behaviour', behaviour);

  // The messages, each with its own text.
  log(`failure run: sending ${options.messages} messages over ${conversations.length} conversations`);
  const send = (conversationId: string, text: string, idempotencyKey: string) =>
    api('POST', `/v1/conversations/${conversationId}/messages`, {
      token,
      body: { body: text },
      headers: { 'idempotency-key': idempotencyKey },
    });
  const isRepeatable = (res: { status: number; body: { code?: string } }) =>
    (res.status === 503 && res.body?.code === 'timeout') || (res.status === 409 && res.body?.code === 'idempotency_in_progress');
  const sendStart = Date.now();
  const sent: { key: MessageKey; channel: Channel; text: string }[] = [];
  await inParallel(
    Array.from({ length: options.messages }, (_, n) => n),
    options.concurrency,
    async (n) => {
      const conversation = conversations[n % conversations.length]!;
      const text = `Failure run ${tag} message ${n}`;
      // As the API asks a client to: a send that ran out of time (503 `timeout`, on a loaded box) or
      // whose first attempt is still running (409 `idempotency_in_progress`) is repeated with its key,
      // which must give the one message, never a second (`sentTwice` below).
      const idempotencyKey = randomUUID();
      let res = await send(conversation.conversationId, text, idempotencyKey);
      for (let attempt = 1; attempt < 5 && isRepeatable(res); attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 1_000 * attempt));
        res = await send(conversation.conversationId, text, idempotencyKey);
      }
      if (res.status !== 201) throw new Error(`send ${n}: ${res.status} ${JSON.stringify(res.body)}`);
      sent.push({
        key: { workspaceId: options.workspaceId, conversationId: conversation.conversationId, messageId: res.body.id },
        channel: conversation.channel,
        text,
      });
    },
  );
  const sendSeconds = (Date.now() - sendStart) / 1000;

  // The jobs run until no delivery is queued (a back-off is an SQS delay: the queue is empty only once it is waited out).
  const deliveriesStart = Date.now();
  const deadline = deliveriesStart + options.timeoutMs;
  let pending = sent;
  for (;;) {
    await options.jobs.drain(Math.max(1_000, deadline - Date.now()));
    const still: typeof sent = [];
    await inParallel(pending, 16, async (message) => {
      const item = await findDeliveredMessage(options.deps, message.key);
      if (!item || item.delivery.status === 'queued') still.push(message);
    });
    pending = still;
    log(`failure run: ${sent.length - pending.length}/${sent.length} deliveries out of queued`);
    if (pending.length === 0 || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const deliveriesSeconds = (Date.now() - deliveriesStart) / 1000;

  // Every callback still waiting is posted now (through the gateway to channel-hooks).
  const flushStart = Date.now();
  await world.admin('POST', 'flush');
  await options.jobs.drain(60_000);
  const flushSeconds = (Date.now() - flushStart) / 1000;

  // The checks.
  const finals: {
    status: string;
    errorCode: string | null;
    autoRetries: number;
    text: string;
    channel: Channel;
    messageId: string;
    attempts: unknown;
  }[] = [];
  await inParallel(sent, 16, async (message) => {
    const item = await findDeliveredMessage(options.deps, message.key);
    const delivery = item?.delivery;
    const last = delivery?.attempts[delivery.attempts.length - 1];
    finals.push({
      status: delivery?.status ?? 'missing',
      errorCode: last?.error?.code ?? null,
      autoRetries: delivery?.autoRetries ?? 0,
      text: message.text,
      channel: message.channel,
      messageId: message.key.messageId,
      attempts: delivery?.attempts,
    });
  });
  const sends = (await world.admin('GET', 'sends')) as { total: number; counts: { provider: string; text: string; count: number }[] };
  const countOf = new Map(sends.counts.map((entry) => [entry.text, entry.count]));
  const callbacks = (await world.admin('GET', 'callbacks')) as { total?: number; callbacks?: unknown[] };
  const faultsMet = ((await world.admin('GET', 'faults')) as { met: Record<string, number> }).met;
  const refused = (await world.admin('GET', 'callbacks?state=failed')) as {
    total: number;
    callbacks: { provider: string; attempts: { status: number | null; error: string | null }[] }[];
  };
  const refusedBy = countBy(refused.callbacks.map((callback) => `${callback.provider} ${callback.attempts.at(-1)?.status ?? callback.attempts.at(-1)?.error ?? 'none'}`));
  const outcomeMismatches = finals.filter((final) => {
    const accepted = countOf.get(final.text) ?? 0;
    return final.status === 'failed' ? accepted !== 0 : accepted !== 1;
  }).length;
  const offenders = finals
    .filter((final) => {
      const accepted = countOf.get(final.text) ?? 0;
      return (
        final.status === 'queued' ||
        final.status === 'missing' ||
        (final.status === 'failed' ? accepted !== 0 || !final.errorCode : accepted !== 1)
      );
    })
    .slice(0, 10)
    .map((final) => ({ ...final, acceptedByProvider: countOf.get(final.text) ?? 0 }));
  const invariants = {
    leftQueued: finals.filter((final) => final.status === 'queued' || final.status === 'missing').length,
    failedWithoutErrorCode: finals.filter((final) => final.status === 'failed' && !final.errorCode).length,
    sentTwice: sends.counts.filter((entry) => entry.count > 1).length,
    sentTwiceByProvider: countBy(sends.counts.filter((entry) => entry.count > 1).map((entry) => entry.provider)),
    outcomeMismatches,
    callbacksRefused: refused.total,
  };
  const wall = (Date.now() - wallStart) / 1000;
  return {
    messages: sent.length,
    byChannel: countBy(sent.map((message) => message.channel)),
    faults,
    behaviour: { repeat: behaviour.repeat, shuffle: behaviour.shuffle, delayMs: behaviour.delayMs },
    byFinalStatus: countBy(finals.map((final) => final.status)),
    byErrorCode: countBy(finals.filter((final) => final.status === 'failed').map((final) => final.errorCode ?? 'none')),
    retries: finals.reduce((sum, final) => sum + final.autoRetries, 0),
    retriesHistogram: countBy(finals.map((final) => String(final.autoRetries))),
    invariants,
    sandbox: {
      acceptedSends: sends.total,
      callbacksPosted: callbacks.total ?? callbacks.callbacks?.length ?? 0,
      faultsMet,
      slowAccepts: Object.entries(faultsMet)
        .filter(([key]) => key.startsWith('slow_accept:'))
        .reduce((sum, [, count]) => sum + count, 0),
    },
    repeatedJobMessages: options.jobs.repeatedMessages(),
    offenders,
    callbacksRefusedBy: refusedBy,
    seconds: { send: sendSeconds, deliveries: deliveriesSeconds, flush: flushSeconds, wall },
    messagesPerSecond: Math.round((sent.length / (sendSeconds + deliveriesSeconds)) * 10) / 10,
    ok:
      invariants.leftQueued === 0 &&
      invariants.failedWithoutErrorCode === 0 &&
      invariants.sentTwice === 0 &&
      invariants.outcomeMismatches === 0 &&
      invariants.callbacksRefused === 0,
  };
}
