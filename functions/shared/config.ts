/**
 * Configuration from the environment, read once. A missing required variable fails the cold start
 * with its name, instead of failing some request later.
 */
export interface Config {
  tableName: string;
  region: string;
  /** Only under `npm start` and in tests: the DynamoDB Local endpoint. */
  dynamodbEndpoint?: string;
  /** Only under `npm start` and in tests: the SQS/S3 emulator endpoint. */
  awsEndpoint?: string;
  /** Only under `npm start` and in tests: the SES emulator endpoint. */
  sesEndpoint?: string;
  bucketName?: string;
  /** Queue URLs by queue name, from QUEUE_URL_<NAME> variables. */
  queueUrls: Record<string, string>;
  mailFrom?: string;
  /** On AWS: the Secrets Manager secret that list cursors are sealed with (functions with list routes). */
  cursorSecretArn?: string;
  /** Under `npm start`: the key file list cursors are sealed with (`.data/cursor.key`). */
  cursorKeyFile?: string;
  /** On AWS: the KMS key channel credentials are sealed with (the channels function). */
  credentialsKmsKeyId?: string;
  /** Under `npm start`: the key file channel credentials are sealed with (`.data/credentials.key`, made on first use). */
  credentialsKeyFile?: string;
  /**
   * Where providers reach the inbound webhooks, without a trailing slash: a connection shows
   * `<hooksBaseUrl>/hooks/<provider>/<connectionId>` (locally the gateway's URL). Unset: only the path.
   */
  hooksBaseUrl?: string;
  // Provider APIs (the channel adapters): getConfig always fills these, from the variable or `providerDefaults`.
  /** The Meta Graph API base URL, version included (WHATSAPP_API_BASE_URL; the provider sandbox locally). */
  whatsappApiBaseUrl?: string;
  /** The Telegram Bot API base URL (TELEGRAM_API_BASE_URL). */
  telegramApiBaseUrl?: string;
  /** The Twilio REST API base URL (TWILIO_API_BASE_URL). */
  twilioApiBaseUrl?: string;
  /** How long a provider HTTP call may take before it counts as a timeout (PROVIDER_TIMEOUT_MS). */
  providerTimeoutMs?: number;
  /** The SES configuration set channel mail is sent with (its event destination reports deliveries, opens, bounces). */
  sesConfigurationSet?: string;
  /**
   * Where channel mail (an email connection's messages) is sent, when not where the app's own mail goes
   * (SES_API_BASE_URL): under `npm start` the provider sandbox, which reports deliveries and opens back
   * through SNS. Unset: `sesEndpoint`, else SES itself.
   */
  sesChannelEndpoint?: string;
  /**
   * Only under `npm start` and in tests: SNS signing certificates are fetched from here (the path of
   * `SigningCertURL` appended) instead of the SNS host the URL names (which must still be an SNS host).
   */
  snsCertificateBaseUrl?: string;
  /** Only under `npm start` and in tests: an SNS `SubscribeURL` is visited here (its path and query appended). */
  snsSubscribeBaseUrl?: string;
  /**
   * The Bedrock model (or inference profile) id conversations are classified with (QUALIFIER_MODEL_ID);
   * unset: the deterministic local rules (domain/qualification/local-qualifier.ts).
   */
  qualifierModelId?: string;
  /**
   * Only under `npm start` and in tests (WEBHOOKS_ALLOW_LOOPBACK=true): outbound webhooks may go to this
   * machine (127.0.0.1, ::1), over plain http too. Never set on AWS: there webhooks reach public addresses only.
   */
  webhooksAllowLoopback?: boolean;
  /**
   * The Bedrock model (or inference profile) id the autoreply bot reads messages with
   * (RESPONDER_MODEL_ID); unset: the deterministic local rules (domain/bot/local-responder.ts).
   */
  responderModelId?: string;
}

/** The providers' public API endpoints, and how long a call to one may take. */
export const providerDefaults = {
  whatsappApiBaseUrl: 'https://graph.facebook.com/v23.0',
  telegramApiBaseUrl: 'https://api.telegram.org',
  twilioApiBaseUrl: 'https://api.twilio.com',
  providerTimeoutMs: 10_000,
} as const;

let cached: Config | undefined;

export function getConfig(env: NodeJS.ProcessEnv = process.env): Config {
  if (cached && env === process.env) return cached;
  const required = (name: string) => {
    const value = env[name];
    if (!value) throw new Error(`Missing required environment variable ${name}`);
    return value;
  };
  const queueUrls = Object.fromEntries(
    Object.entries(env)
      .filter(([name, value]) => name.startsWith('QUEUE_URL_') && value)
      .map(([name, value]) => [name.slice('QUEUE_URL_'.length).toLowerCase(), value as string]),
  );
  const config: Config = {
    tableName: required('TABLE_NAME'),
    region: env.AWS_REGION ?? 'us-east-1',
    dynamodbEndpoint: env.DYNAMODB_ENDPOINT || undefined,
    awsEndpoint: env.AWS_ENDPOINT_URL || undefined,
    sesEndpoint: env.SES_ENDPOINT || undefined,
    bucketName: env.BUCKET_NAME || undefined,
    queueUrls,
    mailFrom: env.MAIL_FROM || undefined,
    cursorSecretArn: env.CURSOR_SECRET_ARN || undefined,
    cursorKeyFile: env.CURSOR_KEY_FILE || undefined,
    credentialsKmsKeyId: env.CREDENTIALS_KMS_KEY_ID || undefined,
    credentialsKeyFile: env.CREDENTIALS_KEY_FILE || undefined,
    hooksBaseUrl: env.HOOKS_BASE_URL?.replace(/\/+$/, '') || undefined,
    whatsappApiBaseUrl: baseUrl(env.WHATSAPP_API_BASE_URL, providerDefaults.whatsappApiBaseUrl),
    telegramApiBaseUrl: baseUrl(env.TELEGRAM_API_BASE_URL, providerDefaults.telegramApiBaseUrl),
    twilioApiBaseUrl: baseUrl(env.TWILIO_API_BASE_URL, providerDefaults.twilioApiBaseUrl),
    providerTimeoutMs: positiveInteger('PROVIDER_TIMEOUT_MS', env.PROVIDER_TIMEOUT_MS, providerDefaults.providerTimeoutMs),
    sesConfigurationSet: env.SES_CONFIGURATION_SET || undefined,
    sesChannelEndpoint: env.SES_API_BASE_URL?.replace(/\/+$/, '') || undefined,
    snsCertificateBaseUrl: env.SNS_CERTIFICATE_BASE_URL?.replace(/\/+$/, '') || undefined,
    snsSubscribeBaseUrl: env.SNS_SUBSCRIBE_BASE_URL?.replace(/\/+$/, '') || undefined,
    qualifierModelId: env.QUALIFIER_MODEL_ID?.trim() || undefined,
    webhooksAllowLoopback: env.WEBHOOKS_ALLOW_LOOPBACK === 'true',
    responderModelId: env.RESPONDER_MODEL_ID?.trim() || undefined,
  };
  if (env === process.env) cached = config;
  return config;
}

const baseUrl = (value: string | undefined, fallback: string) => (value || fallback).replace(/\/+$/, '');

const positiveInteger = (name: string, value: string | undefined, fallback: number) => {
  if (!value) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) throw new Error(`${name} must be a positive integer of milliseconds`);
  return parsed;
};

/** Forget the cached configuration (the local runtime and tests set the environment, then start). */
export function resetConfig(): void {
  cached = undefined;
}
