import { readCounters, readPerformance } from '../../domain/metrics/metrics.service';
import { createHttpHandler } from './http-handler';
import { metricsRoutes } from './routes/metrics.routes';

export const handler = createHttpHandler('metrics', metricsRoutes, {
  getEventCounters: ({ caller, query }, deps) => readCounters(deps, caller, query),
  getPerformance: ({ caller, query }, deps) => readPerformance(deps, caller, query),
});
