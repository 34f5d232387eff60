import { inject } from 'vitest';

/** Refuses any endpoint that is not on this machine: tests never touch real AWS. */
export function assertLocalEndpoint(url: string): void {
  const { hostname } = new URL(url);
  if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(hostname)) {
    throw new Error(`Refusing a non-local AWS endpoint in tests: ${url}`);
  }
}

const dynamodbEndpoint = inject('dynamodbEndpoint');
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
