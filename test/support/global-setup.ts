import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal, startSesEmulator, startSqsS3Emulator } from '../../local/emulators';

/**
 * DynamoDB Local instances, one per test worker (vitest.config.ts runs 3 files at once). DynamoDB Local
 * does all its SQLite work on one thread, and its stream reads (GetRecords, DescribeStream) read the
 * whole stream log there: one instance shared by every file was the suite's bottleneck, its thread at
 * 100% while the workers waited.
 */
const dynamoInstances = 3;

/**
 * Starts the local AWS stand-ins once per test run: DynamoDB Local (in memory, one per worker), fauxqs
 * for SQS and S3, and the SES v2 emulator. Test files isolate themselves with a table (and queues) of
 * their own.
 */
export default async function setup(project: TestProject) {
  const [sqsS3, ses, ...dynamos] = await Promise.all([
    startSqsS3Emulator(),
    startSesEmulator(),
    ...Array.from({ length: dynamoInstances }, () => startDynamoDbLocal()),
  ]);
  project.provide('dynamodbEndpoints', dynamos.map((dynamo) => dynamo.endpoint).join(','));
  project.provide('awsEndpoint', sqsS3.endpoint);
  project.provide('sesEndpoint', ses.endpoint);
  return async () => {
    await Promise.all([...dynamos.map((dynamo) => dynamo.stop()), sqsS3.stop(), ses.stop()]);
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** Comma-separated: a worker takes the one of its pool id (setup-env.ts). */
    dynamodbEndpoints: string;
    awsEndpoint: string;
    sesEndpoint: string;
  }
}
