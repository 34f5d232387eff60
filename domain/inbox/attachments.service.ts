import { isManager, type CallerContext } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import { conflict, DomainError, invalid, limitExceeded, notFound, type FieldIssue, unprocessable } from '../shared/errors';
import type { BlobStore } from '../shared/ports';
import type { TxEntities } from '../store/db';
import { attachmentObjectKey, attachmentKinds, attachmentStatuses } from './attachment.entity';
import {
  attachmentContentTypes,
  downloadUrlSeconds,
  maxAttachmentBytes,
  maxAttachmentsPerMessage,
  pendingAttachmentSeconds,
  uploadUrlSeconds,
  type Attachment,
  type AttachmentContentType,
  type AttachmentUpload,
  type CreateAttachmentInput,
  type MessageAttachment,
} from './attachments.schemas';
import { readConversation } from './conversations.service';

export type BlobDeps = CoreDeps & { blobs: BlobStore };

export interface AttachmentItem {
  workspaceId: string;
  attachmentId: string;
  fileName: string;
  contentType: AttachmentContentType;
  sizeBytes: number;
  kind: (typeof attachmentKinds)[number];
  status: (typeof attachmentStatuses)[number];
  objectKey: string;
  uploadedBy: string;
  conversationId?: string;
  messageId?: string;
  createdAt: string;
  updatedAt: string;
  expiresAt?: number;
}

const epochSeconds = (deps: Pick<CoreDeps, 'clock'>) => Math.floor(deps.clock.nowMs() / 1000);
const isoIn = (deps: Pick<CoreDeps, 'clock'>, seconds: number) =>
  new Date(deps.clock.nowMs() + seconds * 1000).toISOString();

/** TTL deletes within days, not on the second: a pending upload past its time is gone already. */
const isLive = (deps: Pick<CoreDeps, 'clock'>, item: AttachmentItem) =>
  item.status === 'attached' || item.expiresAt === undefined || item.expiresAt > epochSeconds(deps);

/** A pending upload is its uploader's (owner/admin may use any of the workspace's). */
const mayUse = (caller: CallerContext, item: AttachmentItem) =>
  item.uploadedBy === caller.userId || isManager(caller);

const messageAttachment = (item: AttachmentItem): MessageAttachment => ({
  id: item.attachmentId,
  kind: item.kind,
  fileName: item.fileName,
  contentType: item.contentType,
  sizeBytes: item.sizeBytes,
});

/**
 * Reserves an upload: checks the declared type (allowlist) and size (≤ 25 MiB: 422 `limit_exceeded`),
 * stores the pending attachment (dropped after 24 h unless a message names it) and returns a presigned
 * PUT URL (15 min) that pins the content type and the exact size.
 */
export async function createAttachment(
  deps: BlobDeps,
  caller: CallerContext,
  input: CreateAttachmentInput,
): Promise<AttachmentUpload> {
  if (input.sizeBytes > maxAttachmentBytes) {
    throw limitExceeded(
      'body.sizeBytes',
      `A file may have at most ${maxAttachmentBytes} bytes (25 MiB)`,
      maxAttachmentBytes,
    );
  }
  const attachmentId = deps.newId('att');
  const at = deps.clock.nowIso();
  const item: AttachmentItem = {
    workspaceId: caller.workspaceId,
    attachmentId,
    fileName: input.fileName,
    contentType: input.contentType,
    sizeBytes: input.sizeBytes,
    kind: attachmentContentTypes[input.contentType],
    status: 'pending',
    objectKey: attachmentObjectKey(caller.workspaceId, attachmentId),
    uploadedBy: caller.userId,
    createdAt: at,
    updatedAt: at,
    expiresAt: epochSeconds(deps) + pendingAttachmentSeconds,
  };
  const uploadUrl = await deps.blobs.uploadUrl(item.objectKey, item.contentType, uploadUrlSeconds, {
    sizeBytes: item.sizeBytes,
  });
  await deps.db.entities.attachment.create(item).go();
  return {
    ...messageAttachment(item),
    status: item.status,
    createdAt: item.createdAt,
    uploadUrl,
    uploadMethod: 'PUT',
    uploadHeaders: { 'content-type': item.contentType },
    uploadExpiresAt: isoIn(deps, uploadUrlSeconds),
  };
}

/**
 * One attachment, with a presigned GET URL (5 min) once its file is uploaded. A pending one is its
 * uploader's and owner/admin's; an attached one also anyone's who reads its conversation. Anything
 * else (another workspace's, another user's pending upload, an expired one) is a 404.
 */
export async function getAttachment(
  deps: BlobDeps,
  caller: CallerContext,
  attachmentId: string,
): Promise<Attachment> {
  const { data } = await deps.db.entities.attachment
    .get({ workspaceId: caller.workspaceId, attachmentId })
    .go();
  const item = (data as AttachmentItem | null) ?? undefined;
  if (!item || !isLive(deps, item)) throw notFound('Attachment');
  if (item.status === 'pending' && !mayUse(caller, item)) throw notFound('Attachment');
  if (item.status === 'attached' && item.uploadedBy !== caller.userId) {
    // A direct conversation's files are its users' only, as its messages are.
    await readConversation(deps, caller, item.conversationId!).catch((error: unknown) => {
      throw error instanceof DomainError && error.code === 'not_found' ? notFound('Attachment') : error;
    });
  }
  // An attached file was checked when its message was sent; a pending one may not be uploaded yet.
  const uploaded = item.status === 'attached' || (await deps.blobs.head(item.objectKey)) !== undefined;
  const downloadUrl = uploaded
    ? await deps.blobs.downloadUrl(item.objectKey, downloadUrlSeconds, { fileName: item.fileName })
    : null;
  return {
    ...messageAttachment(item),
    status: item.status,
    uploadedBy: item.uploadedBy,
    conversationId: item.conversationId ?? null,
    messageId: item.messageId ?? null,
    createdAt: item.createdAt,
    downloadUrl,
    downloadExpiresAt: downloadUrl ? isoIn(deps, downloadUrlSeconds) : null,
  };
}

export interface PreparedAttachments {
  /** What the message stores and shows, in the order the ids were given. */
  attachments: MessageAttachment[];
  /**
   * The writes that attach them, for the message's transaction: each marks one attachment `attached`
   * to the message (conditional on `pending`) and removes its TTL. A failed condition means another
   * message took it meanwhile: answer `lostRace()`; the rerun then reports 409 `attachment_used`.
   */
  ops: (tx: TxEntities, ref: { conversationId: string; messageId: string }) => unknown[];
}

/**
 * Checks the attachments a message names (`body.attachmentIds`), before the message is written: at
 * most 10, each listed once (400); each the workspace's, the caller's upload (any, for owner/admin)
 * and not expired (422 `invalid_reference`); not on another message already (409 `attachment_used`);
 * its file uploaded with exactly the declared size and type (422 `unprocessable`). One BatchGetItem
 * and one HEAD per file; nothing when the list is empty.
 */
export async function prepareAttachments(
  deps: BlobDeps,
  caller: CallerContext,
  attachmentIds: string[],
): Promise<PreparedAttachments> {
  if (attachmentIds.length === 0) return { attachments: [], ops: () => [] };
  const field = (index: number) => `body.attachmentIds.${index}`;
  if (attachmentIds.length > maxAttachmentsPerMessage) {
    throw limitExceeded(
      'body.attachmentIds',
      `A message carries at most ${maxAttachmentsPerMessage} attachments`,
      maxAttachmentsPerMessage,
    );
  }
  const repeated = attachmentIds.findIndex((id, index) => attachmentIds.indexOf(id) !== index);
  if (repeated !== -1) throw invalid(field(repeated), 'This attachment is listed twice');

  const found = await readAttachments(deps, caller.workspaceId, attachmentIds);
  const items = attachmentIds.map((id) => found.get(id));

  const unknown = items.flatMap((item, index): FieldIssue[] =>
    item && isLive(deps, item) && mayUse(caller, item)
      ? []
      : [
          {
            field: field(index),
            message: 'No upload of yours with this id (or it expired)',
            code: 'invalid_reference',
          },
        ],
  );
  if (unknown.length > 0) {
    throw new DomainError('invalid_reference', unknown[0]!.message, { fields: unknown });
  }
  const usable = items as AttachmentItem[];

  const used = usable.flatMap((item, index): FieldIssue[] =>
    item.status === 'attached'
      ? [
          {
            field: field(index),
            message: `Already on message ${item.messageId}: upload the file again`,
            code: 'attachment_used',
          },
        ]
      : [],
  );
  if (used.length > 0) throw conflict('attachment_used', used[0]!.message, { fields: used });

  const objects = await Promise.all(usable.map((item) => deps.blobs.head(item.objectKey)));
  const notReady = usable.flatMap((item, index): FieldIssue[] => {
    const object = objects[index];
    const problem = !object
      ? 'Not uploaded yet: PUT the file to its uploadUrl first'
      : object.sizeBytes !== item.sizeBytes
        ? `The uploaded file has ${object.sizeBytes} bytes, not the ${item.sizeBytes} declared`
        : object.contentType !== undefined && baseType(object.contentType) !== item.contentType
          ? `The file was uploaded as ${baseType(object.contentType)}, not the ${item.contentType} declared`
          : undefined;
    return problem ? [{ field: field(index), message: problem, code: 'unprocessable' }] : [];
  });
  if (notReady.length > 0) {
    throw unprocessable(notReady[0]!.message, { fields: notReady });
  }

  return {
    attachments: usable.map(messageAttachment),
    ops: (tx, { conversationId, messageId }) => {
      const at = deps.clock.nowIso();
      return usable.map((item) =>
        tx.attachment
          .patch({ workspaceId: item.workspaceId, attachmentId: item.attachmentId })
          .set({ status: 'attached', conversationId, messageId, updatedAt: at })
          .remove(['expiresAt'])
          .where((attr, { eq }) => eq(attr.status, 'pending'))
          .commit(),
      );
    },
  };
}

const baseType = (contentType: string) => contentType.split(';')[0]!.trim().toLowerCase();

/** The attachments by id: one consistent BatchGetItem (≤ 10 keys), re-asking for any left unprocessed. */
async function readAttachments(deps: CoreDeps, workspaceId: string, attachmentIds: string[]) {
  const found = new Map<string, AttachmentItem>();
  let keys = attachmentIds.map((attachmentId) => ({ workspaceId, attachmentId }));
  for (let round = 0; keys.length > 0; round += 1) {
    if (round === 3) throw new Error(`BatchGetItem left ${keys.length} attachments unprocessed`);
    const { data, unprocessed } = await deps.db.entities.attachment.get(keys).go({ consistent: true });
    for (const item of data as AttachmentItem[]) found.set(item.attachmentId, item);
    keys = unprocessed as typeof keys;
  }
  return found;
}
