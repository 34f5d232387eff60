import { listDeals } from '../../domain/deals/deal-lists.service';
import {
  changeStage,
  createDeal,
  getDeal,
  markLost,
  markWon,
  reopenDeal,
  updateDeal,
} from '../../domain/deals/deals.service';
import { createHttpHandler } from './http-handler';
import { dealsRoutes } from './routes/deals.routes';

export const handler = createHttpHandler('deals', dealsRoutes, {
  listDeals: ({ caller, query }, deps) => listDeals(deps, caller, query),
  createDeal: ({ caller, body }, deps) => createDeal(deps, caller, body),
  getDeal: ({ caller, params }, deps) => getDeal(deps, caller, params.dealId),
  updateDeal: ({ caller, params, body, expectedVersion }, deps) =>
    updateDeal(deps, caller, params.dealId, body, expectedVersion),
  changeDealStage: ({ caller, params, body, expectedVersion }, deps) =>
    changeStage(deps, caller, params.dealId, body, expectedVersion),
  markDealWon: ({ caller, params, expectedVersion }, deps) => markWon(deps, caller, params.dealId, expectedVersion),
  markDealLost: ({ caller, params, body, expectedVersion }, deps) =>
    markLost(deps, caller, params.dealId, body, expectedVersion),
  reopenDeal: ({ caller, params, body, expectedVersion }, deps) =>
    reopenDeal(deps, caller, params.dealId, body, expectedVersion),
});
