// The job kinds and statuses, and what services check of them, apart from jobs.schemas.ts: a module that
// imports a value from a `.schemas.ts` builds every schema of it at import (cold start).

/** Seed 001 Job kinds: each has its own SQS queue and dead-letter queue (functions/jobs/job-queues.ts). */
export const jobKinds = ['import_contacts', 'export_contacts', 'deliver_message', 'classify_conversation', 'fetch_media', 'segment_membership', 'apply_fit_rules', 'replay_webhook', 'bot_reply'] as const;
export type JobKind = (typeof jobKinds)[number];

export const jobStatuses = ['queued', 'running', 'succeeded', 'failed', 'canceled'] as const;
export type JobStatus = (typeof jobStatuses)[number];
/** A job in one of these never runs again (a failed one may be retried: it is queued anew). */
export const terminalJobStatuses: readonly JobStatus[] = ['succeeded', 'failed', 'canceled'];
export const isTerminal = (status: JobStatus) => terminalJobStatuses.includes(status);

/**
 * Kinds whose canceled job reports what it wrote (their definition's `reportCanceled`): canceled once it
 * has begun, its end event waits (`endPending`) until no run works on it, then carries that report.
 */
export const kindsReportingCancel: readonly JobKind[] = ['import_contacts'];

/** How long a job file's download link lives. */
export const jobFileLinkSeconds = 5 * 60;

/** A file name a job lists: letters, digits, dot, dash and underscore (never a path). */
export const jobFileNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
