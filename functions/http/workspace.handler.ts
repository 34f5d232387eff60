import { getMe, getWorkspace, updateWorkspace } from '../../domain/workspaces/workspaces.service';
import { createHttpHandler } from './http-handler';

export const handler = createHttpHandler('workspace', {
  getMe: ({ caller }, deps) => getMe(deps, caller),
  getWorkspace: ({ caller }, deps) => getWorkspace(deps, caller),
  updateWorkspace: ({ caller, body, expectedVersion }, deps) =>
    updateWorkspace(deps, caller, body, expectedVersion),
});
