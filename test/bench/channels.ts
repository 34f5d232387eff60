/**
 * `npm run -s bench:channels` (issue 14): the channels against the provider sandbox (local/provider-sandbox).
 * 1. An inbound webhook through the local gateway over HTTP (a signed WhatsApp message from a known
 *    contact in an existing conversation, a new wamid each time; a Telegram update and a Twilio SMS the
 *    same way): p50/p99, the DynamoDB commands one webhook costs and its round trips (sequential waves),
 *    against the raw DynamoDB work it needs (the same commands replayed in the same waves,
 *    test/bench/dynamo-replay.ts). Budgets: round trips ≤ 4, p50 ≤ 1.5× the raw work (WhatsApp).
 * 2. Send-to-provider time: the real adapter's `send` to the sandbox per provider, and a message's whole
 *    way (POST /v1/conversations/{id}/messages → its deliver_message job's SQS message handed to the
 *    job's handler → delivery `sent`).
 * 3. The failure run (test/support/delivery-failure-run.ts): 10,000 messages (BENCH_QUICK=1: 1,000;
 *    BENCH_CHANNELS_MESSAGES=n) with 20% provider faults, checked for its three invariants.
 * One JSON document on stdout and in .bench/channels.json; progress on stderr. Exits 1 when a budget or
 * an invariant fails.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { findDeliveredMessage } from '../../domain/channels/deliveries/deliveries.service';
import type { ConnectionKind } from '../../domain/channels/connections/channel-connections.schemas';
import type { OutboundMessage } from '../../domain/channels/outbound';
import { formParams, twilioSignature } from '../../domain/channels/twilio-webhook';
import { findJob } from '../../domain/jobs/job-record';
import { createWorkspace } from '../../domain/workspaces/workspaces.service';
import { createChannelAdapters } from '../../functions/shared/adapters/channels/channel-adapters';
import { createAesSecretSealer } from '../../functions/shared/adapters/secret-sealers';
import { getConfig, resetConfig } from '../../functions/shared/config';
import { setSecretSealer } from '../../functions/shared/deps';
import { startSqsS3Emulator } from '../../local/emulators';
import { invokeHttp } from '../../local/http-invoke';
import { loadHandler } from '../../local/handlers';
import { lambdaContext } from '../../local/http-routing';
import { toSqsRecord, type SqsHandler } from '../../local/queue-runner';
import { telegramHeaders, whatsappHeaders, whatsappText } from '../support/channel-hooks';
import {
  runDeliveryFailures,
  runSecrets,
  startChannelWorld,
  startDeliveryJobs,
  type Api,
  type Channel,
} from '../support/delivery-failure-run';
import { captureCommands, replayWaves, waves, type Captured } from './dynamo-replay';
import {
  benchMeta,
  iterations,
  measureInterleaved,
  progress,
  quick,
  ratio,
  reserveStdout,
  startBenchStack,
  startRun,
  writeReport,
} from './harness';

const failureMessages = Number(process.env.BENCH_CHANNELS_MESSAGES) || (quick ? 1_000 : 10_000);
// Above a sandbox answer on a loaded 2-core box: a Telegram send answered later than this is sent again (its callbacks cannot name it).
const providerTimeoutMs = Number(process.env.BENCH_PROVIDER_TIMEOUT_MS) || 1500;
const budgets = { roundTrips: 4, ratioToRawP50: 1.5 };

const stdout = reserveStdout();
const run = startRun();

async function main() {
  const stack = await startBenchStack();
  const aws = await startSqsS3Emulator();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: aws.endpoint,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    BUCKET_NAME: 'crm-bench-files',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'SILENT',
  });
  resetConfig();
  const key = new Uint8Array(randomBytes(32));
  setSecretSealer(createAesSecretSealer(async () => key));
  const api: Api = async (method, path, options) => {
    const res = await invokeHttp(method, path, options);
    return { status: res.statusCode ?? 200, body: res.body ? JSON.parse(res.body) : undefined };
  };
  const stops: (() => Promise<void>)[] = [async () => aws.stop(), () => stack.stop()];
  try {
    const created = await createWorkspace(stack.deps, { name: 'Bench channels', ownerName: 'Olga Owner', ownerEmail: 'owner@bench.example' });
    const workspaceId = created.workspace.id;
    const token = created.token.token;
    const world = await startChannelWorld({ deps: stack.deps, api, token, providerTimeoutMs, backoffScale: 0.01 });
    stops.unshift(() => world.stop());
    // While timing, no status callbacks compete with the measured calls.
    await world.admin('POST', 'behaviour', { dropRate: 1 });

    // -------------------------------------------------------------------------------------------
    // 1. Inbound webhooks through the gateway
    const hookUrl = (channel: Channel) =>
      `${world.gatewayUrl}/hooks/${channel === 'sms' ? 'twilio' : channel}/${world.connections[channel]}`;
    const expectOk = async (response: Response, what: string) => {
      const text = await response.text();
      if (response.status !== 200) throw new Error(`${what}: ${response.status} ${text}`);
      // Twilio is answered with TwiML (an empty <Response/>), the others with our JSON summary.
      if (!response.headers.get('content-type')?.includes('json')) return;
      const body = JSON.parse(text) as { stored?: number };
      if (body.stored !== 1) throw new Error(`${what}: not stored once: ${text}`);
    };
    let n = 0;
    const waFrom = '16505550100';
    const tgChat = 583920174;
    const smsFrom = '+14155550100';
    const senders: Record<'whatsapp' | 'telegram' | 'sms', () => Promise<void>> = {
      whatsapp: async () => {
        const body = whatsappText(waFrom, `wamid.BENCH${++n}${randomUUID()}`, `Bench webhook ${n}`);
        await expectOk(
          await fetch(hookUrl('whatsapp'), { method: 'POST', headers: whatsappHeaders(body, runSecrets.appSecret), body }),
          'whatsapp webhook',
        );
      },
      telegram: async () => {
        n += 1;
        const body = JSON.stringify({
          update_id: 100_000_000 + n,
          message: {
            message_id: n,
            from: { id: tgChat, is_bot: false, first_name: 'Ana', last_name: 'López' },
            chat: { id: tgChat, first_name: 'Ana', last_name: 'López', type: 'private' },
            date: Math.floor(Date.now() / 1000),
            text: `Bench update ${n}`,
          },
        });
        await expectOk(
          await fetch(hookUrl('telegram'), { method: 'POST', headers: telegramHeaders(runSecrets.webhookSecretToken), body }),
          'telegram webhook',
        );
      },
      sms: async () => {
        n += 1;
        const sid = `SM${randomBytes(16).toString('hex')}`;
        const body = new URLSearchParams({
          ToCountry: 'US',
          SmsMessageSid: sid,
          NumMedia: '0',
          SmsSid: sid,
          SmsStatus: 'received',
          Body: `Bench SMS ${n}`,
          To: runSecrets.senderNumber,
          NumSegments: '1',
          MessageSid: sid,
          AccountSid: runSecrets.accountSid,
          From: smsFrom,
          ApiVersion: '2010-04-01',
        }).toString();
        const url = hookUrl('sms');
        const headers = {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': twilioSignature(runSecrets.authToken, url, formParams(body)),
        };
        await expectOk(await fetch(url, { method: 'POST', headers, body }), 'twilio webhook');
      },
    };
    const capture = captureCommands(stack.rawClient);
    const shapes: Record<string, { commands: Record<string, number>; roundTrips: number; waves: string[][] }> = {};
    const floors: Record<string, () => Promise<void>> = {};
    for (const [channel, send] of Object.entries(senders)) {
      await send(); // the contact and the conversation
      await send(); // warm
      const { commands } = await capture.during(send);
      const grouped = waves(commands);
      shapes[channel] = {
        commands: countNames(commands),
        roundTrips: grouped.length,
        waves: grouped.map((wave) => wave.map((command) => command.name.replace(/Command$/, ''))),
      };
      floors[channel] = replayWaves(stack, grouped, (call) => `BENCHHOOK#${channel}#${call}#`);
    }
    progress(`webhooks: ${JSON.stringify(Object.fromEntries(Object.entries(shapes).map(([c, s]) => [c, s.waves])))}`);
    progress('measuring webhooks (10 interleaved rounds)');
    const w = await measureInterleaved({
      whatsappRaw: { iterations: iterations(300), fn: floors.whatsapp! },
      whatsapp: { iterations: iterations(300), fn: senders.whatsapp },
      telegramRaw: { iterations: iterations(300), fn: floors.telegram! },
      telegram: { iterations: iterations(300), fn: senders.telegram },
      smsRaw: { iterations: iterations(300), fn: floors.sms! },
      sms: { iterations: iterations(300), fn: senders.sms },
    });
    const webhook = (channel: 'whatsapp' | 'telegram' | 'sms', provider: string) => {
      const result = w[channel];
      const raw = w[`${channel}Raw` as keyof typeof w];
      return {
        provider,
        ...result,
        ...shapes[channel],
        raw,
        ratioToRawP50: ratio(result, raw),
        ratioToRawP99: ratio(result, raw, 'p99Ms'),
      };
    };
    const inbound = {
      whatsapp: webhook('whatsapp', 'whatsapp'),
      telegram: webhook('telegram', 'telegram'),
      twilioSms: webhook('sms', 'twilio'),
    };

    // -------------------------------------------------------------------------------------------
    // 2. Send-to-provider: the adapter's call alone, then a message's whole way
    const adapters = createChannelAdapters(getConfig());
    const opened = (kind: ConnectionKind): OutboundMessage['connection'] => {
      const base = { workspaceId, connectionId: world.connections[kind as Channel], kind };
      switch (kind) {
        case 'whatsapp':
          return { ...base, settings: { phoneNumberId: runSecrets.phoneNumberId }, secrets: { accessToken: runSecrets.accessToken, appSecret: runSecrets.appSecret } };
        case 'telegram':
          return { ...base, settings: {}, secrets: { botToken: runSecrets.botToken } };
        case 'sms':
          return { ...base, settings: { accountSid: runSecrets.accountSid, senderNumber: runSecrets.senderNumber }, secrets: { authToken: runSecrets.authToken } };
        default:
          return { ...base, settings: { sesIdentity: 'acme.example', fromAddress: 'support@acme.example', replyDomain: 'reply.acme.example' }, secrets: {} };
      }
    };
    let call = 0;
    const providerSend = (kind: ConnectionKind, to: string) => async () => {
      call += 1;
      const messageId = `msg_BENCH${call}`;
      await adapters.sender(kind).send({
        connection: opened(kind),
        to,
        text: `Bench send ${call}`,
        attachments: [],
        replyToProviderMessageId: null,
        email:
          kind === 'email'
            ? { subject: 'Bench', messageIdHeader: `<${messageId}@reply.acme.example>`, inReplyTo: null, references: [], replyTo: 'reply+cv@reply.acme.example', fromName: null }
            : null,
        reference: { workspaceId, conversationId: 'cnv_BENCH', messageId, deliveryId: messageId, attempt: 1 },
        statusCallbackUrl: null,
        partsSent: [],
      });
    };
    progress('measuring provider calls');
    const p = await measureInterleaved({
      whatsapp: { iterations: iterations(300), fn: providerSend('whatsapp', '+16505550100') },
      telegram: { iterations: iterations(300), fn: providerSend('telegram', String(tgChat)) },
      sms: { iterations: iterations(300), fn: providerSend('sms', smsFrom) },
      email: { iterations: iterations(300), fn: providerSend('email', 'ana@example.com') },
    });

    // A conversation per channel (the contact wrote first), then POST → job handler → sent.
    const conversationOf: Partial<Record<Channel, string>> = {};
    for (const [channel, from] of [
      ['whatsapp', '+16505550111'],
      ['telegram', '583920175'],
      ['sms', '+14155550111'],
      ['email', 'bench.whole@example.com'],
    ] as const) {
      const res = await api('POST', '/v1/inbound-messages', {
        token,
        body: { channel, from, externalId: `whole-${channel}`, body: 'Hello?' },
      });
      if (res.status !== 201) throw new Error(`inbound ${channel}: ${res.status} ${JSON.stringify(res.body)}`);
      conversationOf[channel] = res.body.conversationId;
    }
    const jobHandler = await loadHandler<SqsHandler>('functions/jobs/deliver-message.handler.ts');
    const wholeWay = (channel: Channel) => async () => {
      const conversationId = conversationOf[channel]!;
      const res = await api('POST', `/v1/conversations/${conversationId}/messages`, { token, body: { body: `Whole way ${++call}` } });
      if (res.status !== 201) throw new Error(`send: ${res.status} ${JSON.stringify(res.body)}`);
      const messageKey = { workspaceId, conversationId, messageId: res.body.id as string };
      const jobId = (await findDeliveredMessage(stack.deps, messageKey))!.delivery.jobId!;
      const job = (await findJob(stack.deps, workspaceId, jobId, true))!;
      // The message the job-dispatch consumer sends for a new job (domain/jobs/job-dispatch.ts messageFor).
      const body = JSON.stringify({ workspaceId, jobId, seq: job.dispatchSeq });
      const record = toSqsRecord(
        { MessageId: randomUUID(), ReceiptHandle: randomUUID(), Body: body },
        'arn:aws:sqs:us-east-1:000000000000:deliver_message',
        'us-east-1',
      );
      const answer = await jobHandler({ Records: [record] }, lambdaContext('deliver-message', randomUUID()));
      if (answer && answer.batchItemFailures.length) throw new Error(`job ${jobId} failed: ${JSON.stringify(answer)}`);
      const after = await findDeliveredMessage(stack.deps, messageKey);
      if (after?.delivery.status !== 'sent') throw new Error(`delivery ${jobId}: ${after?.delivery.status}`);
    };
    progress('measuring POST → job → sent');
    const whole = await measureInterleaved({
      whatsapp: { iterations: iterations(200), fn: wholeWay('whatsapp') },
      telegram: { iterations: iterations(200), fn: wholeWay('telegram') },
      sms: { iterations: iterations(200), fn: wholeWay('sms') },
      email: { iterations: iterations(200), fn: wholeWay('email') },
    });

    // -------------------------------------------------------------------------------------------
    // 3. The failure run
    await world.admin('POST', 'behaviour', { dropRate: 0 });
    const jobs = await startDeliveryJobs({
      tableName: stack.tableName,
      dynamoEndpoint: stack.endpoint,
      awsEndpoint: aws.endpoint,
      lanes: Number(process.env.BENCH_DELIVERY_LANES) || 4,
      pollIntervalMs: 100,
    });
    stops.unshift(() => jobs.stop());
    const failureRun = await runDeliveryFailures({
      api,
      deps: stack.deps,
      workspaceId,
      token,
      world,
      jobs,
      messages: failureMessages,
      conversationsPerChannel: 25,
      faultTimeoutMs: providerTimeoutMs + 100,
      concurrency: 8,
      timeoutMs: 45 * 60_000,
      progress,
    });

    const checks = {
      whatsappRoundTrips: (inbound.whatsapp.roundTrips ?? Infinity) <= budgets.roundTrips,
      whatsappRatioToRawP50: (inbound.whatsapp.ratioToRawP50 ?? Infinity) <= budgets.ratioToRawP50,
      failureRunInvariants: failureRun.ok,
    };
    writeReport(
      'channels',
      {
        meta: benchMeta(run),
        budgets,
        checks,
        inbound,
        providerCall: p,
        postToSent: whole,
        failureRun,
        settings: { providerTimeoutMs, deliveryBackoffScale: 0.01, deliveryConfirmWaitSeconds: 5, failureMessages },
      },
      stdout,
    );
    if (!Object.values(checks).every(Boolean)) process.exitCode = 1;
  } finally {
    for (const stop of stops) await stop().catch((error: Error) => progress(`stop: ${error.message}`));
  }
}

const countNames = (commands: Captured[]) =>
  commands.reduce<Record<string, number>>((counts, command) => {
    const name = command.name.replace(/Command$/, '');
    counts[name] = (counts[name] ?? 0) + 1;
    return counts;
  }, {});

main().catch((error: Error) => {
  progress(error.stack ?? String(error));
  process.exit(1);
});
