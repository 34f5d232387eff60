import type { CoreDeps } from '../shared/deps';
import { foldText, nameSortKey, spacedOut, spellUmlautsOut, truncateUnits } from '../shared/text';
import { batchGetAll } from '../store/batch-get';
import type { TxEntities } from '../store/db';
import { prefixEnd } from '../store/key-range';
import type { CompanyItem } from './company-record';

/** More words than this (long names) are left out, the variants first: a name's own words come first. */
const maxWords = 12;

const emptyNameKey = nameSortKey('');

/**
 * The keys that find a company by a later word of its name, in the by-name key's alphabet (folded;
 * letters, digits and spaces): the name from its second word on, from its third, ...; then, when they
 * differ, the name with punctuation read as spaces ("o reilly auto parts", "reilly auto parts") and
 * with German umlauts spelled out ("mueller bau"), each in full and from each later word. The name's
 * own key is left out (the by-name list finds it). Unique, deterministic, at most 12.
 */
export function companyNameWords(name: string): string[] {
  const own = nameSortKey(name);
  const spelledOut = foldText(spellUmlautsOut(name));
  const forms = [own, spacedOut(foldText(name)), nameSortKey(spelledOut), spacedOut(spelledOut)];
  const words = new Set<string>();
  for (const form of new Set(forms)) {
    if (form === '' || form === emptyNameKey) continue;
    const parts = form.split(' ');
    parts.forEach((_, i) => {
      const tail = truncateUnits(parts.slice(i).join(' '), 64).trimEnd();
      if (tail !== own && Array.from(tail).length >= 2) words.add(tail);
    });
  }
  return [...words].slice(0, maxWords);
}

/** The words of `words` whose items sort before `word`'s: DynamoDB orders `<words>#<companyId>` by UTF-8 bytes. */
const earlierWords = (words: readonly string[], word: string) => {
  const key = Buffer.from(`${word}#`);
  return words.filter((other) => other !== word && Buffer.compare(Buffer.from(`${other}#`), key) < 0);
};

type Op = (tx: TxEntities) => unknown;

/**
 * The writes that keep a company's name words in step with it, for the company's own transaction:
 * `after.nameWords` is set to its words, the words it had (`before.nameWords`, none for a company
 * written before words were kept) that it no longer has, or that moved with its status, are deleted,
 * and each new or changed word is put. A company's first write since then puts all its words.
 */
export function companyNameWordOps(before: CompanyItem | undefined, after: CompanyItem): Op[] {
  const words = companyNameWords(after.name);
  if (words.length > 0) after.nameWords = words;
  else delete after.nameWords;
  const had = before?.nameWords ?? [];
  const moved = before !== undefined && before.status !== after.status;
  const { workspaceId, companyId } = after;
  const ops: Op[] = had
    .filter((word) => moved || !words.includes(word))
    .map(
      (word) => (tx) =>
        tx.companyNameWord.delete({ workspaceId, status: before!.status, words: word, companyId }).commit(),
    );
  for (const word of words) {
    const earlier = earlierWords(words, word);
    const unchanged =
      !moved &&
      had.includes(word) &&
      before!.nameKey === after.nameKey &&
      earlierWords(had, word).join('\n') === earlier.join('\n');
    if (unchanged) continue;
    ops.push((tx) =>
      tx.companyNameWord
        .put({
          workspaceId,
          status: after.status,
          words: word,
          companyId,
          nameKey: after.nameKey,
          ...(earlier.length > 0 ? { earlier } : {}),
        })
        .commit(),
    );
  }
  return ops;
}

/** How many word pages one list request reads at most, when most words found are skipped. */
const maxWordReads = 3;

/**
 * The companies with a later word of their name starting with `prefix` (a by-name key prefix), in the
 * order of those words, after `position` (`<words>#<companyId>` last read). A company whose name
 * starts with `prefix` is skipped (the by-name list gave it), and so is a company at any but the first
 * of its words that match. One Query per read, then one BatchGetItem of the companies found (again for
 * any it leaves unprocessed).
 */
export async function listCompaniesByWord(
  deps: CoreDeps,
  workspaceId: string,
  status: CompanyItem['status'],
  prefix: string,
  position: string | undefined,
  limit: number,
): Promise<{ items: CompanyItem[]; position: string | undefined; more: boolean }> {
  const pk = `WS#${workspaceId}#COMPANYWORDS#${status}`;
  const companyIds: string[] = [];
  let more = false;
  for (let reads = 0; reads < maxWordReads && companyIds.length < limit; reads += 1) {
    const page = await deps.db.entities.companyNameWord.query
      .byWords({ workspaceId, status })
      .between({ words: prefix }, { words: prefixEnd(prefix) })
      .go({
        limit: limit - companyIds.length + 5,
        cursor:
          position === undefined
            ? null
            : Buffer.from(JSON.stringify({ pk, sk: position })).toString('base64url'),
      });
    more = Boolean(page.cursor);
    for (const found of page.data) {
      if (companyIds.length === limit) {
        more = true; // a word is left over
        break;
      }
      position = `${found.words}#${found.companyId}`;
      const listedBefore =
        found.nameKey.startsWith(prefix) || (found.earlier ?? []).some((word) => word.startsWith(prefix));
      if (!listedBefore) companyIds.push(found.companyId);
    }
    if (!more) break;
  }
  if (companyIds.length === 0) return { items: [], position, more };
  const found = await batchGetAll(
    companyIds.map((companyId) => ({ workspaceId, companyId })),
    (keys) => deps.db.entities.company.get(keys).go({ consistent: true }),
  );
  const byId = new Map((found as CompanyItem[]).map((item) => [item.companyId, item]));
  const items = companyIds
    .map((id) => byId.get(id))
    .filter((item): item is CompanyItem => item?.status === status);
  return { items, position, more };
}
