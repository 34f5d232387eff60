import type { OperationId } from '../../../functions/http/routes';
import type { Scenario } from '../scenarios';

export const callsScenarios: Partial<Record<OperationId, Scenario>> = {};
