import type { CoreDeps } from '../shared/deps';
import { notFound } from '../shared/errors';
import { nameSortKey } from '../shared/text';
import type { Company } from './companies.schemas';

/** Head count bands. Here, not in companies.schemas.ts, so that segment rules can name them without building the company schemas. */
export const companySizes = [
  '1-10',
  '11-50',
  '51-200',
  '201-500',
  '501-1000',
  '1001-5000',
  '5001-10000',
  '10001+',
] as const;

/** The company item as stored. */
export interface CompanyItem {
  workspaceId: string;
  companyId: string;
  name: string;
  nameKey: string;
  /** The keys of its companyNameWord items (company-name-words.ts); absent when it has none. */
  nameWords?: string[];
  domains: string[];
  website?: string;
  industry?: string;
  size?: (typeof companySizes)[number];
  city?: string;
  state?: string;
  country?: string;
  ownerId?: string;
  status: 'active' | 'archived';
  archivedAt?: string;
  mergedInto?: string;
  createdBy: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** The sort key of the by-name list: folded name, then the id so equal names keep a stable order. */
export const companyNameKey = (name: string, companyId: string) => `${nameSortKey(name)}#${companyId}`;

export function toCompany(item: CompanyItem): Company {
  return {
    id: item.companyId,
    name: item.name,
    domains: item.domains,
    website: item.website ?? null,
    industry: item.industry ?? null,
    size: item.size ?? null,
    city: item.city ?? null,
    state: item.state ?? null,
    country: item.country ?? null,
    ownerId: item.ownerId ?? null,
    status: item.status,
    archivedAt: item.archivedAt ?? null,
    mergedInto: item.mergedInto ?? null,
    createdBy: item.createdBy,
    version: item.version,
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
  };
}

/** One GetItem; undefined when the workspace has no such company. `consistent` before a conditional write. */
export async function findCompany(
  deps: CoreDeps,
  workspaceId: string,
  companyId: string,
  consistent = false,
): Promise<CompanyItem | undefined> {
  const { data } = await deps.db.entities.company.get({ workspaceId, companyId }).go({ consistent });
  return (data as CompanyItem | null) ?? undefined;
}

export async function readCompany(
  deps: CoreDeps,
  workspaceId: string,
  companyId: string,
  consistent = false,
): Promise<CompanyItem> {
  const item = await findCompany(deps, workspaceId, companyId, consistent);
  if (!item) throw notFound('Company');
  return item;
}
