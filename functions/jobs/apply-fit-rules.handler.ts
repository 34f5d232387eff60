import { applyFitRulesJob } from '../../domain/fit/fit-rules-job';
import { createJobHandler } from './job-runner';

/** `apply_fit_rules` jobs: a product's rule criteria applied to every contact. */
export const handler = createJobHandler(applyFitRulesJob);
