import { describe, expect, it } from 'vitest';
import { StringTable } from '../../domain/imports/string-table';

describe('string table', () => {
  it('gives back every string by its index, across buffer boundaries and inside multi-byte characters', () => {
    // 7-byte buffers: most strings span two or more, and characters of 2, 3 and 4 bytes are cut.
    const table = new StringTable(7);
    const strings = ['', 'Name', 'Émilie', '', '東京都渋谷区', 'a😀b', 'x'.repeat(40), 'Ирина', 'z'];
    strings.forEach((text, i) => expect(table.push(text)).toBe(i));

    expect(table.length).toBe(strings.length);
    expect(strings.map((_, i) => table.get(i))).toEqual(strings);
    expect([table.get(-1), table.get(strings.length), table.get(1.5)]).toEqual([undefined, undefined, undefined]);
  });

  it('takes no buffer for an empty string, even the first', () => {
    const table = new StringTable();
    const empty = table.allocatedBytes;
    table.push('');

    expect(table.get(0)).toBe('');
    expect(table.get(1)).toBeUndefined();
    expect(table.allocatedBytes).toBe(empty);
  });

  it('holds a string as its UTF-8 bytes and 4 bytes more', () => {
    const table = new StringTable(1024 * 1024);
    const count = 200_000;
    for (let i = 0; i < count; i++) table.push(`person.${i}@example-${i % 97}.test`);

    let textBytes = 0;
    for (let i = 0; i < count; i++) textBytes += Buffer.byteLength(table.get(i)!);
    expect(table.get(123_456)).toBe('person.123456@example-72.test');
    // The last buffer is partly empty, and the offsets grow by doubling.
    expect(table.allocatedBytes).toBeLessThan(textBytes + 1024 * 1024 + count * 4 * 2);
  });
});
