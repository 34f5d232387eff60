import { describe, expect, it } from 'vitest';
import type { RouteDefinition } from '../../functions/http/route-definition';
import { routes } from '../../functions/http/routes';

const table = Object.entries(routes as Record<string, RouteDefinition>);
const readable = table.filter(([, route]) => route.method === 'GET').map(([, route]) => route.path.split('/'));
/** Whether some GET route's template matches the path (a `{param}` segment matches any one segment). */
const isReadable = (path: string) => {
  const segments = path.split('/');
  return readable.some(
    (template) => template.length === segments.length && template.every((segment, i) => segment.startsWith('{') || segment === segments[i]),
  );
};

describe('Location of a 201', () => {
  const created = table.filter(([, route]) => route.response.status === 201);

  it.each(created)('%s points where a GET reads the record, or sends none', (_operationId, route) => {
    if (route.location === false) return;
    const sample = { id: 'rec_1', ref: 'rec_1', conversationId: 'cv_1' };
    const location = route.location ? route.location(sample) : `${route.path.replace(/\{\w+\}/g, 'p_1')}/rec_1`;
    expect(location).toBeDefined();
    expect(isReadable(location!), `${location} is read by no GET route`).toBe(true);
  });
});
