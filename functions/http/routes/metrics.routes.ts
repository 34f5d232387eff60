import {
  countersQuery,
  countersSchema,
  performanceQuery,
  performanceSchema,
} from '../../../domain/metrics/metrics.schemas';
import { route, type RouteDefinition } from '../route-definition';

export const metricsRoutes = {
  getEventCounters: route({
    method: 'GET',
    path: '/v1/metrics/counters',
    group: 'metrics',
    tag: 'Metrics',
    summary: 'Events by type over a period, per day, ISO week or month; everyone’s or one user’s',
    description:
      'Counted from the change stream as events are appended (within moments), never by reading events: a period of up to a year is one read (two across a new year). Days are the workspace’s, in its time zone (`PATCH /v1/workspace`, default UTC). Every bucket of the period is listed, empty ones too; with `types`, each bucket names each of them. `breakdown=user` adds each user’s totals (one more read per user).',
    auth: true,
    query: countersQuery,
    refusals: { 404: 'the user in the query' },
    response: { status: 200, description: 'The counts', schema: countersSchema },
  }),
  getPerformance: route({
    method: 'GET',
    path: '/v1/metrics/performance',
    group: 'metrics',
    tag: 'Metrics',
    summary:
      'Each user’s performance over a period: messages, replies, first-response time, deals, tasks, claims',
    description:
      'Credited to the user whose work it was: a reply to the conversation’s assignee, a deal won or lost to its owner, a completed task to its assignee, a claimed or assigned contact to its new owner. A reopened deal’s win or loss is taken back from the day it was counted. Kept from the change stream like the counters; one read per user. Days are the workspace’s, in its time zone.',
    auth: true,
    query: performanceQuery,
    refusals: { 404: 'the user in the query' },
    response: { status: 200, description: 'The figures, one entry per user', schema: performanceSchema },
  }),
} as const satisfies Record<string, RouteDefinition>;
