import { randomBytes } from 'node:crypto';
import { appendEvent, newEvent, type EventRecord } from '../../../events/event-log';
import { requireManager, type CallerContext } from '../../shared/context';
import type { CoreDeps } from '../../shared/deps';
import { conflict, invalid, lostRace, notFound, stale, unprocessable } from '../../shared/errors';
import { checkCursor, type Page } from '../../shared/pagination';
import type { SealContext, SecretSealer } from '../../shared/ports';
import { ProviderSendError, type ChannelAdapters, type OpenedConnection } from '../outbound';
import { writeTransaction } from '../../store/transaction';
import { mailClaimOps, mailClaimsOf } from './mail-claims';
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

/**
 * What the connection operations need besides the table: the sealer, where providers reach the webhooks,
 * and the providers (Telegram's `setWebhook`; without them, or without a public base URL, it is not called).
 */
export type ConnectionDeps = CoreDeps & { sealer: SecretSealer; hooksBaseUrl?: string; channels?: Pick<ChannelAdapters, 'telegramSetWebhook'> };

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

/** The connection as an adapter takes it: its settings and every credential it has, in clear. */
export async function openConnection(deps: { sealer: SecretSealer }, item: ChannelConnectionItem): Promise<OpenedConnection> {
  const names = secretNames[item.kind] as readonly string[];
  const values = await Promise.all(names.map((name) => openConnectionSecret(deps, item, name)));
  const secrets = Object.fromEntries(names.flatMap((name, index) => (values[index] === undefined ? [] : [[name, values[index]!]])));
  return { workspaceId: item.workspaceId, connectionId: item.connectionId, kind: item.kind, settings: item.settings, secrets };
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

/**
 * Points the Telegram bot at this connection's webhook with its secret token (`setWebhook`), and reads
 * the bot's username (`getMe`): before anything is written, so a token Telegram refuses is a 422 and no
 * connection. Skipped without providers or a public webhook address (the connection then shows the path
 * to set by hand). Returns the username, or undefined when not called.
 */
async function registerTelegramWebhook(
  deps: ConnectionDeps,
  item: Pick<ChannelConnectionItem, 'workspaceId' | 'connectionId' | 'kind' | 'settings'>,
  secrets: Record<string, string>,
): Promise<string | null | undefined> {
  if (item.kind !== 'telegram' || !deps.channels || !deps.hooksBaseUrl) return undefined;
  try {
    const { botUsername } = await deps.channels.telegramSetWebhook(
      { workspaceId: item.workspaceId, connectionId: item.connectionId, kind: 'telegram', settings: item.settings, secrets },
      `${deps.hooksBaseUrl}${webhookPath(item)}`,
    );
    return botUsername;
  } catch (error) {
    if (!(error instanceof ProviderSendError)) throw error;
    throw unprocessable(`Telegram refused the webhook: ${error.message}`, {
      reason: error.retryable ? 'provider_unavailable' : 'provider_refused',
      providerCode: error.code,
    });
  }
}

/** A connection's secrets in clear: those given now over those stored (opened). */
async function clearSecrets(deps: ConnectionDeps, item: ChannelConnectionItem, given: Record<string, string | undefined>) {
  const names = new Set([...Object.keys(item.secrets), ...Object.keys(given)]);
  const entries = await Promise.all(
    [...names].map(async (name) => [name, given[name] ?? (await openConnectionSecret(deps, item, name))] as const),
  );
  return Object.fromEntries(entries.filter((entry): entry is [string, string] => entry[1] !== undefined));
}

async function commitConnection(
  deps: CoreDeps,
  before: ChannelConnectionItem | undefined,
  after: ChannelConnectionItem,
  event: EventRecord,
): Promise<void> {
  // An email connection holds its domains against other workspaces (mail-claims.ts), in the same transaction.
  const claims =
    after.kind === 'email'
      ? await mailClaimOps(deps, after.workspaceId, after.settings, before?.settings, await otherMailClaims(deps, after), event.createdAt)
      : undefined;
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
      ...(claims?.(tx) ?? []),
    ],
    () => (before ? lostRace('The channel connection') : conflict('already_exists', 'A channel connection with this id already exists')),
  );
}

/** The mail claims of the workspace's other email connections (they may share a domain, which then stays held). */
async function otherMailClaims(deps: CoreDeps, connection: ChannelConnectionItem): Promise<Set<string>> {
  const { data } = await deps.db.entities.channelConnection.query.byWorkspace({ workspaceId: connection.workspaceId }).go({ pages: 'all' });
  return new Set(
    (data as ChannelConnectionItem[])
      .filter((other) => other.kind === 'email' && other.connectionId !== connection.connectionId)
      .flatMap((other) => mailClaimsOf(other.settings).map((claim) => claim.value)),
  );
}

const manage = (caller: CallerContext) => requireManager(caller, 'manage channel connections');

/**
 * Connects a channel: its settings stored as given, each credential sealed (bound to this workspace,
 * connection and name), a Telegram webhook secret token generated when none is given. Appends
 * `channel.connected` (no credentials in it). Owner/admin only. A Telegram bot is pointed at the
 * connection's webhook first (`setWebhook` with the secret token): a token Telegram refuses is a 422.
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
  const botUsername = await registerTelegramWebhook(deps, { ...ids, kind: input.kind, settings }, dropUndefined(given));
  if (botUsername) settings.botUsername = botUsername;
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

const dropUndefined = (values: Record<string, string | undefined>) =>
  Object.fromEntries(Object.entries(values).filter((entry): entry is [string, string] => entry[1] !== undefined));

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
  if (before.kind === 'telegram' && secretsReplaced.length > 0 && before.status === 'active') {
    const botUsername = await registerTelegramWebhook(deps, { ...before, settings }, await clearSecrets(deps, before, replaced));
    if (botUsername) {
      // Telegram's word for the bot's username wins over the caller's.
      settings.botUsername = botUsername;
      const from = before.settings.botUsername ?? null;
      if (from === botUsername) delete changes['settings.botUsername'];
      else changes['settings.botUsername'] = { from, to: botUsername };
    }
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
  // Reconnecting a bot points it at the webhook again (it may have been pointed elsewhere meanwhile).
  if (status === 'active') await registerTelegramWebhook(deps, before, await clearSecrets(deps, before, {}));
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
