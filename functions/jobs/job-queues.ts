/**
 * Job queues: one SQS queue (with its dead-letter queue) per job kind. The single source for the CDK
 * queues and event source mappings (infra/) and the local queue runner (local/).
 * Job kinds arrive with the features that need them (delivery, classification, import, export): each
 * is a `JobKindDefinition` (domain/jobs/job-kind.ts) whose handler module is
 * `export const handler = createJobHandler(definition)` (functions/jobs/job-runner.ts).
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
  /**
   * Other job kinds run from this queue: their steps' messages are sent here, and the handler runs them
   * besides its own (a queue and function of their own would cost the stack about ten resources).
   */
  alsoRuns?: readonly string[];
  /**
   * Batches the local runner (`npm start`, tests) handles at once; default 1. On AWS the event source
   * mapping runs many invocations side by side anyway; locally this keeps one slow batch from holding
   * up the queue behind it.
   */
  concurrentBatches?: number;
}

/**
 * Imports and exports run one job per message (`batchSize` 1) for up to 15 minutes, then continue
 * themselves from their cursor; 5 receives before a message is dead-lettered (its job then fails).
 */
export const jobQueues: JobQueueDefinition[] = [
  {
    name: 'import_contacts',
    entry: 'functions/jobs/import-contacts.handler.ts',
    batchSize: 1,
    visibilityTimeoutSeconds: 960,
    maxReceiveCount: 5,
    timeoutSeconds: 900,
  },
  {
    name: 'export_contacts',
    entry: 'functions/jobs/export-contacts.handler.ts',
    batchSize: 1,
    visibilityTimeoutSeconds: 960,
    maxReceiveCount: 5,
    timeoutSeconds: 900,
  },
  // Segment rules applied to every contact: long passes that continue themselves, like exports.
  {
    name: 'segment_membership',
    entry: 'functions/jobs/segment-membership.handler.ts',
    batchSize: 1,
    visibilityTimeoutSeconds: 960,
    maxReceiveCount: 5,
    timeoutSeconds: 900,
  },
  {
    name: 'apply_fit_rules',
    entry: 'functions/jobs/apply-fit-rules.handler.ts',
    batchSize: 1,
    visibilityTimeoutSeconds: 960,
    maxReceiveCount: 5,
    timeoutSeconds: 900,
  },
  // An inbound message's files (at most a few, 25 MiB each): minutes at most; provider faults retried by SQS.
  {
    name: 'fetch_media',
    entry: 'functions/jobs/fetch-media.handler.ts',
    batchSize: 1,
    visibilityTimeoutSeconds: 360,
    maxReceiveCount: 5,
    timeoutSeconds: 300,
  },
  // A model call per conversation (seconds each): a segment continues itself a page of members at a
  // time; throttling is retried by SQS with its backoff.
  {
    name: 'classify_conversation',
    entry: 'functions/jobs/classify-conversation.handler.ts',
    batchSize: 5,
    visibilityTimeoutSeconds: 360,
    maxReceiveCount: 5,
    timeoutSeconds: 300,
    // The autoreply bot's answer to a contact's message: a Responder call, off the event stream.
    alsoRuns: ['bot_reply'],
  },
  // One provider call per message (10 s provider timeout): short runs, many at once; a passing error
  // continues the job with an SQS delay rather than a wait.
  {
    name: 'deliver_message',
    entry: 'functions/jobs/deliver-message.handler.ts',
    batchSize: 10,
    visibilityTimeoutSeconds: 90,
    maxReceiveCount: 5,
    timeoutSeconds: 60,
  },
  // Outbound webhooks: one POST per message (10 s timeout), ten side by side; a receiver's failure is
  // retried by the delivery's own schedule (re-enqueued with a delay), never by SQS; the queue's own
  // retries only cover the table or the queue failing.
  {
    name: 'deliver_webhook',
    entry: 'functions/jobs/deliver-webhook.handler.ts',
    batchSize: 10,
    visibilityTimeoutSeconds: 90,
    maxReceiveCount: 5,
    timeoutSeconds: 60,
    // A webhook's deliveries of a time range sent again: a page of 100 a run, continuing itself.
    alsoRuns: ['replay_webhook'],
    // A receiver taking its whole timeout holds its own batch only: other batches run beside it.
    concurrentBatches: 4,
  },
];

/** The queue a job kind's messages go to: its own, or the one that also runs it (`alsoRuns`). */
export const queueOfKind = (kind: string): string =>
  jobQueues.find((queue) => queue.name === kind || queue.alsoRuns?.includes(kind))?.name ?? kind;

/** What a kind's stale time adds to its queue's visibility timeout. */
export const staleMarginSeconds = 120;

/**
 * How long a queued or running job of this kind may go unwritten before the `sweep-jobs` schedule
 * counts its message as lost: the visibility timeout (which exceeds the function's timeout) and a margin.
 * No live run goes that long without writing: a run starts with a write and lasts at most the function's
 * timeout, and a message a run failed on comes back within the visibility timeout (the run wrote its error).
 */
export const staleAfterSeconds = (definition: JobQueueDefinition) => definition.visibilityTimeoutSeconds + staleMarginSeconds;

/**
 * The one consumer of every kind's dead-letter queue: a message that exhausted its receives fails its
 * job with the reason. Deployed (and run locally) only when there are job queues.
 */
export const deadLetterConsumer = {
  name: 'job-dead-letters',
  entry: 'functions/jobs/job-dead-letters.handler.ts',
  batchSize: 10,
  timeoutSeconds: 30,
} as const;

/** The dead-letter queue of a job queue, as a queue the dead-letter consumer reads (local runner). */
export const deadLetterQueueDefinition = (definition: JobQueueDefinition): JobQueueDefinition => ({
  name: `${definition.name}-dlq`,
  entry: deadLetterConsumer.entry,
  batchSize: deadLetterConsumer.batchSize,
  visibilityTimeoutSeconds: deadLetterConsumer.timeoutSeconds,
  // A dead-letter queue has no queue of its own behind it: a failing record is retried until it succeeds.
  maxReceiveCount: Number.MAX_SAFE_INTEGER,
  timeoutSeconds: deadLetterConsumer.timeoutSeconds,
});
