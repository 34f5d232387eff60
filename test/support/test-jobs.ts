import { randomUUID } from 'node:crypto';
import { SQSClient } from '@aws-sdk/client-sqs';
import { findJob, type JobItem } from '../../domain/jobs/job-record';
import { isTerminal } from '../../domain/jobs/jobs.schemas';
import { deadLetterQueueDefinition, jobQueues } from '../../functions/jobs/job-queues';
import { handler as deadLettersHandler } from '../../functions/jobs/job-dead-letters.handler';
import { createSqsJobQueue } from '../../functions/shared/adapters/sqs-job-queue';
import { setJobQueue } from '../../functions/shared/deps';
import { handler as dispatchHandler } from '../../functions/streams/job-dispatch.handler';
import { streamConsumers } from '../../functions/streams/stream-consumers';
import { loadHandler } from '../../local/handlers';
import { ensureQueues, startQueueRunner, type SqsHandler } from '../../local/queue-runner';
import type { LocalLogger } from '../../local/runtime-support';
import { startStreamPoller } from '../../local/stream-poller';
import type { TestStack } from './test-stack';

export interface TestJobs {
  /**
   * Runs the job through its queue (and its continuations) until it ends and the messages its last
   * writes sent are handled too (a job canceled between runs releases what it holds on its next
   * message); resolves with its item.
   */
  finished(workspaceId: string, jobId: string, options?: { timeoutMs?: number }): Promise<JobItem>;
  stop(): Promise<void>;
}

const silent: LocalLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * The app's real job kinds (named), run as `npm start` runs them: the `job-dispatch` stream consumer
 * sends each step's message, the local queue runner hands it to the kind's handler, and dead letters
 * fail their job. Queues get this test file's own names (fauxqs is shared by the files running at once).
 * `wrap` lets a test watch or disturb a kind's handler.
 */
export async function startTestJobs(
  stack: TestStack,
  kinds: string[],
  options: { wrap?: (kind: string, handler: SqsHandler) => SqsHandler } = {},
): Promise<TestJobs> {
  const endpoint = process.env.AWS_ENDPOINT_URL!;
  const sqs = new SQSClient({ region: 'us-east-1', endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const suffix = randomUUID().slice(0, 8);
  const definitions = kinds.map((kind) => {
    const definition = jobQueues.find((queue) => queue.name === kind);
    if (!definition) throw new Error(`No job queue named ${kind}`);
    return { kind, definition, local: { ...definition, name: `${kind}-${suffix}` } };
  });
  const queues = await ensureQueues(sqs, definitions.map((d) => d.local));
  const started = createSqsJobQueue({
    client: sqs,
    queueUrls: Object.fromEntries(definitions.map((d, index) => [d.kind, queues[index]!.queueUrl])),
  });
  // Jobs of the kinds this file does not run (an inbound message's classification, say) are written
  // but never run: their messages are dropped, as if queued for a consumer that is not deployed.
  setJobQueue({
    send: (message) => (kinds.includes(message.queue) ? started.send(message) : Promise.resolve({ messageId: `dropped-${randomUUID()}` })),
  });
  const poller = await startStreamPoller({
    endpoint: process.env.DYNAMODB_ENDPOINT!,
    tableName: stack.tableName,
    consumers: [{ definition: streamConsumers.find((consumer) => consumer.name === 'job-dispatch')!, handler: dispatchHandler }],
    // Not faster: every poll asks DynamoDB Local for each shard's records, and other files share it.
    pollIntervalMs: 250,
    retryBaseDelayMs: 5,
    logger: { debug: () => undefined, ...silent },
  });
  const runner = await startQueueRunner({
    endpoint,
    logger: silent,
    waitTimeSeconds: 1,
    queues: (
      await Promise.all(
        definitions.map(async (d, index) => {
          const handler = await loadHandler<SqsHandler>(d.definition.entry);
          return [
            { definition: d.local, queueUrl: queues[index]!.queueUrl, handler: options.wrap?.(d.kind, handler) ?? handler },
            {
              definition: deadLetterQueueDefinition(d.local),
              queueUrl: queues[index]!.dlqUrl,
              handler: deadLettersHandler,
              deadLetters: true,
            },
          ];
        }),
      )
    ).flat(),
  });
  return {
    async finished(workspaceId, jobId, { timeoutMs = 120_000 } = {}) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        await poller.drain({ timeoutMs });
        await runner.drain({ untilEmpty: true, timeoutMs });
        const item = await findJob(stack.deps, workspaceId, jobId, true);
        if (item && isTerminal(item.status)) {
          await poller.drain({ timeoutMs });
          await runner.drain({ untilEmpty: true, timeoutMs });
          return (await findJob(stack.deps, workspaceId, jobId, true))!;
        }
        if (Date.now() > deadline) throw new Error(`Job ${jobId} did not finish: ${JSON.stringify(item)}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async stop() {
      await runner.stop();
      await poller.stop();
      setJobQueue(undefined);
      sqs.destroy();
    },
  };
}
