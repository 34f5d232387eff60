import { nameSortKey } from '../shared/text';
import { tagKey } from '../tags/tag-names';
import type { ChannelKind } from './channels';
import type { Contact, ContactSearchHit, ContactSummary } from './contacts.schemas';
import { searchPartition, searchTokens } from './search-tokens';

/** The contact item as stored. */
export interface ContactItem {
  workspaceId: string;
  contactId: string;
  name: string;
  jobTitle?: string;
  role?: string;
  segment?: string;
  city?: string;
  state?: string;
  country?: string;
  companyId?: string;
  companyName?: string;
  ownerId?: string;
  status: 'active' | 'archived';
  archivedAt?: string;
  mergedInto?: string;
  /** On a merge target: one record per contact merged into it. */
  mergedFrom?: MergedFromItem[];
  suppressed: boolean;
  suppressedAt?: string;
  suppressedReason?: string;
  channels: ChannelItem[];
  tags?: string[];
  customFields?: Record<string, unknown>;
  /** The latest score and qualification; their histories are contactScore / contactQualification items. */
  score?: CurrentScoreItem;
  qualification?: CurrentQualificationItem;
  /** productId -> fit score 0–100 (domain/fit). */
  fitScores?: Record<string, number>;
  searchTokens?: string[];
  createdBy: string;
  /** The import job that created the contact (domain/imports/import-writer.ts). */
  importJobId?: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface CurrentScoreItem {
  id: string;
  value: number;
  source: string;
  userId: string;
  at: string;
}

export interface CurrentQualificationItem {
  id: string;
  kind: string;
  score?: number;
  source: 'manual' | 'ai';
  confidence?: number;
  userId: string;
  at: string;
}

/** What one contact merged into this one brought: the channels and tags it had, the fields it filled. */
export interface MergedFromItem {
  contactId: string;
  name: string;
  mergedAt: string;
  channels: { kind: ChannelKind; normalized: string }[];
  tags: string[];
  /** The fields it filled on the target (`jobTitle`, `customFields.<key>`, ...). */
  fields: string[];
  /** Contacts merged earlier into it, at any depth. */
  mergedContactIds: string[];
}

export interface ChannelItem {
  channelId: string;
  kind: ChannelKind;
  value: string;
  normalized: string;
  label?: string;
  primary: boolean;
}

/** The guard scope holding a channel value unique in its workspace. */
export const channelScope = (kind: ChannelKind) => `channel:${kind}`;

const primaryOf = (item: Pick<ContactItem, 'channels'>, kind: ChannelKind) =>
  item.channels.find((channel) => channel.kind === kind && channel.primary)?.normalized ?? null;

export function toContact(item: ContactItem): Contact {
  return {
    id: item.contactId,
    name: item.name,
    jobTitle: item.jobTitle ?? null,
    role: item.role ?? null,
    segment: item.segment ?? null,
    city: item.city ?? null,
    state: item.state ?? null,
    country: item.country ?? null,
    companyId: item.companyId ?? null,
    companyName: item.companyName ?? null,
    ownerId: item.ownerId ?? null,
    status: item.status,
    archivedAt: item.archivedAt ?? null,
    mergedInto: item.mergedInto ?? null,
    mergedFrom: item.mergedFrom ?? [],
    suppressed: item.suppressed,
    suppressedAt: item.suppressedAt ?? null,
    suppressedReason: item.suppressedReason ?? null,
    email: primaryOf(item, 'email'),
    phone: primaryOf(item, 'phone'),
    channels: item.channels.map((channel) => ({
      id: channel.channelId,
      kind: channel.kind,
      value: channel.value,
      normalized: channel.normalized,
      label: channel.label ?? null,
      primary: channel.primary,
    })),
    tags: item.tags ?? [],
    customFields: item.customFields ?? {},
    score: item.score ?? null,
    qualification: item.qualification
      ? { ...item.qualification, score: item.qualification.score ?? null, confidence: item.qualification.confidence ?? null }
      : null,
    fitScores: item.fitScores ?? {},
    createdBy: item.createdBy,
    version: item.version,
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
  };
}

/** A summary as stored on an entry (a DynamoDB map: its keys come back in any order), in the API's order. */
export const storedSummary = (stored: ContactSummary): ContactSummary => ({ ...storedHit(stored), updatedAt: stored.updatedAt });

/** A search hit as stored on a token, in the API's order. */
export const storedHit = (stored: ContactSearchHit): ContactSearchHit => ({
  id: stored.id,
  name: stored.name,
  companyName: stored.companyName,
  ownerId: stored.ownerId,
  status: stored.status,
  suppressed: stored.suppressed,
  email: stored.email,
  phone: stored.phone,
  createdAt: stored.createdAt,
});

export function toSummary(item: ContactItem): ContactSummary {
  return {
    id: item.contactId,
    name: item.name,
    companyName: item.companyName ?? null,
    ownerId: item.ownerId ?? null,
    status: item.status,
    suppressed: item.suppressed,
    email: primaryOf(item, 'email'),
    phone: primaryOf(item, 'phone'),
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
  };
}

export type ContactSort = 'name' | 'created' | 'updated';
/** The code of each sort in list partition keys. */
export type ListSort = 'n' | 'c' | 'u';
export const listSort: Record<ContactSort, ListSort> = { name: 'n', created: 'c', updated: 'u' };

export const statusList = (status: ContactItem['status']) => status;
export const ownerList = (ownerId: string | undefined, status: ContactItem['status']) =>
  `owner:${ownerId ?? 'none'}:${status}`;
/** A company's contacts (domain/companies): served by key, like the owner lists. */
export const companyList = (companyId: string, status: ContactItem['status']) => `company:${companyId}:${status}`;
/** The suppressed contacts: a sparse list (only suppressed contacts have entries), so `suppressed=true` is a key. */
export const suppressedList = (status: ContactItem['status']) => `suppressed:${status}`;
/**
 * A tag's contacts: `tag:<tag key>:<status>`, under the name sort only, so a tag costs one entry per
 * contact (the budget this sets on a contact's transaction is worked out at `maxTagsPerContact`).
 */
export const tagList = (key: string, status: ContactItem['status']) => `tag:${key}:${status}`;

/**
 * One contact's place in one list under one sort: partition `<list>#<sort>`, sort key
 * `<sort value>#<contactId>`. One partition per list and sort keeps a page to one Query; each
 * partition takes one write per contact change, so an import can write ~500 contacts/s (a partition
 * accepts ~1,000 write units/s, a transactional write costs 2) before one list partition throttles.
 */
export interface ListEntry {
  workspaceId: string;
  list: string;
  sort: ListSort;
  sortKey: string;
  contactId: string;
  summary: ContactSummary;
}

/**
 * Every list entry a contact has: its status list, its owner list, its company's list and (when
 * suppressed) the suppressed list, each under every sort; plus one entry per tag (name sort only).
 */
export function listEntriesOf(item: ContactItem): ListEntry[] {
  const summary = toSummary(item);
  const sortKeys: Record<ListSort, string> = {
    n: `${nameSortKey(item.name)}#${item.contactId}`,
    c: `${item.createdAt}#${item.contactId}`,
    u: `${item.updatedAt}#${item.contactId}`,
  };
  const entry = (list: string, sort: ListSort): ListEntry => ({
    workspaceId: item.workspaceId,
    list,
    sort,
    sortKey: sortKeys[sort],
    contactId: item.contactId,
    summary,
  });
  const lists = [statusList(item.status), ownerList(item.ownerId, item.status)];
  if (item.companyId) lists.push(companyList(item.companyId, item.status));
  if (item.suppressed) lists.push(suppressedList(item.status));
  const tagKeys = new Set((item.tags ?? []).map(tagKey));
  return [
    ...lists.flatMap((list) => (['n', 'c', 'u'] as const).map((sort) => entry(list, sort))),
    ...[...tagKeys].map((key) => entry(tagList(key, item.status), 'n')),
  ];
}

export const entryKey = (entry: Pick<ListEntry, 'list' | 'sort' | 'sortKey'>) => `${entry.list}|${entry.sort}|${entry.sortKey}`;

export function tokensOf(item: Pick<ContactItem, 'name' | 'companyName' | 'channels'>): string[] {
  return searchTokens({ name: item.name, companyName: item.companyName ?? null, channels: item.channels });
}

/**
 * What a search token carries of its contact, so a search page is one Query: the summary without
 * `updatedAt`, which would make every change of the contact rewrite all its tokens.
 */
export function toSearchHit(item: ContactItem): ContactSearchHit {
  const { updatedAt: _updatedAt, ...hit } = toSummary(item);
  return hit;
}

export const tokenItem = (
  item: ContactItem,
  token: string,
  hit: ContactSearchHit = toSearchHit(item),
  earlier: string[] = earlierTokens(item.searchTokens ?? [], token),
) => ({
  workspaceId: item.workspaceId,
  partition: searchPartition(token),
  token,
  contactId: item.contactId,
  hit,
  ...(earlier.length > 0 ? { earlier } : {}),
});

/**
 * The tokens of `tokens` whose items sort before `token`'s in its partition: DynamoDB orders sort keys
 * (`<token>#<contactId>`, one contact) by their UTF-8 bytes, so "ana lopez" comes before "ana".
 */
export function earlierTokens(tokens: readonly string[], token: string): string[] {
  const partition = searchPartition(token);
  const key = Buffer.from(`${token}#`);
  return tokens.filter(
    (other) => other !== token && searchPartition(other) === partition && Buffer.compare(Buffer.from(`${other}#`), key) < 0,
  );
}
