import type { RouteDefinition } from '../route-definition';

export const attachmentsRoutes = {} as const satisfies Record<string, RouteDefinition>;
