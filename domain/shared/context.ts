import { DomainError } from './errors';

export const roles = ['owner', 'admin', 'member'] as const;
export type Role = (typeof roles)[number];

/** Who is calling: every domain call receives it, and every key it builds starts with workspaceId. */
export interface CallerContext {
  workspaceId: string;
  userId: string;
  role: Role;
}

/** The system itself acting (imports, schedules, stream consumers): no user, full rights. */
export const systemActor = (workspaceId: string): CallerContext => ({
  workspaceId,
  userId: 'system',
  role: 'owner',
});

export const isManager = (caller: CallerContext) => caller.role === 'owner' || caller.role === 'admin';

export function requireManager(caller: CallerContext, action: string): void {
  if (!isManager(caller)) throw new DomainError('forbidden', `Only an owner or admin can ${action}`);
}
