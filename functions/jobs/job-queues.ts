/**
 * Job queues: one SQS queue (with its dead-letter queue) per job kind. The single source for the CDK
 * queues and event source mappings (infra/) and the local queue runner (local/).
 * Job kinds arrive with the features that need them (delivery, classification, import, export).
 */
export interface JobQueueDefinition {
  /** Queue name, also the job kind, e.g. `import_contacts`. Handlers find its URL in QUEUE_URL_<NAME>. */
  name: string;
  /** Handler module, exporting `handler(event: SQSEvent): Promise<SQSBatchResponse>`. */
  entry: string;
  batchSize: number;
  /** Must exceed the handler's timeout (AWS requires it to be at least the function timeout). */
  visibilityTimeoutSeconds: number;
  /** Receives before a message moves to the dead-letter queue. */
  maxReceiveCount: number;
  /** Lambda function timeout. */
  timeoutSeconds: number;
}

export const jobQueues: JobQueueDefinition[] = [];
