import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal, startSesEmulator, startSqsS3Emulator } from '../../local/emulators';

/**
 * Starts the local AWS stand-ins once per test run: DynamoDB Local (in memory), fauxqs for SQS and S3,
 * and the SES v2 emulator. Test files isolate themselves with a table (and queues) of their own.
 */
export default async function setup(project: TestProject) {
  const [dynamo, sqsS3, ses] = await Promise.all([startDynamoDbLocal(), startSqsS3Emulator(), startSesEmulator()]);
  project.provide('dynamodbEndpoint', dynamo.endpoint);
  project.provide('awsEndpoint', sqsS3.endpoint);
  project.provide('sesEndpoint', ses.endpoint);
  return async () => {
    await Promise.all([dynamo.stop(), sqsS3.stop(), ses.stop()]);
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
    awsEndpoint: string;
    sesEndpoint: string;
  }
}
