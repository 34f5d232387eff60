import { getMe, getWorkspace, updateWorkspace } from '../../domain/workspaces/workspaces.service';
import { createHttpHandler } from './http-handler';
import { workspaceRoutes } from './routes/workspace.routes';

export const handler = createHttpHandler('workspace', workspaceRoutes, {
  getMe: ({ caller }, deps) => getMe(deps, caller),
  getWorkspace: ({ caller }, deps) => getWorkspace(deps, caller),
  updateWorkspace: ({ caller, body, expectedVersion }, deps) =>
    updateWorkspace(deps, caller, body, expectedVersion),
});
