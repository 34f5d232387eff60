import { crc32 } from 'node:zlib';
import { ImportFileError } from './import-file-error';

/**
 * Random access to the entries of a zip file (an .xlsx) through byte-range reads: the central
 * directory at the end of the file says where each entry's bytes are. This lets the XLSX reader
 * stream exactly the parts it needs, in the order it needs them (the workbook, styles and shared
 * strings before the sheet), and skip the rest (other sheets, images, pivot caches).
 */

export interface ZipEntry {
  name: string;
  method: number;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  localHeaderOffset: number;
}

/** Reads `[start, end)` of the file. */
export type ReadRange = (start: number, end: number) => Promise<Uint8Array>;
/** Streams `[start, end)` of the file. */
export type StreamRange = (start: number, end: number) => Promise<AsyncIterable<Uint8Array>>;

const endOfDirectory = 0x06054b50;
const zip64Locator = 0x07064b50;
const zip64EndOfDirectory = 0x06064b50;
const directoryEntry = 0x02014b50;
const localHeader = 0x04034b50;
const maxDirectoryBytes = 64 * 1024 * 1024;

const damaged = (why: string) => new ImportFileError('unreadable', `The workbook is damaged: ${why}`);

/** The entries of the zip file of `size` bytes, by name. */
export async function readZipDirectory(read: ReadRange, size: number): Promise<Map<string, ZipEntry>> {
  // The end record is the last 22 bytes, unless a comment (at most 65,535 bytes) follows it: look in
  // the last KiB first, then in the most a comment allows.
  let tail = Buffer.alloc(0);
  let at = -1;
  for (const span of [1024, 22 + 65_535]) {
    tail = Buffer.from(await read(Math.max(0, size - span), size));
    at = findEndOfDirectory(tail);
    if (at >= 0 || span >= size) break;
  }
  if (at < 0) throw damaged('no zip directory at its end (is the upload complete?)');
  let count = tail.readUInt16LE(at + 10);
  let directorySize = tail.readUInt32LE(at + 12);
  let directoryOffset = tail.readUInt32LE(at + 16);
  if (count === 0xffff || directorySize === 0xffffffff || directoryOffset === 0xffffffff) {
    const locatorAt = at - 20;
    if (locatorAt < 0 || tail.readUInt32LE(locatorAt) !== zip64Locator) throw damaged('a ZIP64 directory without its locator');
    const recordOffset = Number(tail.readBigUInt64LE(locatorAt + 8));
    const record = Buffer.from(await read(recordOffset, recordOffset + 56));
    if (record.length < 56 || record.readUInt32LE(0) !== zip64EndOfDirectory) throw damaged('a broken ZIP64 directory');
    count = Number(record.readBigUInt64LE(32));
    directorySize = Number(record.readBigUInt64LE(40));
    directoryOffset = Number(record.readBigUInt64LE(48));
  }
  if (directorySize > maxDirectoryBytes || directoryOffset + directorySize > size) throw damaged('an impossible directory');

  const directory = Buffer.from(await read(directoryOffset, directoryOffset + directorySize));
  const entries = new Map<string, ZipEntry>();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > directory.length || directory.readUInt32LE(p) !== directoryEntry) throw damaged('a broken directory entry');
    const flags = directory.readUInt16LE(p + 8);
    const nameLength = directory.readUInt16LE(p + 28);
    const extraLength = directory.readUInt16LE(p + 30);
    const commentLength = directory.readUInt16LE(p + 32);
    const nameBytes = directory.subarray(p + 46, p + 46 + nameLength);
    const entry: ZipEntry = {
      name: nameBytes.toString(flags & 0x800 ? 'utf8' : 'latin1'),
      method: directory.readUInt16LE(p + 10),
      crc32: directory.readUInt32LE(p + 16),
      compressedSize: directory.readUInt32LE(p + 20),
      uncompressedSize: directory.readUInt32LE(p + 24),
      localHeaderOffset: directory.readUInt32LE(p + 42),
    };
    applyZip64Extra(entry, directory.subarray(p + 46 + nameLength, p + 46 + nameLength + extraLength));
    entries.set(entry.name, entry);
    p += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

function findEndOfDirectory(tail: Buffer): number {
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === endOfDirectory && i + 22 + tail.readUInt16LE(i + 20) <= tail.length) return i;
  }
  return -1;
}

/** ZIP64 extra field (id 1): the 64-bit values of the fields that are all ones, in this order. */
function applyZip64Extra(entry: ZipEntry, extra: Buffer) {
  for (let p = 0; p + 4 <= extra.length; ) {
    const id = extra.readUInt16LE(p);
    const length = extra.readUInt16LE(p + 2);
    if (id === 1) {
      let q = p + 4;
      const next = () => {
        const value = q + 8 <= p + 4 + length ? Number(extra.readBigUInt64LE(q)) : undefined;
        q += 8;
        return value;
      };
      if (entry.uncompressedSize === 0xffffffff) entry.uncompressedSize = next() ?? entry.uncompressedSize;
      if (entry.compressedSize === 0xffffffff) entry.compressedSize = next() ?? entry.compressedSize;
      if (entry.localHeaderOffset === 0xffffffff) entry.localHeaderOffset = next() ?? entry.localHeaderOffset;
      return;
    }
    p += 4 + length;
  }
}

/** Where an entry's compressed bytes start: after its local header, whose name and extra lengths may differ from the directory's. */
export async function entryDataOffset(read: ReadRange, entry: ZipEntry): Promise<number> {
  const header = Buffer.from(await read(entry.localHeaderOffset, entry.localHeaderOffset + 30));
  if (header.length < 30 || header.readUInt32LE(0) !== localHeader) throw damaged(`a broken entry header (${entry.name})`);
  return entry.localHeaderOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
}

/** One part of a zip stream that `zipStream` writes. */
export type ZipPart =
  | { name: string; entry: ZipEntry; dataOffset: number }
  | { name: string; content: string };

/**
 * A zip stream holding `parts` in the given order, as a streaming unzipper reads it: for each part a
 * fresh local header (sizes and CRC from the directory, so that no data descriptor has to be found by
 * scanning the data) and the entry's compressed bytes copied as they are; `content` parts are stored
 * uncompressed. Then an empty directory's end record: streaming readers need no directory, but exceljs's
 * unzipper takes a stream that ends where the next record should be for a cut one (FILE_ENDED) when its
 * end comes while the sheet's reader is busy.
 */
export async function* zipStream(parts: readonly ZipPart[], stream: StreamRange): AsyncGenerator<Uint8Array> {
  for (const part of parts) {
    const name = Buffer.from(part.name, 'utf8');
    const header = Buffer.alloc(30);
    header.writeUInt32LE(localHeader, 0);
    header.writeUInt16LE(20, 4); // version needed
    header.writeUInt16LE(0x800, 6); // UTF-8 name
    header.writeUInt16LE(0, 10); // time
    header.writeUInt16LE(0x21, 12); // 1980-01-01
    header.writeUInt16LE(name.length, 26);
    header.writeUInt16LE(0, 28);
    if ('content' in part) {
      const data = Buffer.from(part.content, 'utf8');
      header.writeUInt16LE(0, 8); // stored
      header.writeUInt32LE(crc32(data), 14);
      header.writeUInt32LE(data.length, 18);
      header.writeUInt32LE(data.length, 22);
      yield Buffer.concat([header, name, data]);
      continue;
    }
    const { entry, dataOffset } = part;
    header.writeUInt16LE(entry.method, 8);
    header.writeUInt32LE(entry.crc32, 14);
    header.writeUInt32LE(entry.compressedSize, 18);
    header.writeUInt32LE(Math.min(entry.uncompressedSize, 0xfffffffe), 22);
    yield Buffer.concat([header, name]);
    if (entry.compressedSize > 0) yield* await stream(dataOffset, dataOffset + entry.compressedSize);
  }
  // No entries, no bytes of directory, and it starts where it ends (the offset is not read).
  const end = Buffer.alloc(22);
  end.writeUInt32LE(endOfDirectory, 0);
  yield end;
}
