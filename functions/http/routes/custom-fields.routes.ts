import {
  createCustomFieldInput,
  customFieldListSchema,
  customFieldParams,
  customFieldSchema,
  listCustomFieldsQuery,
  updateCustomFieldInput,
} from '../../../domain/custom-fields/custom-fields.schemas';
import { route, type RouteDefinition } from '../route-definition';

export const customFieldsRoutes = {
  listCustomFields: route({
    method: 'GET',
    path: '/v1/custom-fields',
    group: 'custom-fields',
    tag: 'Custom fields',
    summary: "The workspace's custom fields of one entity type, in creation order",
    description:
      'Every definition of the entity type in one response (there are at most 100). Archived fields are left out unless `includeArchived=true`.',
    auth: true,
    query: listCustomFieldsQuery,
    response: { status: 200, description: 'The definitions', schema: customFieldListSchema },
  }),
  createCustomField: route({
    location: false,
    method: 'POST',
    path: '/v1/custom-fields',
    group: 'custom-fields',
    tag: 'Custom fields',
    summary: 'Define a custom field of contacts or deals (owner/admin)',
    description:
      'The key is the immutable API name, unique per workspace and entity type (archived fields keep theirs). The type never changes. At most 100 fields per entity type, archived ones included.',
    auth: true,
    creates: true,
    versioned: true,
    body: createCustomFieldInput,
    refusals: {
      403: 'a member',
      409: '`already_exists`: the key is taken for the entity type',
      422: '`limit_exceeded`: 100 fields for the entity type',
    },
    response: { status: 201, description: 'The new definition', schema: customFieldSchema },
  }),
  updateCustomField: route({
    method: 'PATCH',
    path: '/v1/custom-fields/{entityType}/{key}',
    group: 'custom-fields',
    tag: 'Custom fields',
    summary: "Change a custom field's label, required flag, options or archived flag (owner/admin)",
    description:
      'The key and type never change (a type change is refused with 409). `options` is the full new list of a select field: existing options may be relabelled or reordered and new ones added, but none can be removed (409), since records may hold them.',
    auth: true,
    versioned: true,
    params: customFieldParams,
    body: updateCustomFieldInput,
    refusals: {
      403: 'a member',
      409: '`type_immutable`: a type change; `option_removed`: an option removed',
    },
    response: { status: 200, description: 'The updated definition', schema: customFieldSchema },
  }),
} as const satisfies Record<string, RouteDefinition>;
