import { parse, type Parser } from 'csv-parse';
import { parse as parseLine } from 'csv-parse/sync';
import type { CsvDelimiter } from './file-sniffer';
import { FieldDecoder, utf16AsUtf8, type TextEncoding } from './text-decoding';

/** One record of a CSV file, fields decoded, with where it starts and where the next one does. */
export interface CsvRecord {
  fields: string[];
  /** Physical line (1-based) where the record starts. */
  line: number;
  /** Why the record could not be read; `fields` then holds its first line only. */
  problem?: string;
  /** The next record's start: byte offset in the file and line. */
  next: CsvPosition;
}

export interface CsvPosition {
  offset: number;
  line: number;
}

export interface CsvSettings {
  encoding: TextEncoding;
  delimiter: CsvDelimiter;
  /** For UTF-8 and one-byte files: settles the encoding on the first non-ASCII field (shared, so the caller sees it). */
  decoder?: FieldDecoder;
  /** Largest record in bytes; a longer one (usually an unclosed quote) is rejected as malformed. */
  maxRecordBytes?: number;
}

/** Opens the file's bytes from `start` to its end. */
export type OpenBytes = (start: number) => Promise<AsyncIterable<Uint8Array>>;

export const defaultMaxRecordBytes = 2 * 1024 * 1024;
/** The most of a malformed record's first line kept for the error report. */
const maxProblemLineChars = 10_000;

/**
 * Reads RFC 4180 records from `from` on (csv-parse, streaming): quoted fields with delimiters,
 * doubled quotes and line breaks; CRLF, LF and lone CR line ends, mixed. Rows may have any number of
 * fields (the caller compares them with the header). Every record, blank lines included, is yielded
 * with the offset where the next one starts, so a later run can continue there with a byte-range read.
 *
 * A record with a stray quote (a quote inside an unquoted field, text after a closing quote) is read
 * again from its first physical line alone, with a quote inside a field taken as text (`Robert "Bob"
 * Smith`, `5" screen`, `"Acme" Inc`, as other tools write them unescaped). A record that still is none
 * (its quote never closed on that line, or running to the end of the file or past `maxRecordBytes`)
 * is yielded with a `problem` and its first line. Reading then starts again on the next line, from
 * the bytes already read, so one stray quote costs at most a record (two if it sat on a record's
 * second line), never the rest of the file nor another request.
 * Quotes are strict for that reason: relaxed, a stray quote pairs with the next quote further down and
 * the lines between become one record unnoticed. (That can still happen when the next quote stands
 * where a quoted field may end, i.e. before a delimiter or a line end: then the joined record usually
 * has too many fields, or no valid channel, and is rejected.)
 *
 * `first` is the stream from `from.offset` when the caller has it open already.
 */
export async function* readCsvRecords(
  open: OpenBytes,
  from: CsvPosition,
  settings: CsvSettings,
  first?: AsyncIterable<Uint8Array>,
): AsyncGenerator<CsvRecord> {
  const utf16 =
    settings.encoding === 'utf-16le' || settings.encoding === 'utf-16be' ? settings.encoding : undefined;
  const decoder = settings.decoder ?? new FieldDecoder('utf-8', false);
  const maxRecordBytes = settings.maxRecordBytes ?? defaultMaxRecordBytes;
  let position = from;
  // One request serves the whole file: after a malformed record, the bytes read past it are handed
  // back to the stream rather than asked for again (UTF-16, read through its transcoder, asks again).
  let stream: ByteStream | undefined = first ? ByteStream.of(first) : undefined;

  try {
    for (;;) {
      const base = position.offset;
      stream ??= ByteStream.of(await open(base));
      const transcoded = utf16 ? utf16AsUtf8(stream.chunks(), utf16) : undefined;
      const transcodedChunks = transcoded?.chunks[Symbol.asyncIterator]();
      const nextChunk = async (): Promise<Uint8Array | undefined> => {
        if (!transcodedChunks) return stream!.read();
        const next = await transcodedChunks.next();
        return next.done ? undefined : next.value;
      };
      const collected: { fields: string[]; end: number }[] = [];
      const parser = parse({
        delimiter: settings.delimiter,
        record_delimiter: ['\r\n', '\n', '\r'],
        quote: '"',
        escape: '"',
        // Strict quotes (see above): a quote inside an unquoted field or text after a closing quote is an error.
        relax_quotes: false,
        relax_column_count: true,
        skip_empty_lines: false,
        bom: false,
        // Latin-1 keeps one character per byte: offsets are file offsets; fields are decoded below.
        encoding: utf16 ? 'utf8' : 'latin1',
        max_record_size: maxRecordBytes,
        on_record: (record: string[], context) => {
          collected.push({ fields: record, end: context.bytes });
          return null;
        },
      });
      // Errors come back through write/end callbacks; the event would otherwise be unhandled.
      parser.on('error', () => {});

      // The bytes given to the parser from the record at `position` on (from `heldStart`).
      const held: Uint8Array[] = [];
      let heldStart = base;
      let failure: Error | undefined;
      const drain = function* (): Generator<CsvRecord> {
        for (const { fields: rawFields, end } of collected) {
          const offset = base + (transcoded ? transcoded.sourceOffset(end) : end);
          const record = decodeRecord(rawFields, utf16 ? undefined : decoder, position.line, offset);
          position = record.next;
          yield record;
        }
        collected.length = 0;
        while (held.length > 0 && heldStart + held[0]!.length <= position.offset)
          heldStart += held.shift()!.length;
      };

      try {
        for (;;) {
          const chunk = await nextChunk();
          if (!chunk) break;
          if (!transcoded) held.push(chunk);
          failure = await write(parser, chunk);
          yield* drain();
          if (failure) break;
        }
        if (!failure) {
          failure = await end(parser);
          yield* drain();
        }
      } finally {
        parser.destroy();
      }
      if (!failure) return;

      // The record starting at `position` cannot be parsed: its first line alone, quotes relaxed, or
      // that line reported; either way go on after it.
      if (transcoded) {
        await stream.close();
        stream = ByteStream.of(await open(position.offset));
      } else {
        stream.unread(Buffer.concat(held).subarray(position.offset - heldStart));
      }
      const line = await firstLine(stream, position.offset, utf16, decoder);
      const relaxed =
        isStrayQuote(failure) && line.whole ? relaxedRecord(line.raw, settings.delimiter) : undefined;
      const record: CsvRecord = relaxed
        ? decodeRecord(relaxed, utf16 ? undefined : decoder, position.line, line.next)
        : {
            fields: [line.text],
            line: position.line,
            problem: describe(failure, maxRecordBytes, line.quotes % 2 === 1),
            next: { offset: line.next, line: position.line + 1 },
          };
      position = record.next;
      yield record;
      if (line.atEnd) return;
    }
  } finally {
    await stream?.close();
  }
}

/**
 * A file's bytes from one request, chunk by chunk, that can be handed back bytes read past a point:
 * the next `read` returns them first.
 */
class ByteStream {
  private readonly handedBack: Uint8Array[] = [];

  private constructor(private readonly iterator: AsyncIterator<Uint8Array>) {}

  static of(bytes: AsyncIterable<Uint8Array>): ByteStream {
    return new ByteStream(bytes[Symbol.asyncIterator]());
  }

  async read(): Promise<Uint8Array | undefined> {
    const back = this.handedBack.pop();
    if (back) return back;
    const next = await this.iterator.next();
    return next.done ? undefined : next.value;
  }

  unread(bytes: Uint8Array): void {
    if (bytes.length > 0) this.handedBack.push(bytes);
  }

  async *chunks(): AsyncGenerator<Uint8Array> {
    for (let chunk = await this.read(); chunk; chunk = await this.read()) yield chunk;
  }

  async close(): Promise<void> {
    this.handedBack.length = 0;
    await this.iterator.return?.();
  }
}

function decodeRecord(
  rawFields: string[],
  decoder: FieldDecoder | undefined,
  line: number,
  next: number,
): CsvRecord {
  let problem: string | undefined;
  let breaks = 0;
  decoder?.settleOn(rawFields);
  const fields = rawFields.map((raw) => {
    const text = decoder ? decoder.decode(raw) : raw;
    if (text === undefined) {
      problem ??=
        decoder!.encoding === 'utf-8'
          ? 'The record holds bytes that are not valid UTF-8, in a file that is otherwise UTF-8'
          : `The record holds bytes that are not valid ${decoder!.encoding}, in a file that is otherwise ${decoder!.encoding}`;
      return decoder!.decodeLeniently(raw);
    }
    if (text.includes('\0')) problem ??= 'The record holds NUL characters (binary data)';
    breaks += text.match(/\r\n|\r|\n/g)?.length ?? 0;
    return text;
  });
  return {
    fields,
    line,
    ...(problem ? { problem } : {}),
    next: { offset: next, line: line + 1 + breaks },
  };
}

const isStrayQuote = (error: Error) => {
  const code = (error as { code?: string }).code;
  return code === 'INVALID_OPENING_QUOTE' || code === 'CSV_INVALID_CLOSING_QUOTE';
};

/** One line's fields with quotes relaxed (a quote inside a field is text), or undefined when it is not one record. */
function relaxedRecord(line: string, delimiter: CsvDelimiter): string[] | undefined {
  try {
    const records = parseLine(line, {
      delimiter,
      quote: '"',
      escape: '"',
      relax_quotes: true,
      relax_column_count: true,
      bom: false,
    }) as string[][];
    return records.length === 1 ? records[0] : undefined;
  } catch {
    return undefined;
  }
}

/** Why a record failed; `quoteLeftOpen`: its first line has an odd number of quotes. */
function describe(error: Error, maxRecordBytes: number, quoteLeftOpen: boolean): string {
  const skipped = 'the line was skipped';
  const limit = maxRecordBytes % 2 ** 20 === 0 ? `${maxRecordBytes / 2 ** 20} MiB` : `${maxRecordBytes} bytes`;
  switch ((error as { code?: string }).code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return `A quoted field is never closed (a stray "?): ${skipped}`;
    case 'CSV_MAX_RECORD_SIZE':
      // Without a quote left open on its first line, the record is that line alone: a stray quote it is not.
      return quoteLeftOpen
        ? `The record is longer than ${limit} (a stray "?): ${skipped}`
        : `The line is longer than ${limit}, the most a record may hold: ${skipped}`;
    case 'INVALID_OPENING_QUOTE':
      return `A field has a " inside it without being quoted (write "" inside a quoted field): ${skipped}`;
    case 'CSV_INVALID_CLOSING_QUOTE':
      return `A quoted field has text after its closing " (write "" for a quote inside it): ${skipped}`;
    default:
      return `The record cannot be read (${error.message}): ${skipped}`;
  }
}

const write = (parser: Parser, chunk: Uint8Array) =>
  new Promise<Error | undefined>((resolve) => {
    parser.write(chunk, (error) => resolve(error ?? undefined));
  });

const end = (parser: Parser) =>
  new Promise<Error | undefined>((resolve) => {
    parser.once('error', resolve);
    parser.end(() => resolve(undefined));
  });

/**
 * The first physical line from `offset` (ended by CR, LF or CRLF), decoded and cut for the report,
 * and the offset after its line end; `raw`, when `whole`, is all of it as the parser reads it (one
 * character per byte, or UTF-16 decoded); `quotes`: how many `"` the whole line holds.
 */
async function firstLine(
  stream: ByteStream,
  offset: number,
  utf16: 'utf-16le' | 'utf-16be' | undefined,
  decoder: FieldDecoder,
): Promise<{ text: string; raw: string; whole: boolean; next: number; atEnd: boolean; quotes: number }> {
  const unit = utf16 ? 2 : 1;
  const kept: number[] = [];
  let position = offset;
  let carry: number[] = [];
  let sawCr = false;
  let cut = false;
  let quotes = 0;
  const maxKeptBytes = maxProblemLineChars * unit * (utf16 ? 1 : 4);
  const finish = (next: number, atEnd: boolean) => {
    const data = Buffer.from(kept);
    const raw = utf16 ? new TextDecoder(utf16).decode(data) : data.toString('latin1');
    const text = utf16 ? raw : decoder.decodeLeniently(raw);
    return {
      text: text.slice(0, maxProblemLineChars),
      raw,
      whole: !cut && text.length <= maxProblemLineChars,
      next,
      atEnd,
      quotes,
    };
  };
  for (;;) {
    const read = await stream.read();
    if (!read) return finish(position, true);
    const chunk = carry.length > 0 ? Buffer.concat([Buffer.from(carry), read]) : read;
    carry = [];
    let i = 0;
    for (; i + unit <= chunk.length; i += unit) {
      const code =
        unit === 1
          ? chunk[i]!
          : utf16 === 'utf-16le'
            ? chunk[i]! | (chunk[i + 1]! << 8)
            : (chunk[i]! << 8) | chunk[i + 1]!;
      if (sawCr) {
        // The line ended at the CR: what follows it (past its LF, if any) is the next record's.
        const after = code === 0x0a ? i + unit : i;
        stream.unread(chunk.subarray(after));
        return finish(position + after - i, false);
      }
      position += unit;
      if (code === 0x0a) {
        stream.unread(chunk.subarray(i + unit));
        return finish(position, false);
      }
      if (code === 0x22) quotes++;
      if (code === 0x0d) sawCr = true;
      else if (kept.length < maxKeptBytes) for (let j = 0; j < unit; j++) kept.push(chunk[i + j]!);
      else cut = true;
    }
    carry = Array.from(chunk.subarray(i));
  }
}
