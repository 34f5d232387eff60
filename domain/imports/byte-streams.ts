/** A byte stream whose start can be looked at before it is handed on, e.g. to sniff a file's format. */
export class PeekableBytes {
  private readonly iterator: AsyncIterator<Uint8Array>;
  private readonly buffered: Uint8Array[] = [];
  private bufferedBytes = 0;
  private ended = false;
  private handedOn = false;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  /** At least `bytes` bytes from the start (fewer only when the stream is shorter). */
  async peek(bytes: number): Promise<Uint8Array> {
    while (this.bufferedBytes < bytes && !this.ended) {
      const next = await this.iterator.next();
      if (next.done) this.ended = true;
      else if (next.value.length > 0) {
        this.buffered.push(next.value);
        this.bufferedBytes += next.value.length;
      }
    }
    return concatBytes(this.buffered);
  }

  /** Whether `peek` has seen the whole stream. */
  get exhausted(): boolean {
    return this.ended;
  }

  /** The stream from byte `skip` on (peeked bytes included); once. Ending the loop early closes the source. */
  rest(skip = 0): AsyncIterable<Uint8Array> {
    if (this.handedOn) throw new Error('The stream was handed on already');
    this.handedOn = true;
    const { buffered, iterator } = this;
    return {
      async *[Symbol.asyncIterator]() {
        let toSkip = skip;
        try {
          for (const chunk of buffered) {
            if (toSkip >= chunk.length) {
              toSkip -= chunk.length;
              continue;
            }
            yield chunk.subarray(toSkip);
            toSkip = 0;
          }
          buffered.length = 0;
          for (;;) {
            const next = await iterator.next();
            if (next.done) return;
            if (toSkip >= next.value.length) {
              toSkip -= next.value.length;
              continue;
            }
            yield next.value.subarray(toSkip);
            toSkip = 0;
          }
        } finally {
          await iterator.return?.();
        }
      },
    };
  }

  /** Releases the source (e.g. the S3 connection) when the rest is not wanted. */
  async close(): Promise<void> {
    this.buffered.length = 0;
    await this.iterator.return?.();
  }
}

export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  return Buffer.concat(chunks);
}

/** Every byte of a (small) stream. */
export async function readAll(source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of source) chunks.push(chunk);
  return concatBytes(chunks);
}

/** How a broken read is resumed: the attempts in a row without a byte between them, and the first wait. */
export const resumeSettings = { maxAttemptsWithoutProgress: 5, firstWaitMs: 200 };

/**
 * Bytes `start` to `end` (exclusive; undefined: to the end) of an object, as one stream that survives a
 * broken connection: when reading fails part-way (a reset, an aborted response: S3 drops slow readers of
 * long GETs), it opens the range again from the first byte not yet handed on, so the reader sees every
 * byte once, in order. It gives up after `maxAttemptsWithoutProgress` failures in a row that brought no
 * byte, waiting twice as long each time. Errors from `open` itself (a missing object) are not retried.
 */
export function resumingRange(
  open: (start: number, end?: number) => Promise<AsyncIterable<Uint8Array>>,
  start: number,
  end?: number,
  /** The stream already opened for the range, if any (so that opening errors surface at the caller's open). */
  first?: AsyncIterable<Uint8Array>,
  settings = resumeSettings,
): AsyncIterable<Uint8Array> {
  return {
    async *[Symbol.asyncIterator]() {
      let position = start;
      let failures = 0;
      let source: AsyncIterable<Uint8Array> = first ?? (await open(position, end));
      for (;;) {
        const iterator = source[Symbol.asyncIterator]();
        try {
          for (;;) {
            const next = await iterator.next();
            if (next.done) return;
            if (next.value.length === 0) continue;
            position += next.value.length;
            failures = 0;
            yield next.value;
          }
        } catch (error) {
          failures += 1;
          if (failures >= settings.maxAttemptsWithoutProgress) throw error;
        } finally {
          await iterator.return?.().catch(() => undefined);
        }
        if (end !== undefined && position >= end) return;
        await new Promise((resolve) => setTimeout(resolve, settings.firstWaitMs * 2 ** (failures - 1)));
        source = await open(position, end);
      }
    },
  };
}
