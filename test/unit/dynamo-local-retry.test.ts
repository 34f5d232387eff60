import { ListTablesCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createDynamoClient, dynamoDbLocalRetry } from '../../domain/store/dynamo-client';

/**
 * DynamoDB Local's answer to a write that waited too long for its lock, as it sends it, from a
 * server on loopback that gives it `failures` times and then answers as DynamoDB does.
 */
let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

async function dynamoDbLocalThatFails(failures: number, failure: { status: number; type: string; message: string }) {
  let requests = 0;
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests += 1;
      const failing = requests <= failures;
      res.writeHead(failing ? failure.status : 200, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify(failing ? { __type: failure.type, message: failure.message } : { TableNames: [] }));
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
  return { client: createDynamoClient({ endpoint }), requests: () => requests };
}

const lockTimeout = {
  status: 500,
  type: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
  message: 'This action timed out because it too long waiting for a lock. This request will succeed in actual DynamoDB API',
};

describe('a DynamoDB Local client', () => {
  it('retries the lock timeouts DynamoDB Local answers under load, past the SDK’s default of 3 attempts', async () => {
    const local = await dynamoDbLocalThatFails(5, lockTimeout);
    await expect(local.client.send(new ListTablesCommand({}))).resolves.toMatchObject({ TableNames: [] });
    expect(local.requests()).toBe(6);
  });

  it('gives up after its attempts', async () => {
    const local = await dynamoDbLocalThatFails(1_000, lockTimeout);
    await expect(local.client.send(new ListTablesCommand({}))).rejects.toThrow(/waiting for a lock/);
    expect(local.requests()).toBe(dynamoDbLocalRetry.maxAttempts);
  }, 30_000);

  it('never retries a client error: a failed condition is answered once', async () => {
    const local = await dynamoDbLocalThatFails(1_000, {
      status: 400,
      type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException',
      message: 'The conditional request failed',
    });
    const put = new PutItemCommand({ TableName: 't', Item: { pk: { S: 'a' } }, ConditionExpression: 'attribute_not_exists(pk)' });
    await expect(local.client.send(put)).rejects.toThrow(/conditional request failed/);
    expect(local.requests()).toBe(1);
  });
});
