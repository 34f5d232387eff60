/**
 * Scheduled handlers (EventBridge rules): the single source for the CDK schedules (infra/) and the
 * local scheduler (local/).
 */
export interface ScheduleDefinition {
  name: string;
  /** Handler module, exporting `handler(event: ScheduledEvent): Promise<void>`. */
  entry: string;
  rateMinutes: number;
}

export const schedules: ScheduleDefinition[] = [
  /** Snoozed conversations whose `snoozedUntil` has passed go back to `open`. */
  { name: 'wake-snoozed', entry: 'functions/schedules/wake-snoozed.handler.ts', rateMinutes: 1 },
  /**
   * Queued or running jobs no run has written for their kind's stale time: sent again, or failed `stalled`;
   * and pending webhook deliveries whose message was lost (overdue past a grace): their message sent again.
   */
  { name: 'sweep-jobs', entry: 'functions/schedules/sweep-jobs.handler.ts', rateMinutes: 5 },
  /** Dynamic segments that time alone moves (relative dates) or that read company fields: recomputed. */
  /** Conversations waiting for an assignment rule whose users were all at their cap: handed out oldest first. */
  { name: 'assign-waiting', entry: 'functions/schedules/assign-waiting.handler.ts', rateMinutes: 5 },
  { name: 'recompute-segments', entry: 'functions/schedules/recompute-segments.handler.ts', rateMinutes: 15 },
];
