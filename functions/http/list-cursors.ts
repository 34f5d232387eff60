import type { CallerContext } from '../../domain/shared/context';
import type { SecretStore } from '../../domain/shared/ports';
import { createCursorSeal, type CursorBinding, type CursorSeal } from '../../domain/shared/sealed-cursor';
import { getSecretStore } from '../shared/deps';
import { takesCursor, type RouteDefinition } from './route-definition';

/**
 * Cursors at the HTTP boundary. A list's own cursor (an ElectroDB key, a position, a fingerprint)
 * never reaches the client: `nextCursor` goes out sealed (domain/shared/sealed-cursor.ts) and bound
 * to the workspace, the route, its path parameters and its filters, and a `cursor` coming in is
 * opened with the same binding, or refused as 400 `invalid_cursor` before the operation runs.
 */

type ListRoute = Pick<RouteDefinition, 'method' | 'query'> & { operationId: string };
interface Request {
  caller?: CallerContext;
  params: unknown;
  query: unknown;
}

const seals = new WeakMap<SecretStore, Promise<CursorSeal>>();

/** The seal of this deployment's key: the key is read and derived once per cold start. */
function currentSeal(): Promise<CursorSeal> {
  const store = getSecretStore();
  let seal = seals.get(store);
  if (!seal) {
    seal = store.get('cursor-key').then(createCursorSeal);
    seal.catch(() => seals.delete(store));
    seals.set(store, seal);
  }
  return seal;
}

function bindingOf(operationId: string, { caller, params, query }: Request): CursorBinding {
  const { cursor: _cursor, limit: _limit, ...filters } = query as Record<string, unknown>;
  return {
    workspaceId: caller?.workspaceId ?? '',
    route: operationId,
    params: (params ?? {}) as Record<string, unknown>,
    filters,
  };
}

/** Before the operation: replaces the client's sealed `query.cursor` with the list's own. */
export async function openListCursor(route: ListRoute, request: Request): Promise<void> {
  const query = request.query as { cursor?: unknown };
  if (!takesCursor(route) || typeof query.cursor !== 'string') return;
  query.cursor = (await currentSeal()).open(query.cursor, bindingOf(route.operationId, request));
}

/** After the operation: the result with its `nextCursor` sealed for the same route and query. */
export async function sealNextCursor(route: ListRoute, request: Request, result: unknown): Promise<unknown> {
  if (!takesCursor(route) || result === null || typeof result !== 'object') return result;
  const next = (result as { nextCursor?: unknown }).nextCursor;
  if (typeof next !== 'string') return result;
  return { ...result, nextCursor: (await currentSeal()).seal(next, bindingOf(route.operationId, request)) };
}

/**
 * A cursor an operation hands out for another list route (a board column goes on at
 * `listStageDeals`), sealed as that route will open it: its params and query go through its schemas.
 * `table` is a route file's object holding that route (a handler's bundle has no whole route table).
 */
export async function sealCursorFor<T extends Record<string, RouteDefinition>>(
  caller: CallerContext,
  table: T,
  target: { operationId: keyof T & string; params?: Record<string, string>; query?: Record<string, unknown> },
  inner: string | null,
): Promise<string | null> {
  if (inner === null) return null;
  const route: RouteDefinition = table[target.operationId]!;
  if (!takesCursor(route)) throw new Error(`${target.operationId} takes no cursor`);
  const request = {
    caller,
    params: route.params ? route.params.parse(target.params ?? {}) : {},
    query: route.query!.parse(target.query ?? {}),
  };
  return (await currentSeal()).seal(inner, bindingOf(target.operationId, request));
}
