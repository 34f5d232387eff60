/**
 * Scheduled handlers (EventBridge rules): the single source for the CDK schedules (infra/) and the
 * local scheduler (local/). The segment recompute arrives with segments.
 */
export interface ScheduleDefinition {
  name: string;
  /** Handler module, exporting `handler(event: ScheduledEvent): Promise<void>`. */
  entry: string;
  rateMinutes: number;
}

export const schedules: ScheduleDefinition[] = [];
