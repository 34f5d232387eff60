import {
  meSchema,
  updateWorkspaceInput,
  workspaceSchema,
} from '../../../domain/workspaces/workspaces.schemas';
import { route, type RouteDefinition } from '../route-definition';

export const workspaceRoutes = {
  getMe: route({
    method: 'GET',
    path: '/v1/me',
    group: 'workspace',
    tag: 'Workspace',
    summary: 'The caller: their user record and workspace',
    auth: true,
    response: { status: 200, description: 'The caller', schema: meSchema },
  }),
  getWorkspace: route({
    method: 'GET',
    path: '/v1/workspace',
    group: 'workspace',
    tag: 'Workspace',
    summary: "The caller's workspace",
    auth: true,
    versioned: true,
    response: { status: 200, description: 'The workspace', schema: workspaceSchema },
  }),
  updateWorkspace: route({
    method: 'PATCH',
    path: '/v1/workspace',
    group: 'workspace',
    tag: 'Workspace',
    summary: 'Rename the workspace or set its time zone (owner/admin)',
    description:
      'The time zone is the one the metrics count days in; a change applies to the events from then on (days already counted keep their counts).',
    auth: true,
    versioned: true,
    body: updateWorkspaceInput,
    refusals: { 403: 'a member' },
    response: { status: 200, description: 'The updated workspace', schema: workspaceSchema },
  }),
} as const satisfies Record<string, RouteDefinition>;
