import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { resetConfig } from '../../functions/shared/config';
import { getBlobStore, getJobQueue, setBlobStore, setJobQueue } from '../../functions/shared/deps';

/**
 * The functions' S3 and SQS adapters are built on their first call (their SDK modules imported then,
 * not at cold start): the ports they hand out still reach the configured bucket and queues.
 */
describe('adapters built on first call (functions/shared/deps.ts)', () => {
  const saved = { ...process.env };
  beforeEach(() => {
    Object.assign(process.env, {
      TABLE_NAME: 'crm-unit',
      AWS_REGION: 'us-east-1',
      BUCKET_NAME: 'crm-unit-bucket',
      QUEUE_URL_DELIVER_MESSAGE: 'https://sqs.us-east-1.amazonaws.com/123456789012/deliver',
    });
    resetConfig();
    setBlobStore(undefined);
    setJobQueue(undefined);
  });
  afterEach(() => {
    process.env = { ...saved };
    resetConfig();
    setBlobStore(undefined);
    setJobQueue(undefined);
  });

  it('the blob store calls S3 on the configured bucket', async () => {
    const s3 = mockClient(S3Client);
    s3.on(HeadObjectCommand).resolves({ ContentLength: 7, ContentType: 'text/plain' });
    const blobs = getBlobStore();
    expect(getBlobStore()).toBe(blobs);
    await expect(blobs.head('a/b.txt')).resolves.toEqual({ sizeBytes: 7, contentType: 'text/plain' });
    expect(s3.commandCalls(HeadObjectCommand)[0]!.args[0].input).toEqual({ Bucket: 'crm-unit-bucket', Key: 'a/b.txt' });
    s3.restore();
  });

  it('the job queue sends to the kind’s queue URL', async () => {
    const sqs = mockClient(SQSClient);
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
    await expect(getJobQueue().send({ queue: 'deliver_message', body: { a: 1 } })).resolves.toEqual({ messageId: 'm-1' });
    expect(sqs.commandCalls(SendMessageCommand)[0]!.args[0].input.QueueUrl).toBe(process.env.QUEUE_URL_DELIVER_MESSAGE);
    sqs.restore();
  });
});

describe('the core dependencies on Lambda (functions/shared/deps.ts)', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
    vi.doUnmock('../../domain/store/db');
    vi.resetModules();
  });

  /** Imports deps.ts afresh, with createDb counted, and says how often createDb ran during the import. */
  async function importDepsCountingDbBuilds() {
    vi.resetModules();
    const builds = vi.fn();
    vi.doMock('../../domain/store/db', async (original) => {
      const real = await original<typeof import('../../domain/store/db')>();
      return { ...real, createDb: (...args: Parameters<typeof real.createDb>) => (builds(), real.createDb(...args)) };
    });
    const deps = await import('../../functions/shared/deps');
    return { deps, buildsDuringImport: builds.mock.calls.length, builds };
  }

  it('are built during init, once, when the module loads in a Lambda function', async () => {
    Object.assign(process.env, { AWS_LAMBDA_FUNCTION_NAME: 'crm-dev-users', TABLE_NAME: 'crm-unit', AWS_REGION: 'us-east-1' });
    const { deps, buildsDuringImport, builds } = await importDepsCountingDbBuilds();
    expect(buildsDuringImport).toBe(1);
    expect(deps.getCoreDeps().db.table).toBe('crm-unit');
    expect(builds).toHaveBeenCalledTimes(1);
  });

  it('fail the init with the missing variable’s name', async () => {
    Object.assign(process.env, { AWS_LAMBDA_FUNCTION_NAME: 'crm-dev-users', AWS_REGION: 'us-east-1' });
    delete process.env.TABLE_NAME;
    await expect(importDepsCountingDbBuilds()).rejects.toThrow('Missing required environment variable TABLE_NAME');
  });

  it('are built on first use elsewhere (tests, npm start), where they are set from outside', async () => {
    delete process.env.AWS_LAMBDA_FUNCTION_NAME;
    Object.assign(process.env, { TABLE_NAME: 'crm-unit', AWS_REGION: 'us-east-1' });
    const { deps, buildsDuringImport, builds } = await importDepsCountingDbBuilds();
    expect(buildsDuringImport).toBe(0);
    deps.getCoreDeps();
    expect(builds).toHaveBeenCalledTimes(1);
  });
});
