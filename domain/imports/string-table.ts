/**
 * An append-only list of strings kept as UTF-8 bytes outside the V8 heap: the bytes are appended to
 * large buffers, and a growable `Uint32Array` holds where each string ends. A string costs its UTF-8
 * bytes and 4 bytes more, there is no object per string for the garbage collector to walk, and
 * `get` decodes the string each time it is asked for.
 *
 * (An XLSX's shared strings table, every distinct text of a workbook, is what it is for: as an array
 * of JS strings it grew the heap with the file, and collecting a heap that full took most of the CPU.)
 */
export class StringTable {
  private readonly chunks: Buffer[] = [];
  private ends = new Uint32Array(4096);
  private count = 0;
  private bytes = 0;

  /** `chunkBytes`: the size of each buffer the bytes go to (a string may span two or more). */
  constructor(private readonly chunkBytes = 1024 * 1024) {}

  /** How many strings it holds. */
  get length(): number {
    return this.count;
  }

  /** The memory it holds: its buffers and its offsets. */
  get allocatedBytes(): number {
    return this.chunks.length * this.chunkBytes + this.ends.byteLength;
  }

  /** Appends a string; returns its index. */
  push(text: string): number {
    const length = Buffer.byteLength(text, 'utf8');
    const start = this.bytes;
    const end = start + length;
    if (end > maxBytes) throw new RangeError('The string table is full (4 GiB)');
    while (this.chunks.length * this.chunkBytes < end) this.chunks.push(Buffer.allocUnsafe(this.chunkBytes));
    const first = Math.floor(start / this.chunkBytes);
    const offset = start - first * this.chunkBytes;
    if (length === 0) {
      // Nothing to write (and maybe no buffer yet).
    } else if (offset + length <= this.chunkBytes) {
      this.chunks[first]!.write(text, offset, length, 'utf8');
    } else {
      const encoded = Buffer.from(text, 'utf8');
      for (let copied = 0, chunk = first, at = offset; copied < length; chunk += 1, at = 0) {
        copied += encoded.copy(this.chunks[chunk]!, at, copied);
      }
    }
    if (this.count === this.ends.length) {
      const grown = new Uint32Array(this.ends.length * 2);
      grown.set(this.ends);
      this.ends = grown;
    }
    this.ends[this.count] = end;
    this.bytes = end;
    return this.count++;
  }

  /** The string at `index`, or undefined past the end. */
  get(index: number): string | undefined {
    if (!Number.isInteger(index) || index < 0 || index >= this.count) return undefined;
    const start = index === 0 ? 0 : this.ends[index - 1]!;
    const end = this.ends[index]!;
    if (start === end) return '';
    const first = Math.floor(start / this.chunkBytes);
    const last = Math.floor((end - 1) / this.chunkBytes);
    const base = first * this.chunkBytes;
    if (first === last) return this.chunks[first]!.toString('utf8', start - base, end - base);
    // Decoded as one piece, so that a character split between two buffers stays whole.
    const pieces: Buffer[] = [];
    for (let chunk = first; chunk <= last; chunk += 1) {
      const chunkStart = chunk * this.chunkBytes;
      pieces.push(this.chunks[chunk]!.subarray(Math.max(start - chunkStart, 0), Math.min(end - chunkStart, this.chunkBytes)));
    }
    return Buffer.concat(pieces, end - start).toString('utf8');
  }
}

const maxBytes = 0xffff_ffff;
