import {
  attachmentIdParams,
  attachmentSchema,
  attachmentUploadSchema,
  createAttachmentInput,
} from '../../../domain/inbox/attachments.schemas';
import { route, type RouteDefinition } from '../route-definition';

const attachments = { group: 'attachments', tag: 'Attachments', auth: true } as const;

export const attachmentsRoutes = {
  createAttachment: route({
    ...attachments,
    method: 'POST',
    path: '/v1/attachments',
    summary: 'Start an upload: declare the file, get a presigned URL to PUT its bytes to',
    description:
      'Declare the file’s name, type and exact size; PUT the bytes to `uploadUrl` with `uploadHeaders` within 15 minutes, then name the attachment’s id in a message (`attachmentIds`). Types: JPEG, PNG, GIF, WebP and HEIC images; PDF, plain text, CSV, Word, Excel and PowerPoint documents; MPEG, Ogg, MP4, WAV and WebM audio; MP4, QuickTime and WebM video (another type: 400 naming `body.contentType`). At most 25 MiB (26214400 bytes). An upload no message names within 24 hours is dropped.',
    creates: true,
    body: createAttachmentInput,
    refusals: { 422: '`limit_exceeded`: `sizeBytes` is over 25 MiB (`limit` 26214400)' },
    response: {
      status: 201,
      description: 'The pending attachment, with where to upload it',
      schema: attachmentUploadSchema,
    },
  }),
  getAttachment: route({
    ...attachments,
    method: 'GET',
    path: '/v1/attachments/{attachmentId}',
    summary: 'One attachment, with a download URL (valid 5 minutes) once its file is uploaded',
    description:
      'A pending upload is seen by its uploader and owner/admin; an attached one also by anyone who reads its conversation (a direct conversation: its users). Anyone else gets a 404, as for another workspace’s.',
    params: attachmentIdParams,
    response: { status: 200, description: 'The attachment', schema: attachmentSchema },
  }),
} as const satisfies Record<string, RouteDefinition>;
