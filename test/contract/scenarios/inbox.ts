import type { OperationId } from '../../../functions/http/routes';
import type { Scenario } from '../scenarios';

export const inboxScenarios: Partial<Record<OperationId, Scenario>> = {};
