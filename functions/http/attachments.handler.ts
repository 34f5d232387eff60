import { createAttachment, getAttachment } from '../../domain/inbox/attachments.service';
import { withBlobStore } from '../shared/deps';
import { createHttpHandler } from './http-handler';

export const handler = createHttpHandler('attachments', {
  createAttachment: ({ caller, body }, deps) => createAttachment(withBlobStore(deps), caller, body),
  getAttachment: ({ caller, params }, deps) =>
    getAttachment(withBlobStore(deps), caller, params.attachmentId),
});
