import { clearAuthCache } from '../auth/tokens.service';
import { isManager, requireManager, type CallerContext, type Role } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import { conflict, forbidden, lostRace, notFound, stale } from '../shared/errors';
import { checkCursor, type Page, type PageQuery } from '../shared/pagination';
import { writeTransaction } from '../store/transaction';
import { appendEvent, newEvent } from '../../events/event-log';
import type { AddUserInput, UpdateUserInput, User } from './users.schemas';

export interface UserItem {
  workspaceId: string;
  userId: string;
  name: string;
  email: string;
  role: Role;
  status: 'active' | 'deactivated';
  version: number;
  createdAt: string;
  updatedAt: string;
  tokenHashes?: string[];
  tokenSetVersion: number;
}

export const toUser = (item: UserItem): User => ({
  id: item.userId,
  name: item.name,
  email: item.email,
  role: item.role,
  status: item.status,
  version: item.version,
  createdAt: item.createdAt,
  updatedAt: item.updatedAt,
});

export const normaliseEmail = (email: string) => email.trim().toLowerCase();
export const userEmailScope = 'user-email';

const activeOwner = (user: Pick<UserItem, 'role' | 'status'>) => user.role === 'owner' && user.status === 'active';

async function readUser(deps: CoreDeps, workspaceId: string, userId: string, consistent = false): Promise<UserItem> {
  const { data } = await deps.db.entities.user.get({ workspaceId, userId }).go({ consistent });
  if (!data) throw notFound('User');
  return data as UserItem;
}

export async function getUser(deps: CoreDeps, caller: CallerContext, userId: string): Promise<User> {
  return toUser(await readUser(deps, caller.workspaceId, userId));
}

/** Every user of the workspace, oldest first. Members may list too: they assign and mention teammates. */
export async function listUsers(deps: CoreDeps, caller: CallerContext, page: PageQuery): Promise<Page<User>> {
  const result = await deps.db.entities.user.query
    .byId({ workspaceId: caller.workspaceId })
    .go({ limit: page.limit, cursor: checkCursor(caller.workspaceId, page.cursor) ?? null });
  return { items: (result.data as UserItem[]).map(toUser), nextCursor: result.cursor ?? null };
}

/** Adds a user to the workspace (owner/admin; only an owner adds another owner). */
export async function addUser(deps: CoreDeps, caller: CallerContext, input: AddUserInput): Promise<User> {
  requireManager(caller, 'add users');
  if (input.role === 'owner' && caller.role !== 'owner') throw forbidden('Only an owner can add another owner');
  const now = deps.clock.nowIso();
  const item: UserItem = {
    workspaceId: caller.workspaceId,
    userId: deps.newId('usr'),
    name: input.name,
    email: normaliseEmail(input.email),
    role: input.role,
    status: 'active',
    version: 1,
    createdAt: now,
    updatedAt: now,
    tokenSetVersion: 0,
  };
  const event = newEvent(deps, caller, 'user.added', { type: 'user', id: item.userId }, {
    name: item.name,
    email: item.email,
    role: item.role,
  });
  await writeTransaction(
    deps.db,
    (tx) => [
      tx.uniqueGuard
        .create({
          workspaceId: caller.workspaceId,
          scope: userEmailScope,
          value: item.email,
          ownerId: item.userId,
          createdAt: now,
        })
        .commit(),
      tx.user.create(item).commit(),
      appendEvent(tx, event),
      ...(activeOwner(item)
        ? [tx.workspace.patch({ workspaceId: caller.workspaceId }).add({ ownerCount: 1 }).commit()]
        : []),
    ],
    () =>
      conflict('email_taken', `A user with the email ${item.email} already exists in this workspace`, {
        fields: [{ field: 'body.email', message: 'Already taken in this workspace' }],
      }),
  );
  return toUser(item);
}

/**
 * Changes a user's name, role or status. A member may rename only themselves; an admin manages
 * admins and members; only an owner grants, changes or removes the owner role. The workspace always
 * keeps one active owner. The user's tokens take the new role in the same transaction, and are revoked
 * when the user is deactivated.
 */
export async function updateUser(
  deps: CoreDeps,
  caller: CallerContext,
  userId: string,
  input: UpdateUserInput,
  expectedVersion?: number,
): Promise<User> {
  const current = await readUser(deps, caller.workspaceId, userId, true);
  if (expectedVersion !== undefined && expectedVersion !== current.version) throw stale();
  const self = userId === caller.userId;
  if (!isManager(caller) && (!self || input.role !== undefined || input.status !== undefined)) {
    throw forbidden('A member can change only their own name');
  }
  if (current.role === 'owner' && !self && caller.role !== 'owner') {
    throw forbidden('Only an owner can change an owner');
  }
  const touchesOwner = current.role === 'owner' || input.role === 'owner';
  if (caller.role !== 'owner' && touchesOwner && (input.role !== undefined || input.status !== undefined)) {
    throw forbidden('Only an owner can change an owner, or make someone an owner');
  }

  const next = { ...current, ...definedOnly(input) };
  const changes: Record<string, { from: unknown; to: unknown }> = {};
  for (const field of ['name', 'role', 'status'] as const) {
    if (next[field] !== current[field]) changes[field] = { from: current[field], to: next[field] };
  }
  if (Object.keys(changes).length === 0) return toUser(current);

  const now = deps.clock.nowIso();
  const ownerDelta = Number(activeOwner(next)) - Number(activeOwner(current));
  const tokensChange = changes.role !== undefined || changes.status !== undefined;
  // Deactivating revokes the user's tokens for good (a revocation keeps its first time): reactivated,
  // they need a new token, so a token copied while they were away does not come back to life.
  const deactivating = changes.status?.to === 'deactivated';
  const event = newEvent(deps, caller, 'user.updated', { type: 'user', id: userId }, { changes });
  await writeTransaction(
    deps.db,
    (tx) => [
      tx.user
        .patch({ workspaceId: caller.workspaceId, userId })
        .set({ name: next.name, role: next.role, status: next.status, updatedAt: now })
        .add({ version: 1 })
        .where(
          (attr, { eq }) =>
            `${eq(attr.version, current.version)} AND ${eq(attr.tokenSetVersion, current.tokenSetVersion)}`,
        )
        .commit(),
      appendEvent(tx, event),
      ...(ownerDelta > 0
        ? [tx.workspace.patch({ workspaceId: caller.workspaceId }).add({ ownerCount: ownerDelta }).commit()]
        : []),
      ...(ownerDelta < 0
        ? [
            tx.workspace
              .patch({ workspaceId: caller.workspaceId })
              .add({ ownerCount: ownerDelta })
              .where((attr, { gt }) => gt(attr.ownerCount, 1))
              .commit(),
          ]
        : []),
      ...(tokensChange
        ? (current.tokenHashes ?? []).map((tokenHash) =>
            deactivating
              ? tx.apiToken
                  .patch({ tokenHash })
                  .data((attr, op) => {
                    op.set(attr.role, next.role);
                    op.set(attr.userStatus, next.status);
                    op.ifNotExists(attr.revokedAt, now);
                  })
                  .commit()
              : tx.apiToken.patch({ tokenHash }).set({ role: next.role, userStatus: next.status }).commit(),
          )
        : []),
    ],
    (failed) => {
      // The version read is gone: the request runs again from the read (412 then, with If-Match).
      if (failed.includes(0)) return lostRace('The user');
      return conflict('last_owner', 'The workspace must keep at least one active owner');
    },
  );
  if (tokensChange) clearAuthCache();
  return toUser({ ...next, version: current.version + 1, updatedAt: now });
}

function definedOnly<T extends object>(input: T): Partial<T> {
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined)) as Partial<T>;
}
