import * as z from 'zod';
import { recordId } from '../shared/ids';
import { responseSchema, type ResponseOf } from '../shared/response-schema';
import { attachmentKinds, attachmentStatuses } from './attachment.entity';

export type AttachmentKind = (typeof attachmentKinds)[number];

/** The types a user may attach, each with the kind the inbox shows it as. Nothing else is accepted. */
export const attachmentContentTypes = {
  'image/jpeg': 'image',
  'image/png': 'image',
  'image/gif': 'image',
  'image/webp': 'image',
  'image/heic': 'image',
  'application/pdf': 'document',
  'text/plain': 'document',
  'text/csv': 'document',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'document',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'document',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': 'document',
  'audio/mpeg': 'audio',
  'audio/ogg': 'audio',
  'audio/mp4': 'audio',
  'audio/wav': 'audio',
  'audio/webm': 'audio',
  'video/mp4': 'video',
  'video/quicktime': 'video',
  'video/webm': 'video',
} as const satisfies Record<string, AttachmentKind>;
export type AttachmentContentType = keyof typeof attachmentContentTypes;
const contentTypes = Object.keys(attachmentContentTypes) as [
  AttachmentContentType,
  ...AttachmentContentType[],
];

/** 25 MiB: the largest file a message may carry. */
export const maxAttachmentBytes = 25 * 1024 * 1024;
/** The most attachments one message may name. */
export const maxAttachmentsPerMessage = 10;
/** How long a presigned upload URL works (15 min), and a download URL (5 min). */
export const uploadUrlSeconds = 15 * 60;
export const downloadUrlSeconds = 5 * 60;
/** An upload not sent in a message within a day is dropped. */
export const pendingAttachmentSeconds = 24 * 60 * 60;

export const attachmentId = recordId('att', 'an attachment');
export const attachmentIdParams = z.object({ attachmentId });

// Control characters (C0, DEL, C1) and path separators: a file name is a name, never a path.
const unsafeFileNameChars = /[\u0000-\u001f\u007f-\u009f/\\]/;

const fileName = z
  .string()
  .min(1)
  .max(255)
  .refine((name) => !unsafeFileNameChars.test(name), 'No path separators (/ \\) or control characters')
  .refine((name) => name.trim() !== '' && name !== '.' && name !== '..', 'Not a file name')
  .meta({
    description: 'The file’s name as the user sees it (1–255 characters; no / \\ or control characters)',
    example: 'quote.pdf',
  });

export const createAttachmentInput = z
  .object({
    fileName,
    contentType: z.enum(contentTypes, {
      error:
        'Not an allowed type: JPEG, PNG, GIF, WebP or HEIC images; PDF, plain text, CSV, Word, Excel or PowerPoint (OOXML) documents; MPEG, Ogg, MP4, WAV or WebM audio; MP4, QuickTime or WebM video',
    }),
    sizeBytes: z
      .number()
      .int()
      .min(1)
      .meta({
        description: `The file’s exact size in bytes: at most ${maxAttachmentBytes} (25 MiB; more is a 422 \`limit_exceeded\`)`,
      }),
  })
  .meta({ id: 'CreateAttachmentInput' });
export type CreateAttachmentInput = z.infer<typeof createAttachmentInput>;

/** The fields every attachment answer shows: built with the response schemas that spread them. */
const attachmentFields = () => ({
  id: z.string(),
  kind: z.enum(attachmentKinds),
  fileName: z.string(),
  contentType: z.enum(contentTypes),
  sizeBytes: z.number().int(),
});

/** What a message shows of each of its attachments (seed 001 MessageAttachment). */
export const messageAttachmentSchema = responseSchema(() =>
  z.object(attachmentFields()).meta({ id: 'MessageAttachment' }),
);
export type MessageAttachment = ResponseOf<typeof messageAttachmentSchema>;

export const attachmentUploadSchema = responseSchema(() =>
  z
    .object({
      ...attachmentFields(),
      status: z.enum(attachmentStatuses),
      createdAt: z.string(),
      uploadUrl: z
        .string()
        .meta({ description: 'PUT the file’s bytes here, with `uploadHeaders`, before `uploadExpiresAt`' }),
      uploadMethod: z.literal('PUT'),
      uploadHeaders: z.object({ 'content-type': z.string() }).meta({
        description: 'Headers the PUT must carry as given; its body must be exactly `sizeBytes` bytes',
      }),
      uploadExpiresAt: z.string(),
    })
    .meta({ id: 'AttachmentUpload' }),
);
export type AttachmentUpload = ResponseOf<typeof attachmentUploadSchema>;

export const attachmentSchema = responseSchema(() =>
  z
    .object({
      ...attachmentFields(),
      status: z.enum(attachmentStatuses).meta({
        description:
          '`pending`: uploaded or not, named by no message yet (dropped after 24 h); `attached`: on a message',
      }),
      uploadedBy: z.string(),
      conversationId: z.string().nullable(),
      messageId: z.string().nullable(),
      createdAt: z.string(),
      downloadUrl: z.string().nullable().meta({
        description:
          'GET the file here (saved under its name) before `downloadExpiresAt`; null until it is uploaded',
      }),
      downloadExpiresAt: z.string().nullable(),
    })
    .meta({ id: 'Attachment' }),
);
export type Attachment = ResponseOf<typeof attachmentSchema>;
