/**
 * The connections webhooks name, kept a short while per cold start with the credentials the checks
 * need already opened: a busy connection's webhooks then cost no lookup and no KMS Decrypt each. A
 * connection changed meanwhile (a secret replaced, a disconnection) is seen within `ttlMs`; until then
 * a request signed with a new secret is refused and the provider retries it. Unknown ids are not kept.
 */
import type { CoreDeps } from '../../shared/deps';
import type { SecretSealer } from '../../shared/ports';
import {
  findConnectionForWebhook,
  openConnectionSecret,
  type ChannelConnectionItem,
} from '../connections/channel-connections.service';

/** A connection and its opened credentials (by secret name). */
export interface OpenedHookConnection {
  item: ChannelConnectionItem;
  secret(name: string): Promise<string | undefined>;
}

export interface ConnectionCache {
  get(provider: string, connectionId: string): Promise<OpenedHookConnection | undefined>;
}

/** No cache: every request reads the connection and opens its secrets. */
export const uncachedConnections = (deps: CoreDeps & { sealer: SecretSealer }): ConnectionCache => ({
  async get(provider, connectionId) {
    const item = await findConnectionForWebhook(deps, provider, connectionId);
    return item ? { item, secret: (name) => openConnectionSecret(deps, item, name) } : undefined;
  },
});

export function cachedConnections(
  deps: CoreDeps & { sealer: SecretSealer },
  options: { ttlMs?: number; maxEntries?: number } = {},
): ConnectionCache {
  const ttlMs = options.ttlMs ?? 60_000;
  const maxEntries = options.maxEntries ?? 500;
  const entries = new Map<string, { expiresAt: number; connection: Promise<OpenedHookConnection | undefined> }>();
  return {
    get(provider, connectionId) {
      const key = `${provider}/${connectionId}`;
      const now = deps.clock.nowMs();
      const hit = entries.get(key);
      if (hit && hit.expiresAt > now) return hit.connection;
      const connection = (async () => {
        const item = await findConnectionForWebhook(deps, provider, connectionId);
        if (!item) return undefined;
        const opened = new Map<string, Promise<string | undefined>>();
        return {
          item,
          secret(name: string) {
            let value = opened.get(name);
            if (!value) {
              value = openConnectionSecret(deps, item, name);
              opened.set(name, value);
              value.catch(() => opened.delete(name));
            }
            return value;
          },
        };
      })();
      entries.set(key, { expiresAt: now + ttlMs, connection });
      // Unknown ids and failed reads are not kept (a new connection is found at once; a failure retried).
      connection.then(
        (found) => {
          if (!found) entries.delete(key);
        },
        () => entries.delete(key),
      );
      while (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
      return connection;
    },
  };
}
