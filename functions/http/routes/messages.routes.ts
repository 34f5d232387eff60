import type { RouteDefinition } from '../route-definition';

export const messagesRoutes = {} as const satisfies Record<string, RouteDefinition>;
