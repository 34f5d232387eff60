import type { OperationId } from '../../../functions/http/routes';
import type { Scenario } from '../scenarios';

export const conversationsScenarios: Partial<Record<OperationId, Scenario>> = {};
