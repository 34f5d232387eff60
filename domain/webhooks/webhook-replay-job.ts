import * as z from 'zod';
import type { JobKindDefinition } from '../jobs/job-kind';
import type { JobQueue } from '../shared/ports';
import { isConditionFailure } from '../store/transaction';
import type { DeliveryItem } from './webhook-delivery-record';
import { webhookSettings } from './webhook-settings';
import { eventIdRange, findSubscription, redeliverItem } from './webhooks.service';

const inputSchema = z.object({ subscriptionId: z.string().min(1), from: z.iso.datetime(), to: z.iso.datetime() });
type ReplayJobInput = z.infer<typeof inputSchema>;

const cursorSchema = z.object({ startKey: z.string().optional(), sent: z.number().int(), skipped: z.number().int() });
type ReplayCursor = z.infer<typeof cursorSchema>;

export interface ReplayResult extends Record<string, unknown> {
  subscriptionId: string;
  sent: number;
  /** Deliveries left alone: an attempt of theirs was under way. */
  skipped: number;
  /** True when the range held more than `maxReplayDeliveries`: replay the rest with a later `from`. */
  truncated: boolean;
}

/**
 * `replay_webhook`: sends again every delivery of one subscription whose event happened in [from, to),
 * oldest first, a page of the delivery log (one Query of 100) at a time, each put back to pending and
 * its message sent (`redeliverItem`: same webhook id, a new retry window). Resumes from the page it
 * reached (its cursor); a page redone after a crash sends its deliveries again, which the receiver
 * dedupes by `webhook-id`. At most `maxReplayDeliveries` per job.
 */
export const replayWebhookJob: JobKindDefinition<ReplayJobInput, ReplayCursor, ReplayResult> = {
  kind: 'replay_webhook',
  queue: 'replay_webhook',
  inputSchema,
  async step(deps, job, control) {
    const queue = (deps as typeof deps & { queue?: JobQueue }).queue;
    if (!queue) throw new Error('The replay_webhook job needs the job queue in its dependencies');
    const { subscriptionId } = job.input;
    let cursor: ReplayCursor = job.cursor ? cursorSchema.parse(job.cursor) : { sent: 0, skipped: 0 };
    const result = (truncated: boolean): ReplayResult => ({ subscriptionId, sent: cursor.sent, skipped: cursor.skipped, truncated });
    if (!(await findSubscription(deps, job.workspaceId, subscriptionId))) return { done: true, result: result(false) };
    const range = eventIdRange(job.input.from, job.input.to);
    for (;;) {
      const page = await deps.db.entities.webhookDelivery.query
        .bySubscription({ workspaceId: job.workspaceId, subscriptionId })
        .between({ eventId: range.first }, { eventId: range.last })
        .go({ order: 'asc', limit: 100, cursor: cursor.startKey ?? null });
      for (const item of page.data as DeliveryItem[]) {
        if (cursor.sent >= webhookSettings.maxReplayDeliveries) return { done: true, result: result(true), progress: { processed: cursor.sent } };
        const nowMs = deps.clock.nowMs();
        if (item.status === 'pending' && item.leaseUntil && Date.parse(item.leaseUntil) > nowMs) {
          cursor = { ...cursor, skipped: cursor.skipped + 1 };
          continue;
        }
        try {
          await redeliverItem({ ...deps, queue }, item);
          cursor = { ...cursor, sent: cursor.sent + 1 };
        } catch (error) {
          // Changed since the page was read (an attempt ran): it is being delivered anyway.
          if (!isConditionFailure(error)) throw error;
          cursor = { ...cursor, skipped: cursor.skipped + 1 };
        }
      }
      const { startKey: _done, ...rest } = cursor;
      cursor = page.cursor ? { ...rest, startKey: page.cursor } : rest;
      if (!page.cursor) return { done: true, result: result(false), progress: { processed: cursor.sent } };
      if (control.deadlineReached()) return { done: false, cursor, progress: { processed: cursor.sent } };
      await control.saveProgress(cursor, { processed: cursor.sent });
    }
  },
};
