import {
  ChangeMessageVisibilityBatchCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
  type Message,
  type MessageAttributeValue,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import type { JobQueueDefinition } from '../functions/jobs/job-queues';
import { logger as defaultLogger } from '../functions/shared/logger';
import { invocationContext, pause, type LocalLogger } from './runtime-support';

/**
 * The local stand-in for Lambda's SQS event source mapping (fauxqs plays SQS itself).
 *
 * Per queue, one poller long-polls ReceiveMessage, hands the batch to the handler as the `SQSEvent`
 * AWS would build, then settles each message as a mapping with `ReportBatchItemFailures` does:
 * - the handler resolves (nothing, or an empty `batchItemFailures`): every message is deleted;
 * - it returns `batchItemFailures`: the others are deleted, the listed ones retried;
 * - it throws, times out (the definition's `timeoutSeconds`), or returns a malformed response (an
 *   empty, unknown or missing `itemIdentifier`): nothing is deleted, the whole batch is retried.
 *
 * Retries: AWS leaves a failed message invisible for the rest of its visibility timeout. Locally the
 * runner shortens that wait with ChangeMessageVisibility to `backoffSeconds(receiveCount)`, by default
 * `min(visibilityTimeoutSeconds, 2^(receiveCount - 1))` (1 s, 2 s, 4 s, ...): never slower than AWS,
 * exponential so a poison message does not spin, and short enough for tests. A message that has used
 * its last receive (`receiveCount >= maxReceiveCount`) is made visible at once, so it reaches the
 * dead-letter queue without waiting.
 *
 * Dead-lettering is done by fauxqs itself: it honours the queue's RedrivePolicy and moves a message to
 * the DLQ on the receive after its `maxReceiveCount`-th, as SQS does (`ensureQueues` sets the policy).
 * The runner only refrains from deleting failed messages.
 *
 * Differences from AWS, on purpose: one poller and one batch at a time per queue (AWS runs several
 * concurrently), unless the queue's definition sets `concurrentBatches`; `batchSize` is capped at 10 (one ReceiveMessage; AWS batches larger sizes over a
 * batching window); a timed-out handler is abandoned, not killed, so its promise may still settle.
 */

export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>;

export interface QueueRunnerQueue {
  definition: JobQueueDefinition;
  queueUrl: string;
  handler: SqsHandler;
  /** A dead-letter queue read by its consumer: it has no RedrivePolicy, by design. */
  deadLetters?: boolean;
}

export interface QueueRunnerOptions {
  /** The SQS endpoint (fauxqs). */
  endpoint: string;
  region?: string;
  queues: QueueRunnerQueue[];
  logger?: LocalLogger;
  /** Long-poll wait per ReceiveMessage, 0-20 s (default 20, as the event source mapping uses). */
  waitTimeSeconds?: number;
  /** Seconds a failed message stays invisible before its next attempt (see the module comment). */
  backoffSeconds?: (receiveCount: number, definition: JobQueueDefinition) => number;
}

export interface DrainOptions {
  /**
   * Also wait for messages waiting out a retry backoff or a DelaySeconds, i.e. until every queue is
   * empty: each message deleted or dead-lettered. Default false: those count as settled.
   */
  untilEmpty?: boolean;
  /** Reject after this long, naming what is still pending (default 30 000 ms). */
  timeoutMs?: number;
}

export interface QueueRunner {
  /** Aborts the long polls, lets a running batch finish (bounded by the handler timeout), resolves. */
  stop(): Promise<void>;
  /**
   * Resolves once no handler is running and every queue is settled: nothing visible and nothing in
   * flight except messages waiting out a backoff (or, with `untilEmpty`, nothing at all). Checks every
   * 25 ms, so tests wait for exactly as long as the work takes.
   */
  drain(options?: DrainOptions): Promise<void>;
}

export const defaultBackoffSeconds = (receiveCount: number, definition: JobQueueDefinition): number =>
  Math.min(definition.visibilityTimeoutSeconds, 2 ** Math.max(0, receiveCount - 1));

interface QueueState {
  queue: QueueRunnerQueue;
  queueArn: string;
  region: string;
  /** Batches its handler is running now (several when the queue's definition allows `concurrentBatches`). */
  running: number;
  /** Messages this runner made invisible for a backoff: messageId -> when they reappear (ms). */
  backoffs: Map<string, number>;
}

/** Starts polling every queue. Rejects if a queue does not exist (run `ensureQueues` first). */
export async function startQueueRunner(options: QueueRunnerOptions): Promise<QueueRunner> {
  const region = options.region ?? 'us-east-1';
  const log: LocalLogger = options.logger ?? defaultLogger;
  const waitTimeSeconds = options.waitTimeSeconds ?? 20;
  const backoffSeconds = options.backoffSeconds ?? defaultBackoffSeconds;
  const client = new SQSClient({
    region,
    endpoint: options.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });

  const states: QueueState[] = [];
  for (const queue of options.queues) {
    const { Attributes: attributes = {} } = await client.send(
      new GetQueueAttributesCommand({
        QueueUrl: queue.queueUrl,
        AttributeNames: ['QueueArn', 'RedrivePolicy'],
      }),
    );
    const queueArn = attributes.QueueArn ?? `arn:aws:sqs:${region}:000000000000:${queue.definition.name}`;
    if (!attributes.RedrivePolicy && !queue.deadLetters) {
      log.warn('Queue has no RedrivePolicy: failing messages will be retried forever', {
        queue: queue.definition.name,
      });
    }
    states.push({
      queue,
      queueArn,
      region: queueArn.split(':')[3] || region,
      running: 0,
      backoffs: new Map(),
    });
  }

  const stopping = new AbortController();
  // Bumped whenever a batch starts or ends: a drain check that saw it move looks again.
  let epoch = 0;

  const settle = async (state: QueueState, messages: Message[], failedIds: Set<string>) => {
    const { definition, queueUrl } = state.queue;
    const succeeded = messages.filter((message) => !failedIds.has(message.MessageId!));
    const failed = messages.filter((message) => failedIds.has(message.MessageId!));
    if (succeeded.length > 0) {
      const result = await client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: succeeded.map((message, index) => ({
            Id: String(index),
            ReceiptHandle: message.ReceiptHandle!,
          })),
        }),
      );
      if (result.Failed?.length)
        log.warn('Some messages could not be deleted', { queue: definition.name, failed: result.Failed });
    }
    if (failed.length > 0) {
      const now = Date.now();
      const entries = failed.map((message, index) => {
        const receiveCount = Number(message.Attributes?.ApproximateReceiveCount ?? 1);
        const lastAttempt = receiveCount >= definition.maxReceiveCount;
        const seconds = lastAttempt ? 0 : Math.max(0, Math.round(backoffSeconds(receiveCount, definition)));
        if (seconds > 0) state.backoffs.set(message.MessageId!, now + seconds * 1000);
        return { Id: String(index), ReceiptHandle: message.ReceiptHandle!, VisibilityTimeout: seconds };
      });
      const result = await client.send(
        new ChangeMessageVisibilityBatchCommand({ QueueUrl: queueUrl, Entries: entries }),
      );
      if (result.Failed?.length) {
        log.warn('Some retry backoffs could not be set', { queue: definition.name, failed: result.Failed });
      }
    }
  };

  const runBatch = async (state: QueueState, messages: Message[]) => {
    const { definition, handler } = state.queue;
    const ids = messages.map((message) => message.MessageId!);
    for (const id of ids) state.backoffs.delete(id);
    const event: SQSEvent = {
      Records: messages.map((message) => toSqsRecord(message, state.queueArn, state.region)),
    };
    const context = invocationContext(definition.name, definition.timeoutSeconds, state.region);
    let failedIds: Set<string>;
    try {
      const response = await withTimeout(handler(event, context), definition.timeoutSeconds);
      failedIds = failedItems(response, ids);
      if (failedIds.size > 0) {
        log.info('Batch partly failed; retrying the failed messages', {
          queue: definition.name,
          failed: failedIds.size,
          of: ids.length,
        });
      }
    } catch (error) {
      log.error('Batch failed; retrying every message in it', {
        queue: definition.name,
        messages: ids.length,
        error,
      });
      failedIds = new Set(ids);
    }
    await settle(state, messages, failedIds);
  };

  const poll = async (state: QueueState) => {
    const { definition, queueUrl } = state.queue;
    while (!stopping.signal.aborted) {
      let messages: Message[];
      try {
        const result = await client.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: Math.max(1, Math.min(definition.batchSize, 10)),
            WaitTimeSeconds: waitTimeSeconds,
            AttributeNames: ['All'],
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
          { abortSignal: stopping.signal },
        );
        messages = result.Messages ?? [];
      } catch (error) {
        if (stopping.signal.aborted) break;
        log.error('ReceiveMessage failed; polling again in 1 s', { queue: definition.name, error });
        await pause(1000, stopping.signal);
        continue;
      }
      if (messages.length === 0) continue;
      state.running += 1;
      epoch++;
      try {
        await runBatch(state, messages);
      } catch (error) {
        // Settling failed (the emulator went away?): the messages reappear after their visibility timeout.
        log.error('Could not settle a batch', { queue: definition.name, error });
      } finally {
        state.running -= 1;
        epoch++;
      }
    }
  };

  // A queue whose definition allows several batches at once (AWS runs many) gets that many pollers.
  const loops = states.flatMap((state) => Array.from({ length: Math.max(1, state.queue.definition.concurrentBatches ?? 1) }, () => poll(state)));

  const pendingWork = async (untilEmpty: boolean): Promise<string[]> => {
    const pending: string[] = [];
    for (const state of states) {
      const name = state.queue.definition.name;
      if (state.running > 0) {
        pending.push(`${name}: handler running`);
        continue;
      }
      const { Attributes: counts = {} } = await client.send(
        new GetQueueAttributesCommand({
          QueueUrl: state.queue.queueUrl,
          AttributeNames: [
            'ApproximateNumberOfMessages',
            'ApproximateNumberOfMessagesNotVisible',
            'ApproximateNumberOfMessagesDelayed',
          ],
        }),
      );
      const visible = Number(counts.ApproximateNumberOfMessages ?? 0);
      const inFlight = Number(counts.ApproximateNumberOfMessagesNotVisible ?? 0);
      const delayed = Number(counts.ApproximateNumberOfMessagesDelayed ?? 0);
      const now = Date.now();
      for (const [id, until] of state.backoffs) if (until <= now) state.backoffs.delete(id);
      const backingOff = state.backoffs.size;
      const unsettled = untilEmpty
        ? visible + inFlight + delayed
        : visible + Math.max(0, inFlight - backingOff);
      if (unsettled > 0) {
        pending.push(
          `${name}: ${visible} visible, ${inFlight} in flight (${backingOff} backing off), ${delayed} delayed`,
        );
      }
    }
    return pending;
  };

  return {
    async stop() {
      stopping.abort();
      await Promise.all(loops);
      client.destroy();
    },

    async drain({ untilEmpty = false, timeoutMs = 30_000 } = {}) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (stopping.signal.aborted) throw new Error('Queue runner is stopped');
        const before = epoch;
        const pending = await pendingWork(untilEmpty);
        if (pending.length === 0 && epoch === before && states.every((state) => state.running === 0)) return;
        if (Date.now() > deadline) {
          throw new Error(
            `Queues not drained after ${timeoutMs} ms: ${pending.join('; ') || 'batches still starting'}`,
          );
        }
        await pause(25);
      }
    },
  };
}

export interface EnsuredQueue {
  name: string;
  queueUrl: string;
  queueArn: string;
  dlqUrl: string;
  dlqArn: string;
}

/**
 * Creates (or updates) each job queue and its `<name>-dlq`, with the definition's VisibilityTimeout
 * and a RedrivePolicy after `maxReceiveCount` receives, as the CDK app does on AWS. Idempotent.
 */
export async function ensureQueues(
  client: SQSClient,
  definitions: JobQueueDefinition[],
): Promise<EnsuredQueue[]> {
  const ensure = async (name: string, attributes: Record<string, string>) => {
    // Create bare, then set: CreateQueue refuses an existing queue whose attributes differ.
    const { QueueUrl: queueUrl } = await client.send(new CreateQueueCommand({ QueueName: name }));
    if (!queueUrl) throw new Error(`CreateQueue returned no URL for ${name}`);
    await client.send(new SetQueueAttributesCommand({ QueueUrl: queueUrl, Attributes: attributes }));
    const { Attributes } = await client.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
    );
    if (!Attributes?.QueueArn) throw new Error(`Queue ${name} has no QueueArn`);
    return { queueUrl, queueArn: Attributes.QueueArn };
  };
  const ensured: EnsuredQueue[] = [];
  for (const definition of definitions) {
    // Fourteen days, the longest SQS keeps a message: time to look at what failed.
    const dlq = await ensure(`${definition.name}-dlq`, { MessageRetentionPeriod: '1209600' });
    const queue = await ensure(definition.name, {
      VisibilityTimeout: String(definition.visibilityTimeoutSeconds),
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: dlq.queueArn,
        maxReceiveCount: definition.maxReceiveCount,
      }),
    });
    ensured.push({ name: definition.name, ...queue, dlqUrl: dlq.queueUrl, dlqArn: dlq.queueArn });
  }
  return ensured;
}

/** A received message as Lambda's event source mapping puts it in an `SQSEvent`. */
export function toSqsRecord(message: Message, queueArn: string, region: string): SQSRecord {
  const system = message.Attributes ?? {};
  const optional = (name: keyof typeof system) =>
    system[name] !== undefined ? { [name]: system[name] } : {};
  return {
    messageId: message.MessageId!,
    receiptHandle: message.ReceiptHandle!,
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: system.ApproximateReceiveCount ?? '1',
      SentTimestamp: system.SentTimestamp ?? String(Date.now()),
      SenderId: system.SenderId ?? '000000000000',
      ApproximateFirstReceiveTimestamp: system.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      ...optional('AWSTraceHeader'),
      ...optional('SequenceNumber'),
      ...optional('MessageGroupId'),
      ...optional('MessageDeduplicationId'),
      ...optional('DeadLetterQueueSourceArn'),
    },
    messageAttributes: toRecordAttributes(message.MessageAttributes),
    md5OfBody: message.MD5OfBody ?? '',
    ...(message.MD5OfMessageAttributes ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

/** Lambda's shape: camel-case fields, binary values in base64, the two list fields always present. */
function toRecordAttributes(
  attributes: Record<string, MessageAttributeValue> | undefined,
): SQSMessageAttributes {
  const result: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(attributes ?? {})) {
    result[name] = {
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined
        ? { binaryValue: Buffer.from(value.BinaryValue).toString('base64') }
        : {}),
      stringListValues: value.StringListValues ?? [],
      binaryListValues: (value.BinaryListValues ?? []).map((item) => Buffer.from(item).toString('base64')),
      dataType: value.DataType ?? 'String',
    };
  }
  return result;
}

/**
 * The ids to retry, by Lambda's rules for partial batch responses: no response or no/empty
 * `batchItemFailures` is full success; any malformed entry fails the whole batch.
 */
export function failedItems(response: unknown, ids: string[]): Set<string> {
  if (response === undefined || response === null) return new Set();
  if (typeof response !== 'object') return new Set(ids);
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return new Set();
  if (!Array.isArray(failures)) return new Set(ids);
  const known = new Set(ids);
  const failed = new Set<string>();
  for (const failure of failures) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || !known.has(id)) return new Set(ids);
    failed.add(id);
  }
  return failed;
}

/** Rejects as Lambda reports a timeout, if the handler runs past the function's timeout. */
async function withTimeout<T>(promise: Promise<T>, timeoutSeconds: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Task timed out after ${timeoutSeconds} seconds`)),
      timeoutSeconds * 1000,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
