/**
 * The files of an inbound mail (attached, or inline images its HTML shows) kept as the message's
 * attachments. The mail is only in hand during the webhook (inline in the SNS notification, or read
 * from S3), so the files are stored there: their ids are chosen before the message is written and
 * kept in its `payload.email.attachments`, each file is put in S3 and attached after it, and a retry
 * of the same notification finishes what is missing (an attached id is skipped). Types attachments do
 * not take, files over the attachment limit and files past the tenth are counted, not stored.
 */
import type { CoreDeps } from '../../shared/deps';
import type { BlobStore } from '../../shared/ports';
import { attachmentObjectKey } from '../../inbox/attachment.entity';
import { attachmentContentTypes, maxAttachmentBytes } from '../../inbox/attachments.schemas';
import type { MessageAttachmentRef } from '../../inbox/messages.schemas';
import { attachStoredFile, contentTypeOf } from './fetch-media.job';
import type { MailFile } from './inbound-email';

/** A message holds at most 10 attachments (messages.schemas). */
const maxFiles = 10;

/** A file chosen to be kept: its attachment and where it is among the mail's files. */
export interface PlannedMailFile extends MessageAttachmentRef {
  index: number;
}

export interface MailFilePlan {
  files: PlannedMailFile[];
  skipped: number;
}

/** Which of the mail's files are kept, each with the attachment id it will have. */
export function planMailFiles(deps: Pick<CoreDeps, 'newId'>, files: readonly MailFile[]): MailFilePlan {
  const kept: PlannedMailFile[] = [];
  files.forEach((file, index) => {
    const contentType = contentTypeOf(file.mimeType);
    if (!contentType || file.bytes.byteLength === 0 || file.bytes.byteLength > maxAttachmentBytes || kept.length >= maxFiles) return;
    kept.push({
      id: deps.newId('att'),
      kind: attachmentContentTypes[contentType],
      fileName: (file.fileName?.trim() || `attachment-${index + 1}`).slice(0, 255),
      contentType,
      sizeBytes: file.bytes.byteLength,
      index,
    });
  });
  return { files: kept, skipped: files.length - kept.length };
}

/** Puts each planned file in S3 and attaches it to the message, skipping those already attached. */
export async function storeMailFiles(
  deps: CoreDeps & { blobs: BlobStore },
  workspaceId: string,
  message: { conversationId: string; messageId: string; attachments: readonly { id: string }[] },
  plan: readonly PlannedMailFile[],
  files: readonly MailFile[],
): Promise<void> {
  const attached = new Set(message.attachments.map((ref) => ref.id));
  for (const { index, ...ref } of plan) {
    const file = files[index];
    if (attached.has(ref.id) || !file) continue;
    const objectKey = attachmentObjectKey(workspaceId, ref.id);
    await deps.blobs.put(objectKey, file.bytes, ref.contentType);
    await attachStoredFile(deps, workspaceId, message, ref, objectKey);
  }
}
