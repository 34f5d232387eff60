import { readCounters, readPerformance } from '../../domain/metrics/metrics.service';
import { createHttpHandler } from './http-handler';

export const handler = createHttpHandler('metrics', {
  getEventCounters: ({ caller, query }, deps) => readCounters(deps, caller, query),
  getPerformance: ({ caller, query }, deps) => readPerformance(deps, caller, query),
});
