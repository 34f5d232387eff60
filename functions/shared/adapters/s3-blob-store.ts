import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { BlobStore } from '../../../domain/shared/ports';

export interface S3BlobStoreOptions {
  /** Build it with `createS3Client` (path-style and checksum settings matter for presigned URLs). */
  client: S3Client;
  bucket: string;
}

/**
 * BlobStore over one S3 bucket. Presigned upload URLs sign the content type: the uploader must send
 * the same `Content-Type` header with its PUT (S3 answers 403 SignatureDoesNotMatch otherwise; the
 * local emulator does not check signatures).
 */
export function createS3BlobStore({ client, bucket }: S3BlobStoreOptions): BlobStore {
  return {
    async put(key, body, contentType) {
      await client.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }),
      );
    },

    async get(key) {
      try {
        const result = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        if (!result.Body) return new Uint8Array();
        return await result.Body.transformToByteArray();
      } catch (error) {
        if (error instanceof Error && error.name === 'NoSuchKey') return undefined;
        throw error;
      }
    },

    uploadUrl(key, contentType, expiresInSeconds) {
      return getSignedUrl(
        client,
        new PutObjectCommand({ Bucket: bucket, Key: key, ContentType: contentType }),
        {
          expiresIn: expiresInSeconds,
          // Unsigned, the content type would be whatever the uploader sends; signed, S3 enforces it.
          signableHeaders: new Set(['content-type']),
        },
      );
    },

    downloadUrl(key, expiresInSeconds) {
      return getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: key }), {
        expiresIn: expiresInSeconds,
      });
    },
  };
}
