import { describe, expect, it } from 'vitest';
import { routeList } from '../../functions/http/routes';
import { contractSuite } from './contract-suite';
import { inboxShardGroups } from './contract-shards';
import { scenarios } from './scenarios';

/** The contract of every route outside the inbox's groups (contract-inbox.test.ts drives those). */
describe('the route table', () => {
  it('has a scenario for every operation', () => {
    const missing = routeList.map((route) => route.operationId).filter((id) => !scenarios[id]);
    expect(missing).toEqual([]);
  });
});

contractSuite((route) => !inboxShardGroups.includes(route.group));
