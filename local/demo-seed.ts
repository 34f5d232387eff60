import { createToken } from '../domain/auth/tokens.service';
import type { CoreDeps } from '../domain/shared/deps';
import { addUser } from '../domain/users/users.service';
import { createWorkspace } from '../domain/workspaces/workspaces.service';

export interface DemoCredentials {
  workspaceId: string;
  users: { role: 'owner' | 'admin' | 'member'; userId: string; email: string; token: string }[];
}

/** The demo workspace `npm start` creates on first start: an owner, an admin and a member. */
export async function seedDemoWorkspace(deps: CoreDeps): Promise<DemoCredentials> {
  const created = await createWorkspace(deps, {
    name: 'Demo Workspace',
    ownerName: 'Olivia Owner',
    ownerEmail: 'owner@demo.example',
  });
  const owner = { workspaceId: created.workspace.id, userId: created.owner.id, role: 'owner' as const };
  const users: DemoCredentials['users'] = [
    { role: 'owner', userId: created.owner.id, email: created.owner.email, token: created.token.token },
  ];
  for (const [role, name] of [
    ['admin', 'Adam Admin'],
    ['member', 'Mia Member'],
  ] as const) {
    const user = await addUser(deps, owner, { name, email: `${role}@demo.example`, role });
    const token = await createToken(deps, owner, { userId: user.id, name: 'Demo token' });
    users.push({ role, userId: user.id, email: user.email, token: token.token });
  }
  return { workspaceId: created.workspace.id, users };
}
