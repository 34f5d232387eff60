import type { DeliveryDeps } from '../../domain/channels/deliveries/delivery-sender';
import type { ChannelAdapters } from '../../domain/channels/outbound';
import { systemClock, ulidGenerator } from '../../domain/shared/clock';
import type { CoreDeps } from '../../domain/shared/deps';
import { createDb } from '../../domain/store/db';
import type { BlobStore, JobQueue, Qualifier, Responder, SecretSealer, SecretStore, WebhookTransport } from '../../domain/shared/ports';
import type { WebhookNetworkPolicy } from '../../domain/webhooks/webhook-url';
import { createWebhookTransport } from './adapters/webhook-transport';
import { localResponder } from '../../domain/bot/local-responder';
import { localQualifier } from '../../domain/qualification/local-qualifier';
import { createDocumentClient, createDynamoClient } from '../../domain/store/dynamo-client';
import { loadKmsClient, loadS3Client, loadSecretsManagerClient, loadSqsClient } from './adapters/aws-client-settings';
import { createS3BlobStore } from './adapters/s3-blob-store';
import { createKeyFileSecretSealer, createKmsSecretSealer } from './adapters/secret-sealers';
import { createFileSecretStore, createSecretsManagerSecretStore } from './adapters/secret-stores';
import { createSqsJobQueue } from './adapters/sqs-job-queue';
import { getConfig } from './config';

let cached: CoreDeps | undefined;

type AsyncPort<T> = { [K in keyof T]: (...args: never[]) => Promise<unknown> };

/**
 * A port whose adapter is built on its first call: its SDK client (imported then, see
 * adapters/aws-client-settings.ts) costs nothing at cold start in the functions that never call it.
 * `methods` names every method of the port (the compiler checks the list is complete).
 */
function builtOnFirstCall<T extends AsyncPort<T>>(methods: { [K in keyof T]-?: true }, build: () => Promise<T>): T {
  let built: Promise<T> | undefined;
  const port: Partial<Record<keyof T, unknown>> = {};
  for (const name of Object.keys(methods) as (keyof T)[]) {
    port[name] = async (...args: never[]) => {
      if (!built) {
        built = build();
        built.catch(() => (built = undefined)); // a failed build is tried again on the next call
      }
      const adapter = await built;
      return adapter[name](...args);
    };
  }
  return port as T;
}

/** The domain's dependencies, built once per cold start and reused by every invocation. */
export function getCoreDeps(): CoreDeps {
  if (cached) return cached;
  const config = getConfig();
  const client = createDynamoClient({ endpoint: config.dynamodbEndpoint, region: config.region });
  cached = {
    db: createDb(createDocumentClient(client), config.tableName),
    clock: systemClock,
    newId: ulidGenerator(systemClock),
  };
  return cached;
}

// On Lambda the client and the table's entities are built during init, not by the first request:
// Lambda may run init before any request arrives, and a missing variable fails init with its name.
if (process.env.AWS_LAMBDA_FUNCTION_NAME) getCoreDeps();

/** Tests and the local runtime replace or reset the dependencies. */
export function setCoreDeps(deps: CoreDeps | undefined): void {
  cached = deps;
}

let secrets: SecretStore | undefined;

/**
 * The deployment's secrets: Secrets Manager on AWS (CURSOR_SECRET_ARN), a key file under `npm start`
 * (CURSOR_KEY_FILE). Built on first use, so a function that never seals a cursor needs neither.
 */
export function getSecretStore(): SecretStore {
  if (secrets) return secrets;
  const config = getConfig();
  if (config.cursorSecretArn) {
    const secretIds = { 'cursor-key': config.cursorSecretArn };
    secrets = builtOnFirstCall<SecretStore>({ get: true }, async () =>
      createSecretsManagerSecretStore({ client: await loadSecretsManagerClient(config), secretIds }),
    );
  } else if (config.cursorKeyFile) {
    secrets = createFileSecretStore({ 'cursor-key': config.cursorKeyFile });
  } else {
    throw new Error('Missing required environment variable CURSOR_SECRET_ARN (or CURSOR_KEY_FILE locally)');
  }
  return secrets;
}

/** Tests and `npm start -- --in-memory` give their own secrets; undefined goes back to the configuration. */
export function setSecretStore(store: SecretStore | undefined): void {
  secrets = store;
}

let sealer: SecretSealer | undefined;

/**
 * Seals channel credentials: KMS on AWS (CREDENTIALS_KMS_KEY_ID), a key file under `npm start`
 * (CREDENTIALS_KEY_FILE, made on first use). Built on first use, so only the functions that read or
 * write credentials need either.
 */
export function getSecretSealer(): SecretSealer {
  if (sealer) return sealer;
  const config = getConfig();
  if (config.credentialsKmsKeyId) {
    const keyId = config.credentialsKmsKeyId;
    sealer = builtOnFirstCall<SecretSealer>({ seal: true, open: true }, async () =>
      createKmsSecretSealer({ client: await loadKmsClient(config), keyId }),
    );
  } else if (config.credentialsKeyFile) {
    sealer = createKeyFileSecretSealer(config.credentialsKeyFile);
  } else {
    throw new Error('Missing required environment variable CREDENTIALS_KMS_KEY_ID (or CREDENTIALS_KEY_FILE locally)');
  }
  return sealer;
}

/** Tests and `npm start -- --in-memory` give their own sealer; undefined goes back to the configuration. */
export function setSecretSealer(value: SecretSealer | undefined): void {
  sealer = value;
}

/** An operation's dependencies with the credential sealer and where providers reach the webhooks. */
export const withSecretSealer = <D extends CoreDeps>(deps: D): D & { sealer: SecretSealer; hooksBaseUrl?: string } => {
  const { hooksBaseUrl } = getConfig();
  return { ...deps, sealer: getSecretSealer(), ...(hooksBaseUrl ? { hooksBaseUrl } : {}) };
};

let blobs: BlobStore | undefined;
const blobStoreMethods: { [K in keyof BlobStore]-?: true } = {
  put: true,
  get: true,
  read: true,
  head: true,
  delete: true,
  uploadUrl: true,
  downloadUrl: true,
  startMultipartUpload: true,
  uploadPart: true,
  completeMultipartUpload: true,
  abortMultipartUpload: true,
};

/**
 * The deployment's file bucket (BUCKET_NAME; the emulator's under `npm start` and in tests). Built on
 * first use, so a function that never touches files needs neither the variable nor an S3 client.
 */
export function getBlobStore(): BlobStore {
  if (blobs) return blobs;
  const config = getConfig();
  if (!config.bucketName) throw new Error('Missing required environment variable BUCKET_NAME');
  const bucket = config.bucketName;
  blobs = builtOnFirstCall<BlobStore>(blobStoreMethods, async () => createS3BlobStore({ client: await loadS3Client(config), bucket }));
  return blobs;
}

/** Tests give their own bucket's store; undefined goes back to the configuration. */
export function setBlobStore(store: BlobStore | undefined): void {
  blobs = store;
}

/** An operation's dependencies with the blob store, for the operations that presign or check files. */
export const withBlobStore = <D extends CoreDeps>(deps: D): D & { blobs: BlobStore } => ({ ...deps, blobs: getBlobStore() });

let jobQueue: JobQueue | undefined;

/**
 * The job queues (one SQS queue per job kind, their URLs in QUEUE_URL_<KIND>). Built on first use: only
 * the job dispatcher sends (jobs are enqueued by writing their item).
 */
export function getJobQueue(): JobQueue {
  if (jobQueue) return jobQueue;
  const config = getConfig();
  const { queueUrls } = config;
  jobQueue = builtOnFirstCall<JobQueue>({ send: true }, async () => createSqsJobQueue({ client: await loadSqsClient(config), queueUrls }));
  return jobQueue;
}

/** Tests give their own queues; undefined goes back to the configuration. */
export function setJobQueue(queue: JobQueue | undefined): void {
  jobQueue = queue;
}

let channelAdapters: ChannelAdapters | undefined;

/**
 * The providers' senders (functions/shared/adapters/channels/channel-adapters.ts, at the configured base
 * URLs). The module is imported on the first provider call, so the functions that never make one (every
 * HTTP group but inbox, the stream consumers) do not load the SES client.
 */
export function getChannelAdapters(): ChannelAdapters {
  if (channelAdapters) return channelAdapters;
  let built: Promise<ChannelAdapters> | undefined;
  const real = () =>
    (built ??= import('./adapters/channels/channel-adapters').then(({ createChannelAdapters }) => createChannelAdapters(getConfig())));
  channelAdapters = {
    sender: (kind) => ({ send: async (message) => (await real()).sender(kind).send(message) }),
    telegramSetWebhook: async (connection, webhookUrl) => (await real()).telegramSetWebhook(connection, webhookUrl),
    fetchMedia: async (connection, media, maxBytes) => (await real()).fetchMedia(connection, media, maxBytes),
    placeCall: async (connection, call) => (await real()).placeCall(connection, call),
  };
  return channelAdapters;
}

/** Tests give their own adapters (test/support/fake-channel-adapters.ts); undefined goes back to the real ones. */
export function setChannelAdapters(adapters: ChannelAdapters | undefined): void {
  channelAdapters = adapters;
}

/** An operation's dependencies for a provider call: the bucket, the sealer, the senders and the hooks base URL. */
export const withDeliveryDeps = <D extends CoreDeps & { blobs: BlobStore }>(deps: D): D & DeliveryDeps => ({
  ...withSecretSealer(deps),
  channels: getChannelAdapters(),
});

let qualifier: Qualifier | undefined;

/**
 * The conversation classifier: Amazon Bedrock when QUALIFIER_MODEL_ID names a model, else the local
 * rules (`npm start`, the tests, a deployment without a model). The Bedrock client is imported on the
 * first classification, so no other function's bundle loads it.
 */
export function getQualifier(): Qualifier {
  if (qualifier) return qualifier;
  const { qualifierModelId, region } = getConfig();
  if (!qualifierModelId) return (qualifier = localQualifier);
  let built: Promise<Qualifier> | undefined;
  const real = () =>
    (built ??= import('./adapters/bedrock-qualifier').then(({ createBedrockQualifier }) =>
      import('./adapters/bedrock-converse').then(async ({ createBedrockRuntimeClient }) =>
        createBedrockQualifier({ client: await createBedrockRuntimeClient(region), modelId: qualifierModelId }),
      ),
    ));
  qualifier = { classifyConversation: async (input) => (await real()).classifyConversation(input) };
  return qualifier;
}

/** Tests give their own classifier; undefined goes back to the configuration's. */
export function setQualifier(value: Qualifier | undefined): void {
  qualifier = value;
}

let webhookTransport: WebhookTransport | undefined;
let webhookPolicy: WebhookNetworkPolicy | undefined;

/** Outbound webhooks' DNS and HTTP (node's, with the checked address pinned). */
export function getWebhookTransport(): WebhookTransport {
  return (webhookTransport ??= createWebhookTransport());
}

/** Tests give their own (a resolver that answers a name with 127.0.0.1, say); undefined goes back to the real one. */
export function setWebhookTransport(value: WebhookTransport | undefined): void {
  webhookTransport = value;
}

/** Where webhooks may go: public addresses, and loopback only where WEBHOOKS_ALLOW_LOOPBACK=true (`npm start`, tests). */
export function getWebhookPolicy(): WebhookNetworkPolicy {
  return webhookPolicy ?? { allowLoopback: getConfig().webhooksAllowLoopback === true };
}

/** Tests change the policy (loopback refused, as on AWS); undefined goes back to the configuration's. */
export function setWebhookPolicy(value: WebhookNetworkPolicy | undefined): void {
  webhookPolicy = value;
}

/** An operation's dependencies for outbound webhooks: the sealer (signing secrets), the network, the policy, the queue. */
export const withWebhookDeps = <D extends CoreDeps>(deps: D) => ({
  ...deps,
  sealer: getSecretSealer(),
  transport: getWebhookTransport(),
  policy: getWebhookPolicy(),
  queue: getJobQueue(),
});

let responder: Responder | undefined;

/**
 * The autoreply bot's responder: Amazon Bedrock when RESPONDER_MODEL_ID names a model, else the local
 * rules. The Bedrock client is imported on the first call, as the qualifier's.
 */
export function getResponder(): Responder {
  if (responder) return responder;
  const { responderModelId, region } = getConfig();
  if (!responderModelId) return (responder = localResponder);
  let built: Promise<Responder> | undefined;
  const real = () =>
    (built ??= import('./adapters/bedrock-responder').then(({ createBedrockResponder }) =>
      import('./adapters/bedrock-converse').then(async ({ createBedrockRuntimeClient }) =>
        createBedrockResponder({ client: await createBedrockRuntimeClient(region), modelId: responderModelId }),
      ),
    ));
  responder = { respond: async (input) => (await real()).respond(input) };
  return responder;
}

/** Tests give their own responder; undefined goes back to the configuration's. */
export function setResponder(value: Responder | undefined): void {
  responder = value;
}
