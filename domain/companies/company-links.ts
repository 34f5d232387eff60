import { emailDomain } from '../contacts/channels';
import type { ChannelItem } from '../contacts/contact-record';
import type { CoreDeps } from '../shared/deps';
import { invalidReference } from '../shared/errors';
import { batchGetAll } from '../store/batch-get';
import { companyDomainScope } from './company-domains';
import { findCompany, type CompanyItem } from './company-record';
import { isFreeMailDomain } from './free-mail-domains';
import { nameSortKey } from '../shared/text';

/** What a contact carries of its company: the link, and the company's name as its `companyName`. */
export interface CompanyLink {
  companyId: string;
  companyName: string;
}

/** A merge chain longer than this is a bug, not data: stop following it. */
const maxMergeHops = 5;

const linkOf = (company: CompanyItem): CompanyLink => ({
  companyId: company.companyId,
  companyName: company.name,
});

/** The company holding a domain (one GetItem on its guard), when there is one. */
export async function findCompanyIdByDomain(
  deps: CoreDeps,
  workspaceId: string,
  domain: string,
): Promise<string | undefined> {
  const { data } = await deps.db.entities.uniqueGuard
    .get({ workspaceId, scope: companyDomainScope, value: domain })
    .go();
  return data?.ownerId;
}

/**
 * The one active company whose name reads as `name` (case, accents and spacing aside: the name
 * index's key), by one Query on that index; none when no company or two of them have that name.
 */
export async function findCompanyByName(deps: CoreDeps, workspaceId: string, name: string): Promise<CompanyItem | undefined> {
  const key = nameSortKey(name);
  if (key === nameSortKey('')) return undefined; // no letters or digits: no name to match
  const { data } = await deps.db.entities.company.query
    .byName({ workspaceId, status: 'active' })
    .begins({ nameKey: `${key}#` })
    .go({ limit: 2 });
  return data.length === 1 ? (data[0] as CompanyItem) : undefined;
}

/**
 * The company a contact should be linked to, for a contact being created or changed:
 * - `requested` (the input's `companyId`): null unlinks; an id links to that company of the
 *   workspace (a merged company's link goes to the company it was merged into; an archived one, or
 *   one that does not exist, is a 422 `invalid_reference` on `body.companyId`);
 * - otherwise, when the contact has no company: the one active company named as the request's
 *   `companyName` (case, accents and spacing aside); else, when `channels` are given (created, or its
 *   channels changed), domain auto-match. The primary email's domain, unless a free mailbox provider's, is
 *   looked up on the company-domain guards (one GetItem) and, when an active company holds it,
 *   the contact is linked to it (one more GetItem, for its name).
 * Returns the link to set, null to remove the link, or undefined to leave the contact as it is.
 */
export async function resolveContactCompany(
  deps: CoreDeps,
  workspaceId: string,
  args: {
    requested: string | null | undefined;
    current: string | undefined;
    channels: ChannelItem[] | undefined;
    /** The company as written (`companyName`) in this request. */
    name?: string | null;
  },
): Promise<CompanyLink | null | undefined> {
  if (args.requested === null) return args.current ? null : undefined;
  if (args.requested !== undefined) return linkOf(await linkableCompany(deps, workspaceId, args.requested));
  if (args.current) return undefined;
  if (args.name) {
    const named = await findCompanyByName(deps, workspaceId, args.name);
    if (named) return linkOf(named);
  }
  if (!args.channels) return undefined;
  const domain = autoMatchDomain(args.channels);
  if (!domain) return undefined;
  const companyId = await findCompanyIdByDomain(deps, workspaceId, domain);
  const company = companyId ? await findCompany(deps, workspaceId, companyId) : undefined;
  return company && company.status === 'active' ? linkOf(company) : undefined;
}

/** The domain a contact's channels auto-match companies by: the primary email's, unless a free mailbox provider's. */
export function autoMatchDomain(channels: readonly ChannelItem[]): string | undefined {
  const email = channels.find((channel) => channel.kind === 'email' && channel.primary)?.normalized;
  if (!email) return undefined;
  const domain = emailDomain(email);
  return isFreeMailDomain(domain) ? undefined : domain;
}

/**
 * `resolveContactCompany`'s domain auto-match for many contacts at once (an import's chunk): the
 * company-domain guards of the distinct domains by BatchGetItem, then the companies they name by
 * another; a domain maps to the link of the active company holding it, or to undefined.
 */
export async function companyLinksByDomain(
  deps: CoreDeps,
  workspaceId: string,
  domains: Iterable<string>,
): Promise<Map<string, CompanyLink | undefined>> {
  const wanted = [...new Set(domains)].filter((domain) => !isFreeMailDomain(domain));
  const guards = await batchGetAll(
    wanted.map((value) => ({ workspaceId, scope: companyDomainScope, value })),
    (keys) => deps.db.entities.uniqueGuard.get(keys).go({ concurrent: 8 }),
  );
  const holders = new Map(guards.map((guard) => [guard.value, guard.ownerId]));
  const found = await batchGetAll(
    [...new Set(holders.values())].map((companyId) => ({ workspaceId, companyId })),
    (keys) => deps.db.entities.company.get(keys).go({ concurrent: 8 }),
  );
  const companies = new Map((found as CompanyItem[]).map((company) => [company.companyId, company]));
  const links = new Map<string, CompanyLink | undefined>();
  for (const domain of wanted) {
    const company = companies.get(holders.get(domain) ?? '');
    links.set(domain, company && company.status === 'active' ? linkOf(company) : undefined);
  }
  return links;
}

async function linkableCompany(deps: CoreDeps, workspaceId: string, companyId: string): Promise<CompanyItem> {
  let id = companyId;
  for (let hop = 0; hop <= maxMergeHops; hop += 1) {
    const company = await findCompany(deps, workspaceId, id);
    if (!company) throw invalidReference('body.companyId', 'No company with this id in the workspace');
    if (company.status === 'active') return company;
    if (!company.mergedInto)
      throw invalidReference('body.companyId', 'This company is archived: unarchive it to link contacts to it');
    id = company.mergedInto;
  }
  throw invalidReference(
    'body.companyId',
    'This company was merged too many times over: link the company it ended in',
  );
}
