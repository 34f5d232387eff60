import createClient from 'openapi-fetch';
import type { paths } from './api';

/**
 * The typed client an integrator would write: openapi-fetch over the types generated from the
 * OpenAPI document (`npm run client:generate`). Paths, parameters, bodies and responses are checked
 * by the compiler against the document, so a test written with it is a test of the document too.
 */
export const createCrmClient = (baseUrl: string, token: string) =>
  createClient<paths>({ baseUrl, headers: { authorization: `Bearer ${token}` } });

export type CrmClient = ReturnType<typeof createCrmClient>;
export type { components, paths } from './api';
