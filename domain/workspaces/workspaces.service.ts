import { mintToken, toApiToken } from '../auth/tokens.service';
import { requireManager, systemActor, type CallerContext } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import { lostRace, notFound, stale } from '../shared/errors';
import { writeTransaction } from '../store/transaction';
import { defaultPipelineOps } from '../pipelines/pipeline-record';
import { getItemsByKeys } from '../store/batch-get';
import { normaliseEmail, toUser, userEmailScope, type UserItem } from '../users/users.service';
import { appendEvent, newEvent } from '../../events/event-log';
import { defaultTimeZone } from '../shared/time-zones';
import type { CreateWorkspaceInput, UpdateWorkspaceInput, Workspace } from './workspaces.schemas';

interface WorkspaceItem {
  workspaceId: string;
  name: string;
  timeZone?: string;
  version: number;
  ownerCount: number;
  createdAt: string;
  updatedAt: string;
}

export const toWorkspace = (item: WorkspaceItem): Workspace => ({
  id: item.workspaceId,
  name: item.name,
  timeZone: item.timeZone ?? defaultTimeZone,
  version: item.version,
  createdAt: item.createdAt,
  updatedAt: item.updatedAt,
});

/**
 * Creates a workspace with its first owner and that owner's first API token, in one transaction.
 * The token's secret is returned here and never again. Used by the admin CLI and the demo seed.
 */
export async function createWorkspace(deps: CoreDeps, input: CreateWorkspaceInput) {
  const now = deps.clock.nowIso();
  const workspaceId = deps.newId('ws');
  const userId = deps.newId('usr');
  const actor = systemActor(workspaceId);
  const workspace: WorkspaceItem = { workspaceId, name: input.name, version: 1, ownerCount: 1, createdAt: now, updatedAt: now };
  const { secret, item: token } = mintToken(deps, { workspaceId, userId, role: 'owner' }, 'First owner token');
  const owner = {
    workspaceId,
    userId,
    name: input.ownerName,
    email: normaliseEmail(input.ownerEmail),
    role: 'owner' as const,
    status: 'active' as const,
    version: 1,
    createdAt: now,
    updatedAt: now,
    tokenHashes: [token.tokenHash],
    tokenSetVersion: 1,
  };
  await writeTransaction(
    deps.db,
    (tx) => [
      tx.workspace.create(workspace).commit(),
      tx.user.create(owner).commit(),
      tx.uniqueGuard
        .create({ workspaceId, scope: userEmailScope, value: owner.email, ownerId: userId, createdAt: now })
        .commit(),
      tx.apiToken.create(token).commit(),
      appendEvent(tx, newEvent(deps, actor, 'workspace.created', { type: 'workspace', id: workspaceId }, { name: input.name })),
      appendEvent(
        tx,
        newEvent(deps, actor, 'user.added', { type: 'user', id: userId }, { name: owner.name, email: owner.email, role: 'owner' }),
      ),
      appendEvent(
        tx,
        newEvent(deps, actor, 'token.created', { type: 'token', id: token.tokenId }, {
          tokenId: token.tokenId,
          name: token.name,
          userId,
        }),
      ),
      // Every workspace starts with the default pipeline (Open, Negotiating, Won, Lost).
      ...defaultPipelineOps(deps, workspaceId, now).map((op) => op(tx)),
    ],
    () => new Error('Workspace ids collided'),
  );
  return { workspace: toWorkspace(workspace), owner: toUser(owner), token: { ...toApiToken(token), token: secret } };
}

export async function getWorkspace(deps: CoreDeps, caller: CallerContext, consistent = false): Promise<Workspace> {
  const { data } = await deps.db.entities.workspace.get({ workspaceId: caller.workspaceId }).go({ consistent });
  if (!data) throw notFound('Workspace');
  return toWorkspace(data);
}

/**
 * `GET /v1/me`: the caller and their workspace, both read by one BatchGetItem (one round trip, the
 * read cost of two GetItems). A user missing answers 404 User, then a workspace missing 404 Workspace.
 */
export async function getMe(deps: CoreDeps, caller: CallerContext) {
  const { user: users, workspace: workspaces } = deps.db.entities;
  const [userItem, workspaceItem] = await getItemsByKeys(deps.db, [
    users.get({ workspaceId: caller.workspaceId, userId: caller.userId }).params().Key,
    workspaces.get({ workspaceId: caller.workspaceId }).params().Key,
  ]);
  const user = userItem && users.parse({ Item: userItem }).data;
  if (!user) throw notFound('User');
  const workspace = workspaceItem && workspaces.parse({ Item: workspaceItem }).data;
  if (!workspace) throw notFound('Workspace');
  return { user: toUser(user as UserItem), workspace: toWorkspace(workspace) };
}

/** Renames the workspace or sets its time zone (owner/admin); a change to nothing new writes nothing. */
export async function updateWorkspace(
  deps: CoreDeps,
  caller: CallerContext,
  input: UpdateWorkspaceInput,
  expectedVersion?: number,
): Promise<Workspace> {
  requireManager(caller, 'change the workspace');
  const current = await getWorkspace(deps, caller, true);
  if (expectedVersion !== undefined && expectedVersion !== current.version) throw stale();
  const next = { name: input.name ?? current.name, timeZone: input.timeZone ?? current.timeZone };
  const changes = Object.fromEntries(
    (['name', 'timeZone'] as const).filter((field) => next[field] !== current[field]).map((field) => [field, { from: current[field], to: next[field] }]),
  );
  if (Object.keys(changes).length === 0) return current;
  const now = deps.clock.nowIso();
  const event = newEvent(deps, caller, 'workspace.updated', { type: 'workspace', id: caller.workspaceId }, { changes });
  await writeTransaction(
    deps.db,
    (tx) => [
      tx.workspace
        .patch({ workspaceId: caller.workspaceId })
        .set({ ...next, updatedAt: now })
        .add({ version: 1 })
        .where((attr, { eq }) => eq(attr.version, current.version))
        .commit(),
      appendEvent(tx, event),
    ],
    // The version read is gone: the request runs again from the read (412 then, with If-Match).
    () => lostRace('The workspace'),
  );
  forgetWorkspaceTimeZone(caller.workspaceId);
  return { ...current, ...next, version: current.version + 1, updatedAt: now };
}

/** How long a process trusts a workspace's time zone it has read: a change counts everywhere within it. */
const timeZoneTtlMs = 60_000;
const timeZones = new Map<string, { timeZone: string; readAt: number }>();

const forgetWorkspaceTimeZone = (workspaceId: string) => timeZones.delete(workspaceId);

/**
 * The time zone each workspace counts its days in, read at most once a minute per process (one
 * GetItem per workspace not known yet): the counters consumer asks for every batch.
 */
export async function workspaceTimeZones(deps: CoreDeps, workspaceIds: Iterable<string>): Promise<Map<string, string>> {
  const now = deps.clock.nowMs();
  const result = new Map<string, string>();
  const unknown: string[] = [];
  for (const workspaceId of new Set(workspaceIds)) {
    const cached = timeZones.get(workspaceId);
    if (cached && now - cached.readAt < timeZoneTtlMs) result.set(workspaceId, cached.timeZone);
    else unknown.push(workspaceId);
  }
  await Promise.all(
    unknown.map(async (workspaceId) => {
      const { data } = await deps.db.entities.workspace.get({ workspaceId }).go({ attributes: ['timeZone'] });
      const timeZone = (data as { timeZone?: string } | null)?.timeZone ?? defaultTimeZone;
      timeZones.set(workspaceId, { timeZone, readAt: now });
      result.set(workspaceId, timeZone);
    }),
  );
  return result;
}
