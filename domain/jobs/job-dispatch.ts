import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import * as z from 'zod';
import type { JobQueue } from '../shared/ports';
import { maxDispatchDelaySeconds, type JobMessage } from './job-record';
import { jobStatuses } from './job-status';

/** What the dispatcher reads of a job item's stream image. */
const jobImageSchema = z.object({
  __edb_e__: z.literal('job'),
  workspaceId: z.string().min(1),
  jobId: z.string().min(1),
  kind: z.string().min(1),
  status: z.enum(jobStatuses),
  dispatchSeq: z.number().int().positive(),
  dispatchDelaySeconds: z.number().int().nonnegative().optional(),
});

/** A job item's change, as the stream shows it. */
export interface JobChange {
  workspaceId: string;
  jobId: string;
  kind: string;
  status: (typeof jobStatuses)[number];
  dispatchSeq: number;
  /** Seconds the step's message waits (a back-off, a delayed first run); 0: none. */
  delaySeconds: number;
  /** The step number before the change; undefined for a new job. */
  previousSeq?: number;
}

/** Parses a job item's stream images (DynamoDB JSON); throws on anything that is not a job. */
export function parseJobChange(
  newImage: Record<string, unknown> | undefined,
  oldImage: Record<string, unknown> | undefined,
): JobChange {
  if (!newImage) throw new Error('The stream record has no NewImage: is the stream NEW_AND_OLD_IMAGES?');
  const after = jobImageSchema.parse(unmarshall(newImage as Record<string, AttributeValue>));
  const before = oldImage ? jobImageSchema.parse(unmarshall(oldImage as Record<string, AttributeValue>)) : undefined;
  return {
    workspaceId: after.workspaceId,
    jobId: after.jobId,
    kind: after.kind,
    status: after.status,
    dispatchSeq: after.dispatchSeq,
    delaySeconds: after.dispatchDelaySeconds ?? 0,
    ...(before ? { previousSeq: before.dispatchSeq } : {}),
  };
}

/**
 * The message a job change calls for: a new job, or one whose `dispatchSeq` moved (a retry, or a run
 * that continues itself), still queued or running. Progress saves and endings leave the step alone.
 */
export function messageFor(change: JobChange): JobMessage | undefined {
  if (change.previousSeq === change.dispatchSeq) return undefined;
  if (change.status !== 'queued' && change.status !== 'running') return undefined;
  return { workspaceId: change.workspaceId, jobId: change.jobId, seq: change.dispatchSeq };
}

/**
 * The outbox's sender (the `job-dispatch` stream consumer): sends the step's message to the queue of the
 * job's kind (`queueOf`: its own, or the queue that also runs it). Sending twice is harmless: the runner works only on the job's current step, once.
 */
export async function dispatchJobChange(
  queue: JobQueue,
  change: JobChange,
  queueOf: (kind: string) => string = (kind) => kind,
): Promise<JobMessage | undefined> {
  const message = messageFor(change);
  if (!message) return undefined;
  const delaySeconds = Math.min(maxDispatchDelaySeconds, change.delaySeconds);
  await queue.send({ queue: queueOf(change.kind), body: message, ...(delaySeconds > 0 ? { delaySeconds } : {}) });
  return message;
}
