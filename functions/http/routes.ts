import type { HandlerGroup, RouteDefinition } from './route-definition';
import { metaRoutes } from './routes/meta.routes';
import { workspaceRoutes } from './routes/workspace.routes';
import { usersRoutes } from './routes/users.routes';
import { tokensRoutes } from './routes/tokens.routes';
import { customFieldsRoutes } from './routes/custom-fields.routes';
import { eventsRoutes } from './routes/events.routes';
import { contactsRoutes } from './routes/contacts.routes';
import { pinsRoutes } from './routes/pins.routes';
import { companiesRoutes } from './routes/companies.routes';
import { notesRoutes } from './routes/notes.routes';
import { tasksRoutes } from './routes/tasks.routes';
import { pipelinesRoutes } from './routes/pipelines.routes';
import { dealsRoutes } from './routes/deals.routes';
import { tagsRoutes } from './routes/tags.routes';
import { metricsRoutes } from './routes/metrics.routes';
import { conversationsRoutes } from './routes/conversations.routes';
import { messagesRoutes } from './routes/messages.routes';
import { callsRoutes } from './routes/calls.routes';
import { attachmentsRoutes } from './routes/attachments.routes';
import { jobsRoutes } from './routes/jobs.routes';
import { importsRoutes } from './routes/imports.routes';
import { channelsRoutes } from './routes/channels.routes';
import { segmentsRoutes } from './routes/segments.routes';
import { leadsRoutes } from './routes/leads.routes';
import { assignmentRulesRoutes } from './routes/assignment-rules.routes';
import { webhooksRoutes } from './routes/webhooks.routes';
import { botRoutes } from './routes/bot.routes';

export * from './route-definition';

/**
 * THE route table: the single source for the CDK routes (infra/), the local gateway (local/) and the
 * OpenAPI document, assembled from one file per route group (`routes/<group>.routes.ts`). Each group is
 * deployed as one Lambda function whose entry is `functions/http/<group>.handler.ts`; that handler
 * imports only its own group's route files, never this table, so its bundle holds only its schemas.
 */
export const routes = {
  ...metaRoutes,
  ...workspaceRoutes,
  ...usersRoutes,
  ...tokensRoutes,
  ...customFieldsRoutes,
  ...eventsRoutes,
  ...contactsRoutes,
  ...pinsRoutes,
  ...companiesRoutes,
  ...notesRoutes,
  ...tasksRoutes,
  ...pipelinesRoutes,
  ...dealsRoutes,
  ...tagsRoutes,
  ...metricsRoutes,
  ...conversationsRoutes,
  ...messagesRoutes,
  ...callsRoutes,
  ...attachmentsRoutes,
  ...jobsRoutes,
  ...importsRoutes,
  ...channelsRoutes,
  ...segmentsRoutes,
  ...leadsRoutes,
  ...assignmentRulesRoutes,
  ...webhooksRoutes,
  ...botRoutes,
} as const satisfies Record<string, RouteDefinition>;

export type OperationId = keyof typeof routes;
export type RouteOf<K extends OperationId> = (typeof routes)[K];

export const routeList = Object.entries(routes).map(([operationId, definition]) => ({
  operationId: operationId as OperationId,
  ...(definition as RouteDefinition),
}));

export const handlerEntry = (group: HandlerGroup) => `functions/http/${group}.handler.ts`;
