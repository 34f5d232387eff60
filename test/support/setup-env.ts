import { inject } from 'vitest';

/** Refuses any endpoint that is not on this machine: tests never touch real AWS. */
export function assertLocalEndpoint(url: string): void {
  const { hostname } = new URL(url);
  if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(hostname)) {
    throw new Error(`Refusing a non-local AWS endpoint in tests: ${url}`);
  }
}

// Each worker its own DynamoDB Local (global-setup.ts): VITEST_POOL_ID runs from 1 to the worker count.
const dynamodbEndpoints = inject('dynamodbEndpoints').split(',');
const dynamodbEndpoint = dynamodbEndpoints[(Number(process.env.VITEST_POOL_ID ?? '1') - 1) % dynamodbEndpoints.length]!;
const awsEndpoint = inject('awsEndpoint');
const sesEndpoint = inject('sesEndpoint');
for (const endpoint of [dynamodbEndpoint, awsEndpoint, sesEndpoint]) assertLocalEndpoint(endpoint);

process.env.DYNAMODB_ENDPOINT = dynamodbEndpoint;
process.env.AWS_ENDPOINT_URL = awsEndpoint;
process.env.SES_ENDPOINT = sesEndpoint;
process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'local';
process.env.AWS_SECRET_ACCESS_KEY = 'local';
process.env.TABLE_NAME ??= 'crm-test-unset';
// Outbound webhooks reach the tests' receivers on loopback (a test turns it off to see the refusals).
process.env.WEBHOOKS_ALLOW_LOOPBACK = 'true';
// Quiet by default; a test about logs turns them on with vi.hoisted before its imports.
process.env.LOG_LEVEL ??= 'SILENT';
// EMF lines are for CloudWatch; test/unit/metrics.test.ts switches them on to read them.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
