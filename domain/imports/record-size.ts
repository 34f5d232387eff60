/**
 * DynamoDB's size of an item, estimated from the object written (its rules: attribute names and
 * strings count their UTF-8 bytes, a number up to 21 bytes, a boolean or null 1, a list or map 3 plus
 * 1 per element). The import checks a contact against the 400 KB an item may hold before it writes,
 * so that a row too large is rejected on its own instead of failing its chunk's transaction.
 */
export const maxItemBytes = 400 * 1024;

/** What ElectroDB adds to an item (its keys, index keys and entity markers), generously. */
export const keyAllowanceBytes = 2 * 1024;

export function estimateItemBytes(item: Record<string, unknown>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) {
    if (value === undefined) continue;
    bytes += Buffer.byteLength(name, 'utf8') + valueBytes(value);
  }
  return bytes;
}

function valueBytes(value: unknown): number {
  if (value === null || value === undefined || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (typeof value === 'number' || typeof value === 'bigint') return Math.min(21, String(value).length);
  if (Array.isArray(value)) return value.reduce<number>((sum, element) => sum + 1 + valueBytes(element), 3);
  if (typeof value === 'object') {
    let bytes = 3;
    for (const [name, element] of Object.entries(value)) {
      if (element === undefined) continue;
      bytes += 1 + Buffer.byteLength(name, 'utf8') + valueBytes(element);
    }
    return bytes;
  }
  return Buffer.byteLength(String(value), 'utf8');
}
