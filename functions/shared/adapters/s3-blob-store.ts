import type { S3Client } from '@aws-sdk/client-s3';
import type { BlobStore } from '../../../domain/shared/ports';

// Imported on first use, not at cold start: bundled, a static import of the SDK client would load it
// in every function that carries this adapter, whether it calls it or not.
const s3 = () => import('@aws-sdk/client-s3');
const presigner = () => import('@aws-sdk/s3-request-presigner');

export interface S3BlobStoreOptions {
  /** Build it with `createS3Client` (path-style and checksum settings matter for presigned URLs). */
  client: S3Client;
  bucket: string;
}

/**
 * BlobStore over one S3 bucket. Presigned upload URLs sign the content type, and the content length
 * when the size is given: the uploader must send the same `Content-Type` header and exactly that many
 * bytes (S3 answers 403 SignatureDoesNotMatch otherwise; the local emulator does not check signatures).
 */
export function createS3BlobStore({ client, bucket }: S3BlobStoreOptions): BlobStore {
  return {
    async put(key, body, contentType) {
      await client.send(
        new (await s3()).PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }),
      );
    },

    async get(key) {
      try {
        const result = await client.send(new (await s3()).GetObjectCommand({ Bucket: bucket, Key: key }));
        if (!result.Body) return new Uint8Array();
        return await result.Body.transformToByteArray();
      } catch (error) {
        if (isMissing(error)) return undefined;
        throw error;
      }
    },

    async read(key, range = {}) {
      const start = range.start ?? 0;
      const end = range.end;
      try {
        if (end !== undefined && end <= start) {
          await client.send(new (await s3()).HeadObjectCommand({ Bucket: bucket, Key: key }));
          return emptyStream();
        }
        const result = await client.send(
          new (await s3()).GetObjectCommand({
            Bucket: bucket,
            Key: key,
            // An HTTP range is inclusive at both ends.
            ...(start > 0 || end !== undefined ? { Range: `bytes=${start}-${end === undefined ? '' : end - 1}` } : {}),
          }),
        );
        // In Node the body is an http.IncomingMessage: async-iterable, and destroyed (the connection
        // released) when a loop over it breaks.
        return (result.Body as AsyncIterable<Uint8Array> | undefined) ?? emptyStream();
      } catch (error) {
        if (isMissing(error)) return undefined;
        // 416: the range starts at or past the end of the object.
        if (error instanceof Error && error.name === 'InvalidRange') return emptyStream();
        throw error;
      }
    },

    async head(key) {
      try {
        const result = await client.send(new (await s3()).HeadObjectCommand({ Bucket: bucket, Key: key }));
        return {
          sizeBytes: result.ContentLength ?? 0,
          ...(result.ContentType ? { contentType: result.ContentType } : {}),
        };
      } catch (error) {
        if (isMissing(error)) return undefined;
        throw error;
      }
    },

    async delete(key) {
      // S3 answers 204 whether or not there was an object.
      await client.send(new (await s3()).DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },

    async uploadUrl(key, contentType, expiresInSeconds, options = {}) {
      return (await presigner()).getSignedUrl(
        client,
        new (await s3()).PutObjectCommand({
          Bucket: bucket,
          Key: key,
          ContentType: contentType,
          // The serializer turns it into a Content-Length header, which the presigner signs like any
          // other header it is given (content-length is not among SigV4's unsignable ones).
          ...(options.sizeBytes === undefined ? {} : { ContentLength: options.sizeBytes }),
        }),
        {
          expiresIn: expiresInSeconds,
          // The presigner leaves the content type out of the signature unless told: signed, S3 enforces it.
          signableHeaders: new Set(['content-type', 'content-length']),
        },
      );
    },

    async downloadUrl(key, expiresInSeconds, options = {}) {
      return (await presigner()).getSignedUrl(
        client,
        new (await s3()).GetObjectCommand({
          Bucket: bucket,
          Key: key,
          ...(options.fileName
            ? { ResponseContentDisposition: attachmentDisposition(options.fileName) }
            : {}),
        }),
        { expiresIn: expiresInSeconds },
      );
    },

    async startMultipartUpload(key, contentType) {
      const result = await client.send(
        new (await s3()).CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: contentType }),
      );
      if (!result.UploadId) throw new Error(`CreateMultipartUpload of ${key} returned no UploadId`);
      return { uploadId: result.UploadId };
    },

    async uploadPart(key, uploadId, partNumber, bytes) {
      const result = await client.send(
        new (await s3()).UploadPartCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          PartNumber: partNumber,
          Body: bytes,
          ContentLength: bytes.byteLength,
        }),
      );
      if (!result.ETag) throw new Error(`UploadPart ${partNumber} of ${key} returned no ETag`);
      return { etag: result.ETag };
    },

    async completeMultipartUpload(key, uploadId, parts) {
      await client.send(
        new (await s3()).CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts.map((part) => ({ PartNumber: part.partNumber, ETag: part.etag })) },
        }),
      );
    },

    async abortMultipartUpload(key, uploadId) {
      try {
        await client.send(new (await s3()).AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
      } catch (error) {
        // Aborted or completed already: nothing is left to discard.
        if (error instanceof Error && error.name === 'NoSuchUpload') return;
        throw error;
      }
    },
  };
}

async function* emptyStream(): AsyncIterable<Uint8Array> {}

/** S3 answers a missing key with NoSuchKey on GET and a bodiless 404 (NotFound) on HEAD. */
const isMissing = (error: unknown) =>
  error instanceof Error && (error.name === 'NoSuchKey' || error.name === 'NotFound');

/**
 * `Content-Disposition: attachment` with the file name (RFC 6266): a plain-ASCII `filename` for old
 * clients, and the exact name as UTF-8 in `filename*` (RFC 8187), which every current browser prefers.
 */
export function attachmentDisposition(fileName: string): string {
  const fallback = fileName.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const encoded = encodeURIComponent(fileName).replace(
    /['()*]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
