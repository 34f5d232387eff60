import { randomBytes } from 'node:crypto';
import { appendEvent, newEvent, type EventRecord } from '../../../events/event-log';
import { requireManager, type CallerContext } from '../../shared/context';
import type { CoreDeps } from '../../shared/deps';
import { conflict, invalid, lostRace, notFound, stale, unprocessable } from '../../shared/errors';
import { checkCursor, type Page } from '../../shared/pagination';
import type { SealContext, SecretSealer } from '../../shared/ports';
import { writeTransaction } from '../../store/transaction';
import {
  connectionProviders,
  fromAddressFitsIdentity,
  secretNames,
  type ChannelConnection,
  type ConnectionKind,
  type ConnectionStatus,
  type CreateChannelConnectionInput,
  type ListChannelConnectionsQuery,
  type UpdateChannelConnectionInput,
} from './channel-connections.schemas';

/** What the connection operations need besides the table: the sealer, and where providers reach the webhooks. */
export type ConnectionDeps = CoreDeps & { sealer: SecretSealer; hooksBaseUrl?: string };

/** The connection item as stored. */
export interface ChannelConnectionItem {
  workspaceId: string;
  connectionId: string;
  kind: ConnectionKind;
  name: string;
  status: ConnectionStatus;
  /** The kind's public settings, as validated. */
  settings: Record<string, unknown>;
  /** Secret name -> sealed value. */
  secrets: Record<string, string>;
  createdBy: string;
  disconnectedAt?: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

const connectionRef = (connectionId: string) => ({ type: 'channel_connection' as const, id: connectionId });

/** A secret is bound to its workspace, connection and name: sealed for one, it opens for no other. */
export const secretContext = (item: Pick<ChannelConnectionItem, 'workspaceId' | 'connectionId'>, secret: string): SealContext => ({
  workspaceId: item.workspaceId,
  connectionId: item.connectionId,
  secret,
});

/** `/hooks/<provider>/<connectionId>`: where the provider sends this connection's webhooks. */
export const webhookPath = (item: Pick<ChannelConnectionItem, 'kind' | 'connectionId'>) =>
  `/hooks/${connectionProviders[item.kind]}/${item.connectionId}`;

/** The API shape: public settings, which secrets are set (never their values), the webhook address. */
export function toChannelConnection(item: ChannelConnectionItem, hooksBaseUrl?: string): ChannelConnection {
  const path = webhookPath(item);
  const secrets = Object.fromEntries(secretNames[item.kind].map((secret) => [secret, item.secrets[secret] !== undefined]));
  const settings = item.kind === 'telegram' ? { botUsername: (item.settings.botUsername as string | undefined) ?? null } : item.settings;
  return {
    id: item.connectionId,
    kind: item.kind,
    name: item.name,
    status: item.status,
    settings,
    secrets,
    webhook: { path, url: hooksBaseUrl ? `${hooksBaseUrl}${path}` : null },
    createdBy: item.createdBy,
    disconnectedAt: item.disconnectedAt ?? null,
    version: item.version,
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
  } as ChannelConnection;
}

/** The connection of the workspace, or undefined. */
export async function findConnection(deps: CoreDeps, workspaceId: string, connectionId: string, consistent = false) {
  const { data } = await deps.db.entities.channelConnection.get({ workspaceId, connectionId }).go({ consistent });
  return (data as ChannelConnectionItem | null) ?? undefined;
}

async function readConnection(deps: CoreDeps, workspaceId: string, connectionId: string, consistent = false) {
  const item = await findConnection(deps, workspaceId, connectionId, consistent);
  if (!item) throw notFound('Channel connection');
  return item;
}

/**
 * The connection a provider's webhook names (`/hooks/<provider>/<connectionId>`, no workspace): one
 * Query of the by-id index. Undefined when there is none, or when it serves another provider.
 */
export async function findConnectionForWebhook(
  deps: CoreDeps,
  provider: string,
  connectionId: string,
): Promise<ChannelConnectionItem | undefined> {
  const { data } = await deps.db.entities.channelConnection.query.byConnectionId({ connectionId }).go({ limit: 1 });
  const item = (data[0] as ChannelConnectionItem | undefined) ?? undefined;
  return item && connectionProviders[item.kind] === provider ? item : undefined;
}

/** One credential of the connection in clear, for an adapter or a webhook check; undefined when it is not set. */
export async function openConnectionSecret(
  deps: { sealer: SecretSealer },
  item: ChannelConnectionItem,
  secret: string,
): Promise<string | undefined> {
  const sealed = item.secrets[secret];
  return sealed === undefined ? undefined : deps.sealer.open(sealed, secretContext(item, secret));
}

/** Seals each given secret (skipping absent ones) for this connection. */
async function sealSecrets(
  deps: ConnectionDeps,
  item: Pick<ChannelConnectionItem, 'workspaceId' | 'connectionId'>,
  secrets: Record<string, string | undefined>,
): Promise<Record<string, string>> {
  const given = Object.entries(secrets).filter((entry): entry is [string, string] => entry[1] !== undefined);
  const sealed = await Promise.all(given.map(([secret, value]) => deps.sealer.seal(value, secretContext(item, secret))));
  return Object.fromEntries(given.map(([secret], index) => [secret, sealed[index]!]));
}

/** Telegram's secret token when none is given: 32 random bytes, in the characters `setWebhook` allows. */
const newWebhookSecretToken = () => randomBytes(32).toString('base64url');

async function commitConnection(
  deps: CoreDeps,
  before: ChannelConnectionItem | undefined,
  after: ChannelConnectionItem,
  event: EventRecord,
): Promise<void> {
  await writeTransaction(
    deps.db,
    (tx) => [
      before
        ? tx.channelConnection
            .put(after)
            .where((attr, { eq }) => eq(attr.version, before.version))
            .commit()
        : tx.channelConnection.create(after).commit(),
      appendEvent(tx, event),
    ],
    () => (before ? lostRace('The channel connection') : conflict('already_exists', 'A channel connection with this id already exists')),
  );
}

const manage = (caller: CallerContext) => requireManager(caller, 'manage channel connections');

/**
 * Connects a channel: its settings stored as given, each credential sealed (bound to this workspace,
 * connection and name), a Telegram webhook secret token generated when none is given. Appends
 * `channel.connected` (no credentials in it). Owner/admin only. Telegram's `setWebhook` is not called here.
 */
export async function createChannelConnection(
  deps: ConnectionDeps,
  caller: CallerContext,
  input: CreateChannelConnectionInput,
): Promise<ChannelConnection> {
  manage(caller);
  const at = deps.clock.nowIso();
  const ids = { workspaceId: caller.workspaceId, connectionId: deps.newId('chc') };
  const given: Record<string, string | undefined> =
    input.kind === 'email'
      ? {}
      : input.kind === 'telegram'
        ? { ...input.secrets, webhookSecretToken: input.secrets.webhookSecretToken ?? newWebhookSecretToken() }
        : { ...input.secrets };
  const settings = dropNulls(input.settings);
  const item: ChannelConnectionItem = {
    ...ids,
    kind: input.kind,
    name: input.name,
    status: 'active',
    settings,
    secrets: await sealSecrets(deps, ids, given),
    createdBy: caller.userId,
    version: 1,
    createdAt: at,
    updatedAt: at,
  };
  const event = newEvent(deps, caller, 'channel.connected', connectionRef(ids.connectionId), {
    connectionId: ids.connectionId,
    kind: item.kind,
    name: item.name,
    settings,
    reconnected: false,
  });
  await commitConnection(deps, undefined, item, event);
  return toChannelConnection(item, deps.hooksBaseUrl);
}

export async function getChannelConnection(
  deps: ConnectionDeps,
  caller: CallerContext,
  connectionId: string,
): Promise<ChannelConnection> {
  manage(caller);
  return toChannelConnection(await readConnection(deps, caller.workspaceId, connectionId), deps.hooksBaseUrl);
}

/** The workspace's connections in creation order (one Query a page). Owner/admin only. */
export async function listChannelConnections(
  deps: ConnectionDeps,
  caller: CallerContext,
  query: ListChannelConnectionsQuery,
): Promise<Page<ChannelConnection>> {
  manage(caller);
  const result = await deps.db.entities.channelConnection.query
    .byWorkspace({ workspaceId: caller.workspaceId })
    .go({ limit: query.limit, cursor: checkCursor(caller.workspaceId, query.cursor) ?? null });
  return {
    items: (result.data as ChannelConnectionItem[]).map((item) => toChannelConnection(item, deps.hooksBaseUrl)),
    nextCursor: result.cursor ?? null,
  };
}

const dropNulls = (settings: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== null && value !== undefined));

/**
 * Changes a connection's name or settings, and replaces the credentials given (each sealed anew).
 * `kind` must be the connection's own (422). Appends `channel.updated` with the changed settings and
 * the names of the replaced secrets, never their values. Owner/admin only.
 */
export async function updateChannelConnection(
  deps: ConnectionDeps,
  caller: CallerContext,
  connectionId: string,
  input: UpdateChannelConnectionInput,
  expectedVersion?: number,
): Promise<ChannelConnection> {
  manage(caller);
  const before = await readConnection(deps, caller.workspaceId, connectionId, true);
  if (expectedVersion !== undefined && expectedVersion !== before.version) throw stale();
  if (input.kind !== before.kind) {
    throw unprocessable(`This is a ${before.kind} connection: send \`kind: "${before.kind}"\` (a connection never changes kind)`, {
      fields: [{ field: 'body.kind', message: `The connection's kind is ${before.kind}` }],
    });
  }
  const settings = dropNulls({ ...before.settings, ...(input.settings ?? {}) });
  if (
    before.kind === 'email' &&
    !fromAddressFitsIdentity(settings.fromAddress as string, settings.sesIdentity as string)
  ) {
    throw invalid('body.settings.fromAddress', 'The From address must be the SES identity, or an address of its domain');
  }
  const changes: Record<string, { from: unknown; to: unknown }> = {};
  if (input.name !== undefined && input.name !== before.name) changes.name = { from: before.name, to: input.name };
  for (const key of new Set([...Object.keys(before.settings), ...Object.keys(settings)])) {
    const [from, to] = [before.settings[key] ?? null, settings[key] ?? null];
    if (from !== to) changes[`settings.${key}`] = { from, to };
  }
  const replaced = 'secrets' in input && input.secrets ? (input.secrets as Record<string, string | undefined>) : {};
  const secretsReplaced = Object.keys(replaced).filter((secret) => replaced[secret] !== undefined);
  if (Object.keys(changes).length === 0 && secretsReplaced.length === 0) {
    return toChannelConnection(before, deps.hooksBaseUrl);
  }
  const at = deps.clock.nowIso();
  const after: ChannelConnectionItem = {
    ...before,
    name: input.name ?? before.name,
    settings,
    secrets: { ...before.secrets, ...(await sealSecrets(deps, before, replaced)) },
    version: before.version + 1,
    updatedAt: at,
  };
  const event = newEvent(deps, caller, 'channel.updated', connectionRef(connectionId), {
    connectionId,
    kind: before.kind,
    changes,
    secretsReplaced,
  });
  await commitConnection(deps, before, after, event);
  return toChannelConnection(after, deps.hooksBaseUrl);
}

/**
 * Sets a connection `disconnected` (nothing is sent or received on it; its settings and credentials are
 * kept) or `active` again. The same status changes nothing. Appends `channel.disconnected`, or
 * `channel.connected` with `reconnected: true`. Owner/admin only.
 */
export async function setChannelConnectionStatus(
  deps: ConnectionDeps,
  caller: CallerContext,
  connectionId: string,
  status: ConnectionStatus,
  expectedVersion?: number,
): Promise<ChannelConnection> {
  manage(caller);
  const before = await readConnection(deps, caller.workspaceId, connectionId, true);
  if (expectedVersion !== undefined && expectedVersion !== before.version) throw stale();
  if (before.status === status) return toChannelConnection(before, deps.hooksBaseUrl);
  const at = deps.clock.nowIso();
  const { disconnectedAt: _cleared, ...rest } = before;
  const after: ChannelConnectionItem = {
    ...rest,
    status,
    ...(status === 'disconnected' ? { disconnectedAt: at } : {}),
    version: before.version + 1,
    updatedAt: at,
  };
  const event =
    status === 'disconnected'
      ? newEvent(deps, caller, 'channel.disconnected', connectionRef(connectionId), {
          connectionId,
          kind: before.kind,
          name: before.name,
        })
      : newEvent(deps, caller, 'channel.connected', connectionRef(connectionId), {
          connectionId,
          kind: before.kind,
          name: before.name,
          settings: before.settings,
          reconnected: true,
        });
  await commitConnection(deps, before, after, event);
  return toChannelConnection(after, deps.hooksBaseUrl);
}
