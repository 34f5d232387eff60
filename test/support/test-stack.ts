import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { fixedClock, ulidGenerator } from '../../domain/shared/clock';
import type { CoreDeps } from '../../domain/shared/deps';
import { ensureTable } from '../../domain/store/create-table';
import { createDb } from '../../domain/store/db';
import { createDocumentClient, createDynamoClient } from '../../domain/store/dynamo-client';
import type { BlobStore, SecretSealer } from '../../domain/shared/ports';
import { createS3Client } from '../../functions/shared/adapters/aws-clients';
import { createS3BlobStore } from '../../functions/shared/adapters/s3-blob-store';
import { createWorkspace } from '../../domain/workspaces/workspaces.service';
import { createKeyFileSecretSealer } from '../../functions/shared/adapters/secret-sealers';
import { createStaticSecretStore } from '../../functions/shared/adapters/secret-stores';
import { setBlobStore, setCoreDeps, setSecretSealer, setSecretStore } from '../../functions/shared/deps';
import { invokeHttp, type InvokeOptions } from '../../local/http-invoke';
import { countDynamoCalls, type CallCounter } from './dynamo-call-counter';
import { assertLocalEndpoint } from './setup-env';

export interface TestStack {
  deps: CoreDeps;
  clock: ReturnType<typeof fixedClock>;
  tableName: string;
  /** The key list cursors are sealed with (random per stack), given to the handlers as the SecretStore. */
  cursorKey: Uint8Array;
  /** Seals channel credentials under a key file of this stack's own (a temp dir), given to the handlers. */
  sealer: SecretSealer;
  /** A bucket of this stack's own on the S3 emulator, given to the handlers as the BlobStore. */
  bucket: string;
  blobs: BlobStore;
  /** Every DynamoDB request the stack's client sends, by command. */
  calls: CallCounter;
  /** Calls the API through the real handlers, as the gateway would. */
  api: (method: string, path: string, options?: InvokeOptions) => Promise<ApiResponse>;
  destroy(): Promise<void>;
}

/**
 * A request's time before the handler answers 503 `timeout`. Three test files share one DynamoDB Local
 * on a 2-core CI box, where a request can wait far longer than on AWS: here the deadline only catches a
 * hang (below vitest's 120 s test timeout); speed is the benches' to check. A slow request is logged.
 */
const testRequestTimeoutMs = 100_000;
const slowRequestMs = 10_000;

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  raw: APIGatewayProxyStructuredResultV2;
}

/**
 * A table of this test file's own on DynamoDB Local, and the handlers wired to it. Files run in
 * parallel without seeing each other's data.
 */
export async function createTestStack(options: { clockStart?: string } = {}): Promise<TestStack> {
  const endpoint = process.env.DYNAMODB_ENDPOINT!;
  assertLocalEndpoint(endpoint);
  const tableName = `crm-test-${randomUUID().slice(0, 8)}`;
  process.env.TABLE_NAME = tableName;
  const raw = createDynamoClient({ endpoint });
  const calls = countDynamoCalls(raw);
  await ensureTable(raw, tableName);
  const clock = fixedClock(options.clockStart);
  const deps: CoreDeps = { db: createDb(createDocumentClient(raw), tableName), clock, newId: ulidGenerator(clock) };
  setCoreDeps(deps);
  const cursorKey = randomBytes(32);
  setSecretStore(createStaticSecretStore({ 'cursor-key': cursorKey }));
  const awsEndpoint = process.env.AWS_ENDPOINT_URL!;
  assertLocalEndpoint(awsEndpoint);
  const s3 = createS3Client({ region: 'us-east-1', awsEndpoint });
  await s3.send(new CreateBucketCommand({ Bucket: tableName }));
  const blobs = createS3BlobStore({ client: s3, bucket: tableName });
  setBlobStore(blobs);
  const keyDir = mkdtempSync(join(tmpdir(), 'crm-credentials-'));
  const sealer = createKeyFileSecretSealer(join(keyDir, 'credentials.key'));
  setSecretSealer(sealer);
  return {
    deps,
    clock,
    cursorKey,
    sealer,
    bucket: tableName,
    blobs,
    tableName,
    calls,
    api: async (method, path, invokeOptions) => {
      const started = Date.now();
      const result = await invokeHttp(method, path, { timeoutMs: testRequestTimeoutMs, ...invokeOptions });
      const tookMs = Date.now() - started;
      if (tookMs > slowRequestMs) console.warn(`Slow request in a test: ${method} ${path} took ${tookMs} ms`);
      const headers = Object.fromEntries(
        Object.entries(result.headers ?? {}).map(([name, value]) => [name.toLowerCase(), String(value)]),
      );
      const type = headers['content-type'] ?? '';
      const body = type.includes('json') && result.body ? JSON.parse(result.body) : result.body;
      return { status: result.statusCode ?? 200, headers, body, raw: result };
    },
    destroy: async () => {
      setCoreDeps(undefined);
      setSecretStore(undefined);
      setBlobStore(undefined);
      setSecretSealer(undefined);
      rmSync(keyDir, { recursive: true, force: true });
      s3.destroy();
      await raw.send(new DeleteTableCommand({ TableName: tableName }));
      raw.destroy();
    },
  };
}

/** A workspace with an owner, an admin and a member, each with a token. */
export async function seedWorkspace(stack: TestStack, name = 'Acme') {
  const created = await createWorkspace(stack.deps, {
    name,
    ownerName: 'Olivia Owner',
    ownerEmail: `owner-${randomUUID().slice(0, 6)}@example.com`,
  });
  const ownerToken = created.token.token;
  const addUser = async (role: 'admin' | 'member', userName: string) => {
    const user = await stack.api('POST', '/v1/users', {
      token: ownerToken,
      body: { name: userName, email: `${role}-${randomUUID().slice(0, 6)}@example.com`, role },
    });
    const token = await stack.api('POST', '/v1/tokens', { token: ownerToken, body: { userId: user.body.id, name: 'test' } });
    return { user: user.body, token: token.body.token as string };
  };
  const admin = await addUser('admin', 'Adam Admin');
  const member = await addUser('member', 'Mia Member');
  return {
    workspace: created.workspace,
    owner: { user: created.owner, token: ownerToken },
    admin,
    member,
  };
}
