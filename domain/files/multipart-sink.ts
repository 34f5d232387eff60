import { multipartLimits, type BlobStore } from '../shared/ports';

export interface UploadedPart {
  partNumber: number;
  etag: string;
  bytes: number;
}

/**
 * Bytes on their way into one S3 multipart upload: held until `flush` sends them as the next part.
 * The caller decides when (a part of at least `partBytes`, or the last one), so a part always ends
 * where the caller can resume from.
 */
export class MultipartSink {
  private chunks: Buffer[] = [];
  /** Bytes held, not yet sent. */
  pending = 0;

  constructor(
    private readonly blobs: BlobStore,
    readonly key: string,
    readonly uploadId: string,
    /** Parts uploaded before (a continued export), in order. */
    readonly parts: UploadedPart[] = [],
  ) {}

  /** Bytes in the parts uploaded so far. */
  get uploadedBytes(): number {
    return this.parts.reduce((sum, part) => sum + part.bytes, 0);
  }

  add(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.pending += chunk.length;
  }

  /** Sends what is held as the next part; a no-op when nothing is held. */
  async flush(): Promise<void> {
    if (this.pending === 0) return;
    const partNumber = this.parts.length + 1;
    if (partNumber > multipartLimits.maxParts) throw new PartLimitReached();
    const body = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.pending);
    const { etag } = await this.blobs.uploadPart(this.key, this.uploadId, partNumber, body);
    this.parts.push({ partNumber, etag, bytes: body.length });
    this.chunks = [];
    this.pending = 0;
  }

  async complete(): Promise<void> {
    await this.flush();
    // S3 completes no upload without a part (MalformedXML): an empty file is one empty part.
    if (this.parts.length === 0) {
      const { etag } = await this.blobs.uploadPart(this.key, this.uploadId, 1, Buffer.alloc(0));
      this.parts.push({ partNumber: 1, etag, bytes: 0 });
    }
    await this.blobs.completeMultipartUpload(
      this.key,
      this.uploadId,
      this.parts.map(({ partNumber, etag }) => ({ partNumber, etag })),
    );
  }
}

/** The upload would need more than S3's 10,000 parts. */
export class PartLimitReached extends Error {
  constructor() {
    super(`The file would need more than ${multipartLimits.maxParts} parts`);
    this.name = 'PartLimitReached';
  }
}
