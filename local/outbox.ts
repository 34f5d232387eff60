import { mkdir, readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { logger as defaultLogger } from '../functions/shared/logger';
import type { LocalLogger } from './runtime-support';

/**
 * Keeps the mail "sent" through the SES emulator (aws-ses-v2-local holds it in memory only) as
 * `<dir>/<yyyymmddThhmmssZ>-<messageId>.eml` files, one per message, readable by any mail client.
 *
 * It polls `GET /store?since=<epoch seconds>` and fetches each new message's MIME text from
 * `GET /get-emlContent?messageId=` (JSON `{ messageId, fileName, body }`, the body a serialised
 * Node Buffer). Only ids the store has just listed are asked for: in 2.10.2 an unknown id makes the
 * emulator answer twice and crash its process (so never POST /clear-store while a writer runs).
 */

export interface OutboxWriterOptions {
  sesEndpoint: string;
  dir: string;
  /** Default 1000 ms. */
  pollMs?: number;
  /** Only mail stored at or after this epoch second (default 0: everything the emulator holds). */
  since?: number;
  logger?: LocalLogger;
}

export interface OutboxWriter {
  /** Stops polling after the poll in progress; resolves when it is done. */
  stop(): Promise<void>;
  /** Polls now (after any poll in progress); resolves with the paths of the files it wrote. */
  flush(): Promise<string[]>;
}

interface StoredEmail {
  messageId: string;
  /** Epoch seconds. */
  at: number;
}

export function startOutboxWriter(options: OutboxWriterOptions): OutboxWriter {
  const endpoint = options.sesEndpoint.replace(/\/+$/, '');
  const pollMs = options.pollMs ?? 1000;
  const log: LocalLogger = options.logger ?? defaultLogger;
  const seen = new Map<string, number>();
  let since = options.since ?? 0;

  const prepare = async () => {
    await mkdir(options.dir, { recursive: true });
    // Ids already on disk (an earlier run) are not written again.
    for (const file of await readdir(options.dir)) {
      const id = file.match(/^\d{8}T\d{6}Z-(.+)\.eml$/)?.[1];
      if (id) seen.set(id, Number.POSITIVE_INFINITY);
    }
  };

  const writeOne = async (email: StoredEmail): Promise<string> => {
    const response = await fetch(
      `${endpoint}/get-emlContent?messageId=${encodeURIComponent(email.messageId)}`,
    );
    if (!response.ok) throw new Error(`get-emlContent ${email.messageId}: HTTP ${response.status}`);
    const content = emlBytes(await response.json());
    const stamp = new Date(email.at * 1000)
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z');
    const path = join(options.dir, `${stamp}-${email.messageId.replace(/[^\w.-]/g, '_')}.eml`);
    // Written whole, then renamed: a reader never sees half a message.
    await writeFile(`${path}.tmp`, content);
    await rename(`${path}.tmp`, path);
    return path;
  };

  const poll = async (): Promise<string[]> => {
    const response = await fetch(`${endpoint}/store?since=${since}`);
    if (!response.ok) throw new Error(`SES emulator /store: HTTP ${response.status}`);
    const { emails = [] } = (await response.json()) as { emails?: StoredEmail[] };
    const written: string[] = [];
    for (const email of emails) {
      if (seen.has(email.messageId)) continue;
      written.push(await writeOne(email));
      seen.set(email.messageId, email.at);
    }
    // `since` is inclusive and in whole seconds: keep the latest second, and remember its ids only.
    const latest = Math.max(since, ...emails.map((email) => email.at));
    if (latest > since) {
      since = latest;
      for (const [id, at] of seen) if (at < since) seen.delete(id);
    }
    return written;
  };

  // One poll at a time, in order, after the directory is ready: flush() queues behind the timer's
  // poll and vice versa. A failed preparation fails every poll (and is logged by the timer's).
  const prepared = prepare();
  let chain: Promise<unknown> = prepared.catch(() => undefined);
  const enqueue = (): Promise<string[]> => {
    const next = chain.then(() => prepared).then(poll);
    chain = next.catch(() => undefined);
    return next;
  };

  let stopped = false;
  const timer = setInterval(() => {
    enqueue().catch((error: unknown) => log.warn('Outbox poll failed', { error }));
  }, pollMs);
  timer.unref();

  return {
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      await chain;
    },
    flush() {
      if (stopped) return Promise.reject(new Error('Outbox writer is stopped'));
      return enqueue();
    },
  };
}

/** The MIME text from a get-emlContent answer: `body` is a JSON-serialised Buffer (or, defensively, text). */
function emlBytes(answer: unknown): Uint8Array {
  const body = (answer as { body?: unknown } | null)?.body;
  if (typeof body === 'string') return new TextEncoder().encode(body);
  if (body && typeof body === 'object' && Array.isArray((body as { data?: unknown }).data)) {
    return Uint8Array.from((body as { data: number[] }).data);
  }
  throw new Error('get-emlContent returned no message body');
}
