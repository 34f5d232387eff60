import {
  createCustomField,
  listCustomFields,
  updateCustomField,
} from '../../domain/custom-fields/custom-fields.service';
import { createHttpHandler } from './http-handler';
import { customFieldsRoutes } from './routes/custom-fields.routes';

export const handler = createHttpHandler('custom-fields', customFieldsRoutes, {
  listCustomFields: ({ caller, query }, deps) => listCustomFields(deps, caller, query),
  createCustomField: ({ caller, body }, deps) => createCustomField(deps, caller, body),
  updateCustomField: ({ caller, params, body, expectedVersion }, deps) =>
    updateCustomField(deps, caller, params.entityType, params.key, body, expectedVersion),
});
