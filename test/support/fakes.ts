import { createHash } from 'node:crypto';
import {
  multipartLimits,
  type BlobStore,
  type JobQueue,
  type Mailer,
  type OutgoingMail,
  type QueuedMessage,
} from '../../domain/shared/ports';

/** In-memory ports for unit tests: they record what the domain sent, and never touch the network. */

export interface FakeJobQueue extends JobQueue {
  /** Every message sent, in order, with the id it was given. */
  sent: (QueuedMessage & { messageId: string })[];
  /** Bodies sent to one queue, in order. */
  bodies(queue: string): unknown[];
  /** Make the next `send` calls fail (e.g. to test a rollback or a retry). */
  failNext(error?: Error): void;
}

export function fakeJobQueue(): FakeJobQueue {
  const sent: FakeJobQueue['sent'] = [];
  const failures: Error[] = [];
  return {
    sent,
    bodies: (queue) => sent.filter((message) => message.queue === queue).map((message) => message.body),
    failNext: (error = new Error('fake queue failure')) => void failures.push(error),
    async send(message) {
      const failure = failures.shift();
      if (failure) throw failure;
      // A round trip through JSON, as SQS would do: a body that does not survive it is a bug.
      const body: unknown = JSON.parse(JSON.stringify(message.body) ?? 'null');
      const messageId = `msg-${sent.length + 1}`;
      sent.push({ ...message, body, messageId });
      return { messageId };
    },
  };
}

export interface FakeBlob {
  body: Uint8Array;
  contentType: string;
}

export interface FakeMultipartUpload {
  key: string;
  contentType: string;
  parts: Map<number, { bytes: Uint8Array; etag: string }>;
}

export interface FakeBlobStore extends BlobStore {
  objects: Map<string, FakeBlob>;
  /** Multipart uploads started and neither completed nor aborted, by upload id. */
  uploads: Map<string, FakeMultipartUpload>;
  /** The stored object as UTF-8 text, or undefined. */
  text(key: string): string | undefined;
  /** Every `read`: the range asked for and how many bytes the reader actually pulled. */
  reads: { key: string; start: number; end?: number; bytesServed: number }[];
}

export interface FakeBlobStoreOptions {
  /** `read` streams in chunks of this many bytes (default 64 KiB): small ones test chunk boundaries. */
  readChunkBytes?: number;
  /** The smallest part but the last that completing a multipart upload accepts: S3's 5 MiB unless a test lowers it. */
  minPartBytes?: number;
  /**
   * Breaks reads as a dropped connection does: the n-th `read` stream (in the order they are opened) fails
   * with ECONNRESET after serving `breakReadsAfter[n]` bytes (null: that read does not break).
   */
  breakReadsAfter?: (number | null)[];
}

/**
 * URLs are `fake-blob://upload/<key>?...` and `fake-blob://download/<key>?...`: recognisable, never fetched.
 * Multipart uploads keep S3's rules (a part number replaces its earlier upload, complete checks the
 * listed ETags, the order and the minimum part size, abort of an upload gone is a no-op).
 */
export function fakeBlobStore(options: FakeBlobStoreOptions = {}): FakeBlobStore {
  const objects = new Map<string, FakeBlob>();
  const reads: FakeBlobStore['reads'] = [];
  const chunkBytes = options.readChunkBytes ?? 65_536;
  const minPartBytes = options.minPartBytes ?? multipartLimits.minPartBytes;
  const uploads = new Map<string, FakeMultipartUpload>();
  let uploadCount = 0;
  const openUpload = (key: string, uploadId: string) => {
    const upload = uploads.get(uploadId);
    if (!upload || upload.key !== key) throw namedError('NoSuchUpload', `No multipart upload ${uploadId} of ${key}`);
    return upload;
  };
  const encode = (key: string) => key.split('/').map(encodeURIComponent).join('/');
  return {
    objects,
    uploads,
    text: (key) => {
      const object = objects.get(key);
      return object ? new TextDecoder().decode(object.body) : undefined;
    },
    async put(key, body, contentType) {
      const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : Uint8Array.from(body);
      objects.set(key, { body: bytes, contentType });
    },
    async get(key) {
      const object = objects.get(key);
      return object ? Uint8Array.from(object.body) : undefined;
    },
    reads,
    async read(key, range = {}) {
      const object = objects.get(key);
      if (!object) return undefined;
      const start = range.start ?? 0;
      const end = Math.min(range.end ?? object.body.length, object.body.length);
      const read = { key, start, ...(range.end === undefined ? {} : { end: range.end }), bytesServed: 0 };
      reads.push(read);
      const body = Uint8Array.from(object.body);
      const breakAfter = options.breakReadsAfter?.[reads.length - 1] ?? null;
      return (async function* () {
        for (let at = start; at < end; at += chunkBytes) {
          let chunk = body.slice(at, Math.min(at + chunkBytes, end));
          if (breakAfter !== null && read.bytesServed + chunk.length > breakAfter) {
            chunk = chunk.slice(0, breakAfter - read.bytesServed);
            read.bytesServed += chunk.length;
            if (chunk.length > 0) yield chunk;
            throw Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
          }
          read.bytesServed += chunk.length;
          yield chunk;
        }
      })();
    },
    async head(key) {
      const object = objects.get(key);
      return object ? { sizeBytes: object.body.length, contentType: object.contentType } : undefined;
    },
    async delete(key) {
      objects.delete(key);
    },
    async uploadUrl(key, contentType, expiresInSeconds, options = {}) {
      const size = options.sizeBytes === undefined ? '' : `&sizeBytes=${options.sizeBytes}`;
      return `fake-blob://upload/${encode(key)}?contentType=${encodeURIComponent(contentType)}${size}&expires=${expiresInSeconds}`;
    },
    async downloadUrl(key, expiresInSeconds, options = {}) {
      const name = options.fileName === undefined ? '' : `&fileName=${encodeURIComponent(options.fileName)}`;
      return `fake-blob://download/${encode(key)}?expires=${expiresInSeconds}${name}`;
    },
    async startMultipartUpload(key, contentType) {
      uploadCount += 1;
      const uploadId = `fake-upload-${uploadCount}`;
      uploads.set(uploadId, { key, contentType, parts: new Map() });
      return { uploadId };
    },
    async uploadPart(key, uploadId, partNumber, bytes) {
      const upload = openUpload(key, uploadId);
      if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > multipartLimits.maxParts) {
        throw namedError('InvalidArgument', `Part number ${partNumber} is not between 1 and 10,000`);
      }
      const etag = `"${createHash('md5').update(bytes).digest('hex')}"`;
      upload.parts.set(partNumber, { bytes: Uint8Array.from(bytes), etag });
      return { etag };
    },
    async completeMultipartUpload(key, uploadId, parts) {
      const upload = openUpload(key, uploadId);
      if (parts.length === 0) throw namedError('MalformedXML', 'Complete needs at least one part');
      const chosen = parts.map((part, index) => {
        const stored = upload.parts.get(part.partNumber);
        if (!stored || stored.etag !== part.etag) throw namedError('InvalidPart', `Part ${part.partNumber} was not uploaded with that ETag`);
        if (index > 0 && part.partNumber <= parts[index - 1]!.partNumber) throw namedError('InvalidPartOrder', 'Parts must be listed in ascending order');
        if (index < parts.length - 1 && stored.bytes.length < minPartBytes) throw namedError('EntityTooSmall', `Part ${part.partNumber} is under ${minPartBytes} bytes`);
        return stored.bytes;
      });
      objects.set(key, { body: Buffer.concat(chosen), contentType: upload.contentType });
      uploads.delete(uploadId);
    },
    async abortMultipartUpload(_key, uploadId) {
      uploads.delete(uploadId);
    },
  };
}

const namedError = (name: string, message: string) => Object.assign(new Error(message), { name });

export interface FakeMailer extends Mailer {
  sent: (OutgoingMail & { providerMessageId: string })[];
  /** Make the next `send` calls fail (e.g. a provider outage). */
  failNext(error?: Error): void;
}

export function fakeMailer(): FakeMailer {
  const sent: FakeMailer['sent'] = [];
  const failures: Error[] = [];
  return {
    sent,
    failNext: (error = new Error('fake mailer failure')) => void failures.push(error),
    async send(mail) {
      const failure = failures.shift();
      if (failure) throw failure;
      const providerMessageId = `fake-ses-${sent.length + 1}`;
      sent.push({ ...structuredClone(mail), providerMessageId });
      return { providerMessageId };
    },
  };
}
