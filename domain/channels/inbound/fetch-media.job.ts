/**
 * `fetch_media`: the files of an inbound message, fetched from the provider into S3 as the message's
 * attachments (`ChannelAdapters.fetchMedia`: WhatsApp media id → URL → bytes, Telegram `getFile`, a
 * Twilio `MediaUrlN` with the account's credentials). The job is written in the message's own
 * transaction (the job item is the outbox), so a stored media message always gets its job.
 *
 * One media reference per unit, resumable from the cursor (the next index). Each file's attachment id
 * is chosen when the message is stored, so a unit run twice finds its attachment and does nothing.
 * A file the provider refuses for good (gone, too large) or of a type attachments do not take is
 * skipped (counted in the result; the reference stays on the message's payload); a passing failure
 * (timeout, 5xx, 429) throws, so SQS retries the run.
 */
import * as z from 'zod';
import type { CallerContext } from '../../shared/context';
import type { CoreDeps } from '../../shared/deps';
import { lostRace } from '../../shared/errors';
import type { SecretSealer } from '../../shared/ports';
import { retryLostRaces } from '../../shared/retry';
import type { TxEntities } from '../../store/db';
import { writeTransaction } from '../../store/transaction';
import { attachmentObjectKey } from '../../inbox/attachment.entity';
import { attachmentContentTypes, maxAttachmentBytes, type AttachmentContentType } from '../../inbox/attachments.schemas';
import type { MessageItem } from '../../inbox/messages.service';
import type { MessageAttachmentRef } from '../../inbox/messages.schemas';
import { JobFailure, type JobDeps, type JobKindDefinition } from '../../jobs/job-kind';
import { withActivityKeys, type JobItem } from '../../jobs/job-record';
import { findConnection, openConnection } from '../connections/channel-connections.service';
import type { MediaReference } from '../inbound-events';
import { ProviderSendError, type ChannelAdapters, type OpenedConnection } from '../outbound';

export const fetchMediaKind = 'fetch_media';

const mediaReference = z.object({
  kind: z.string(),
  providerMediaId: z.string().nullable(),
  url: z.string().nullable(),
  mimeType: z.string().nullable(),
  fileName: z.string().nullable(),
  caption: z.string().nullable(),
  sizeBytes: z.number().nullable(),
});

export const fetchMediaInput = z.object({
  connectionId: z.string(),
  conversationId: z.string(),
  messageId: z.string(),
  /** The message's media, each with the attachment id it will be stored under. */
  files: z.array(z.object({ attachmentId: z.string(), media: mediaReference })).min(1),
});
export type FetchMediaInput = z.infer<typeof fetchMediaInput>;

export type FetchMediaDeps = JobDeps & { sealer: SecretSealer; adapters: Pick<ChannelAdapters, 'fetchMedia'> };

/** The job item that fetches a new message's media, for the message's own transaction. */
export function fetchMediaJobOp(
  tx: TxEntities,
  deps: Pick<CoreDeps, 'clock'>,
  caller: CallerContext,
  jobId: string,
  input: FetchMediaInput,
) {
  const at = deps.clock.nowIso();
  const item: JobItem = {
    workspaceId: caller.workspaceId,
    jobId,
    kind: fetchMediaKind,
    status: 'queued',
    createdBy: caller.userId,
    input,
    progress: { processed: 0, total: input.files.length },
    dispatchSeq: 1,
    files: {},
    attempts: 0,
    createdAt: at,
    updatedAt: at,
    version: 1,
  };
  return tx.job.create(withActivityKeys(item)).commit();
}

/** The attachments' allowlisted type for a provider's MIME type (parameters dropped), or undefined. */
export const contentTypeOf = (mimeType: string | null): AttachmentContentType | undefined => {
  const bare = mimeType?.split(';')[0]?.trim().toLowerCase();
  return bare && bare in attachmentContentTypes ? (bare as AttachmentContentType) : undefined;
};

const extensions: Partial<Record<AttachmentContentType, string>> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
  'audio/ogg': 'ogg',
  'audio/mpeg': 'mp3',
  'video/mp4': 'mp4',
  'application/pdf': 'pdf',
};

async function fetchOne(
  deps: FetchMediaDeps,
  workspaceId: string,
  input: FetchMediaInput,
  index: number,
  connection: OpenedConnection,
): Promise<void> {
  const { attachmentId, media } = input.files[index]!;
  const { data: existing } = await deps.db.entities.attachment.get({ workspaceId, attachmentId }).go({ consistent: true });
  if (existing) return;
  let file: Awaited<ReturnType<ChannelAdapters['fetchMedia']>>;
  try {
    file = await deps.adapters.fetchMedia(connection, media as MediaReference, maxAttachmentBytes);
  } catch (error) {
    if (error instanceof ProviderSendError && !error.retryable) return;
    throw error;
  }
  const contentType = contentTypeOf(file.mimeType ?? media.mimeType);
  if (!contentType) return;
  const objectKey = attachmentObjectKey(workspaceId, attachmentId);
  await deps.blobs.put(objectKey, file.bytes, contentType);
  const fileName = file.fileName ?? media.fileName ?? `${media.kind}-${index + 1}.${extensions[contentType] ?? 'bin'}`;
  const ref: MessageAttachmentRef = {
    id: attachmentId,
    kind: attachmentContentTypes[contentType],
    fileName,
    contentType,
    sizeBytes: file.bytes.byteLength,
  };
  await attachStoredFile(deps, workspaceId, { conversationId: input.conversationId, messageId: input.messageId }, ref, objectKey);
}

/**
 * A file already put at `objectKey` becomes one of the message's attachments: the attachment item and
 * the message's list in one transaction (a lost race with another change of the message runs again).
 */
export async function attachStoredFile(
  deps: CoreDeps,
  workspaceId: string,
  target: { conversationId: string; messageId: string },
  ref: MessageAttachmentRef,
  objectKey: string,
): Promise<void> {
  const { id: attachmentId, fileName, contentType } = ref;
  const input = target;
  const key = { workspaceId, conversationId: input.conversationId, messageId: input.messageId };
  await retryLostRaces(async () => {
    const { data } = await deps.db.entities.message.get(key).go({ consistent: true });
    const message = data as MessageItem | null;
    if (!message) throw new JobFailure('message_gone', 'The message the media belong to is no longer there');
    const at = deps.clock.nowIso();
    await writeTransaction(
      deps.db,
      (tx) => [
        tx.attachment
          .create({
            workspaceId,
            attachmentId,
            fileName,
            contentType,
            sizeBytes: ref.sizeBytes,
            kind: ref.kind,
            status: 'attached',
            objectKey,
            uploadedBy: 'system',
            conversationId: input.conversationId,
            messageId: input.messageId,
            createdAt: at,
            updatedAt: at,
          })
          .commit(),
        tx.message
          .patch(key)
          .set({ attachments: [...(message.attachments ?? []), ref], updatedAt: at } as never)
          .where((attr, { eq }) => eq(attr.updatedAt, message.updatedAt))
          .commit(),
      ],
      () => lostRace('The message'),
    );
  });
}

/** The connection with every credential it has, opened (the adapters need them in clear). */
async function openedConnection(deps: FetchMediaDeps, workspaceId: string, connectionId: string): Promise<OpenedConnection> {
  const item = await findConnection(deps, workspaceId, connectionId, true);
  if (!item) throw new JobFailure('connection_gone', 'The channel connection the media came through is gone');
  return openConnection(deps, item);
}

export const fetchMediaJob: JobKindDefinition<FetchMediaInput, number, { fetched: number; skipped: number }> = {
  kind: fetchMediaKind,
  queue: fetchMediaKind,
  inputSchema: fetchMediaInput,
  async step(deps, job, control) {
    const fetchDeps = deps as FetchMediaDeps;
    const total = job.input.files.length;
    const connection = await openedConnection(fetchDeps, job.workspaceId, job.input.connectionId);
    for (let index = job.cursor ?? 0; index < total; index += 1) {
      if (index > (job.cursor ?? 0) && control.deadlineReached()) return { done: false, cursor: index, progress: { processed: index, total } };
      await fetchOne(fetchDeps, job.workspaceId, job.input, index, connection);
      await control.saveProgress(index + 1, { processed: index + 1, total });
    }
    // Counted from what the message holds, so a job resumed after continuations counts every file once.
    const { data } = await deps.db.entities.message
      .get({ workspaceId: job.workspaceId, conversationId: job.input.conversationId, messageId: job.input.messageId })
      .go({ consistent: true });
    const attached = new Set(((data as MessageItem | null)?.attachments ?? []).map((ref) => ref.id));
    const fetched = job.input.files.filter((file) => attached.has(file.attachmentId)).length;
    return { done: true, result: { fetched, skipped: total - fetched }, progress: { processed: total, total } };
  },
};
