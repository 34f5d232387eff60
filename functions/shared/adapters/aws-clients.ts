import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Config } from '../config';
import { awsOnlyClientConfig, s3ClientConfig, sesClientConfig, sqsClientConfig } from './aws-client-settings';

/**
 * AWS clients, built from the configuration (settings in aws-client-settings.ts). For the local
 * runtime, the tests and the benches; the functions build theirs on first use through
 * functions/shared/deps.ts, which never imports this module.
 */
export function createSqsClient(config: Pick<Config, 'region' | 'awsEndpoint'>): SQSClient {
  return new SQSClient(sqsClientConfig(config));
}

export function createS3Client(config: Pick<Config, 'region' | 'awsEndpoint'>): S3Client {
  return new S3Client(s3ClientConfig(config));
}

export function createSesClient(config: Pick<Config, 'region' | 'sesEndpoint'>): SESv2Client {
  return new SESv2Client(sesClientConfig(config));
}

/** Secrets Manager is only read on AWS (locally secrets are key files): no emulator endpoint. */
export function createSecretsManagerClient(config: Pick<Config, 'region'>): SecretsManagerClient {
  return new SecretsManagerClient(awsOnlyClientConfig(config));
}

/** KMS is only used on AWS (locally credentials are sealed under a key file): no emulator endpoint. */
export function createKmsClient(config: Pick<Config, 'region'>): KMSClient {
  return new KMSClient(awsOnlyClientConfig(config));
}
