import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Config } from '../config';

/**
 * AWS clients, built once per cold start from the configuration. On AWS the SDK resolves the regional
 * endpoints and the role's credentials; locally the endpoints point at the emulators, which accept any
 * credentials, so fixed ones are supplied (the machine needs no AWS profile).
 */
const localCredentials = { accessKeyId: 'local', secretAccessKey: 'local' };

const endpointOverride = (endpoint: string | undefined) =>
  endpoint ? { endpoint, credentials: localCredentials } : {};

export function createSqsClient(config: Pick<Config, 'region' | 'awsEndpoint'>): SQSClient {
  return new SQSClient({ region: config.region, ...endpointOverride(config.awsEndpoint) });
}

export function createS3Client(config: Pick<Config, 'region' | 'awsEndpoint'>): S3Client {
  return new S3Client({
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
}

export function createSesClient(config: Pick<Config, 'region' | 'sesEndpoint'>): SESv2Client {
  return new SESv2Client({ region: config.region, ...endpointOverride(config.sesEndpoint) });
}

/** Secrets Manager is only read on AWS (locally secrets are key files): no emulator endpoint. */
export function createSecretsManagerClient(config: Pick<Config, 'region'>): SecretsManagerClient {
  return new SecretsManagerClient({ region: config.region });
}

/** KMS is only used on AWS (locally credentials are sealed under a key file): no emulator endpoint. */
export function createKmsClient(config: Pick<Config, 'region'>): KMSClient {
  return new KMSClient({ region: config.region });
}
