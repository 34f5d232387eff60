/**
 * Seed 001 Job: one piece of background work (an import, an export, ...), its progress and its outcome.
 * The item is also the job's outbox: writing it with a new `dispatchSeq` (on creation, on a retry, when
 * a run continues itself) is what enqueues it; the `job-dispatch` stream consumer sends the SQS message.
 * Access patterns (see domain/ACCESS_PATTERNS.md):
 * - get a job: pk WS#<workspaceId>#JOB#<jobId>, sk JOB (one GetItem; consistent in the runner)
 * - the workspace's jobs, newest first (owner/admin): gsi1 pk WS#<workspaceId>#JOBS, sk <jobId>
 *   (ULIDs: id order is creation order; Query descending)
 * - one user's own jobs, newest first (a member's list): gsi2 pk WS#<workspaceId>#JOBS#USER#<createdBy>,
 *   sk <jobId>
 * - the workspace's jobs of one kind, newest first (owner/admin with `kind=`): gsi3
 *   pk WS#<workspaceId>#JOBS#KIND#<kind>, sk <jobId>
 * A status filter (and a member's `kind=`) narrows the entries of those lists (bounded reads a page).
 * - active jobs of every workspace, least recently written first (the `sweep-jobs` schedule): gsi4
 *   pk JOBS#ACTIVE#<shard>, sk <updatedAt>#<workspaceId>#<jobId>; shard 0-15 is a stable hash of the
 *   jobId (`activityShardOf`), so no one partition takes every job's writes. Sparse: only queued and
 *   running jobs (and canceled ones whose end event is pending) have the keys (`commitJob` and
 *   `createJob` set or leave out `activeShard`/`activeKey` on every write, job-record.ts `withActivityKeys`).
 */
export const jobSchema = {
  model: { service: 'crm', entity: 'job', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    jobId: { type: 'string', required: true, readOnly: true },
    /** `import_contacts`, `export_contacts`, ... (jobs.schemas.ts); also the name of its SQS queue. */
    kind: { type: 'string', required: true, readOnly: true },
    status: { type: ['queued', 'running', 'succeeded', 'failed', 'canceled'] as const, required: true },
    createdBy: { type: 'string', required: true, readOnly: true },
    /** What the job was asked to do: kind-specific JSON, checked by the kind's schema on every run. */
    input: { type: 'any', required: true, readOnly: true },
    progress: {
      type: 'map',
      required: true,
      properties: {
        processed: { type: 'number', required: true },
        total: { type: 'number' },
        ratePerSecond: { type: 'number' },
        estimatedSecondsLeft: { type: 'number' },
      },
    },
    /** Where the next run resumes: kind-specific JSON, written by the kind's step. */
    cursor: { type: 'any' },
    /**
     * Each increment means one SQS message must exist for this job's step `dispatchSeq`: the stream
     * sends it; the runner works only on a message carrying the current value.
     */
    dispatchSeq: { type: 'number', required: true },
    /** Seconds the message of step `dispatchSeq` waits before it is delivered (SQS DelaySeconds, ≤ 900); absent: none. */
    dispatchDelaySeconds: { type: 'number' },
    result: { type: 'any' },
    error: {
      type: 'map',
      properties: { code: { type: 'string', required: true }, message: { type: 'string', required: true } },
    },
    /** The job's files in the bucket: name -> object key (`uploads/…` or `exports/…`). */
    files: { type: 'any', required: true },
    /** The message of the last run that threw (its message is retried by SQS). */
    lastError: { type: 'string' },
    /** Runs that threw since the job was created or last retried. */
    attempts: { type: 'number', required: true },
    /** Where the rate is measured from: the time and count when the job last went from queued to running. */
    rateFrom: {
      type: 'map',
      properties: { at: { type: 'string', required: true }, processed: { type: 'number', required: true } },
    },
    createdAt: { type: 'string', required: true, readOnly: true },
    startedAt: { type: 'string' },
    updatedAt: { type: 'string', required: true },
    finishedAt: { type: 'string' },
    /** Who canceled the job: the actor of its end event. */
    canceledBy: { type: 'string' },
    /**
     * A canceled job whose end event waits for its kind's report of what it wrote (job-status.ts
     * `kindsReportingCancel`); the job keeps its gsi4 keys meanwhile, so the sweep ends it if no run does.
     */
    endPending: { type: 'boolean' },
    /**
     * Times the `sweep-jobs` schedule sent the job's step again because no run had written it for its
     * kind's stale time, in a row (`redispatchedVersion` is the version that write made: any other
     * write since means a run or a user moved the job, and the count starts over).
     */
    redispatches: { type: 'number' },
    redispatchedVersion: { type: 'number' },
    /** gsi4 keys, present only while the job is queued or running, or its end is pending (see `withActivityKeys`). */
    activeShard: { type: 'number' },
    activeKey: { type: 'string' },
    /** Bumped by every write: each write of the job is conditional on the version it read. */
    version: { type: 'number', required: true },
  },
  indexes: {
    byId: {
      pk: {
        field: 'pk',
        composite: ['workspaceId', 'jobId'],
        template: 'WS#${workspaceId}#JOB#${jobId}',
        casing: 'none',
      },
      sk: { field: 'sk', composite: [], template: 'JOB', casing: 'none' },
    },
    byWorkspace: {
      index: 'gsi1',
      pk: { field: 'gsi1pk', composite: ['workspaceId'], template: 'WS#${workspaceId}#JOBS', casing: 'none' },
      sk: { field: 'gsi1sk', composite: ['jobId'], template: '${jobId}', casing: 'none' },
    },
    byCreator: {
      index: 'gsi2',
      pk: {
        field: 'gsi2pk',
        composite: ['workspaceId', 'createdBy'],
        template: 'WS#${workspaceId}#JOBS#USER#${createdBy}',
        casing: 'none',
      },
      sk: { field: 'gsi2sk', composite: ['jobId'], template: '${jobId}', casing: 'none' },
    },
    byKind: {
      index: 'gsi3',
      pk: {
        field: 'gsi3pk',
        composite: ['workspaceId', 'kind'],
        template: 'WS#${workspaceId}#JOBS#KIND#${kind}',
        casing: 'none',
      },
      sk: { field: 'gsi3sk', composite: ['jobId'], template: '${jobId}', casing: 'none' },
    },
    byActivity: {
      index: 'gsi4',
      pk: { field: 'gsi4pk', composite: ['activeShard'], template: 'JOBS#ACTIVE#${activeShard}', casing: 'none' },
      sk: { field: 'gsi4sk', composite: ['activeKey'], template: '${activeKey}', casing: 'none' },
    },
  },
} as const;
