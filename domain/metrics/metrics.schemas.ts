import * as z from 'zod';
import { eventTypes } from '../../events/catalogue';
import { commaList } from '../shared/query-lists';
import { responseSchema, type ResponseOf } from '../shared/response-schema';

/** The longest period one request covers: two years of days is at most three Queries per party. */
export const maxPeriodDays = 731;

const day = z.iso.date().meta({ description: 'A calendar day in the workspace’s time zone, `YYYY-MM-DD`' });

const period = {
  from: day.optional().meta({ description: 'First day counted (inclusive); default: 29 days before `to`' }),
  to: day
    .optional()
    .meta({ description: 'Last day counted (inclusive); default: today in the workspace’s time zone' }),
};

const userId = z.string().min(1).max(64);

export const granularities = ['day', 'week', 'month'] as const;
export type Granularity = (typeof granularities)[number];

export const countersQuery = z.object({
  ...period,
  types: commaList(eventTypes, eventTypes.length, 'event type')
    .optional()
    .meta({ description: 'Comma-separated event types to count (default: every type that occurred)' }),
  granularity: z
    .enum(granularities)
    .default('day')
    .meta({
      description:
        '`week`: ISO weeks, Monday to Sunday; `month`: calendar months. Buckets are cut to the period.',
    }),
  userId: userId
    .optional()
    .meta({ description: 'Count only the events this user caused (default: everyone’s)' }),
  breakdown: z
    .enum(['user'])
    .optional()
    .meta({ description: '`user`: also each user’s totals over the period (one more read per user)' }),
});
export type CountersQuery = z.infer<typeof countersQuery>;

const countsSchema = responseSchema(() =>
  z.record(z.string(), z.number().int()).meta({ description: 'Events by type' }),
);

export const countersSchema = responseSchema(() =>
  z
    .object({
      from: z.string(),
      to: z.string(),
      timeZone: z.string().meta({ description: 'The workspace’s time zone: the days are its days' }),
      granularity: z.enum(granularities),
      userId: z.string().nullable(),
      totals: countsSchema(),
      users: z
        .array(z.object({ userId: z.string(), name: z.string(), totals: countsSchema() }))
        .nullable()
        .meta({ description: 'With `breakdown=user`: the events each user caused over the period' }),
      buckets: z.array(
        z.object({
          start: z.string().meta({ description: 'First day of the bucket within the period' }),
          end: z.string().meta({ description: 'Last day of the bucket within the period' }),
          counts: countsSchema(),
        }),
      ),
    })
    .meta({ id: 'EventCounters' }),
);
export type EventCounters = ResponseOf<typeof countersSchema>;

export const performanceQuery = z.object({
  ...period,
  userId: userId
    .optional()
    .meta({ description: 'One user’s figures (default: every user of the workspace)' }),
});
export type PerformanceQuery = z.infer<typeof performanceQuery>;

export const userPerformanceSchema = responseSchema(() =>
  z
    .object({
      userId: z.string(),
      name: z.string(),
      messagesSent: z.number().int(),
      repliesReceived: z
        .number()
        .int()
        .meta({ description: 'Replies from contacts in conversations assigned to the user' }),
      firstResponses: z
        .number()
        .int()
        .meta({ description: 'How many waiting inbound messages the user answered first' }),
      medianFirstResponseSeconds: z.number().nullable(),
      dealsCreated: z.number().int(),
      dealsWon: z.number().int().meta({ description: 'Deals the user owned when they were won' }),
      dealsLost: z.number().int(),
      wonValue: z
        .array(
          z.object({ currency: z.string(), amount: z.number().int().meta({ description: 'Minor units' }) }),
        )
        .meta({ description: 'Value of the deals won, per currency' }),
      tasksCompleted: z
        .number()
        .int()
        .meta({ description: 'Tasks assigned to the user (or done by them, when unassigned) completed' }),
      contactsClaimed: z
        .number()
        .int()
        .meta({ description: 'Contacts the user became the owner of (claimed or assigned)' }),
    })
    .meta({ id: 'UserPerformance' }),
);
export type UserPerformance = ResponseOf<typeof userPerformanceSchema>;

export const performanceSchema = responseSchema(() =>
  z
    .object({
      from: z.string(),
      to: z.string(),
      timeZone: z.string().meta({ description: 'The workspace’s time zone: the days are its days' }),
      users: z.array(userPerformanceSchema()),
    })
    .meta({ id: 'Performance' }),
);
export type Performance = ResponseOf<typeof performanceSchema>;
