import {
  createTagInput,
  listTagsQuery,
  tagKeyParams,
  tagProgressSchema,
  tagSchema,
  updateTagInput,
} from '../../../domain/tags/tags.schemas';
import { route, pageOf, type RouteDefinition } from '../route-definition';

export const tagsRoutes = {
  listTags: route({
    method: 'GET',
    path: '/v1/tags',
    group: 'tags',
    tag: 'Tags',
    summary: 'The tag library by key, with usage counts; `q` finds tags whose key begins with it',
    description:
      'Every tag a contact has is in the library: a tag used for the first time is created then. `system` marks the `bot:` tags (autoreply control). `usageCount` is the number of contacts, active or archived, carrying the tag, kept from the change stream: it follows a change within moments. A page is one read. The contacts of a tag: `GET /v1/contacts?tag=`.',
    auth: true,
    query: listTagsQuery,
    response: { status: 200, description: 'A page of tags', schema: pageOf(tagSchema, 'TagPage') },
  }),
  createTag: route({
    method: 'POST',
    path: '/v1/tags',
    group: 'tags',
    tag: 'Tags',
    summary: 'Add a tag to the library with a colour and description (members too; `bot:` tags: owner/admin)',
    description: 'A tag whose key (the folded name) is already in the library is a 409.',
    auth: true,
    creates: true,
    versioned: true,
    body: createTagInput,
    refusals: {
      403: 'a member creating a `bot:` tag',
      409: '`tag_exists`: a tag with the same key is in the library',
      422: '`reserved_tag`: a `bot:` tag other than `bot:on` and `bot:off` (those are the system’s)',
    },
    response: { status: 201, description: 'The new tag', schema: tagSchema },
  }),
  getTag: route({
    method: 'GET',
    path: '/v1/tags/{key}',
    group: 'tags',
    tag: 'Tags',
    summary:
      'One tag, by its `ref`, its key or any spelling of its name (a name with `/ ? # % \\` by its `ref`)',
    auth: true,
    versioned: true,
    params: tagKeyParams,
    response: { status: 200, description: 'The tag', schema: tagSchema },
  }),
  updateTag: route({
    method: 'PATCH',
    path: '/v1/tags/{key}',
    group: 'tags',
    tag: 'Tags',
    summary: 'Change a tag’s colour or description, or rename it: every tagged contact follows (owner/admin)',
    description:
      'A new name with the same key (a change of case) rewrites the library entry and the contacts’ spelling; a new key moves every contact to a new library entry, then removes the old one. Each moved contact gets `contact.updated` with its `tags` change (not `tag.removed`/`tag.added`: the contact was not re-tagged), the library `tag.renamed`. A request moves a bounded number of contacts: while some are left it answers 202 with `status: in_progress` (the tag is `renaming`); repeat the same request until it answers 200 with the renamed tag. A repeat after that still answers 200. A name whose key another tag has is a 409 (a merge of tags cannot be undone). If-Match is checked when a change starts.',
    auth: true,
    versioned: true,
    params: tagKeyParams,
    body: updateTagInput,
    alsoResponds: [
      {
        status: 202,
        description: 'Contacts are left to move to the new name: repeat the same request',
        schema: tagProgressSchema,
      },
    ],
    refusals: {
      403: 'a member',
      409: '`tag_exists`: a name whose key another tag has; `tag_deleting` / `tag_renaming`: another change of the tag is under way',
      422: '`reserved_tag`: a new name that is a `bot:` tag other than `bot:on` and `bot:off`',
    },
    response: {
      status: 200,
      description: 'The tag (202: a rename in progress, repeat it)',
      schema: tagSchema,
    },
  }),
  deleteTag: route({
    method: 'DELETE',
    path: '/v1/tags/{key}',
    group: 'tags',
    tag: 'Tags',
    summary: 'Delete a tag: every contact carrying it loses it, then it leaves the library (owner/admin)',
    description:
      'Each contact untagged gets `tag.removed` with the caller as actor; the library `tag.deleted`. A request untags a bounded number of contacts: while some are left it answers 202 with `status: in_progress` (the tag is `deleting` and cannot be added to contacts); repeat it until it answers 204. A repeat after that is a 404.',
    auth: true,
    params: tagKeyParams,
    alsoResponds: [
      {
        status: 202,
        description: 'Contacts are left to untag: repeat the same request',
        schema: tagProgressSchema,
      },
    ],
    refusals: { 403: 'a member', 409: '`tag_renaming`: the tag is being renamed' },
    response: { status: 204, description: 'The tag is gone (202: in progress, repeat it)' },
  }),
} as const satisfies Record<string, RouteDefinition>;
