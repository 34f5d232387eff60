import type { SQSClient } from '@aws-sdk/client-sqs';
import type { JobQueue } from '../../../domain/shared/ports';

// Imported on first use, not at cold start: bundled, a static import of the SDK client would load it
// in every function that carries this adapter, whether it calls it or not.
const sqs = () => import('@aws-sdk/client-sqs');

export interface SqsJobQueueOptions {
  client: SQSClient;
  /** Queue URL by queue name (the job kind), e.g. from `Config.queueUrls`. */
  queueUrls: Record<string, string>;
}

/** JobQueue over SQS: one queue per job kind, the body sent as JSON. */
export function createSqsJobQueue({ client, queueUrls }: SqsJobQueueOptions): JobQueue {
  return {
    async send({ queue, body, delaySeconds }) {
      const queueUrl = queueUrls[queue];
      if (!queueUrl) {
        const known = Object.keys(queueUrls).sort().join(', ') || 'none';
        throw new Error(
          `Unknown job queue "${queue}" (known: ${known}); set QUEUE_URL_${queue.toUpperCase()} for it`,
        );
      }
      const messageBody = JSON.stringify(body);
      if (messageBody === undefined) throw new Error(`Job for queue "${queue}" has no JSON body`);
      const result = await client.send(
        new (await sqs()).SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: messageBody,
          ...(delaySeconds !== undefined ? { DelaySeconds: delaySeconds } : {}),
        }),
      );
      if (!result.MessageId) throw new Error(`SQS returned no MessageId for queue "${queue}"`);
      return { messageId: result.MessageId };
    },
  };
}
