import type { TxEntities } from '../store/db';
import { searchPartition } from './search-tokens';
import { earlierTokens, entryKey, listEntriesOf, toSearchHit, tokenItem, type ContactItem } from './contact-record';

/** One item of a contact transaction, built inside `db.transactWrite`. */
export type ContactOp = (tx: TxEntities) => unknown;

/**
 * The list entries and search tokens a contact change rewrites: entries whose key went away are
 * deleted, new or changed ones put; tokens that went away are deleted, new ones put, and the others
 * rewritten when what they carry of the contact changed (its hit, or its tokens that sort before them).
 * `before` is undefined for a new contact.
 */
export function contactIndexOps(before: ContactItem | undefined, after: ContactItem): ContactOp[] {
  const { workspaceId, contactId } = after;
  const afterEntries = listEntriesOf(after);
  const afterKeys = new Set(afterEntries.map(entryKey));
  const beforeEntries = before ? listEntriesOf(before) : [];
  const beforeByKey = new Map(beforeEntries.map((entry) => [entryKey(entry), entry]));
  const staleEntries = beforeEntries.filter((entry) => !afterKeys.has(entryKey(entry)));
  const changedEntries = afterEntries.filter((entry) => {
    const previous = beforeByKey.get(entryKey(entry));
    return !previous || JSON.stringify(previous.summary) !== JSON.stringify(entry.summary);
  });
  const beforeTokens = new Set(before?.searchTokens ?? []);
  const afterTokens = new Set(after.searchTokens ?? []);
  const hit = toSearchHit(after);
  const hitChanged = !before || JSON.stringify(toSearchHit(before)) !== JSON.stringify(hit);
  return [
    ...staleEntries.map<ContactOp>(
      (entry) => (tx) =>
        tx.contactListEntry.delete({ workspaceId, list: entry.list, sort: entry.sort, sortKey: entry.sortKey }).commit(),
    ),
    ...changedEntries.map<ContactOp>((entry) => (tx) => tx.contactListEntry.put(entry).commit()),
    ...[...beforeTokens]
      .filter((token) => !afterTokens.has(token))
      .map<ContactOp>(
        (token) => (tx) => tx.contactSearchToken.delete({ workspaceId, partition: searchPartition(token), token, contactId }).commit(),
      ),
    ...[...afterTokens]
      .map((token) => ({ token, earlier: earlierTokens([...afterTokens], token) }))
      .filter(
        ({ token, earlier }) =>
          hitChanged ||
          !beforeTokens.has(token) ||
          earlier.join('\n') !== earlierTokens([...beforeTokens], token).join('\n'),
      )
      .map<ContactOp>(({ token, earlier }) => (tx) => tx.contactSearchToken.put(tokenItem(after, token, hit, earlier)).commit()),
  ];
}
