import type { CoreDeps } from '../shared/deps';
import { invalidReference } from '../shared/errors';

/** A user named in a request (an assignee, a participant) must be an active user of the workspace: else a 422 naming `field`. */
export async function assertActiveUser(deps: CoreDeps, workspaceId: string, userId: string, field: string): Promise<void> {
  const { data } = await deps.db.entities.user.get({ workspaceId, userId }).go();
  if (!data || data.status !== 'active') throw invalidReference(field, 'No active user with this id in the workspace');
}
