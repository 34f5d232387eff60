import {
  createAssignmentRule,
  deleteAssignmentRule,
  getAssignmentRule,
  listAssignmentRules,
  updateAssignmentRule,
} from '../../domain/assignment/assignment-rules.service';
import { createHttpHandler, RawResponse } from './http-handler';
import { assignmentRulesRoutes } from './routes/assignment-rules.routes';

export const handler = createHttpHandler('assignment-rules', assignmentRulesRoutes, {
  listAssignmentRules: ({ caller, query }, deps) => listAssignmentRules(deps, caller, query),
  createAssignmentRule: ({ caller, body }, deps) => createAssignmentRule(deps, caller, body),
  getAssignmentRule: ({ caller, params }, deps) => getAssignmentRule(deps, caller, params.ruleId),
  updateAssignmentRule: ({ caller, params, body, expectedVersion }, deps) =>
    updateAssignmentRule(deps, caller, params.ruleId, body, expectedVersion),
  deleteAssignmentRule: async ({ caller, params, expectedVersion }, deps) => {
    await deleteAssignmentRule(deps, caller, params.ruleId, expectedVersion);
    return new RawResponse(204, '');
  },
});
