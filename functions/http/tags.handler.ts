import { createTag, deleteTag, getTag, listTags, updateTag } from '../../domain/tags/tag-library.service';
import { createHttpHandler, RawResponse } from './http-handler';
import { tagsRoutes } from './routes/tags.routes';

/** Work left on a rename or delete: 202 with the progress, and the client repeats the same request. */
const inProgress = (progress: unknown) =>
  new RawResponse(202, JSON.stringify(progress), { 'content-type': 'application/json' });

export const handler = createHttpHandler('tags', tagsRoutes, {
  listTags: ({ caller, query }, deps) => listTags(deps, caller, query),
  createTag: ({ caller, body }, deps) => createTag(deps, caller, body),
  getTag: ({ caller, params }, deps) => getTag(deps, caller, params.key),
  updateTag: async ({ caller, params, body, expectedVersion }, deps) => {
    const outcome = await updateTag(deps, caller, params.key, body, expectedVersion);
    return outcome.done ? outcome.tag : inProgress(outcome.progress);
  },
  deleteTag: async ({ caller, params }, deps) => {
    const outcome = await deleteTag(deps, caller, params.key);
    return outcome.done ? new RawResponse(204, '') : inProgress(outcome.progress);
  },
});
