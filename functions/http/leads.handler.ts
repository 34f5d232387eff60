import {
  assessContact,
  createProduct,
  getContactFit,
  getProduct,
  listAssessments,
  listLeads,
  listProducts,
  listReviews,
  reviewLead,
  updateProduct,
} from '../../domain/fit/fit.service';
import { createHttpHandler } from './http-handler';
import { leadsRoutes } from './routes/leads.routes';

export const handler = createHttpHandler('leads', leadsRoutes, {
  listProducts: ({ caller }, deps) => listProducts(deps, caller),
  createProduct: ({ caller, body }, deps) => createProduct(deps, caller, body),
  getProduct: ({ caller, params }, deps) => getProduct(deps, caller, params.productId),
  updateProduct: ({ caller, params, body, expectedVersion }, deps) => updateProduct(deps, caller, params.productId, body, expectedVersion),
  listLeads: ({ caller, params, query }, deps) => listLeads(deps, caller, params.productId, query),
  reviewLead: ({ caller, params, body }, deps) => reviewLead(deps, caller, params.productId, params.contactId, body),
  listLeadReviews: ({ caller, params }, deps) => listReviews(deps, caller, params.productId, params.contactId),
  getContactFit: ({ caller, params }, deps) => getContactFit(deps, caller, params.contactId, params.productId),
  assessContact: ({ caller, params, body }, deps) => assessContact(deps, caller, params.contactId, params.productId, body),
  listContactAssessments: ({ caller, params, query }, deps) => listAssessments(deps, caller, params.contactId, params.productId, query),
});
