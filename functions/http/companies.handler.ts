import {
  archiveCompany,
  createCompany,
  getCompany,
  listCompanies,
  listCompanyContacts,
  unarchiveCompany,
  updateCompany,
} from '../../domain/companies/companies.service';
import { mergeCompanies } from '../../domain/companies/company-merge.service';
import { createHttpHandler, RawResponse } from './http-handler';
import { companiesRoutes } from './routes/companies.routes';

export const handler = createHttpHandler('companies', companiesRoutes, {
  listCompanies: ({ caller, query }, deps) => listCompanies(deps, caller, query),
  createCompany: ({ caller, body }, deps) => createCompany(deps, caller, body),
  getCompany: ({ caller, params }, deps) => getCompany(deps, caller, params.companyId),
  updateCompany: ({ caller, params, body, expectedVersion }, deps) =>
    updateCompany(deps, caller, params.companyId, body, expectedVersion),
  archiveCompany: ({ caller, params, expectedVersion }, deps) =>
    archiveCompany(deps, caller, params.companyId, expectedVersion),
  unarchiveCompany: ({ caller, params, expectedVersion }, deps) =>
    unarchiveCompany(deps, caller, params.companyId, expectedVersion),
  listCompanyContacts: ({ caller, params, query }, deps) =>
    listCompanyContacts(deps, caller, params.companyId, query),
  mergeCompanies: async ({ caller, params, body }, deps) => {
    const result = await mergeCompanies(deps, caller, params.companyId, body);
    // Records are left to move: 202, and the client repeats the same request.
    return result.status === 'completed'
      ? result
      : new RawResponse(202, JSON.stringify(result), { 'content-type': 'application/json' });
  },
});
