import type { OperationId } from '../../../functions/http/routes';
import type { Scenario } from '../scenarios';

export const attachmentsScenarios: Partial<Record<OperationId, Scenario>> = {};
