import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { systemClock, ulidGenerator } from '../domain/shared/clock';
import { ensureTable } from '../domain/store/create-table';
import { createDb } from '../domain/store/db';
import { createDocumentClient, createDynamoClient } from '../domain/store/dynamo-client';
import { deadLetterQueueDefinition, jobQueues } from '../functions/jobs/job-queues';
import { schedules } from '../functions/schedules/schedules';
import { createS3Client, createSqsClient } from '../functions/shared/adapters/aws-clients';
import { createAesSecretSealer } from '../functions/shared/adapters/secret-sealers';
import { createStaticSecretStore } from '../functions/shared/adapters/secret-stores';
import { resetConfig } from '../functions/shared/config';
import { getSecretSealer, setCoreDeps, setSecretSealer, setSecretStore } from '../functions/shared/deps';
import { streamReaders } from '../functions/streams/stream-consumers';
import { seedDemoWorkspace, type DemoCredentials } from './demo-seed';
import { startDynamoDbLocal, startSesEmulator, startSqsS3Emulator } from './emulators';
import { startGateway } from './gateway';
import { loadHandler } from './handlers';
import { startOutboxWriter } from './outbox';
import { registerExistingConnections, sandboxAccountsConsumer } from './sandbox-accounts';
import { sandboxSnsEnvironment, startProviderSandbox, whatsappApiVersion } from './provider-sandbox';
import { credentialsKeyFile, cursorKeyFile, dataDir, demoFile, runtimeFile } from './paths';
import { ensureQueues, startQueueRunner } from './queue-runner';
import { startScheduler } from './scheduler';
import { startStreamPoller } from './stream-poller';
import { stopGraceMs, stopInTime, type Stoppable } from './stop-in-time';

const usage = `Usage: npm start [-- --in-memory] [-- --reset]
  --in-memory   keep nothing: a throwaway stack with a fresh demo workspace
  --reset       delete .data/ first (tables, queues, files, outbox, demo tokens)
Environment: PORT (gateway, default 3000), DYNAMODB_PORT (8000), AWS_EMULATOR_PORT (4566), SES_PORT (8005),
  SANDBOX_PORT (the provider sandbox, default a free port)`;

const log = (line: string) => process.stdout.write(`${line}\n`);

async function main() {
  const { values } = parseArgs({
    options: {
      'in-memory': { type: 'boolean' },
      reset: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return log(usage);
  const inMemory = values['in-memory'] ?? false;
  if (values.reset) rmSync(dataDir, { recursive: true, force: true });
  if (!inMemory) mkdirSync(dataDir, { recursive: true });

  const stops: Stoppable[] = [];
  const stopAll = () => stopInTime([...stops].reverse(), stopGraceMs, log);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      // A second Ctrl-C: stop now (the exit hook below still ends DynamoDB Local's JVM).
      log(`${signal} again: stopping now`);
      process.exit(1);
    }
    stopping = true;
    log(`\n${signal}: stopping…`);
    void stopAll().then(() => process.exit(0));
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));

  try {
    log('Starting DynamoDB Local, the SQS/S3 emulator and the SES emulator…');
    const [dynamoStarted, awsStarted, sesStarted] = await Promise.allSettled([
      startDynamoDbLocal({
        port: Number(process.env.DYNAMODB_PORT ?? 8000),
        dataDir: inMemory ? undefined : join(dataDir, 'dynamodb'),
      }),
      startSqsS3Emulator({
        port: Number(process.env.AWS_EMULATOR_PORT ?? 4566),
        dataDir: inMemory ? undefined : join(dataDir, 'sqs-s3'),
      }),
      startSesEmulator({ port: Number(process.env.SES_PORT ?? 8005) }),
    ]);
    // Those that started are stopped even when another did not (DynamoDB Local's JVM is not left behind).
    const started = { 'DynamoDB Local': dynamoStarted, 'the SQS/S3 emulator': awsStarted, 'the SES emulator': sesStarted };
    for (const [name, result] of Object.entries(started))
      if (result.status === 'fulfilled') stops.push({ name, stop: result.value.stop });
    const [dynamo, aws, ses] = [
      startedValue(dynamoStarted),
      startedValue(awsStarted),
      startedValue(sesStarted),
    ];
    // WhatsApp, Telegram, Twilio and SES (with SNS notifications) as one loopback server: local/provider-sandbox.
    const sandbox = await startProviderSandbox({
      port: Number(process.env.SANDBOX_PORT ?? 0),
      acceptUnknownTelegramBots: true,
    });
    stops.push({ name: 'the provider sandbox', stop: sandbox.stop });
    // A last resort: never leave the Java process behind, whatever ends this one.
    process.on('exit', () => dynamo.process.kill('SIGKILL'));

    const tableName = process.env.TABLE_NAME || 'crm-local';
    const bucketName = process.env.BUCKET_NAME || 'crm-local-files';
    Object.assign(process.env, {
      TABLE_NAME: tableName,
      BUCKET_NAME: bucketName,
      DYNAMODB_ENDPOINT: dynamo.endpoint,
      AWS_ENDPOINT_URL: aws.endpoint,
      SES_ENDPOINT: ses.endpoint,
      AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      MAIL_FROM: process.env.MAIL_FROM ?? 'crm@localhost',
      // Locally the cursor key is a file (or, in memory, a throwaway key), never Secrets Manager.
      CURSOR_SECRET_ARN: '',
      CURSOR_KEY_FILE: inMemory ? '' : ensureCursorKeyFile(),
      // Channel credentials are sealed under a key file made on first use (in memory: a throwaway key), never KMS.
      CREDENTIALS_KMS_KEY_ID: '',
      CREDENTIALS_KEY_FILE: inMemory ? '' : credentialsKeyFile,
      // What a connection shows as its webhook URL: the gateway serves /hooks/... locally.
      HOOKS_BASE_URL: process.env.HOOKS_BASE_URL || `http://127.0.0.1:${process.env.PORT ?? 3000}`,
      WHATSAPP_API_BASE_URL: `${sandbox.url}/${whatsappApiVersion}`,
      TELEGRAM_API_BASE_URL: sandbox.url,
      TWILIO_API_BASE_URL: sandbox.url,
      SES_API_BASE_URL: sandbox.url,
      // SNS messages name an SNS host's certificate and SubscribeURL; locally the sandbox answers both (the host check stays).
      ...sandboxSnsEnvironment(sandbox.url),
      // Conversations are classified by the deterministic local rules, never a Bedrock model (AWS credentials are fake here).
      QUALIFIER_MODEL_ID: '',
      // Outbound webhooks may reach a receiver on this machine (on AWS only public addresses).
      WEBHOOKS_ALLOW_LOOPBACK: 'true',
      RESPONDER_MODEL_ID: '',
      // CloudWatch reads the EMF metric lines on AWS; locally they would only crowd the log.
      POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED ?? 'true',
    });
    if (inMemory) {
      setSecretStore(createStaticSecretStore({ 'cursor-key': randomBytes(32) }));
      const throwawayKey = new Uint8Array(randomBytes(32));
      setSecretSealer(createAesSecretSealer(async () => throwawayKey));
    }

    const rawDynamo = createDynamoClient({ endpoint: dynamo.endpoint });
    await ensureTable(rawDynamo, tableName, {
      onIndexAdded: (index) =>
        log(`Adding index ${index} to the saved table (DynamoDB Local indexes every item once)…`),
    });
    const s3 = createS3Client({ region: 'us-east-1', awsEndpoint: aws.endpoint });
    await s3.send(new CreateBucketCommand({ Bucket: bucketName })).catch((error: Error) => {
      if (!/BucketAlready/.test(error.name)) throw error;
    });
    const sqs = createSqsClient({ region: 'us-east-1', awsEndpoint: aws.endpoint });
    const queues = await ensureQueues(sqs, jobQueues);
    for (const queue of queues) process.env[`QUEUE_URL_${queue.name.toUpperCase()}`] = queue.queueUrl;
    resetConfig();

    const deps = {
      db: createDb(createDocumentClient(rawDynamo), tableName),
      clock: systemClock,
      newId: ulidGenerator(),
    };
    setCoreDeps(deps);
    const demo = await demoCredentials(deps, inMemory);
    const registrar = {
      sandboxUrl: sandbox.url,
      hooksBaseUrl: process.env.HOOKS_BASE_URL!,
      sealer: getSecretSealer,
    };
    await registerExistingConnections(deps, registrar);

    const poller = await startStreamPoller({
      endpoint: dynamo.endpoint,
      tableName,
      consumers: [
        // One poller consumer per stream reader, as AWS has one event source mapping per reader.
        ...(await Promise.all(
          streamReaders.map(async (definition) => ({
            definition,
            handler: await loadHandler(definition.entry),
          })),
        )),
        // Local only: the provider sandbox learns each connection as its provider's console would.
        sandboxAccountsConsumer(registrar),
      ],
      checkpointFile: inMemory ? undefined : join(dataDir, 'stream-checkpoints.json'),
      failureFile: join(inMemory ? process.cwd() : dataDir, 'stream-failures.jsonl'),
    });
    stops.push({ name: 'the stream poller', stop: () => poller.stop() });
    // What the demo seed wrote reaches the consumers (metrics, tag usage, unread totals) before the banner.
    await poller.drain({ timeoutMs: 120_000 });
    // Each kind's queue with its handler, and each dead-letter queue with the one dead-letter consumer.
    const runner = await startQueueRunner({
      endpoint: aws.endpoint,
      queues: (
        await Promise.all(
          queues.map(async (queue) => {
            const definition = jobQueues.find((q) => q.name === queue.name)!;
            const deadLetters = deadLetterQueueDefinition(definition);
            return [
              { definition, queueUrl: queue.queueUrl, handler: await loadHandler(definition.entry) },
              {
                definition: deadLetters,
                queueUrl: queue.dlqUrl,
                handler: await loadHandler(deadLetters.entry),
                deadLetters: true,
              },
            ];
          }),
        )
      ).flat(),
    });
    stops.push({ name: 'the queue runner', stop: () => runner.stop() });
    const scheduler = startScheduler({
      schedules: await Promise.all(
        schedules.map(async (definition) => ({ definition, handler: await loadHandler(definition.entry) })),
      ),
    });
    stops.push({ name: 'the scheduler', stop: async () => scheduler.stop() });
    const outbox = startOutboxWriter({ sesEndpoint: ses.endpoint, dir: join(dataDir, 'outbox') });
    stops.push({ name: 'the outbox writer', stop: () => outbox.stop() });

    const gateway = await startGateway({
      port: Number(process.env.PORT ?? 3000),
      log: process.env.QUIET ? undefined : log,
    });
    stops.push({ name: 'the gateway', stop: gateway.stop });

    if (!inMemory) {
      writeFileSync(
        runtimeFile,
        JSON.stringify(
          {
            tableName,
            dynamodbEndpoint: dynamo.endpoint,
            awsEndpoint: aws.endpoint,
            sesEndpoint: ses.endpoint,
            apiUrl: gateway.url,
            sandboxUrl: sandbox.url,
          },
          null,
          2,
        ),
      );
    }
    printBanner(gateway.url, ses.endpoint, `${aws.endpoint}/${bucketName}`, demo, inMemory, sandbox.url);
  } catch (error) {
    log(`\nnpm start failed: ${(error as Error).message}`);
    await stopAll();
    process.exit(1);
  }
}

/** What a started emulator resolved to, or its start's error. */
function startedValue<T>(result: PromiseSettledResult<T>): T {
  if (result.status === 'rejected') throw result.reason;
  return result.value;
}

/**
 * The key list cursors are sealed with: 32 random bytes in .data/cursor.key (mode 600), made on first
 * start and kept, so cursors handed out survive a restart; `--reset` makes a new one.
 */
function ensureCursorKeyFile(): string {
  try {
    writeFileSync(cursorKeyFile, randomBytes(32), { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return cursorKeyFile;
}

/** The demo workspace: created on first start and its tokens kept in .data/demo.json (mode 600). */
async function demoCredentials(
  deps: Parameters<typeof seedDemoWorkspace>[0],
  inMemory: boolean,
): Promise<DemoCredentials> {
  if (!inMemory && existsSync(demoFile)) {
    const saved = JSON.parse(readFileSync(demoFile, 'utf8')) as DemoCredentials;
    const { data } = await deps.db.entities.workspace.get({ workspaceId: saved.workspaceId }).go();
    if (data) return saved;
  }
  const demo = await seedDemoWorkspace(deps);
  if (!inMemory) writeFileSync(demoFile, JSON.stringify(demo, null, 2), { mode: 0o600 });
  return demo;
}

function printBanner(
  apiUrl: string,
  sesUrl: string,
  filesUrl: string,
  demo: DemoCredentials,
  inMemory: boolean,
  sandboxUrl: string,
) {
  const token = (role: string) => demo.users.find((u) => u.role === role)!.token;
  log(`
CRM is running${inMemory ? ' (in memory: nothing is kept)' : ' (data kept in .data/)'}.

  API        ${apiUrl}/v1
  Docs       ${apiUrl}/docs
  OpenAPI    ${apiUrl}/openapi.json
  Sent mail  ${sesUrl} (and .data/outbox/*.eml)
  Files      ${filesUrl} (S3 emulator: import uploads under uploads/, exports and error reports under exports/)
  Providers  ${sandboxUrl} (sandbox: WhatsApp, Telegram, Twilio, SES; npm run sandbox:reply, see README)

Demo workspace ${demo.workspaceId}:
  owner token   ${token('owner')}
  admin token   ${token('admin')}
  member token  ${token('member')}

Try:
  curl -H "Authorization: Bearer ${token('owner')}" ${apiUrl}/v1/me
  curl -H "Authorization: Bearer ${token('owner')}" -o template.csv ${apiUrl}/v1/imports/template   (see README: Imports and exports)

Ctrl-C stops everything.`);
}

void main();
