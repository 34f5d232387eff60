import type { CoreDeps } from '../../shared/deps';
import { conflict } from '../../shared/errors';
import type { TxEntities } from '../../store/db';
import { claimGuard, releaseGuard } from '../../store/unique-guard-ops';

/**
 * One SES account and its topics serve every workspace: the mail of a domain (or of an address
 * identity) may be received and sent by one workspace only, or another could read its inbound mail
 * and send as it. An email connection's SES identity and reply domain are each held by a guard item
 * outside any workspace, owned by the workspace (its other email connections may share them).
 */
const guardSpace = '_mail';
const guardKey = (value: string) => ({ workspaceId: guardSpace, scope: 'mail', value });

/** What an email connection receives and sends for: its SES identity (a domain or an address) and its reply domain. */
export function mailClaimsOf(settings: Record<string, unknown>): { value: string; field: string }[] {
  const claims = [
    { value: settings.sesIdentity, field: 'body.settings.sesIdentity' },
    { value: settings.replyDomain, field: 'body.settings.replyDomain' },
  ].flatMap(({ value, field }) => (typeof value === 'string' && value !== '' ? [{ value: value.toLowerCase(), field }] : []));
  return claims.filter((claim, index) => claims.findIndex((other) => other.value === claim.value) === index);
}

/**
 * The guard operations for a connection's new claims (`after`), releasing the ones it gave up that no
 * other email connection of the workspace (`keptByOthers`) still uses. A value another workspace holds
 * is a 409 `domain_taken` naming the field; a race for a free one fails the transaction (a 409 too).
 */
export async function mailClaimOps(
  deps: CoreDeps,
  workspaceId: string,
  after: Record<string, unknown>,
  before: Record<string, unknown> | undefined,
  keptByOthers: ReadonlySet<string>,
  at: string,
): Promise<(tx: TxEntities) => ReturnType<typeof claimGuard>[]> {
  const wanted = mailClaimsOf(after);
  const previous = before ? mailClaimsOf(before).map((claim) => claim.value) : [];
  const { data } =
    wanted.length > 0
      ? await deps.db.entities.uniqueGuard.get(wanted.map(({ value }) => guardKey(value))).go({ consistent: true })
      : { data: [] };
  const holders = new Map((data as { value: string; ownerId: string }[]).map((guard) => [guard.value, guard.ownerId]));
  for (const { value, field } of wanted) {
    const holder = holders.get(value);
    if (holder !== undefined && holder !== workspaceId) {
      throw conflict('domain_taken', `${value} is another workspace's email identity: a domain's mail goes to one workspace`, {
        fields: [{ field, message: `${value} is held by another workspace` }],
      });
    }
  }
  const toClaim = wanted.filter(({ value }) => !holders.has(value)).map(({ value }) => value);
  const wantedValues = new Set(wanted.map(({ value }) => value));
  const toRelease = previous.filter((value) => !wantedValues.has(value) && !keptByOthers.has(value));
  return (tx) => [
    ...toClaim.map((value) => claimGuard(tx, guardKey(value), workspaceId, at)),
    ...toRelease.map((value) => releaseGuard(tx, guardKey(value), workspaceId)),
  ];
}
