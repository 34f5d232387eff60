import { Duration } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { deadLetterConsumer, jobQueues, type JobQueueDefinition } from '../../functions/jobs/job-queues';
import { grantBucketObjects, grantTableItems, type ObjectAccess, transferPrefixes } from './data';
import { createAppFunction, pascalCase, type FunctionSettings } from './lambda-function';

export interface JobsProps {
  table: ITable;
  bucket: IBucket;
  settings: FunctionSettings;
  /** @default the queues of functions/jobs/job-queues.ts */
  definitions?: readonly JobQueueDefinition[];
}

export interface JobQueue {
  definition: JobQueueDefinition;
  queue: Queue;
  deadLetterQueue: Queue;
  fn: NodejsFunction;
}

/**
 * The bucket prefixes each job kind reaches, and how; the other kinds none (fetch_media's and
 * deliver_message's attachments are granted by the stack, with the channel senders).
 */
const jobBucketReach: Record<string, Record<string, ObjectAccess>> = {
  // Reads the upload from where the last run stopped (HEAD, ranged GETs); streams its rejected rows to
  // an error report under exports/.
  import_contacts: { [transferPrefixes.uploads]: { read: true }, [transferPrefixes.exports]: { put: true } },
  // Streams the export (multipart), checks its size (HEAD), and removes it when the job was canceled.
  export_contacts: { [transferPrefixes.exports]: { read: true, put: true, delete: true } },
};

/** `import_contacts` -> `QUEUE_URL_IMPORT_CONTACTS`, the variable functions/shared/config.ts reads back. */
export const queueUrlVariable = (name: string) => `QUEUE_URL_${name.toUpperCase()}`;

/**
 * Per job kind: a queue, its dead-letter queue, and the consuming function; and one function reading
 * every dead-letter queue, which fails the jobs whose messages ended there.
 */
export class Jobs extends Construct {
  readonly queues: JobQueue[] = [];
  /** The consumer of the dead-letter queues; none while there are no job queues. */
  readonly deadLetterFunction?: NodejsFunction;

  constructor(scope: Construct, id: string, props: JobsProps) {
    super(scope, id);
    const definitions = props.definitions ?? jobQueues;
    if (definitions.length > 0) {
      this.deadLetterFunction = createAppFunction(this, 'DeadLettersFunction', {
        entry: deadLetterConsumer.entry,
        settings: props.settings,
        timeout: Duration.seconds(deadLetterConsumer.timeoutSeconds),
        description: 'Job dead letters: fails the jobs whose messages exhausted their retries',
      });
      grantTableItems(this.deadLetterFunction, props.table, 'readWrite');
    }
    for (const definition of definitions) {
      // config.ts lower-cases the variable's suffix to find the queue: only this shape round-trips.
      if (!/^[a-z][a-z0-9_]*$/.test(definition.name)) {
        throw new Error(`Job queue name "${definition.name}" must be snake_case (a-z, 0-9, _)`);
      }
      if (definition.visibilityTimeoutSeconds < definition.timeoutSeconds) {
        throw new Error(
          `Job queue ${definition.name}: visibility timeout ${definition.visibilityTimeoutSeconds}s is shorter than the function timeout ${definition.timeoutSeconds}s`,
        );
      }
      const name = pascalCase(definition.name);
      const deadLetterQueue = new Queue(this, `${name}DeadLetterQueue`, {
        retentionPeriod: Duration.days(14),
        // At least the dead-letter function's timeout, as AWS requires of an event source.
        visibilityTimeout: Duration.seconds(deadLetterConsumer.timeoutSeconds),
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
      });
      const queue = new Queue(this, `${name}Queue`, {
        visibilityTimeout: Duration.seconds(definition.visibilityTimeoutSeconds),
        deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: definition.maxReceiveCount },
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
      });
      const fn = createAppFunction(this, `${name}Function`, {
        entry: definition.entry,
        settings: props.settings,
        timeout: Duration.seconds(definition.timeoutSeconds),
        description: `Job consumer: ${definition.name}`,
      });
      grantTableItems(fn, props.table, 'readWrite');
      for (const [prefix, access] of Object.entries(jobBucketReach[definition.name] ?? {})) {
        grantBucketObjects(fn, props.bucket, prefix, access);
      }
      fn.addEventSource(
        new SqsEventSource(queue, { batchSize: definition.batchSize, reportBatchItemFailures: true }),
      );
      this.deadLetterFunction!.addEventSource(
        new SqsEventSource(deadLetterQueue, { batchSize: deadLetterConsumer.batchSize, reportBatchItemFailures: true }),
      );
      this.queues.push({ definition, queue, deadLetterQueue, fn });
    }
  }

  /** Lets a function enqueue jobs of every kind: it gets each queue's URL and permission to send. */
  grantSend(fn: NodejsFunction): void {
    for (const { definition, queue } of this.queues) {
      fn.addEnvironment(queueUrlVariable(definition.name), queue.queueUrl);
      queue.grantSendMessages(fn);
    }
  }
}
