import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { CompanyItem } from '../companies/company-record';
import type { ContactItem } from '../contacts/contact-record';
import type { CoreDeps } from '../shared/deps';
import { batchGetAll } from '../store/batch-get';
import type { ContactSegmentsItem } from './membership.service';

/** A contact with the memberships item that follows it on the index (undefined: in no segment yet). */
export interface ContactPageEntry {
  contact: ContactItem;
  memberships: ContactSegmentsItem | undefined;
}

export interface ContactPage {
  entries: ContactPageEntry[];
  /** The companies of the page's contacts, when asked for (rules reading company fields). */
  companies: ReadonlyMap<string, CompanyItem>;
  /** Where the next page starts; undefined after the last. */
  nextStartKey: Record<string, unknown> | undefined;
}

/** Items a page reads: about 1 MB of contacts (DynamoDB's own cap per Query). */
export const contactPageLimit = 1000;

/**
 * One page of every contact of the workspace with its segment memberships: one Query of gsi3
 * (`WS#<ws>#CONTACTS`, each contact `<id>#C` followed by its memberships `<id>#S`). A page that ends
 * between a contact and its memberships reads those with one GetItem. Eventually consistent, as any
 * index: writes made from it are conditional on the memberships item's version.
 */
export async function readContactPage(
  deps: CoreDeps,
  workspaceId: string,
  startKey: Record<string, unknown> | undefined,
  options: { withCompanies?: boolean; limit?: number } = {},
): Promise<ContactPage> {
  const page = await deps.db.client.send(
    new QueryCommand({
      TableName: deps.db.table,
      IndexName: 'gsi3',
      KeyConditionExpression: 'gsi3pk = :pk',
      ExpressionAttributeValues: { ':pk': `WS#${workspaceId}#CONTACTS` },
      Limit: options.limit ?? contactPageLimit,
      ...(startKey ? { ExclusiveStartKey: startKey } : {}),
    }),
  );
  const entries: ContactPageEntry[] = [];
  const byId = new Map<string, ContactPageEntry>();
  for (const item of page.Items ?? []) {
    const kind = item.__edb_e__ as string | undefined;
    if (kind === 'contact') {
      const entry = { contact: item as unknown as ContactItem, memberships: undefined };
      entries.push(entry);
      byId.set(entry.contact.contactId, entry);
    } else if (kind === 'contactSegments') {
      const entry = byId.get(item.contactId as string);
      if (entry) entry.memberships = item as unknown as ContactSegmentsItem;
    }
  }
  const nextStartKey = page.LastEvaluatedKey;
  const last = entries.at(-1);
  if (nextStartKey && last && !last.memberships && (page.Items ?? []).at(-1)?.__edb_e__ === 'contact') {
    const { data } = await deps.db.entities.contactSegments.get({ workspaceId, contactId: last.contact.contactId }).go();
    last.memberships = (data as ContactSegmentsItem | null) ?? undefined;
  }
  const companies = new Map<string, CompanyItem>();
  if (options.withCompanies) {
    const ids = [...new Set(entries.flatMap((entry) => (entry.contact.companyId ? [entry.contact.companyId] : [])))];
    const found = await batchGetAll(
      ids.map((companyId) => ({ workspaceId, companyId })),
      (keys) => deps.db.entities.company.get(keys).go(),
    );
    for (const company of found as CompanyItem[]) companies.set(company.companyId, company);
  }
  return { entries, companies, nextStartKey };
}
