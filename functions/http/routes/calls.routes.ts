import type { RouteDefinition } from '../route-definition';

export const callsRoutes = {} as const satisfies Record<string, RouteDefinition>;
