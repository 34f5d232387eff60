import { createHash, randomUUID } from 'node:crypto';
import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { JobQueueDefinition } from '../../functions/jobs/job-queues';
import { ensureQueues, startQueueRunner, type QueueRunner, type SqsHandler } from '../../local/queue-runner';
import type { LocalLogger } from '../../local/runtime-support';

/**
 * The event source mapping emulation against fauxqs (started by the global setup). Each test has
 * queues of its own: an aborted long poll can linger at the emulator after a runner stops.
 */
const endpoint = process.env.AWS_ENDPOINT_URL!;
const client = new SQSClient({
  region: 'us-east-1',
  endpoint,
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});
const fileId = randomUUID().slice(0, 6);
let counter = 0;

const silent: LocalLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

const definition = (overrides: Partial<JobQueueDefinition> = {}): JobQueueDefinition => ({
  name: `runner-${fileId}-${++counter}`,
  entry: 'unused',
  batchSize: 10,
  visibilityTimeoutSeconds: 2,
  maxReceiveCount: 3,
  timeoutSeconds: 5,
  ...overrides,
});

interface Seen {
  body: string;
  receiveCount: string;
  batch: number;
}

/** A queue pair, a runner over it and a handler that records every record it is given. */
async function setUp(
  decide: (record: SQSRecord, batch: number) => 'ok' | 'fail' | 'throw',
  overrides: Partial<JobQueueDefinition> = {},
  bodies: string[] = [],
) {
  const def = definition(overrides);
  const [queue] = await ensureQueues(client, [def]);
  // Sent before the runner starts, so the first receive takes them as one batch.
  for (const body of bodies)
    await client.send(new SendMessageCommand({ QueueUrl: queue!.queueUrl, MessageBody: body }));
  const seen: Seen[] = [];
  const events: SQSEvent[] = [];
  const handler: SqsHandler = async (event) => {
    events.push(event);
    const batch = events.length;
    const failures: SQSBatchResponse['batchItemFailures'] = [];
    let shouldThrow = false;
    for (const record of event.Records) {
      seen.push({ body: record.body, receiveCount: record.attributes.ApproximateReceiveCount, batch });
      const decision = decide(record, batch);
      if (decision === 'fail') failures.push({ itemIdentifier: record.messageId });
      if (decision === 'throw') shouldThrow = true;
    }
    if (shouldThrow) throw new Error('handler blew up');
    return { batchItemFailures: failures };
  };
  const runner = await startQueueRunner({
    endpoint,
    queues: [{ definition: def, queueUrl: queue!.queueUrl, handler }],
    logger: silent,
  });
  runners.push(runner);
  const counts = async (url: string) => {
    const { Attributes = {} } = await client.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }),
    );
    return {
      visible: Number(Attributes.ApproximateNumberOfMessages),
      inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible),
    };
  };
  return { def, queue: queue!, runner, seen, events, counts };
}

const runners: QueueRunner[] = [];
afterEach(async () => {
  await Promise.all(runners.splice(0).map((runner) => runner.stop()));
});
afterAll(() => client.destroy());

describe('queue runner (Lambda SQS event source mapping, locally)', () => {
  it('hands the handler an SQSEvent shaped as AWS shapes it', async () => {
    // Prepare
    const { queue, runner, events } = await setUp(() => 'ok');

    // Act
    await client.send(
      new SendMessageCommand({
        QueueUrl: queue.queueUrl,
        MessageBody: '{"jobId":"job_1"}',
        MessageAttributes: {
          kind: { DataType: 'String', StringValue: 'import' },
          raw: { DataType: 'Binary', BinaryValue: new Uint8Array([1, 2, 3]) },
        },
      }),
    );
    await runner.drain();

    // Assess
    expect(events).toHaveLength(1);
    const record = events[0]!.Records[0]!;
    expect(record).toMatchObject({
      body: '{"jobId":"job_1"}',
      md5OfBody: createHash('md5').update('{"jobId":"job_1"}').digest('hex'),
      eventSource: 'aws:sqs',
      eventSourceARN: queue.queueArn,
      awsRegion: 'us-east-1',
      attributes: { ApproximateReceiveCount: '1', SenderId: expect.any(String) },
      messageAttributes: {
        kind: { stringValue: 'import', stringListValues: [], binaryListValues: [], dataType: 'String' },
        raw: { binaryValue: 'AQID', stringListValues: [], binaryListValues: [], dataType: 'Binary' },
      },
    });
    expect(record.messageId).toEqual(expect.any(String));
    expect(record.receiptHandle).toEqual(expect.any(String));
    expect(record.md5OfMessageAttributes).toMatch(/^[0-9a-f]{32}$/);
    expect(Number(record.attributes.SentTimestamp)).toBeGreaterThan(0);
    expect(Number(record.attributes.ApproximateFirstReceiveTimestamp)).toBeGreaterThan(0);
  });

  it('deletes a message whose handler succeeds, after exactly one delivery', async () => {
    const { queue, runner, seen, counts } = await setUp(() => 'ok');

    await client.send(new SendMessageCommand({ QueueUrl: queue.queueUrl, MessageBody: 'ok-1' }));
    await runner.drain({ untilEmpty: true });

    expect(seen).toEqual([{ body: 'ok-1', receiveCount: '1', batch: 1 }]);
    expect(await counts(queue.queueUrl)).toEqual({ visible: 0, inFlight: 0 });
    expect(await counts(queue.dlqUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('retries a failing message with receive counts 1, 2, 3, then dead-letters it', async () => {
    // Prepare
    const { queue, runner, seen, counts } = await setUp(() => 'fail');

    // Act
    await client.send(new SendMessageCommand({ QueueUrl: queue.queueUrl, MessageBody: 'poison' }));
    await runner.drain({ untilEmpty: true });

    // Assess
    expect(seen.map((entry) => entry.receiveCount)).toEqual(['1', '2', '3']);
    expect(await counts(queue.queueUrl)).toEqual({ visible: 0, inFlight: 0 });
    const dead = await client.send(new ReceiveMessageCommand({ QueueUrl: queue.dlqUrl, WaitTimeSeconds: 1 }));
    expect(dead.Messages?.map((message) => message.Body)).toEqual(['poison']);
    // The handler stopped seeing it once it moved.
    await runner.drain({ untilEmpty: true });
    expect(seen).toHaveLength(3);
  });

  it('without untilEmpty, drain returns while a failed message waits out its backoff', async () => {
    const { queue, runner, seen, counts } = await setUp(() => 'fail', {
      visibilityTimeoutSeconds: 10,
      maxReceiveCount: 5,
    });

    await client.send(new SendMessageCommand({ QueueUrl: queue.queueUrl, MessageBody: 'later' }));
    const started = Date.now();
    await runner.drain();

    expect(seen.map((entry) => entry.receiveCount)).toEqual(['1']);
    expect(Date.now() - started).toBeLessThan(900);
    expect(await counts(queue.queueUrl)).toEqual({ visible: 0, inFlight: 1 });
  });

  it('on a partial batch response deletes the successful messages and retries only the failed one', async () => {
    // Prepare: a batch of three, one of which fails on its first delivery only
    const { queue, runner, seen, events } = await setUp(
      (record) => (record.body === 'b' && record.attributes.ApproximateReceiveCount === '1' ? 'fail' : 'ok'),
      {},
      ['a', 'b', 'c'],
    );

    // Act
    await runner.drain({ untilEmpty: true });

    // Assess
    expect(events[0]!.Records.map((record) => record.body)).toEqual(['a', 'b', 'c']);
    expect(seen.filter((entry) => entry.batch > 1)).toEqual([{ body: 'b', receiveCount: '2', batch: 2 }]);
    expect(seen.map((entry) => entry.body).sort()).toEqual(['a', 'b', 'b', 'c']);
    expect(await client.send(new ReceiveMessageCommand({ QueueUrl: queue.dlqUrl }))).not.toHaveProperty(
      'Messages.0',
    );
  });

  it('retries the whole batch when the handler throws', async () => {
    const { runner, seen, events } = await setUp((_, batch) => (batch === 1 ? 'throw' : 'ok'), {}, [
      'x',
      'y',
    ]);

    await runner.drain({ untilEmpty: true });

    expect(events[0]!.Records.map((record) => record.body)).toEqual(['x', 'y']);
    const retried = seen.filter((entry) => entry.batch > 1);
    expect(retried.map((entry) => entry.body).sort()).toEqual(['x', 'y']);
    expect(retried.every((entry) => entry.receiveCount === '2')).toBe(true);
  });

  it('treats an unknown itemIdentifier as a failure of the whole batch, as Lambda does', async () => {
    const def = definition();
    const [queue] = await ensureQueues(client, [def]);
    await client.send(new SendMessageCommand({ QueueUrl: queue!.queueUrl, MessageBody: 'p' }));
    await client.send(new SendMessageCommand({ QueueUrl: queue!.queueUrl, MessageBody: 'q' }));
    const counts: string[] = [];
    const runner = await startQueueRunner({
      endpoint,
      logger: silent,
      queues: [
        {
          definition: def,
          queueUrl: queue!.queueUrl,
          handler: async (event) => {
            counts.push(
              ...event.Records.map((record) => `${record.body}${record.attributes.ApproximateReceiveCount}`),
            );
            const first = event.Records.some((record) => record.attributes.ApproximateReceiveCount === '1');
            return { batchItemFailures: first ? [{ itemIdentifier: 'not-in-this-batch' }] : [] };
          },
        },
      ],
    });
    runners.push(runner);

    await runner.drain({ untilEmpty: true });

    expect(counts.sort()).toEqual(['p1', 'p2', 'q1', 'q2']);
  });

  it('stops promptly while a long poll is waiting', async () => {
    const { runner } = await setUp(() => 'ok');
    runners.pop();

    const started = Date.now();
    await runner.stop();

    expect(Date.now() - started).toBeLessThan(500);
    await expect(runner.drain()).rejects.toThrow('stopped');
  });
});
