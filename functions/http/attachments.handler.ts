import { createAttachment, getAttachment } from '../../domain/inbox/attachments.service';
import { withBlobStore } from '../shared/deps';
import { createHttpHandler } from './http-handler';
import { attachmentsRoutes } from './routes/attachments.routes';

export const handler = createHttpHandler('attachments', attachmentsRoutes, {
  createAttachment: ({ caller, body }, deps) => createAttachment(withBlobStore(deps), caller, body),
  getAttachment: ({ caller, params }, deps) =>
    getAttachment(withBlobStore(deps), caller, params.attachmentId),
});
