import type { KMSClientConfig } from '@aws-sdk/client-kms';
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import type { SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';
import type { SESv2ClientConfig } from '@aws-sdk/client-sesv2';
import type { SQSClientConfig } from '@aws-sdk/client-sqs';
import type { Config } from '../config';

/**
 * How the AWS clients are configured (aws-clients.ts builds them), and the same clients built with
 * their SDK module imported on first use: functions/shared/deps.ts uses these, so no function loads
 * an SDK client at cold start that it does not call (a static import, once bundled, loads it in
 * every function). On AWS the SDK resolves the regional endpoints and the role's credentials; locally
 * the endpoints point at the emulators, which accept any credentials, so fixed ones are supplied
 * (the machine needs no AWS profile).
 */
const localCredentials = { accessKeyId: 'local', secretAccessKey: 'local' };

const endpointOverride = (endpoint: string | undefined) =>
  endpoint ? { endpoint, credentials: localCredentials } : {};

type Endpoints = Pick<Config, 'region' | 'awsEndpoint'>;

export const sqsClientConfig = (config: Endpoints): SQSClientConfig => ({
  region: config.region,
  ...endpointOverride(config.awsEndpoint),
});

export const s3ClientConfig = (config: Endpoints): S3ClientConfig => ({
  region: config.region,
  // Since SDK 3.729 a presigned PUT carries the CRC32 of the empty body it was signed with, so any
  // real upload through it is rejected (aws-sdk-js-v3#6994, on real S3 too). Checksums stay on
  // where the API requires them.
  requestChecksumCalculation: 'WHEN_REQUIRED',
  ...(config.awsEndpoint
    ? // The emulator serves buckets by path, not by virtual host (`bucket.localhost` does not resolve).
      { ...endpointOverride(config.awsEndpoint), forcePathStyle: true }
    : {}),
});

export const sesClientConfig = (config: Pick<Config, 'region' | 'sesEndpoint'>): SESv2ClientConfig => ({
  region: config.region,
  ...endpointOverride(config.sesEndpoint),
});

/** Secrets Manager and KMS are only used on AWS (locally: key files): no emulator endpoint. */
export const awsOnlyClientConfig = (config: Pick<Config, 'region'>): SecretsManagerClientConfig & KMSClientConfig => ({
  region: config.region,
});

export const loadSqsClient = async (config: Endpoints) =>
  new (await import('@aws-sdk/client-sqs')).SQSClient(sqsClientConfig(config));

export const loadS3Client = async (config: Endpoints) =>
  new (await import('@aws-sdk/client-s3')).S3Client(s3ClientConfig(config));

export const loadSecretsManagerClient = async (config: Pick<Config, 'region'>) =>
  new (await import('@aws-sdk/client-secrets-manager')).SecretsManagerClient(awsOnlyClientConfig(config));

export const loadKmsClient = async (config: Pick<Config, 'region'>) =>
  new (await import('@aws-sdk/client-kms')).KMSClient(awsOnlyClientConfig(config));
