import { MultipartSink } from './multipart-sink';
import { multipartLimits, type BlobStore } from '../shared/ports';

/**
 * Streams text or bytes into one S3 object by multipart upload (parts of at least 5 MB, the last
 * smaller), never holding more than a part in memory. On failure the upload is aborted, leaving
 * nothing behind; an existing object at the key is replaced only when the upload completes.
 */
export async function uploadStream(
  blobs: BlobStore,
  key: string,
  contentType: string,
  chunks: AsyncIterable<string | Uint8Array>,
): Promise<{ bytes: number }> {
  const { uploadId } = await blobs.startMultipartUpload(key, contentType);
  const sink = new MultipartSink(blobs, key, uploadId);
  try {
    for await (const chunk of chunks) {
      sink.add(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk));
      if (sink.pending >= multipartLimits.minPartBytes) await sink.flush();
    }
    await sink.complete();
    return { bytes: sink.uploadedBytes };
  } catch (error) {
    await blobs.abortMultipartUpload(key, uploadId).catch(() => undefined);
    throw error;
  }
}
