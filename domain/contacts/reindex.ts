import { BatchWriteCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { CoreDeps } from '../shared/deps';
import { listEntriesOf, tokenItem, type ContactItem, type ListEntry } from './contact-record';

export interface ReindexResult {
  contacts: number;
  listEntriesWritten: number;
  searchTokensWritten: number;
  staleItemsDeleted: number;
}

type Key = { pk: string; sk: string };
const keyString = (key: Key) => `${key.pk}\u0000${key.sk}`;

/**
 * Rebuilds the contact indexes (list entries and search tokens) from the contact items, and deletes
 * every index item no contact accounts for: the migration to run after their layout changes (an older
 * `.data/` of `npm start`, or a deployed table). An admin tool, not a request path, so it Scans.
 * Idempotent; `workspaceId` limits it to one workspace.
 */
export async function reindexContacts(deps: CoreDeps, options: { workspaceId?: string } = {}): Promise<ReindexResult> {
  const { entities, table, client } = deps.db;
  const result: ReindexResult = { contacts: 0, listEntriesWritten: 0, searchTokensWritten: 0, staleItemsDeleted: 0 };
  const expected = new Set<string>();

  for await (const page of scanEntity(deps, 'contact', options.workspaceId)) {
    const entries: ListEntry[] = [];
    const tokens: ReturnType<typeof tokenItem>[] = [];
    for (const raw of page) {
      const { data: item } = entities.contact.parse({ Item: raw }) as { data: ContactItem | null };
      if (!item) continue;
      result.contacts += 1;
      for (const entry of listEntriesOf(item)) {
        entries.push(entry);
        expected.add(keyString(entities.contactListEntry.put(entry).params().Item as Key));
      }
      for (const token of item.searchTokens ?? []) {
        const tokenRecord = tokenItem(item, token);
        tokens.push(tokenRecord);
        expected.add(keyString(entities.contactSearchToken.put(tokenRecord).params().Item as Key));
      }
    }
    if (entries.length) await putAll(() => entities.contactListEntry.put(entries).go({ concurrent: 4 }));
    if (tokens.length) await putAll(() => entities.contactSearchToken.put(tokens).go({ concurrent: 4 }));
    result.listEntriesWritten += entries.length;
    result.searchTokensWritten += tokens.length;
  }

  for (const entity of ['contactListEntry', 'contactSearchToken'] as const) {
    for await (const page of scanEntity(deps, entity, options.workspaceId)) {
      const candidates = page.filter((raw) => !expected.has(keyString(raw as Key)));
      // A contact written since it was scanned has index items the scan did not expect: keep what its
      // current item accounts for.
      const current = await currentKeys(deps, candidates);
      const stale = candidates.filter((raw) => !current.has(keyString(raw as Key)));
      for (let start = 0; start < stale.length; start += 25) {
        let requests = stale
          .slice(start, start + 25)
          .map((raw) => ({ DeleteRequest: { Key: { pk: raw.pk, sk: raw.sk } } }));
        while (requests.length > 0) {
          const { UnprocessedItems } = await client.send(new BatchWriteCommand({ RequestItems: { [table]: requests } }));
          requests = (UnprocessedItems?.[table] ?? []) as typeof requests;
        }
      }
      result.staleItemsDeleted += stale.length;
    }
  }
  return result;
}

/** The index keys the contacts named by `items` have now (read again, consistently). */
async function currentKeys(deps: CoreDeps, items: Record<string, unknown>[]): Promise<Set<string>> {
  const { entities } = deps.db;
  const keys = new Set<string>();
  const ids = [...new Set(items.map((raw) => `${String(raw.workspaceId)}\u0000${String(raw.contactId)}`))];
  for (const id of ids) {
    const [workspaceId, contactId] = id.split('\u0000') as [string, string];
    const { data } = await entities.contact.get({ workspaceId, contactId }).go({ consistent: true });
    if (!data) continue;
    const item = data as ContactItem;
    for (const entry of listEntriesOf(item)) keys.add(keyString(entities.contactListEntry.put(entry).params().Item as Key));
    for (const token of item.searchTokens ?? []) {
      keys.add(keyString(entities.contactSearchToken.put(tokenItem(item, token)).params().Item as Key));
    }
  }
  return keys;
}

/** The raw items of one ElectroDB entity, page by page (old layouts included: only the identity is checked). */
async function* scanEntity(deps: CoreDeps, entity: string, workspaceId: string | undefined) {
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await deps.db.client.send(
      new ScanCommand({
        TableName: deps.db.table,
        FilterExpression: workspaceId ? '#entity = :entity AND #ws = :ws' : '#entity = :entity',
        ExpressionAttributeNames: { '#entity': '__edb_e__', ...(workspaceId ? { '#ws': 'workspaceId' } : {}) },
        ExpressionAttributeValues: { ':entity': entity, ...(workspaceId ? { ':ws': workspaceId } : {}) },
        ExclusiveStartKey: startKey,
      }),
    );
    yield (page.Items ?? []) as Record<string, unknown>[];
    startKey = page.LastEvaluatedKey;
  } while (startKey);
}

async function putAll(put: () => Promise<{ unprocessed: unknown[] }>) {
  const { unprocessed } = await put();
  if (unprocessed.length > 0) throw new Error(`${unprocessed.length} index items were not written: run the reindex again`);
}
