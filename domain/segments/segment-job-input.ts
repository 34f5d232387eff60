import * as z from 'zod';

/**
 * The `segment_membership` job: `rule_change` applies one segment's rule (version `ruleVersion`) to
 * every contact; `recompute` applies every dynamic rule of the workspace (the schedule: time moves
 * relative dates); `delete` takes a deleted segment's members out.
 */
export const segmentJobInputSchema = z.object({
  mode: z.enum(['rule_change', 'recompute', 'delete']),
  segmentId: z.string().optional(),
  ruleVersion: z.number().int().optional(),
});
export type SegmentJobInput = z.infer<typeof segmentJobInputSchema>;
