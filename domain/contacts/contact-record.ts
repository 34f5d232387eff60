import { nameSortKey } from '../shared/text';
import { tagKey } from '../tags/tag-names';
import type { ChannelKind } from './channels';
import type { Contact, ContactSummary } from './contacts.schemas';
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
  searchTokens?: string[];
  createdBy: string;
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

/** Lists are spread over this many partitions; a page reads all of them in parallel. */
export const contactListShards = 4;

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
    qualification: item.qualification ? { ...item.qualification, score: item.qualification.score ?? null } : null,
    createdBy: item.createdBy,
    version: item.version,
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
  };
}

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

/** FNV-1a: a stable, even spread of contact ids over the list shards. */
export function shardOf(contactId: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < contactId.length; index += 1) {
    hash ^= contactId.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % contactListShards;
}

export type ContactSort = 'name' | 'created' | 'updated';
export const sortPrefix: Record<ContactSort, string> = { name: 'n#', created: 'c#', updated: 'u#' };

export const statusList = (status: ContactItem['status']) => status;
export const ownerList = (ownerId: string | undefined, status: ContactItem['status']) =>
  `owner:${ownerId ?? 'none'}:${status}`;
/** A company's contacts (domain/companies): served by key, like the owner lists. */
export const companyList = (companyId: string, status: ContactItem['status']) => `company:${companyId}:${status}`;

export interface ListEntry {
  workspaceId: string;
  list: string;
  shard: number;
  sortKey: string;
  contactId: string;
  summary: ContactSummary;
}

/** Every list entry a contact has: its status list, its owner list and its company's list, each under every sort. Plus one entry per tag (name sort only). */
export function listEntriesOf(item: ContactItem): ListEntry[] {
  const shard = shardOf(item.contactId);
  const summary = toSummary(item);
  const sortKeys = [
    `${sortPrefix.name}${nameSortKey(item.name)}#${item.contactId}`,
    `${sortPrefix.created}${item.createdAt}#${item.contactId}`,
    `${sortPrefix.updated}${item.updatedAt}#${item.contactId}`,
  ];
  const lists = [statusList(item.status), ownerList(item.ownerId, item.status)];
  if (item.companyId) lists.push(companyList(item.companyId, item.status));
  return lists.flatMap((list) =>
    sortKeys.map((sortKey) => ({ workspaceId: item.workspaceId, list, shard, sortKey, contactId: item.contactId, summary })),
  ).concat(tagEntriesOf(item, shard, sortKeys[0]!, summary));
}

/**
 * A tag's contacts: `tag:<tag key>:<status>`, under the name sort only, so a tag costs one entry per
 * contact (the budget this sets on a contact's transaction is worked out at `maxTagsPerContact`).
 */
export const tagList = (key: string, status: ContactItem['status']) => `tag:${key}:${status}`;

function tagEntriesOf(item: ContactItem, shard: number, byName: string, summary: ContactSummary): ListEntry[] {
  const keys = new Set((item.tags ?? []).map(tagKey));
  return [...keys].map((key) => ({
    workspaceId: item.workspaceId,
    list: tagList(key, item.status),
    shard,
    sortKey: byName,
    contactId: item.contactId,
    summary,
  }));
}

export const entryKey = (entry: Pick<ListEntry, 'list' | 'shard' | 'sortKey'>) => `${entry.list}|${entry.shard}|${entry.sortKey}`;

export function tokensOf(item: Pick<ContactItem, 'name' | 'companyName' | 'channels'>): string[] {
  return searchTokens({ name: item.name, companyName: item.companyName ?? null, channels: item.channels });
}

export const tokenItem = (workspaceId: string, contactId: string, token: string) => ({
  workspaceId,
  partition: searchPartition(token),
  token,
  contactId,
});
